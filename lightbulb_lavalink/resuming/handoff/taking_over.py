"""`TakeOver`: the new process's side of a handoff: it asks, reads the store while the old process plays on, and
resumes the sessions once they are let go; or starts normally when no process holds them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import typing

from lightbulb_lavalink.errors import HandoffError, LavalinkError, StoreError
from lightbulb_lavalink.resuming.handoff.probe import saved_sessions_held
from lightbulb_lavalink.stores.handoff import HandoffKind

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.resuming.handoff.channel import HandoffChannel
    from lightbulb_lavalink.stores.handoff import HandoffMessage

__all__ = ["TakeOver"]

_LOGGER = logging.getLogger("lightbulb_lavalink.resuming.handoff")


class TakeOver:
    """The new process's side of a handoff deploy."""

    def __init__(self, hub: Hub, channel: HandoffChannel) -> None:
        self._hub = hub
        self._channel = channel
        self.running = False
        """Whether `take_over` runs: this process may listen already, but holds nothing yet."""

    async def take_over(
        self,
        prepare: Callable[[], Awaitable[None]],
        start: Callable[[tuple[int, ...] | None, float], Awaitable[None]],
        stop: Callable[[], Awaitable[None]],
    ) -> bool:
        """Take the cluster over from its running process.

        Once that process is prepared (it wrote what it changed, and notes what it changes from then on),
        `prepare()` reads the store while it still plays; once it let its sessions go, `start(changed,
        timeout)` reads again the guilds it changed meanwhile (all of them: `None`), connects the nodes and
        waits at most `timeout` seconds until they are ready; if this side fails after that, `stop()` closes
        the node websockets (sessions resumable) before the old process is told, which then resumes them.
        Returns `False` when the running process did not let go (no answer, no ``released`` in time, or it
        stopped first) and no live connection holds the sessions: the caller starts normally.

        Raises:
            HandoffError: The store carries no handoff; the running process refused (busy with another handoff,
                or its store writes fail); it did not let go while a live connection holds the sessions; the
                store could not be read; or the nodes were not ready within half of ``handoff_timeout`` (the old
                process keeps its sessions).
        """
        self._channel.where()
        nonce = self._channel.new_nonce()
        self.running = True
        try:
            return await self._take_over(nonce, prepare, start, stop)
        finally:
            self.running = False

    async def _take_over(
        self,
        nonce: str,
        prepare: Callable[[], Awaitable[None]],
        start: Callable[[tuple[int, ...] | None, float], Awaitable[None]],
        stop: Callable[[], Awaitable[None]],
    ) -> bool:
        channel = self._channel
        store, bot_id, cluster = channel.where()
        timeout = self._hub.client.settings.handoff_timeout
        try:
            subscription = await store.subscribe_handoff(bot_id, cluster)
        except StoreError as exc:
            raise HandoffError(f"cannot reach the store to ask for a handoff: {exc}") from None
        prepared = channel.expect(nonce, HandoffKind.PREPARED, HandoffKind.ABORTED, HandoffKind.STOPPED)
        released = channel.expect(nonce, HandoffKind.RELEASED, HandoffKind.ABORTED, HandoffKind.STOPPED)
        aborted = channel.expect(nonce, HandoffKind.ABORTED)
        reader = asyncio.ensure_future(channel.read(subscription, lambda _: None))
        try:
            await channel.say(HandoffKind.REQUEST, nonce)
            _LOGGER.info("handoff %s: asked the running process of cluster %r to get ready", nonce, cluster)
            with contextlib.suppress(TimeoutError):
                async with self._hub.client.clock.timeout(timeout):
                    await asyncio.wait((prepared, reader), return_when=asyncio.FIRST_COMPLETED)
            if not prepared.done() and reader.done():
                raise HandoffError(f"lost the store while waiting for the handoff: {reader.exception()}")
            reply = prepared.result() if prepared.done() else None
            if reply is None or reply.kind is not HandoffKind.PREPARED:
                await self._not_released(reply, f"no process of cluster {cluster!r} answered within {timeout:g} s")
                return False
            await prepare()  # while the old process plays on
            await channel.say(HandoffKind.RELEASE, nonce)
            reply = await channel.within(released, timeout)
            if reply is None or reply.kind is not HandoffKind.RELEASED:
                await self._not_released(reply, f"the running process did not let its sessions go within {timeout:g} s")
                return False
            changed = reply.guilds
            _LOGGER.info(
                "handoff %s: released by %s (%s changed meanwhile); resuming its sessions",
                nonce,
                reply.sender,
                "every guild" if changed is None else f"{len(changed)} guilds",
            )
            await self._resume_released(lambda within: start(changed, within), aborted, timeout / 2)
            # The old process takes its sessions back unless told in time: if it cannot be, this start fails
            # (its caller closes the websockets, leaving the sessions to the old process).
            await channel.say(HandoffKind.RESUMED, nonce)
        except BaseException as exc:
            if prepared.done() and prepared.result().kind is HandoffKind.PREPARED:
                # The old process waits for an answer: let the sessions go, then tell it at once.
                if released.done() and released.result().kind is HandoffKind.RELEASED:
                    await stop()
                with contextlib.suppress(StoreError):
                    await channel.say(HandoffKind.ABORTED, nonce, reason="the new process gave up")
            if isinstance(exc, StoreError):
                raise HandoffError(f"the store failed during the handoff: {exc}") from None
            raise
        else:
            _LOGGER.info("handoff %s: every node resumed here; the old process exits", nonce)
            return True
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
            channel.forget(nonce)
            await subscription.close()

    async def _not_released(self, reply: HandoffMessage | None, silence: str) -> None:
        """The running process did not let its sessions go: `reply` says why (`None`: nothing came, `silence`
        says so). Returns when this process may start normally (the old one stopped, or none runs, and no live
        connection holds the sessions).

        Raises:
            HandoffError: It refused (``aborted``), or a live connection holds the sessions.
        """
        if reply is not None and reply.kind is HandoffKind.ABORTED:
            why = reply.reason or "it could not get ready (its store writes fail)"
            raise HandoffError(f"the running process refused the handoff: {why}; it keeps its sessions")
        what = silence if reply is None else f"the running process ({reply.sender}) stopped before letting go"
        if await saved_sessions_held(self._hub.client):
            raise HandoffError(
                f"{what}, yet a live connection holds the cluster's Lavalink sessions: a process runs that does not "
                "hand over (a version without handoffs, one on another store, or one whose store connection is "
                "down). Stop it, then start this one"
            )
        _LOGGER.warning("%s and no live connection holds the sessions: starting normally", what)

    async def _resume_released(
        self, start: Callable[[float], Awaitable[None]], aborted: asyncio.Future[HandoffMessage], timeout: float
    ) -> None:
        """Run `start` within `timeout` seconds unless the old process takes its sessions back first."""
        starting = asyncio.ensure_future(start(timeout))
        try:
            async with self._hub.client.clock.timeout(timeout):
                await asyncio.wait((starting, aborted), return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            pass
        finally:
            if not starting.done():
                starting.cancel()
                with contextlib.suppress(BaseException):
                    await starting
        if aborted.done() and not (starting.done() and not starting.cancelled() and starting.exception() is None):
            raise HandoffError("the running process took its sessions back: the handoff was too slow")
        if starting.cancelled():
            raise HandoffError(f"the sessions did not come back within {timeout:g} s; the old process keeps them")
        exc = starting.exception()
        if isinstance(exc, HandoffError):
            raise exc
        if isinstance(exc, LavalinkError):
            raise HandoffError(f"the sessions did not come back: {exc}; the old process keeps them") from None
        if exc is not None:
            raise exc
