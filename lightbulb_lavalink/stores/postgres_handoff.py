"""Handoff messages in PostgreSQL (`HandoffStore`): LISTEN/NOTIFY on one channel per bot and cluster."""

from __future__ import annotations

import asyncio
import contextlib
import typing

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.stores.base import decode_guilds
from lightbulb_lavalink.stores.handoff import HandoffMessage, handoff_channel_name

if typing.TYPE_CHECKING:
    import collections.abc

    import asyncpg
    import asyncpg.pool

    from lightbulb_lavalink.snapshot import GuildSnapshot
    from lightbulb_lavalink.stores.base import StoreKey

__all__ = ["PostgresHandoff", "PostgresSubscription"]

_T = typing.TypeVar("_T")
_SOME_GUILDS: typing.Final = """SELECT guild_id, data FROM {guilds}
    WHERE bot_id = $1 AND cluster = $2 AND node = $3 AND guild_id = ANY($4::bigint[])"""
_LOST: typing.Final = object()
"""Put in the inbox when the listening connection is lost."""


class PostgresSubscription:
    """A LISTEN on a connection taken from the store's pool for as long as the subscription lives."""

    __slots__ = ("_channel", "_closed", "_conn", "_inbox", "_pool", "_where")

    def __init__(self, pool: asyncpg.Pool, conn: asyncpg.pool.PoolConnectionProxy, channel: str, *, where: str) -> None:
        self._pool = pool
        self._conn = conn
        self._channel = channel
        self._where = where
        self._inbox: asyncio.Queue[object] = asyncio.Queue()
        self._closed = False

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if isinstance(payload, str):
            self._inbox.put_nowait(payload)

    def _terminated(self, _conn: object) -> None:
        self._inbox.put_nowait(_LOST)

    async def open(self) -> None:
        """LISTEN (asyncpg's `add_listener`); returns once the server took it."""
        self._conn.add_termination_listener(self._terminated)
        await self._conn.add_listener(self._channel, self._heard)

    async def receive(self) -> HandoffMessage:
        """The next handoff message on the channel (raises `StoreError` once the connection is lost)."""
        while True:
            item = await self._inbox.get()
            if item is _LOST:
                self._inbox.put_nowait(_LOST)  # every later call says so too
                raise StoreError(f"{self._where}: the handoff channel's connection was lost")
            decoded = HandoffMessage.decode(typing.cast("str", item))
            if decoded is not None:
                return decoded

    async def close(self) -> None:
        """UNLISTEN and give the connection back to the pool. Idempotent."""
        if self._closed:
            return
        self._closed = True
        conn = self._conn
        with contextlib.suppress(Exception):  # the connection goes back to the pool, which resets it anyway
            conn.remove_termination_listener(self._terminated)
            if not conn.is_closed():
                await asyncio.wait_for(conn.remove_listener(self._channel, self._heard), 5.0)
        try:
            await self._pool.release(conn, timeout=5.0)
        except Exception:
            conn.terminate()


class PostgresHandoff:
    """The `HandoffStore` half of `PostgresStore`: a NOTIFY channel per bot and cluster, named after the schema
    and table (folded and cut to 63 characters, with a hash: `handoff_channel_name`). Listening holds one
    connection of the pool."""

    __slots__ = ()

    if typing.TYPE_CHECKING:
        _schema: str
        _table: str
        _timeout: float

        @property
        def url(self) -> str: ...

        @property
        def tables(self) -> tuple[str, str, str]: ...

        async def _call(self, func: collections.abc.Callable[[asyncpg.Pool], typing.Awaitable[_T]]) -> _T: ...

    def handoff_channel(self, bot_id: int, cluster: str) -> str:
        """The NOTIFY channel of (`bot_id`, `cluster`)."""
        return handoff_channel_name(f"{self._schema}.{self._table}", bot_id, cluster)

    async def subscribe_handoff(self, bot_id: int, cluster: str) -> PostgresSubscription:
        """LISTEN on the handoff channel (on a connection of the pool); returns once the server took it.

        Raises:
            StoreError: PostgreSQL cannot be reached.
        """
        channel = self.handoff_channel(bot_id, cluster)

        async def listen(pool: asyncpg.Pool) -> PostgresSubscription:
            conn = await pool.acquire(timeout=self._timeout)
            subscription = PostgresSubscription(pool, conn, channel, where=f"postgres {self.url}")
            try:
                await subscription.open()
            except BaseException:
                await subscription.close()
                raise
            return subscription

        return await self._call(listen)

    async def get_some_guilds(
        self, key: StoreKey, guild_ids: collections.abc.Collection[int]
    ) -> dict[int, GuildSnapshot]:
        """The snapshots of `guild_ids` under `key` (one SELECT; bad rows skipped with a warning).

        Raises:
            StoreError: PostgreSQL cannot be reached.
        """
        ids = sorted({int(g) for g in guild_ids})
        if not ids:
            return {}
        sql = _SOME_GUILDS.format(guilds=self.tables[1])
        rows = await self._call(lambda pool: pool.fetch(sql, key.bot_id, key.cluster, key.node, ids))
        return decode_guilds(((row[0], row[1]) for row in rows), f"postgres {self.url} ({key})")

    async def publish_handoff(self, bot_id: int, cluster: str, message: HandoffMessage) -> None:
        """NOTIFY the handoff channel with `message`.

        Raises:
            StoreError: PostgreSQL cannot be reached.
        """
        channel, text = self.handoff_channel(bot_id, cluster), message.encode()
        await self._call(lambda pool: pool.execute("SELECT pg_notify($1, $2)", channel, text))
