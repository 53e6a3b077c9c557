"""The SessionStore contract (`lightbulb_lavalink.testing.store_contract`) on every built-in store: memory, JSON
file, SQLite, Redis and PostgreSQL by URL, and Redis and PostgreSQL on the bot's own client or pool."""

from __future__ import annotations

import asyncio
import pathlib
import tempfile

import pytest

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.stores import (
    JSONFileStore,
    MemoryStore,
    PostgresStore,
    RedisStore,
    SessionStore,
    SQLiteStore,
    StoreKey,
)
from lightbulb_lavalink.testing.store_contract import StoreContract

from .conftest import Backend, _probe, drop_postgres_tables, drop_redis_prefix
from .helpers import DATABASE_URL, REDIS_URL, server_missing, unique

_SERVERS: dict[str, str | None] = {}


def require(kind: str) -> None:
    if kind not in _SERVERS:
        _SERVERS[kind] = asyncio.run(_probe(kind))
    reason = _SERVERS[kind]
    if reason is not None:
        server_missing("Redis" if kind == "redis" else "PostgreSQL", reason)


class TestMemoryStore(StoreContract):
    durable, shared = False, False

    def setup_method(self) -> None:
        self.store = MemoryStore()

    def new_store(self) -> SessionStore:
        return self.store


class TestJSONFileStore(StoreContract):
    def setup_method(self) -> None:
        self.folder = tempfile.TemporaryDirectory()

    def teardown_method(self) -> None:
        self.folder.cleanup()

    def new_store(self) -> SessionStore:
        return JSONFileStore(pathlib.Path(self.folder.name) / "sessions.json")


class TestSQLiteStore(TestJSONFileStore):
    def new_store(self) -> SessionStore:
        return SQLiteStore(pathlib.Path(self.folder.name) / "sessions.db")


class TestRedisStore(StoreContract):
    def setup_method(self) -> None:
        require("redis")
        self.prefix = unique("lltest")

    def new_store(self) -> SessionStore:
        return RedisStore(REDIS_URL, prefix=self.prefix)

    async def cleanup(self) -> None:
        await drop_redis_prefix(self.prefix)


class TestRedisStoreOnTheBotsClient(TestRedisStore):
    async def prepare(self) -> None:
        import redis.asyncio

        self.client = redis.asyncio.Redis.from_url(REDIS_URL)

    def new_store(self) -> SessionStore:
        return RedisStore.from_client(self.client, prefix=self.prefix)

    async def cleanup(self) -> None:
        assert await self.client.ping()  # closing the stores left the bot's client open
        await self.client.aclose()
        await super().cleanup()


class TestPostgresStore(StoreContract):
    def setup_method(self) -> None:
        require("postgres")
        self.table = unique("lltest")

    def new_store(self) -> SessionStore:
        return PostgresStore(DATABASE_URL, table=self.table, timeout=5.0)

    async def cleanup(self) -> None:
        await drop_postgres_tables(self.table)


class TestPostgresStoreOnTheBotsPool(TestPostgresStore):
    async def prepare(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(DATABASE_URL, min_size=1, max_size=4)

    def new_store(self) -> SessionStore:
        return PostgresStore.from_pool(self.pool, table=self.table, timeout=5.0)

    async def cleanup(self) -> None:
        assert await self.pool.fetchval("SELECT 1") == 1  # closing the stores left the bot's pool open
        await self.pool.close()
        await super().cleanup()


async def test_closed_store_refuses_work(backend: Backend) -> None:
    if backend.kind == "memory":
        pytest.skip("a memory store has nothing to close")
    store = await backend.opened()
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.get_session(StoreKey(800_000_000_000_000_001, "main"))


async def test_a_store_on_the_bots_client_writes_through_it_and_leaves_it_open(
    server_status: dict[str, str | None],
) -> None:
    from .conftest import require_server

    await require_server("redis", server_status)
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(REDIS_URL)
    prefix = unique("lltest")
    try:
        store = RedisStore.from_client(client, prefix=prefix)
        assert store.url.startswith("redis://127.0.0.1:6379/")
        await store.open()
        await store.set_session(StoreKey(1, "main"), "abc")
        assert await client.exists(f"{prefix}:{{1}}::main:session") == 1
        await store.close()
        assert await client.get(f"{prefix}:{{1}}::main:session") == b"abc"
    finally:
        await drop_redis_prefix(prefix)
        await client.aclose()
