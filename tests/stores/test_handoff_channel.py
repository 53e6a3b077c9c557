"""The handoff channel of the shared stores: what one process publishes, the other hears, on its cluster only."""

from __future__ import annotations

import asyncio
import pathlib
import random
import typing

import pytest

from lightbulb_lavalink.stores import StoreKey, supports_handoff
from lightbulb_lavalink.stores.handoff import HandoffKind, HandoffMessage, handoff_channel_name

from .conftest import Backend
from .helpers import snapshot

if typing.TYPE_CHECKING:

    from lightbulb_lavalink.stores.handoff import HandoffStore

BOT = 1_180_000_000_000_000_001


async def _opened(backend: Backend) -> HandoffStore:
    store = await backend.opened()
    assert supports_handoff(store)
    return store


def message(kind: HandoffKind, nonce: str = "n1") -> HandoffMessage:
    return HandoffMessage(kind=kind, nonce=nonce, sender="test:1")


async def test_a_message_reaches_every_listener_of_its_cluster_only(shared: Backend) -> None:
    a, b = await _opened(shared), await _opened(shared)
    mine = await a.subscribe_handoff(BOT, "p0")
    other = await a.subscribe_handoff(BOT, "p1")
    try:
        await b.publish_handoff(BOT, "p1", message(HandoffKind.RELEASED, "for-p1"))
        await b.publish_handoff(BOT, "p0", message(HandoffKind.REQUEST))
        assert await asyncio.wait_for(mine.receive(), 5) == message(HandoffKind.REQUEST)
        assert await asyncio.wait_for(other.receive(), 5) == message(HandoffKind.RELEASED, "for-p1")
    finally:
        await mine.close()
        await other.close()
        await mine.close()  # idempotent


async def test_some_guilds_are_read_back_without_the_others(shared: Backend) -> None:
    store = await _opened(shared)
    key, other = StoreKey(BOT, "main", "p0"), StoreKey(BOT, "main", "p1")
    await store.put_guilds(key, [snapshot(g) for g in (1, 2, 3)])
    await store.put_guilds(other, [snapshot(4)])
    assert await store.get_some_guilds(key, []) == {}
    got = await store.get_some_guilds(key, [2, 3, 4, 99])
    assert got == {2: snapshot(2), 3: snapshot(3)}  # 4 is another cluster's, 99 nobody's


@pytest.mark.parametrize("kind", ["memory", "json", "sqlite"])
def test_single_process_stores_carry_no_handoff(kind: str, tmp_path: pathlib.Path) -> None:
    assert not supports_handoff(Backend(kind, tmp_path).new())


def test_messages_read_back_and_garbage_is_ignored() -> None:
    for kind in HandoffKind:
        sent = message(kind)
        assert HandoffMessage.decode(sent.encode()) == sent
    refused = HandoffMessage(kind=HandoffKind.ABORTED, nonce="n", sender="test:1", reason="busy with another")
    assert HandoffMessage.decode(refused.encode()) == refused
    unreadable = '{"v": 1, "kind": "aborted", "nonce": "n", "reason": 3}'
    assert HandoffMessage.decode(unreadable) == HandoffMessage(kind=HandoffKind.ABORTED, nonce="n")
    for garbage in ("", "{", "[]", '{"v": 2, "kind": "request", "nonce": "n"}', '{"v": 1, "kind": "x", "nonce": "n"}'):
        assert HandoffMessage.decode(garbage) is None


def test_postgres_channel_names_fit_and_never_collide() -> None:
    long = "t" * 48
    names = {
        handoff_channel_name(f"public.{long}", BOT, "a.b"),
        handoff_channel_name(f"public.{long}", BOT, "a_b"),  # folds like a.b
        handoff_channel_name(f"other.{long}", BOT, "a.b"),
        handoff_channel_name(f"public.{long}", BOT + 1, "a.b"),
    }
    assert len(names) == 4
    assert all(len(name) <= 63 and name.replace("_", "").isalnum() and name.islower() for name in names)


async def test_a_listener_cancelled_at_any_moment_ends(shared: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cancellation landing as a driver's own timeout fires (connecting, subscribing, reading) must still end
    the listener: it used to be swallowed now and then, and a client's close() waited for ever."""
    from lightbulb_lavalink.stores import redis_handoff  # not the attribute chain: another test may have cut it

    monkeypatch.setattr(redis_handoff, "_POLL", 0.005)  # a read timeout every 5 ms
    store = await _opened(shared)
    rng = random.Random(14)

    async def listen() -> None:
        while True:
            subscription = await store.subscribe_handoff(BOT, "p0")
            try:
                await subscription.receive()
            finally:
                await subscription.close()

    for _ in range(60):
        task = asyncio.create_task(listen())
        await asyncio.sleep(rng.uniform(0, 0.02))  # not a wait for something: a moment to cancel at
        task.cancel()
        done, _ = await asyncio.wait((task,), timeout=5)
        if not done:
            task.print_stack()
        assert done, "a cancelled listener went on listening"
