"""Helpers for the store tests: server discovery, snapshot builders, a counting wrapper, a TCP proxy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import typing
import urllib.parse
import uuid

import pytest

from lightbulb_lavalink.snapshot import GuildSnapshot
from lightbulb_lavalink.stores import PostgresStore, RedisStore
from lightbulb_lavalink.testing.store_contract import snapshot as snapshot  # the kit's own: one definition for both
from tests.polling import eventually as eventually  # one definition for every test folder

if typing.TYPE_CHECKING:
    import collections.abc

    from lightbulb_lavalink.stores import SessionStore, StoreKey

CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def unique(prefix: str) -> str:
    """A name no other test (or test run) uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def server_missing(what: str, reason: str) -> typing.NoReturn:
    """Skip locally, fail under CI=true: the contract suite must really run against every server there."""
    if CI:
        pytest.fail(f"{what} is required when CI=true but is not reachable: {reason}")
    pytest.skip(f"{what} not reachable ({reason}); set {'REDIS_URL' if 'Redis' in what else 'DATABASE_URL'}")


class CountingStore:
    """Forwards every call to a real store and counts the snapshots written per guild."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.writes: dict[int, int] = {}
        self.put_calls = 0
        self.deletes: list[int] = []

    @property
    def url(self) -> str:
        return self.inner.url

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def get_session(self, key: StoreKey) -> str | None:
        return await self.inner.get_session(key)

    async def set_session(self, key: StoreKey, session_id: str | None) -> None:
        await self.inner.set_session(key, session_id)

    async def get_guilds(self, key: StoreKey) -> dict[int, GuildSnapshot]:
        return await self.inner.get_guilds(key)

    async def put_guild(self, key: StoreKey, snapshot: GuildSnapshot) -> None:
        await self.put_guilds(key, [snapshot])

    async def put_guilds(self, key: StoreKey, snapshots: collections.abc.Iterable[GuildSnapshot]) -> None:
        snapshots = list(snapshots)
        await self.inner.put_guilds(key, snapshots)
        self.put_calls += 1
        for s in snapshots:
            self.writes[s.guild_id] = self.writes.get(s.guild_id, 0) + 1

    async def delete_guild(self, key: StoreKey, guild_id: int) -> None:
        await self.inner.delete_guild(key, guild_id)
        self.deletes.append(guild_id)

    async def list_keys(self, bot_id: int) -> list[StoreKey]:
        return await self.inner.list_keys(bot_id)


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TcpProxy:
    """A loopback TCP forwarder on a fixed port that can be started and stopped, cutting live connections,
    so a store sees its server vanish and come back."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            self._writers.discard(writer)
            self._tasks.discard(task)
            return
        self._writers.add(up_writer)
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except asyncio.CancelledError:
            pass
        finally:
            for w in (writer, up_writer):
                w.transport.abort()
                self._writers.discard(w)
            self._tasks.discard(task)


def store_behind_proxy(kind: str, name: str, *, timeout: float) -> tuple[TcpProxy, SessionStore]:
    """A Redis (`kind` ``"redis"``, prefix `name`) or PostgreSQL (tables `name`_*) store whose server is
    reached through a new `TcpProxy`, not started yet: the server looks down until `proxy.start()`."""
    real = urllib.parse.urlsplit(REDIS_URL if kind == "redis" else DATABASE_URL)
    proxy = TcpProxy(real.hostname or "127.0.0.1", real.port or (6379 if kind == "redis" else 5432))
    userinfo = real.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}"
    url = urllib.parse.urlunsplit(real._replace(netloc=netloc))
    store: SessionStore = (
        RedisStore(url, prefix=name, socket_timeout=timeout)
        if kind == "redis"
        else PostgresStore(url, table=name, timeout=timeout)
    )
    return proxy, store


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()
