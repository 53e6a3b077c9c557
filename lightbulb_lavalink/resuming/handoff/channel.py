"""`HandoffChannel`: this process's handoff messages on the cluster's channel, and who waits for each."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import typing
import uuid

from lightbulb_lavalink.errors import HandoffError
from lightbulb_lavalink.stores.handoff import HandoffKind, HandoffMessage, supports_handoff

if typing.TYPE_CHECKING:
    from collections.abc import Callable

    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.stores.handoff import HandoffStore, HandoffSubscription

__all__ = ["HandoffChannel", "check_cancelled"]


def check_cancelled() -> None:
    """Raise the current task's cancellation if a driver swallowed it (one landing as the driver's own timeout
    fires comes out as a result or an error): a cancelled listener must end, not subscribe again."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class HandoffChannel:
    """The cluster's handoff channel as both sides of this process use it: publishing, reading, and futures for
    the messages a side waits for. Owned by `Handoff`."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._waiters: dict[tuple[str, HandoffKind], list[asyncio.Future[HandoffMessage]]] = {}
        self._own: set[str] = set()  # the nonces this process asked with: its own request is no request to it

    def where(self) -> tuple[HandoffStore, int, str]:
        """The store, bot id and cluster of the channel.

        Raises:
            HandoffError: The store serves one process only (SQLite, JSON, memory), or the bot id is not known.
        """
        client = self._hub.client
        store = client.store
        if not supports_handoff(store) or client.bot_id is None:
            raise HandoffError(
                f"a handoff needs a store that processes share (redis:// or postgresql://); {store.url} serves one "
                "process only: stop the old process, then start the new one"
            )
        return store, client.bot_id, client.settings.cluster

    def new_nonce(self) -> str:
        """A nonce for a request of this process (its own request is never taken for another's)."""
        nonce = uuid.uuid4().hex
        self._own.add(nonce)
        return nonce

    def expect(self, nonce: str, *kinds: HandoffKind) -> asyncio.Future[HandoffMessage]:
        """A future for the first of `kinds` said about `nonce` (every kind shares it)."""
        future: asyncio.Future[HandoffMessage] = asyncio.get_running_loop().create_future()
        for kind in kinds:
            self._waiters.setdefault((nonce, kind), []).append(future)
        return future

    def forget(self, nonce: str) -> None:
        """Stop waiting for anything about `nonce`."""
        for key in [k for k in self._waiters if k[0] == nonce]:
            del self._waiters[key]

    async def read(self, subscription: HandoffSubscription, on_request: Callable[[HandoffMessage], None]) -> None:
        """Read the channel until cancelled or the connection is lost (`StoreError`): another process's request
        goes to `on_request`, every other message to whoever waits for it."""
        while True:
            message = await subscription.receive()
            if message.kind is HandoffKind.REQUEST and message.nonce not in self._own:
                on_request(message)
                continue
            for future in self._waiters.get((message.nonce, message.kind), ()):
                if not future.done():
                    future.set_result(message)

    async def say(
        self, kind: HandoffKind, nonce: str, *, guilds: tuple[int, ...] | None = None, reason: str = ""
    ) -> None:
        """Publish a message of this process about `nonce`.

        Raises:
            StoreError: The store cannot be reached.
        """
        store, bot_id, cluster = self.where()
        message = HandoffMessage(kind=kind, nonce=nonce, sender=_me(), guilds=guilds, reason=reason)
        await store.publish_handoff(bot_id, cluster, message)

    async def within(self, future: asyncio.Future[HandoffMessage], timeout: float) -> HandoffMessage | None:
        """`future`'s message, or `None` after `timeout` seconds (on the client's clock)."""
        with contextlib.suppress(TimeoutError):
            async with self._hub.client.clock.timeout(timeout):
                return await future
        return None
