"""`Releaser`: the running process's side of a handoff: it listens for requests, gets ready, lets its sessions go,
and either exits (handed off) or takes them back (the handoff failed)."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import typing

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.resuming.handoff.channel import check_cancelled
from lightbulb_lavalink.stores.handoff import MAX_LISTED, HandoffKind

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.resuming.handoff.channel import HandoffChannel
    from lightbulb_lavalink.stores import SnapshotWriter
    from lightbulb_lavalink.stores.handoff import HandoffMessage

__all__ = ["HandoffState", "Releaser"]

_LOGGER = logging.getLogger("lightbulb_lavalink.resuming.handoff")
_LETTING_GO: typing.Final = "this process is handing its Lavalink sessions over to a new one; try again in a moment"
_HANDED_OFF: typing.Final = "this process handed its Lavalink sessions over to a new one and is exiting"
_RESUBSCRIBE: typing.Final = (0.5, 30.0)
"""The first and the longest wait before listening again after the channel's connection was lost, in seconds."""


class HandoffState(enum.Enum):
    """Where this process stands in handoffs."""

    RUNNING = "running"
    """Playing its guilds: a handoff request is answered."""
    RELEASING = "releasing"
    """A new process takes over: this one prepares, or its websockets are closed and it waits for that one to
    resume the sessions."""
    HANDED_OFF = "handed off"
    """A new process took the sessions over: this one plays nothing and writes nothing; it should exit."""


class Releaser:
    """The running process's side of handoffs. `reconnect` (re)starts a node asking to resume a session;
    `taking_over` says whether this process is itself still taking the cluster over (it then holds nothing yet)."""

    def __init__(
        self,
        hub: Hub,
        channel: HandoffChannel,
        *,
        reconnect: Callable[[Node, str | None], Awaitable[None]],
        taking_over: Callable[[], bool],
    ) -> None:
        self._hub = hub
        self._channel = channel
        self._reconnect = reconnect
        self._taking_over = taking_over
        self._done = asyncio.Event()
        self._parked: SnapshotWriter | None = None
        self._unreleased: str | None = None  # the nonce of a handoff asked for and not yet released
        self.state: HandoffState = HandoffState.RUNNING
        """Where this process stands."""

    def reset(self) -> None:
        """The client starts (again): running, not handed off, every change taken."""
        self.state = HandoffState.RUNNING
        self._hub.refusing, self._hub.frozen = None, False
        self._unreleased = None
        self._done.clear()

    async def wait_handed_off(self) -> None:
        """Until a new process took this one's sessions over."""
        await self._done.wait()

    async def listen(self) -> None:
        """Listen for handoff requests for as long as the client runs (a task the hub owns), subscribing again
        after a lost connection."""
        store, bot_id, cluster = self._channel.where()
        clock = self._hub.client.clock
        delay = _RESUBSCRIBE[0]
        while self.state is not HandoffState.HANDED_OFF:
            try:
                subscription = await store.subscribe_handoff(bot_id, cluster)
            except StoreError as exc:
                check_cancelled()
                _LOGGER.warning("cannot listen for handoff requests: %s; retrying in %.1f s", exc, delay)
                await clock.sleep(delay)
                delay = min(delay * 2, _RESUBSCRIBE[1])
                continue
            delay = _RESUBSCRIBE[0]
            try:
                check_cancelled()
                await self._channel.read(subscription, self._on_request)
            except StoreError as exc:
                check_cancelled()
                _LOGGER.warning("stopped hearing handoff requests: %s; listening again", exc)
            finally:
                await subscription.close()

    def _on_request(self, message: HandoffMessage) -> None:
        client = self._hub.client
        if self.state is HandoffState.RUNNING and client.started and not self._taking_over():
            self.state = HandoffState.RELEASING
            self._unreleased = message.nonce
            self._hub.spawn(self._hand_over(message), name=f"lavalink-handoff-{message.nonce}")
            return
        if self.state is HandoffState.RELEASING or (client.started and self._taking_over()):
            # Busy with another handoff: said at once, so that the second new process fails saying why rather
            # than wait for its deadline (a process that handed off, or is not started, says nothing: the process
            # that holds the cluster now answers).
            doing = "still taking the cluster over" if self._taking_over() else "already handing its sessions over"
            reason = f"the running process is {doing} (two deploys at once?)"
            self._hub.spawn(self._refuse(message.nonce, reason), name=f"lavalink-handoff-refused-{message.nonce}")
        doing = "still taking the cluster over" if self._taking_over() else self.state.value
        _LOGGER.warning(
            "handoff request %s from %s refused: this process is %s",
            message.nonce,
            message.sender,
            doing if client.started else "not started",
        )

    async def _refuse(self, nonce: str, reason: str) -> None:
        with contextlib.suppress(StoreError):
            await self._channel.say(HandoffKind.ABORTED, nonce, reason=reason)

    async def _hand_over(self, request: HandoffMessage) -> None:
        client = self._hub.client
        clock = client.clock
        timeout = client.settings.handoff_timeout
        channel = self._channel
        nonce = request.nonce
        go = channel.expect(nonce, HandoffKind.RELEASE, HandoffKind.ABORTED)
        answer = channel.expect(nonce, HandoffKind.RESUMED, HandoffKind.ABORTED)
        started = clock.monotonic()
        _LOGGER.info("handoff %s: %s takes this cluster over; getting ready", nonce, request.sender)
        sessions: dict[str, str | None] = {}  # the nodes let go, with their sessions
        try:
            # Everything changed so far is written: the new process reads it while this one plays on, noting the
            # guilds it changes from now on (the new one reads those again once this one let go).
            self._hub.changed = set()
            if self._hub.writer is not None:
                await self._hub.writer.flush()
            await channel.say(HandoffKind.PREPARED, nonce)
            reply = await channel.within(go, timeout)
            if reply is None or reply.kind is not HandoffKind.RELEASE:
                self._unreleased = None
                self._hub.changed = None
                self.state = HandoffState.RUNNING
                why = "the new process gave up" if reply is not None else "no answer from the new process"
                _LOGGER.warning("handoff %s called off before anything was let go (%s)", nonce, why)
                return
            _LOGGER.info("handoff %s: letting the sessions go", nonce)
            changed = await self._let_go(sessions)
            listed = tuple(sorted(changed)) if len(changed) <= MAX_LISTED else None
            await channel.say(HandoffKind.RELEASED, nonce, guilds=listed)
            self._unreleased = None
            reply = await channel.within(answer, timeout)
            if reply is not None and reply.kind is HandoffKind.RESUMED:
                await self._complete(reply, clock.monotonic() - started)
                return
            why = "the new process gave up" if reply is not None else "no answer from the new process"
        except StoreError as exc:
            why = str(exc)
        finally:
            channel.forget(nonce)
            self._hub.changed = None
        self._unreleased = None
        _LOGGER.warning("handoff %s failed (%s): this process keeps its sessions and runs on", nonce, why)
        await self._take_back(sessions)
        with contextlib.suppress(StoreError):
            await channel.say(HandoffKind.ABORTED, nonce, reason=f"the handoff failed ({why})")

    async def _let_go(self, sessions: dict[str, str | None]) -> set[int]:
        """Close every node websocket (sessions left resumable; each node's session put in `sessions`), let the
        commands in flight finish, write the last snapshots and stop writing. Returns the guilds changed since
        the handoff was prepared.

        A change made while this runs is written with the rest (and named among the changed guilds) up to the
        moment the last write begins; from then on every change is refused (`Hub.check_changes`), none is lost.

        Raises:
            StoreError: The last snapshots could not be written (the handoff fails).
        """
        hub = self._hub
        client = hub.client
        hub.ownership.paused = True
        hub.refusing = _LETTING_GO
        for node in client.nodes.values():
            await node.wait_synced(client.settings.request_timeout)
            sessions[node.name] = node.session_id
            await node.close()
        # Closed first: every event Lavalink sends from now on is queued for the session's next connection, so
        # the snapshots written below hold everything this process handled and nothing is handled twice.
        await asyncio.gather(*(player.settle() for player in list(hub.players.values())))
        writer = hub.writer
        if writer is not None:
            await writer.flush()  # the bulk, while changes are still taken (and written just below)
        # From here no change can be kept: refused, at once (no await since the flush came back), then the ones
        # made during that flush are written.
        hub.frozen = True
        if writer is not None:
            await writer.flush()
        changed = hub.changed if hub.changed is not None else set()
        hub.changed = None
        hub.writer, self._parked = None, writer
        return changed

    async def _take_back(self, sessions: dict[str, str | None]) -> None:
        """The handoff failed: write again (every guild: what changed meanwhile was not written) and resume the
        sessions of the nodes that were let go (`sessions`; none if the handoff failed before)."""
        hub = self._hub
        parked, self._parked = self._parked, None
        if parked is not None:
            hub.writer = parked
        hub.refusing, hub.frozen = None, False
        if parked is not None:
            for player in hub.players.values():
                hub.save(player)
        for node in hub.client.nodes.values():
            if node.name in sessions:
                await self._reconnect(node, sessions[node.name])
        hub.ownership.paused = False
        self.state = HandoffState.RUNNING

    async def _complete(self, reply: HandoffMessage, took: float) -> None:
        client = self._hub.client
        self.state = HandoffState.HANDED_OFF
        self._hub.refusing, self._hub.frozen = _HANDED_OFF, True
        if self._parked is not None:
            writer, self._parked = self._parked, None
            await writer.close()  # nothing is pending: it was flushed, and nothing was scheduled since
        _LOGGER.info("handoff %s done in %.1f ms: %s holds this cluster now", reply.nonce, took * 1000, reply.sender)
        self._done.set()
        # Through hikari's own dispatch: its listeners close the bot, whose close closes this client, which ends the
        # listeners it started; one of them awaiting the bot's close would wait for itself, and the bot never stop.
        client.app.event_manager.dispatch(
            events.HandoffCompletedEvent(
                app=client.app, client=client, nonce=reply.nonce, successor=reply.sender, took=took
            )
        )

    async def close(self) -> None:
        """The client closes: a writer parked by a handoff in progress is closed without writing anything more."""
        if self._parked is not None:
            writer, self._parked = self._parked, None
            await writer.close()

    async def closed(self) -> None:
        """The client closed, its last snapshots written: a new process this one was getting ready for (asked, not
        yet released) is told (``stopped``), so that it starts at once rather than at its deadline."""
        nonce, self._unreleased = self._unreleased, None
        if nonce is None:
            return
        _LOGGER.info("handoff %s: this process stopped before letting go; telling the new process", nonce)
        with contextlib.suppress(StoreError):
            await self._channel.say(HandoffKind.STOPPED, nonce)
