"""Handoff deploys: a new process of a cluster takes the Lavalink sessions over from the running one, with no gap.

Both processes hold the same shards (the same ``cluster``) and share a Redis or PostgreSQL store; they talk on
the cluster's handoff channel (`lightbulb_lavalink.stores.handoff`), every message tied to the handoff's nonce:

1. The new process opens the store and starts voice (its bot is connected to Discord), subscribes and publishes
   ``request``.
2. The running process, which listens on the channel from its start (`Handoff.listen`), writes what it changed,
   notes from then on the guilds it changes (`Hub.changed`) and answers ``prepared``; it plays on.
3. The new process reads the store (the long part, for a big cluster) and publishes ``release``.
4. The old process lets go: it closes its node websockets, which leaves every session resumable (Lavalink queues
   the events it would have sent), waits for the commands in flight, writes its last snapshots, stops writing,
   and publishes ``released`` with the guilds it changed since ``prepared``.
5. The new process reads again the session ids and those guilds (`SessionBook.refresh`; every guild when too
   many changed) and connects every node asking to resume its saved session: the usual resume flow syncs every
   guild and applies the queued events in order. Once every node is ready it publishes ``resumed``.
6. The old process, told ``resumed``, is done: `HandoffCompletedEvent` and `LavalinkClient.wait_handed_off`
   tell the bot to exit. It writes nothing more.

Failures: before step 4 the old process has let nothing go: without ``release`` within ``handoff_timeout`` (or on
``aborted``) it stops noting changes and runs on. After it, with no ``resumed`` within ``handoff_timeout`` (the
new process died, or hangs), or on ``aborted``, the old process resumes its own sessions and keeps running,
losing nothing (Lavalink queued their events). The new process gives up well before that deadline: if its
nodes are not all ready within half of ``handoff_timeout`` after the release, or if it cannot publish
``resumed``, its start fails with `HandoffError` and closes its websockets, leaving the sessions resumable for
the old one (told at once with ``aborted`` when the store answers). A new process that gets no ``prepared``
within ``handoff_timeout`` starts normally if no live connection holds the saved sessions (no process runs:
``PATCH /v4/sessions/{id}`` answers 404 while a session is paused; a node that cannot be reached holds nothing),
and fails with `HandoffError` otherwise (a process runs that does not listen).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import socket
import typing
import uuid

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import HandoffError, LavalinkError, NodeUnavailable, SessionNotFoundError, StoreError
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.stores.handoff import MAX_LISTED, HandoffKind, HandoffMessage, supports_handoff

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.stores import SnapshotWriter
    from lightbulb_lavalink.stores.handoff import HandoffStore, HandoffSubscription

__all__ = ["Handoff", "HandoffState"]

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


def _check_cancelled() -> None:
    """Raise the current task's cancellation if a driver swallowed it (one landing as the driver's own timeout
    fires comes out as a result or an error): a cancelled listener must end, not subscribe again."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Handoff:
    """This process's side of handoff deploys, as the one that hands over (`listen`) and as the one that takes
    over (`take_over`). Owned by `LavalinkClient`; `reconnect` (re)starts a node asking to resume a session."""

    def __init__(self, hub: Hub, *, reconnect: Callable[[Node, str | None], Awaitable[None]]) -> None:
        self._hub = hub
        self._reconnect = reconnect
        self._waiters: dict[tuple[str, HandoffKind], list[asyncio.Future[HandoffMessage]]] = {}
        self._own: set[str] = set()  # the nonces this process asked with: its own request is no request to it
        self._done = asyncio.Event()
        self._parked: SnapshotWriter | None = None
        self._taking_over = False  # `take_over` runs: this process listens already, but holds nothing yet
        self.state: HandoffState = HandoffState.RUNNING
        """Where this process stands."""

    @property
    def available(self) -> bool:
        """Whether the store carries handoffs (Redis, PostgreSQL)."""
        client = self._hub.client
        return client.bot_id is not None and supports_handoff(client.store)

    def check_commands(self) -> None:
        """Fail a command that would change what this process plays once it lets its sessions go (the client's
        join, leave and move; a player's commands and changes ask the hub themselves).

        Raises:
            NodeUnavailable: The sessions are being handed over (try again in a moment: the new process answers
                then), or were (this process is exiting).
        """
        self._hub.check_commands()

    def reset(self) -> None:
        """The client starts (again): running, not handed off."""
        self.state = HandoffState.RUNNING
        self._hub.refusing, self._hub.frozen = None, False
        self._done.clear()

    async def wait_handed_off(self) -> None:
        """Until a new process took this one's sessions over."""
        await self._done.wait()

    def _channel(self) -> tuple[HandoffStore, int, str]:
        client = self._hub.client
        store = client.store
        if not supports_handoff(store) or client.bot_id is None:
            raise HandoffError(
                f"a handoff needs a store that processes share (redis:// or postgresql://); {store.url} serves one "
                "process only: stop the old process, then start the new one"
            )
        return store, client.bot_id, client.settings.cluster

    def _expect(self, nonce: str, *kinds: HandoffKind) -> asyncio.Future[HandoffMessage]:
        """A future for the first of `kinds` said about `nonce` (every kind shares it)."""
        future: asyncio.Future[HandoffMessage] = asyncio.get_running_loop().create_future()
        for kind in kinds:
            self._waiters.setdefault((nonce, kind), []).append(future)
        return future

    def _forget(self, nonce: str) -> None:
        for key in [k for k in self._waiters if k[0] == nonce]:
            del self._waiters[key]

    def _heard(self, message: HandoffMessage) -> None:
        """Hand `message` to whoever waits for it."""
        for future in self._waiters.get((message.nonce, message.kind), ()):
            if not future.done():
                future.set_result(message)

    async def _read(self, subscription: HandoffSubscription, on_request: Callable[[HandoffMessage], None]) -> None:
        """Read the channel until cancelled or the connection is lost (`StoreError`)."""
        while True:
            message = await subscription.receive()
            if message.kind is HandoffKind.REQUEST and message.nonce not in self._own:
                on_request(message)
            else:
                self._heard(message)

    # -- the running process: hand over -------------------------------------------------------------------

    async def listen(self) -> None:
        """Listen for handoff requests for as long as the client runs (a task the hub owns), subscribing again
        after a lost connection."""
        store, bot_id, cluster = self._channel()
        clock = self._hub.client.clock
        delay = _RESUBSCRIBE[0]
        while self.state is not HandoffState.HANDED_OFF:
            try:
                subscription = await store.subscribe_handoff(bot_id, cluster)
            except StoreError as exc:
                _check_cancelled()
                _LOGGER.warning("cannot listen for handoff requests: %s; retrying in %.1f s", exc, delay)
                await clock.sleep(delay)
                delay = min(delay * 2, _RESUBSCRIBE[1])
                continue
            delay = _RESUBSCRIBE[0]
            try:
                _check_cancelled()
                await self._read(subscription, self._on_request)
            except StoreError as exc:
                _check_cancelled()
                _LOGGER.warning("stopped hearing handoff requests: %s; listening again", exc)
            finally:
                await subscription.close()

    def _on_request(self, message: HandoffMessage) -> None:
        client = self._hub.client
        if self.state is not HandoffState.RUNNING or not client.started or self._taking_over:
            if self._taking_over:
                doing = "still taking the cluster over"
            else:
                doing = self.state.value if client.started else "not started"
            _LOGGER.warning(
                "handoff request %s from %s ignored: this process is %s", message.nonce, message.sender, doing
            )
            return
        self.state = HandoffState.RELEASING
        self._hub.spawn(self._hand_over(message), name=f"lavalink-handoff-{message.nonce}")

    async def _hand_over(self, request: HandoffMessage) -> None:
        client = self._hub.client
        clock = client.clock
        timeout = client.settings.handoff_timeout
        store, bot_id, cluster = self._channel()
        nonce = request.nonce
        go = self._expect(nonce, HandoffKind.RELEASE, HandoffKind.ABORTED)
        answer = self._expect(nonce, HandoffKind.RESUMED, HandoffKind.ABORTED)
        started = clock.monotonic()
        _LOGGER.info("handoff %s: %s takes this cluster over; getting ready", nonce, request.sender)
        sessions: dict[str, str | None] = {}  # the nodes let go, with their sessions
        try:
            # Everything changed so far is written: the new process reads it while this one plays on, noting the
            # guilds it changes from now on (the new one reads those again once this one let go).
            self._hub.changed = set()
            if self._hub.writer is not None:
                await self._hub.writer.flush()
            await store.publish_handoff(bot_id, cluster, self._say(HandoffKind.PREPARED, nonce))
            reply = await self._within(go, timeout)
            if reply is None or reply.kind is not HandoffKind.RELEASE:
                self._hub.changed = None
                self.state = HandoffState.RUNNING
                why = "the new process gave up" if reply is not None else "no answer from the new process"
                _LOGGER.warning("handoff %s called off before anything was let go (%s)", nonce, why)
                return
            _LOGGER.info("handoff %s: letting the sessions go", nonce)
            changed = await self._let_go(sessions)
            listed = tuple(sorted(changed)) if len(changed) <= MAX_LISTED else None
            await store.publish_handoff(bot_id, cluster, self._say(HandoffKind.RELEASED, nonce, guilds=listed))
            reply = await self._within(answer, timeout)
            if reply is not None and reply.kind is HandoffKind.RESUMED:
                await self._complete(reply, clock.monotonic() - started)
                return
            why = "the new process gave up" if reply is not None else "no answer from the new process"
        except StoreError as exc:
            why = str(exc)
        finally:
            self._forget(nonce)
            self._hub.changed = None
        _LOGGER.warning("handoff %s failed (%s): this process keeps its sessions and runs on", nonce, why)
        await self._take_back(sessions)
        with contextlib.suppress(StoreError):
            await store.publish_handoff(bot_id, cluster, self._say(HandoffKind.ABORTED, nonce))

    async def _within(self, future: asyncio.Future[HandoffMessage], timeout: float) -> HandoffMessage | None:
        """`future`'s message, or `None` after `timeout` seconds (on the client's clock)."""
        with contextlib.suppress(TimeoutError):
            async with self._hub.client.clock.timeout(timeout):
                return await future
        return None

    def _unpark(self) -> None:
        if self._parked is not None:
            self._hub.writer, self._parked = self._parked, None

    @staticmethod
    def _say(kind: HandoffKind, nonce: str, *, guilds: tuple[int, ...] | None = None) -> HandoffMessage:
        return HandoffMessage(kind=kind, nonce=nonce, sender=_me(), guilds=guilds)

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
        parked = self._parked is not None
        self._unpark()
        hub.refusing, hub.frozen = None, False
        if parked:
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

    # -- the new process: take over -------------------------------------------------------------------------

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
        Returns `False`, having called nothing, when no process answered and none holds the sessions: the
        caller starts normally.

        Raises:
            HandoffError: The store carries no handoff; no process answered while one holds the sessions; the
                store could not be read; or the nodes were not ready within half of ``handoff_timeout`` (the old
                process keeps its sessions).
        """
        store, bot_id, cluster = self._channel()
        nonce = uuid.uuid4().hex
        self._own.add(nonce)
        self._taking_over = True
        try:
            return await self._take_over(nonce, store, bot_id, cluster, prepare, start, stop)
        finally:
            self._taking_over = False

    async def _take_over(
        self,
        nonce: str,
        store: HandoffStore,
        bot_id: int,
        cluster: str,
        prepare: Callable[[], Awaitable[None]],
        start: Callable[[tuple[int, ...] | None, float], Awaitable[None]],
        stop: Callable[[], Awaitable[None]],
    ) -> bool:
        clock = self._hub.client.clock
        timeout = self._hub.client.settings.handoff_timeout
        try:
            subscription = await store.subscribe_handoff(bot_id, cluster)
        except StoreError as exc:
            raise HandoffError(f"cannot reach the store to ask for a handoff: {exc}") from None
        prepared = self._expect(nonce, HandoffKind.PREPARED, HandoffKind.ABORTED)
        released = self._expect(nonce, HandoffKind.RELEASED, HandoffKind.ABORTED)
        aborted = self._expect(nonce, HandoffKind.ABORTED)
        reader = asyncio.ensure_future(self._read(subscription, lambda _: None))
        try:
            await store.publish_handoff(bot_id, cluster, self._say(HandoffKind.REQUEST, nonce))
            _LOGGER.info("handoff %s: asked the running process of cluster %r to get ready", nonce, cluster)
            with contextlib.suppress(TimeoutError):
                async with clock.timeout(timeout):
                    await asyncio.wait((prepared, reader), return_when=asyncio.FIRST_COMPLETED)
            if not prepared.done():
                if reader.done():
                    raise HandoffError(f"lost the store while waiting for the handoff: {reader.exception()}")
                await self._nobody_answered(timeout)
                return False
            if prepared.result().kind is HandoffKind.ABORTED:
                raise HandoffError("the running process could not get ready (its store writes fail); it runs on")
            await prepare()  # while the old process plays on
            await store.publish_handoff(bot_id, cluster, self._say(HandoffKind.RELEASE, nonce))
            reply = await self._within(released, timeout)
            if reply is None or reply.kind is not HandoffKind.RELEASED:
                raise HandoffError("the running process did not let its sessions go; it keeps them")
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
            await store.publish_handoff(bot_id, cluster, self._say(HandoffKind.RESUMED, nonce))
        except BaseException as exc:
            if prepared.done():  # the old process waits for an answer: let the sessions go, then tell it at once
                if released.done():
                    await stop()
                with contextlib.suppress(StoreError):
                    await store.publish_handoff(bot_id, cluster, self._say(HandoffKind.ABORTED, nonce))
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
            self._forget(nonce)
            await subscription.close()

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

    async def _nobody_answered(self, timeout: float) -> None:
        """No process answered the request: fine if no live connection holds the saved sessions (none runs);
        otherwise `HandoffError` (a process runs that does not listen: an older version, another store)."""
        client = self._hub.client
        try:
            sessions = {name: await client.store.get_session(client.store_key(name)) for name in client.nodes}
        except StoreError as exc:
            raise HandoffError(f"cannot read the saved sessions: {exc}") from None
        if await self._held_elsewhere(sessions):
            raise HandoffError(
                f"no process of cluster {client.settings.cluster!r} answered the handoff request within {timeout:g} s, "
                "yet its Lavalink sessions are connected: is the running process too old to hand over, or on "
                "another store? Stop it, then start this one"
            )
        _LOGGER.warning("no process answered the handoff request and none holds the sessions: starting normally")

    async def _held_elsewhere(self, sessions: dict[str, str | None]) -> bool:
        """Whether a live connection holds any of `sessions` (node name → session id): Lavalink answers a
        session's routes while one is connected, and 404 while it is paused or gone. (NodeLink answers for a
        paused session too: there a paused session counts as held, and the handoff fails rather than guess.) A node
        that cannot be reached at all holds nothing: the process starts as it would without a handoff.

        Raises:
            HandoffError: A node does not answer in time, or answers with an error (it cannot be told whether the
                session is held).
        """
        client = self._hub.client
        for name, session_id in sessions.items():
            if session_id is None:
                continue
            settings = client.nodes[name].settings
            rest = RestClient(settings.url, settings.password, timeout=client.settings.request_timeout)
            try:
                await rest.update_session(session_id)  # an empty PATCH: changes nothing
            except SessionNotFoundError:
                continue
            except NodeUnavailable as exc:
                # Down (no connection at all): nothing is connected to it from here either, and a start without
                # handoff would not wait for it; the node resumes the session once it is back.
                _LOGGER.warning(
                    "node %r cannot be reached (%s): counting session %s as not held", name, exc, session_id
                )
                continue
            except LavalinkError as exc:
                raise HandoffError(f"cannot tell whether node {name!r} holds session {session_id}: {exc}") from None
            finally:
                await rest.close()
            return True
        return False
