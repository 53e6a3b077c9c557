"""Handoff messages in Redis (`HandoffStore`): PUBLISH/SUBSCRIBE on one channel per bot and cluster."""

from __future__ import annotations

import contextlib
import typing
import urllib.parse

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.redact import redact_secret
from lightbulb_lavalink.stores.handoff import HandoffMessage

if typing.TYPE_CHECKING:
    import collections.abc

    import redis.asyncio
    import redis.asyncio.client

__all__ = ["RedisHandoff", "RedisSubscription"]

_T = typing.TypeVar("_T")
_POLL: typing.Final = 5.0
"""Seconds one read of the subscription waits before it reads again (a message wakes it at once)."""


class RedisSubscription:
    """A Redis PubSub on the handoff channel, on a connection of its own (redis-py's `PubSub`)."""

    __slots__ = ("_channel", "_closed", "_password", "_pubsub", "_where")

    def __init__(self, pubsub: redis.asyncio.client.PubSub, channel: str, *, where: str, password: str | None) -> None:
        self._pubsub = pubsub
        self._channel = channel
        self._where = where
        self._password = password
        self._closed = False

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
                    return
        except Exception as exc:
            await self.close()
            raise self._error(exc) from None

    async def receive(self) -> HandoffMessage:
        """The next handoff message on the channel (raises `StoreError` once the connection is lost)."""
        while True:
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=_POLL)
            except Exception as exc:
                raise self._error(exc) from None
            if message is None or message.get("type") != "message":
                continue
            decoded = HandoffMessage.decode(message.get("data") or b"")
            if decoded is not None:
                return decoded

    async def close(self) -> None:
        """Unsubscribe and close the subscription's connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):  # the connection is going away anyway
            await self._pubsub.aclose()

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

    async def publish_handoff(self, bot_id: int, cluster: str, message: HandoffMessage) -> None:
        """PUBLISH `message` on the handoff channel.

        Raises:
            StoreError: Redis cannot be reached.
        """
        channel, text = self.handoff_channel(bot_id, cluster), message.encode()
        await self._call(lambda client: client.publish(channel, text))
