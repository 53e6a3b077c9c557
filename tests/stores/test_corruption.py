"""Corrupt and unreadable stores: reported clearly, logged once; the bot starts and loses nothing else."""

from __future__ import annotations

import json
import logging
import os
import pathlib
import sqlite3
import stat

import pytest

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.stores import JSONFileStore, PostgresStore, RedisStore, SQLiteStore, StoreKey

from .conftest import drop_postgres_tables, drop_redis_prefix, require_server
from .helpers import DATABASE_URL, REDIS_URL, snapshot, unique

KEY = StoreKey(3, "main")


def _corrupt_files(path: pathlib.Path) -> list[pathlib.Path]:
    return sorted(path.parent.glob(f"{path.name}.corrupt-*"))


def _mode(path: pathlib.Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# -- JSON file -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"version": 1, "bots": {"3": {"": {"main": {"guilds": {', "not valid JSON"),
        (b"\xff\xfe garbage \x00", "not valid JSON"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (b'{"version": 1, "bots": []}', "'bots'"),
        (b'{"bots": {}}', "unknown format version"),
    ],
)
async def test_json_corrupt_file_is_moved_aside_and_a_fresh_one_started(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture, content: bytes, problem: str
) -> None:
    path = tmp_path / "sessions.json"
    path.write_bytes(content)
    store = JSONFileStore(path)
    with caplog.at_level(logging.WARNING, "lightbulb_lavalink"):
        await store.open()  # the bot starts
        assert await store.get_guilds(KEY) == {}
        assert await store.get_session(KEY) is None
    [moved] = _corrupt_files(path)
    assert moved.read_bytes() == content  # kept for a human to look at
    [error] = store.problems
    assert isinstance(error, StoreError)
    assert str(path) in str(error) and problem in str(error) and str(moved) in str(error)
    assert [r.getMessage() for r in caplog.records] == [str(error)]  # logged once
    await store.put_guild(KEY, snapshot(1))
    await store.close()
    reopened = JSONFileStore(path)
    assert list(await reopened.get_guilds(KEY)) == [1]
    assert reopened.problems == ()
    await reopened.close()


async def test_json_empty_file_is_a_fresh_store(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sessions.json"
    path.touch()
    store = JSONFileStore(path)
    await store.open()
    assert store.problems == ()
    assert not _corrupt_files(path)
    await store.close()


async def test_json_newer_format_is_refused_and_left_alone(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sessions.json"
    path.write_text('{"version": 99, "bots": {}}')
    store = JSONFileStore(path)
    with pytest.raises(StoreError, match="newer"):
        await store.open()
    assert path.read_text() == '{"version": 99, "bots": {}}'
    await store.close()


async def test_json_bad_entries_are_skipped_and_kept(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "sessions.json"
    good = snapshot(1).to_dict()
    doc = {
        "version": 1,
        "bots": {
            "3": {"": {"main": {"session": "s", "guilds": {"1": good, "2": {"guildId": "2"}, "x": good}}}},
            "4": {"": {"main": "not an object"}},
        },
    }
    path.write_text(json.dumps(doc))
    store = JSONFileStore(path)
    with caplog.at_level(logging.WARNING, "lightbulb_lavalink"):
        assert list(await store.get_guilds(KEY)) == [1]
    [warning] = caplog.records
    assert "guild 2" in warning.getMessage() and "missing" in warning.getMessage()
    assert str(path) in warning.getMessage()
    assert await store.get_guilds(StoreKey(4, "main")) == {}  # a malformed scope reads as empty
    await store.put_guild(StoreKey(3, "other"), snapshot(5))  # a write elsewhere keeps the bad entries
    on_disk = json.loads(path.read_text())
    assert on_disk["bots"]["3"][""]["main"]["guilds"]["2"] == {"guildId": "2"}
    assert on_disk["bots"]["4"][""]["main"] == "not an object"
    await store.put_guild(KEY, snapshot(2))  # writing the guild again repairs it
    assert sorted(await store.get_guilds(KEY)) == [1, 2]
    assert store.problems == ()
    await store.close()


async def test_json_file_is_private_and_written_atomically(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "nested" / "dir" / "sessions.json"
    path.parent.mkdir(parents=True)  # the folder is the user's to create (see test_missing_folder.py)
    store = JSONFileStore(path)
    await store.put_guild(KEY, snapshot(1))
    assert _mode(path) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["sessions.json", "sessions.json.lock"]
    await store.close()


async def test_json_unwritable_location_is_a_store_error(tmp_path: pathlib.Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = JSONFileStore(blocker / "sessions.json")  # its "folder" is a file
    with pytest.raises(StoreError, match=str(blocker)):
        await store.put_guild(KEY, snapshot(1))
    await store.close()


# -- SQLite --------------------------------------------------------------------------------------------


async def test_sqlite_file_that_is_not_a_database_is_moved_aside(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "sessions.db"
    garbage = b"this is not a database, it is a shopping list\n" * 200
    path.write_bytes(garbage)
    store = SQLiteStore(path)
    with caplog.at_level(logging.WARNING, "lightbulb_lavalink"):
        await store.open()
    [moved] = _corrupt_files(path)
    assert moved.read_bytes() == garbage
    [error] = store.problems
    assert str(path) in str(error) and "not a database" in str(error)
    assert [r.getMessage() for r in caplog.records] == [str(error)]
    await store.put_guild(KEY, snapshot(1))
    await store.close()
    assert _mode(path) == 0o600
    reopened = SQLiteStore(path)
    assert list(await reopened.get_guilds(KEY)) == [1]
    assert reopened.problems == ()
    await reopened.close()


async def test_sqlite_damaged_pages_are_detected(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sessions.db"
    store = SQLiteStore(path)
    await store.put_guilds(KEY, [snapshot(gid, tracks=30) for gid in range(200)])
    await store.close()
    raw = bytearray(path.read_bytes())
    for offset in range(4096 * 2, len(raw), 4096):  # scribble over every page but the header and schema
        raw[offset + 16 : offset + 600] = os.urandom(584)
    path.write_bytes(bytes(raw))
    damaged = SQLiteStore(path)
    await damaged.open()
    assert len(damaged.problems) == 1 and len(_corrupt_files(path)) == 1
    assert await damaged.get_guilds(KEY) == {}
    await damaged.close()


async def test_sqlite_bad_rows_are_skipped_with_a_warning(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "sessions.db"
    store = SQLiteStore(path)
    await store.put_guilds(KEY, [snapshot(1), snapshot(2), snapshot(3)])
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE guilds SET data = '{not json' WHERE guild_id = 2")
        loud = json.dumps({**snapshot(3).to_dict(), "volume": "loud"})
        conn.execute("UPDATE guilds SET data = ? WHERE guild_id = 3", (loud,))
    conn.close()
    with caplog.at_level(logging.WARNING, "lightbulb_lavalink"):
        guilds = await store.get_guilds(KEY)
    assert guilds == {1: snapshot(1)}
    [warning] = caplog.records
    message = warning.getMessage()
    assert "2 unreadable" in message and "guild 2" in message and "guild 3" in message and "volume" in message
    assert str(path) in message
    await store.close()


async def test_sqlite_newer_schema_is_refused_and_left_alone(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sessions.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    store = SQLiteStore(path)
    with pytest.raises(StoreError, match="newer"):
        await store.open()
    assert not _corrupt_files(path)
    await store.close()


async def test_sqlite_unopenable_path_is_a_store_error_naming_it(tmp_path: pathlib.Path) -> None:
    store = SQLiteStore(tmp_path)  # a directory
    with pytest.raises(StoreError, match=str(tmp_path)):
        await store.open()
    assert not os.listdir(tmp_path)
    await store.close()


# -- Redis and PostgreSQL: a bad row among good ones -----------------------------------------------------


async def test_redis_bad_entries_are_skipped(
    server_status: dict[str, str | None], caplog: pytest.LogCaptureFixture
) -> None:
    await require_server("redis", server_status)
    import redis.asyncio

    prefix = unique("lltest")
    store = RedisStore(REDIS_URL, prefix=prefix)
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        await store.put_guilds(KEY, [snapshot(1), snapshot(2)])
        await client.hset(f"{prefix}:{{3}}::main:guilds", mapping={"2": b"\xff{", "x": "{}"})
        with caplog.at_level(logging.WARNING, "lightbulb_lavalink"):
            assert list(await store.get_guilds(KEY)) == [1]
        assert "2 unreadable" in caplog.text and "guild 2" in caplog.text
    finally:
        await client.aclose()
        await store.close()
        await drop_redis_prefix(prefix)


async def test_postgres_bad_rows_are_skipped(
    server_status: dict[str, str | None], caplog: pytest.LogCaptureFixture
) -> None:
    await require_server("postgres", server_status)
    import asyncpg

    table = unique("lltest")
    store = PostgresStore(DATABASE_URL, table=table)
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await store.put_guilds(KEY, [snapshot(1), snapshot(2)])
        await conn.execute(f"""UPDATE "{table}_guilds" SET data = '{{"guildId": "2"}}' WHERE guild_id = 2""")
        with caplog.at_level(logging.WARNING, "lightbulb_lavalink"):
            assert list(await store.get_guilds(KEY)) == [1]
        assert "guild 2" in caplog.text
    finally:
        await conn.close()
        await store.close()
        await drop_postgres_tables(table)


async def test_postgres_newer_schema_is_refused(server_status: dict[str, str | None]) -> None:
    await require_server("postgres", server_status)
    table = unique("lltest")
    store = PostgresStore(DATABASE_URL, table=table)
    try:
        await store.open()
        import asyncpg

        conn = await asyncpg.connect(DATABASE_URL)
        await conn.execute(f'INSERT INTO "{table}_migrations" (version) VALUES (99)')
        await conn.close()
        await store.close()
        newer = PostgresStore(DATABASE_URL, table=table)
        with pytest.raises(StoreError, match="newer"):
            await newer.open()
        await newer.close()
    finally:
        await store.close()
        await drop_postgres_tables(table)

