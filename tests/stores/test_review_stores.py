"""Review findings in the session stores and the snapshot writer, fixed: each test shows the behaviour kept."""

from __future__ import annotations

import asyncio
import contextlib
import json
import typing

import pytest

from lightbulb_lavalink.errors import SettingsError, StoreError
from lightbulb_lavalink.snapshot import GuildSnapshot, TrackSnapshot
from lightbulb_lavalink.stores import (
    JSONFileStore,
    MemoryStore,
    PostgresStore,
    SnapshotWriter,
    SQLiteStore,
    StoreKey,
    open_store,
)
from tests.loop_turns import turns

from .conftest import require_server
from .helpers import DATABASE_URL, snapshot

if typing.TYPE_CHECKING:
    import pathlib

KEY = StoreKey(bot_id=4242, node="main", cluster="review")


def _bad_text_snapshot(guild_id: int) -> GuildSnapshot:
    """A snapshot no store can write: its filters hold a lone surrogate (what json.loads makes of a "\\ud800"
    escape). Track user data like that is left out instead, the rest of the guild saved (test_user_data.py)."""
    return GuildSnapshot(
        guild_id=guild_id,
        node="main",
        channel_id=1,
        track=TrackSnapshot(encoded="QAAA", user_data={"title": "fine"}),
        filters={"pluginFilters": {"label": "broken emoji \ud83d"}},
    )


# -- one guild's unencodable text blocks every other guild ---------------------------------------------------


async def test_writer_saves_other_guilds_when_one_snapshot_has_a_lone_surrogate(tmp_path: pathlib.Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    await store.open()
    writer = SnapshotWriter(store, min_interval=0, retry_initial=0.05, retry_max=0.05, close_timeout=0.3)
    try:
        writer.schedule(KEY, snapshot(1))
        writer.schedule(KEY, _bad_text_snapshot(2))
        with contextlib.suppress(StoreError):
            await writer.flush()
        # Guild 1 is fine: it must be saved even though guild 2's snapshot cannot be.
        assert 1 in await store.get_guilds(KEY)
    finally:
        await writer.close()
        await store.close()


async def test_json_store_keeps_working_after_a_snapshot_with_a_lone_surrogate(tmp_path: pathlib.Path) -> None:
    store = JSONFileStore(tmp_path / "s.json")
    await store.open()
    try:
        with contextlib.suppress(Exception):
            await store.put_guild(KEY, _bad_text_snapshot(2))
        await store.put_guild(KEY, snapshot(1))  # another guild: must not fail because of guild 2
        assert set(await store.get_guilds(KEY)) == {1}
    finally:
        await store.close()


# -- a retried old session id overwrites the newer one --------------------------------------------------------


class _FlakyStore(MemoryStore):
    __slots__ = ("down",)

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def set_session(self, key: StoreKey, session_id: str | None) -> None:
        if self.down:
            raise StoreError("server down")
        await super().set_session(key, session_id)


async def test_client_never_saves_an_older_session_id_over_a_newer_one() -> None:
    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
    from lightbulb_lavalink.testing.offline_bot import make_bot

    from .helpers import free_port

    store = _FlakyStore()
    settings = LavalinkSettings(nodes=[NodeSettings(name="main", host="127.0.0.1", port=free_port())])
    client = LavalinkClient(make_bot(), settings, store=store)
    await client.start(bot_id=4242)
    node = client.nodes["main"]
    key = client.store_key("main")
    try:
        store.down = True
        await client._hub.save_session_id(node, "old-session")  # fails: handed to the writer to retry
        store.down = False
        await client._hub.save_session_id(node, "new-session")  # a later ready: saved directly
    finally:
        await client.close()  # flushes the writer: it writes "old-session" back
    assert await store.get_session(key) == "new-session"


# -- close() cancelled once: the second close() loses the pending writes ---------------------------------------


class _GatedStore(MemoryStore):
    __slots__ = ("entered", "gate")

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def put_guilds(self, key: StoreKey, snapshots: typing.Iterable[GuildSnapshot]) -> None:
        snapshots = list(snapshots)
        self.entered.set()
        await self.gate.wait()
        await super().put_guilds(key, snapshots)


async def test_writer_close_after_a_cancelled_close_still_flushes() -> None:
    store = _GatedStore()
    writer = SnapshotWriter(store, min_interval=0)
    writer.schedule(KEY, snapshot(1))
    await store.entered.wait()  # the writer task is writing guild 1, held by the store
    writer.schedule(KEY, snapshot(2))  # pending behind it
    closing = asyncio.create_task(writer.close())
    await asyncio.sleep(0)
    closing.cancel()  # e.g. the bot's shutdown ran close() under a timeout
    with contextlib.suppress(asyncio.CancelledError):
        await closing
    store.gate.set()
    await writer.close()  # called again: must write what is still pending
    await turns(20)  # the orphaned write settles: nothing it does afterwards loses guild 2
    assert set(await store.get_guilds(KEY)) == {1, 2}


# -- secrets in `url` -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0?password=hunter2", "postgresql://bot@127.0.0.1/music?password=hunter2"]
)
def test_password_in_query_is_not_shown(url: str) -> None:
    assert "hunter2" not in open_store(url).url


async def test_unescaped_password_is_not_shown_and_fails_as_store_error() -> None:
    try:
        store = open_store("redis://:hun/ter2@127.0.0.1:6379/0")
    except Exception as exc:  # a SettingsError at construction is a fine answer, if it hides the password
        assert "ter2" not in str(exc)
        return
    assert "ter2" not in store.url
    with pytest.raises(StoreError):  # today: ValueError from redis-py escapes open() and crashes start()
        await store.open()
    await store.close()


# -- a corrupt row crashing get_guilds for the others -------------------------------------------------------------


async def test_hand_edited_snapshot_with_huge_number_is_skipped(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "s.json"
    store = JSONFileStore(path)
    await store.open()
    try:
        await store.put_guilds(KEY, [snapshot(1), snapshot(2)])
        text = path.read_text()
        doc = json.loads(text)
        scope = doc["bots"][str(KEY.bot_id)][KEY.cluster][KEY.node]
        scope["guilds"]["2"]["updatedAt"] = 10**400  # a typo while editing by hand
        path.write_text(json.dumps(doc))
        assert set(await store.get_guilds(KEY)) == {1}
    finally:
        await store.close()


# -- PostgreSQL table names are checked in characters, truncated by the server in bytes --------------------------


async def test_postgres_non_ascii_table_name_keeps_three_tables(server_status: dict[str, str | None]) -> None:
    await require_server("postgres", server_status)
    # 62 bytes would truncate "_sessions", "_guilds", "_migrations" to one name: refused clearly instead.
    with pytest.raises(SettingsError, match="bytes"):
        PostgresStore(DATABASE_URL, table="é" * 31, timeout=5.0)
    table = "é" * 24  # 48 bytes: the longest accepted, three distinct tables
    store = PostgresStore(DATABASE_URL, table=table, timeout=5.0)
    try:
        await store.open()
        await store.put_guild(KEY, snapshot(1))
        assert set(await store.get_guilds(KEY)) == {1}
    finally:
        await store.close()
        import asyncpg

        conn = await asyncpg.connect(DATABASE_URL)
        try:
            kinds = ("sessions", "guilds", "migrations", "owners", "releases")
            for name in (f"{table}_", *(f"{table}_{k}" for k in kinds)):
                await conn.execute(f'DROP TABLE IF EXISTS public."{name}"')
        finally:
            await conn.close()


async def test_postgres_two_tables_created_at_once_in_a_new_schema(server_status: dict[str, str | None]) -> None:
    await require_server("postgres", server_status)
    import uuid

    import asyncpg

    schema = f"llreview_{uuid.uuid4().hex[:10]}"
    # Two bots (or a bot and its dashboard) sharing one new schema, each with its own table, starting together.
    stores = [PostgresStore(DATABASE_URL, schema=schema, table=f"bot{i}", timeout=5.0) for i in range(4)]
    try:
        results = await asyncio.gather(*(s.open() for s in stores), return_exceptions=True)
        assert [r for r in results if isinstance(r, BaseException)] == []
    finally:
        for s in stores:
            await s.close()
        conn = await asyncpg.connect(DATABASE_URL)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()
