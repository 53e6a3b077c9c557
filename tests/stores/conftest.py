"""Fixtures for the store tests: every store kind behind one `Backend`, on real servers and files."""

from __future__ import annotations

import pathlib
import typing

import pytest

from lightbulb_lavalink.stores import JSONFileStore, MemoryStore, PostgresStore, RedisStore, SQLiteStore

from .helpers import DATABASE_URL, REDIS_URL, server_missing, unique

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from lightbulb_lavalink.stores import SessionStore

KINDS = ("memory", "json", "sqlite", "redis", "postgres")


class Backend:
    """One store kind under test: `new()` makes another client on the same data (another "process")."""

    def __init__(self, kind: str, tmp_path: pathlib.Path) -> None:
        self.kind = kind
        self.durable = kind != "memory"
        self.tmp_path = tmp_path
        self.prefix = unique("lltest")
        self.stores: list[SessionStore] = []
        self._memory = MemoryStore()

    def new(self) -> SessionStore:
        """Another store object on the same data (for memory: the same object, it cannot be shared)."""
        store: SessionStore
        if self.kind == "memory":
            store = self._memory
        elif self.kind == "json":
            store = JSONFileStore(self.tmp_path / "sessions.json")
        elif self.kind == "sqlite":
            store = SQLiteStore(self.tmp_path / "sessions.db")
        elif self.kind == "redis":
            store = RedisStore(REDIS_URL, prefix=self.prefix)
        else:
            store = PostgresStore(DATABASE_URL, table=self.prefix, timeout=5.0)
        self.stores.append(store)
        return store

    async def opened(self) -> SessionStore:
        """`new()`, opened."""
        store = self.new()
        await store.open()
        return store

    async def cleanup(self) -> None:
        for store in self.stores:
            await store.close()
        await drop_server_data(self.kind, self.prefix)


async def drop_server_data(kind: str, name: str) -> None:
    """Remove what a Redis (prefix `name`) or PostgreSQL (tables `name`_*) store wrote; other kinds: nothing."""
    if kind == "redis":
        await drop_redis_prefix(name)
    elif kind == "postgres":
        await drop_postgres_tables(name)


async def drop_redis_prefix(prefix: str) -> None:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def drop_postgres_tables(table: str, schema: str = "public") -> None:
    import asyncpg

    conn = await asyncpg.connect(DATABASE_URL)
    try:
        for kind in ("sessions", "guilds", "migrations", "owners", "releases"):
            await conn.execute(f'DROP TABLE IF EXISTS "{schema}"."{table}_{kind}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def server_status() -> dict[str, str | None]:
    """Whether each server answered, checked once per run: kind → `None` (fine) or the reason it did not."""
    return {}


async def require_server(kind: str, status: dict[str, str | None]) -> None:
    """Skip (locally) or fail (CI=true) unless the Redis / PostgreSQL server answers."""
    if kind not in status:
        status[kind] = await _probe(kind)
    reason = status[kind]
    if reason is not None:
        server_missing("Redis" if kind == "redis" else "PostgreSQL", reason)


async def _probe(kind: str) -> str | None:
    try:
        if kind == "redis":
            import redis.asyncio

            client = redis.asyncio.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
            try:
                await client.ping()
            finally:
                await client.aclose()
        else:
            import asyncpg

            conn = await asyncpg.connect(DATABASE_URL, timeout=3)
            await conn.close()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(params=KINDS)
async def backend(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path, server_status: dict[str, str | None]
) -> AsyncIterator[Backend]:
    """Every store kind in turn; Redis and PostgreSQL use a unique prefix / table, dropped afterwards."""
    kind: str = request.param
    if kind in {"redis", "postgres"}:
        await require_server(kind, server_status)
    backend = Backend(kind, tmp_path)
    try:
        yield backend
    finally:
        await backend.cleanup()


@pytest.fixture(params=("redis", "postgres"))
async def shared(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path, server_status: dict[str, str | None]
) -> AsyncIterator[Backend]:
    """Each store kind that several processes share (Redis, PostgreSQL) in turn, as `backend`."""
    kind: str = request.param
    await require_server(kind, server_status)
    backend = Backend(kind, tmp_path)
    try:
        yield backend
    finally:
        await backend.cleanup()


@pytest.fixture
async def store(backend: Backend) -> SessionStore:
    """An opened store of each kind."""
    return await backend.opened()
