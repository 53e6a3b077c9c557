"""Handoff messages in Redis (`HandoffStore`): PUBLISH/SUBSCRIBE on one channel per bot and cluster."""

from __future__ import annotations

import asyncio
import typing
import urllib.parse

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.redact import redact_secret
from lightbulb_lavalink.stores.base import decode_guilds
from lightbulb_lavalink.stores.handoff import HandoffMessage

if typing.TYPE_CHECKING:
    import collections.abc

    import redis.asyncio
    import redis.asyncio.client

    from lightbulb_lavalink.snapshot import GuildSnapshot
    from lightbulb_lavalink.stores.base import StoreKey

__all__ = ["RedisHandoff", "RedisSubscription"]

_T = typing.TypeVar("_T")
_CLOSE_WAIT: typing.Final = 2.0
"""Seconds `RedisSubscription.close` waits for the driver to end a read and close the connection."""
_POLL: typing.Final = 5.0
"""Seconds one read of the subscription waits before it reads again (a message wakes it at once)."""


def _check_cancelled() -> None:
    """Raise the cancellation of the current task if redis-py swallowed it: one that lands as a timeout of its own
    fires (connecting, subscribing, reading) comes out as a result or a `TimeoutError`, and the cancelled task
    would otherwise go on reading for ever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class RedisSubscription:
    """A Redis PubSub on the handoff channel, on a connection of its own (redis-py's `PubSub`)."""

    __slots__ = ("_channel", "_closed", "_password", "_pubsub", "_reading", "_where")

    def __init__(self, pubsub: redis.asyncio.client.PubSub, channel: str, *, where: str, password: str | None) -> None:
        self._pubsub = pubsub
        self._channel = channel
        self._where = where
        self._password = password
        self._closed = False
        self._reading: asyncio.Future[typing.Any] | None = None

    async def open(self) -> None:
        """Subscribe and wait for the server's confirmation (raises `StoreError`)."""
        pubsub = self._pubsub
        try:
            await pubsub.subscribe(self._channel)
            while True:  # the confirmation: what is published from now on reaches us
                message = await pubsub.get_message(timeout=_POLL)
                if message is None:
                    raise StoreError(f"{self._where}: no answer to SUBSCRIBE within {_POLL:g} s")
                if message.get("type") == "subscribe":
                    _check_cancelled()
                    return
        except Exception as exc:
            await self.close()
            _check_cancelled()
            raise self._error(exc) from None
        except BaseException:
            await self.close()
            raise

    async def receive(self) -> HandoffMessage:
        """The next handoff message on the channel (raises `StoreError` once the connection is lost)."""
        while True:
            _check_cancelled()
            # The driver's read runs in a task of its own: a cancellation of ours never lands inside it (where a
            # read timeout firing at the same moment can swallow it, leaving the read, and us, waiting for ever).
            reading = asyncio.ensure_future(self._pubsub.get_message(ignore_subscribe_messages=True, timeout=_POLL))
            self._reading = reading
            try:
                await asyncio.wait((reading,))
            except asyncio.CancelledError:
                reading.cancel()
                raise
            if reading.cancelled():
                raise StoreError(f"{self._where}: the handoff channel's read was cancelled")
            exc = reading.exception()
            if exc is not None:
                _check_cancelled()
                raise self._error(exc) from None
            message = reading.result()
            if message is None or message.get("type") != "message":
                continue
            decoded = HandoffMessage.decode(message.get("data") or b"")
            if decoded is not None:
                return decoded

    async def close(self) -> None:
        """Stop the read in progress, then unsubscribe and close the subscription's connection; never waits more
        than a few seconds on the driver. Idempotent."""
        if self._closed:
            return
        self._closed = True
        reading, self._reading = self._reading, None
        if reading is not None and not reading.done():
            reading.cancel()
            await asyncio.wait((reading,), timeout=_CLOSE_WAIT)
        if reading is not None and reading.done() and not reading.cancelled():
            reading.exception()  # retrieved: a read the closing connection failed is no error to log
        closing = asyncio.ensure_future(self._pubsub.aclose())
        await asyncio.wait((closing,), timeout=_CLOSE_WAIT)
        if closing.done() and not closing.cancelled():
            closing.exception()  # retrieved: the connection is going away anyway

    def _error(self, exc: BaseException) -> StoreError:
        if isinstance(exc, StoreError):
            return exc
        why = redact_secret(f"{type(exc).__name__}: {exc}", self._password)
        return StoreError(f"{self._where}: handoff channel: {why}")


class RedisHandoff:
    """The `HandoffStore` half of `RedisStore`: channel ``P:{B}:handoff:C`` (prefix, bot id, cluster)."""

    __slots__ = ()

    if typing.TYPE_CHECKING:
        _password: str | None

        @property
        def prefix(self) -> str: ...

        @property
        def url(self) -> str: ...

        def _get_client(self) -> redis.asyncio.Redis: ...

        def _base(self, key: StoreKey) -> str: ...

        async def _call(
            self, func: collections.abc.Callable[[redis.asyncio.Redis], typing.Awaitable[_T]]
        ) -> _T: ...

    def handoff_channel(self, bot_id: int, cluster: str) -> str:
        """The Redis channel of (`bot_id`, `cluster`)."""
        return f"{self.prefix}:{{{bot_id}}}:handoff:{urllib.parse.quote(cluster, safe='')}"

    async def subscribe_handoff(self, bot_id: int, cluster: str) -> RedisSubscription:
        """Subscribe to the handoff channel (a connection of its own); returns once Redis confirmed it.

        Raises:
            StoreError: Redis cannot be reached.
        """
        try:
            pubsub = self._get_client().pubsub()
        except Exception as exc:
            raise StoreError(f"redis {self.url}: {redact_secret(str(exc), self._password)}") from None
        subscription = RedisSubscription(
            pubsub, self.handoff_channel(bot_id, cluster), where=f"redis {self.url}", password=self._password
        )
        await subscription.open()
        return subscription

    async def get_some_guilds(
        self, key: StoreKey, guild_ids: collections.abc.Collection[int]
    ) -> dict[int, GuildSnapshot]:
        """The snapshots of `guild_ids` under `key` (one HMGET; bad entries skipped with a warning).

        Raises:
            StoreError: Redis cannot be reached.
        """
        ids = sorted({int(g) for g in guild_ids})
        if not ids:
            return {}
        field = f"{self._base(key)}:guilds"

        async def get(client: redis.asyncio.Redis) -> list[typing.Any]:
            return typing.cast("list[typing.Any]", await client.hmget(field, [str(g) for g in ids]))

        values = await self._call(get)
        rows = [(g, v) for g, v in zip(ids, values, strict=True) if v is not None]
        return decode_guilds(rows, f"redis {self.url} ({key})")

    async def publish_handoff(self, bot_id: int, cluster: str, message: HandoffMessage) -> None:
        """PUBLISH `message` on the handoff channel.

        Raises:
            StoreError: Redis cannot be reached.
        """
        channel, text = self.handoff_channel(bot_id, cluster), message.encode()
        await self._call(lambda client: client.publish(channel, text))
