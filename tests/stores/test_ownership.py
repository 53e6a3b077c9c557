"""Guild claims on the shared stores: one owner per guild, the loser told through its inbox, atomic under races."""

from __future__ import annotations

import asyncio
import pathlib
import typing

from lightbulb_lavalink.stores import supports_ownership

from .conftest import Backend, drop_server_data, require_server
from .helpers import DATABASE_URL, snapshot

if typing.TYPE_CHECKING:

    from lightbulb_lavalink.stores.ownership import OwnershipStore

BOT = 1_180_000_000_000_000_001
GUILDS = [1_200_000_000_000_000_000 + (i << 22) for i in range(50)]


async def _opened(backend: Backend) -> OwnershipStore:
    store = await backend.opened()
    assert supports_ownership(store)
    return store


async def test_a_claim_takes_guilds_from_their_owner_and_tells_it(shared: Backend) -> None:
    a, b = await _opened(shared), await _opened(shared)
    assert await a.claim_guilds(BOT, "a", GUILDS) == {}
    assert await b.claim_guilds(BOT, "b", GUILDS[:10]) == dict.fromkeys(GUILDS[:10], "a")
    owners = await a.get_owners(BOT, GUILDS)
    assert [owners[g] for g in GUILDS] == ["b"] * 10 + ["a"] * 40
    assert await a.take_releases(BOT, "a") == set(GUILDS[:10])
    assert await a.take_releases(BOT, "a") == set()  # read once
    assert await b.take_releases(BOT, "b") == set()
    assert await a.claim_guilds(BOT, "a", GUILDS[:10]) == dict.fromkeys(GUILDS[:10], "b")  # and back again
    assert await b.take_releases(BOT, "b") == set(GUILDS[:10])


async def test_racing_claims_leave_one_owner_and_tell_every_loser(shared: Backend) -> None:
    stores = [await _opened(shared) for _ in range(6)]
    names = [f"p{i}" for i in range(len(stores))]
    for _ in range(5):
        await asyncio.gather(*(s.claim_guilds(BOT, n, GUILDS) for s, n in zip(stores, names, strict=True)))
    owners = await stores[0].get_owners(BOT, GUILDS)
    winners = {owners[g] for g in GUILDS}
    assert len(winners) == 1  # every batch is atomic: no guild went to another claimer than its neighbours
    (winner,) = winners
    for store, name in zip(stores, names, strict=True):
        released = await store.take_releases(BOT, name)
        if name != winner:  # every process but the winner was told to let go of every guild it had claimed
            assert released == set(GUILDS)


async def test_a_version_1_database_gains_the_claim_tables(
    tmp_path: pathlib.Path, server_status: dict[str, str | None]
) -> None:
    await require_server("postgres", server_status)
    import asyncpg

    backend = Backend("postgres", tmp_path)
    table = backend.prefix
    old = await backend.opened()  # a database of the previous release: schema version 1, without the claims
    await old.close()
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute(f'DROP TABLE "{table}_owners", "{table}_releases"')
        await conn.execute(f'DELETE FROM "{table}_migrations" WHERE version = 2')
    finally:
        await conn.close()
    backend.stores.clear()
    try:
        store = await _opened(backend)
        from lightbulb_lavalink.stores import StoreKey

        key = StoreKey(BOT, "main", "a")
        await backend.stores[0].put_guild(key, snapshot(GUILDS[0]))  # type: ignore[attr-defined]
        assert await store.claim_guilds(BOT, "b", GUILDS[:1]) == {}
        assert list(await backend.stores[0].get_guilds(key)) == [GUILDS[0]]  # type: ignore[attr-defined]
    finally:
        await backend.cleanup()
        await drop_server_data("postgres", table)


async def test_single_process_stores_do_not_claim(backend: Backend) -> None:
    store = await backend.opened()
    assert supports_ownership(store) is (backend.kind in {"redis", "postgres"})
