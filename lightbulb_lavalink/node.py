"""One Lavalink node: its REST client, its websocket session, its stats and penalty, and what it told us."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import enum
import logging
import typing

import attrs
import hikari

from lightbulb_lavalink import events
from lightbulb_lavalink.dispatching import ReaderAnswers
from lightbulb_lavalink.errors import LavalinkError, NodeUnavailable
from lightbulb_lavalink.plugins import events as plugin_events
from lightbulb_lavalink.pool import stats_penalty
from lightbulb_lavalink.protocol.backoff import Backoff
from lightbulb_lavalink.protocol.deviations import Deviations
from lightbulb_lavalink.protocol.messages import (
    PlayerUpdateMessage,
    ReadyMessage,
    StatsMessage,
    UnknownMessage,
)
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.protocol.websocket import WebSocketSession
from lightbulb_lavalink.resuming.replay import ReplayWindow

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Coroutine, Mapping

    import aiohttp

    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.protocol.info import Info
    from lightbulb_lavalink.protocol.messages import EventMessage, Message
    from lightbulb_lavalink.protocol.stats import Stats
    from lightbulb_lavalink.resuming.outcome import ResumeReport
    from lightbulb_lavalink.resuming.report import SyncReport
    from lightbulb_lavalink.settings import NodeSettings

__all__ = ["Node", "NodeHooks", "NodeState", "ReadyInfo"]

_LOGGER = logging.getLogger("lightbulb_lavalink.node")
_SHUTDOWN_CODES: typing.Final = frozenset({1000, 1001})
"""Close codes a server sends itself only when it shuts down (its websocket close frame, not a network drop)."""
REPLAY_QUIET: typing.Final[float] = 1.0
"""Seconds without an event after which a resumed session's replay counts as over when no ``playerUpdate`` said
so (the replayed events come at once after the ``ready``)."""


class NodeState(enum.Enum):
    """Where a node's connection stands."""

    DISCONNECTED = "disconnected"
    """Not started, closed, or between reconnection attempts."""
    CONNECTING = "connecting"
    """The websocket is connecting or waiting for `ready`."""
    SYNCING = "syncing"
    """A `ready` came and the guilds it concerns are being synced: commands wait for it to end."""
    READY = "ready"
    """Connected with a live session: the node can take players."""
    FAILED = "failed"
    """Gave up: the node refused our credentials. See `Node.last_error`."""


class NodeHooks(typing.Protocol):
    """How a `Node` tells its owner what happened; the owner is the client's `Hub`."""

    async def on_ready(self, node: Node, ready: ReadyMessage) -> None:
        """A `ready` came; return once every guild it concerns is synced (the replayed events follow)."""
        ...

    async def on_replay_done(self, node: Node) -> None:
        """The events replayed after a resumed `ready` were all applied."""
        ...

    def on_lost(self, node: Node, *, session_gone: bool = False) -> None:
        """A node with a live session went away (it reconnects by itself); `session_gone`: it said it shut down,
        so its session cannot be resumed."""
        ...

    def on_destroy_deferred(self, node: Node, guild_id: int) -> None:
        """A guild's player could not be destroyed now (the node is away): it must be, even after a restart."""
        ...

    def spawn(self, coro: Coroutine[typing.Any, typing.Any, None], *, name: str) -> asyncio.Task[None]:
        """Run `coro` in a task the owner cancels and awaits on close; return the task."""
        ...


@attrs.frozen(kw_only=True, weakref_slot=False)
class ReadyInfo:
    """What the node's last `ready` op said and when it came."""

    session_id: str
    """The session id it gave."""
    resumed: bool
    """Whether it resumed the session we asked for."""
    at: datetime.datetime
    """When it arrived (UTC)."""


class Node:
    """One Lavalink server connection. Created by `LavalinkClient` from the settings; never construct one yourself."""

    def __init__(self, client: LavalinkClient, settings: NodeSettings, hooks: NodeHooks) -> None:
        self._client = client
        self._hooks = hooks
        # Read for every message of a playing guild: bound once (the client's player table lives as long as it).
        self._players: Mapping[int, Player] = client.players
        self._heard = ReaderAnswers(client.heard).heard  # asked by this node's websocket reader only
        self.settings: NodeSettings = settings
        """The node's settings (name, address, region; the password is never shown)."""
        self.state: NodeState = NodeState.DISCONNECTED
        """Where the connection stands."""
        self.stats: Stats | None = None
        """The last stats the node sent, or `None` before the first."""
        self.last_ready: ReadyInfo | None = None
        """The last `ready` op, or `None` before the first."""
        self.last_sync: SyncReport | None = None
        """What the last `ready` led to: a resumed sync, a recovery or a fresh session."""
        self.last_resume: ResumeReport | None = None
        """The report of the last `ready` whose work has all settled (`ResumeCompletedEvent` carries it too)."""
        self.last_handshake: float | None = None
        """Seconds the connection attempt that led to the last `ready` took, up to that `ready`."""
        self.last_error: str | None = None
        """Why the node failed or last disconnected, in words."""
        self.expected_session_id: str | None = None
        """The session we hoped to resume at the last connection (from the store, or the previous one)."""
        self.pending_players = 0
        """Players assigned to this node and not yet counted by a stats op (fair load balancing)."""
        self.pending_destroys: set[int] = set()
        """Guilds whose player was destroyed while the node was away: destroyed on Lavalink once it is back."""
        self._rest: RestClient | None = None
        self._ws: WebSocketSession | None = None
        self.replay = ReplayWindow()
        """The events a resumed session replays (from its `ready` to the first `playerUpdate`)."""
        self.deviations = Deviations(f"Lavalink node {settings.name!r}")
        """What the node sent that differs from the protocol and was read anyway, by kind (each logged once)."""
        self._synced = asyncio.Event()
        self._replay_epoch = 0  # bumped by every ready: a quiet-replay watch of an older one gives up
        self._replay_heard = 0.0  # when the open replay window last saw an event (clock.monotonic)
        self._closing = False

    def __repr__(self) -> str:
        return f"Node(name={self.name!r}, state={self.state.value}, session_id={self.session_id!r})"

    @property
    def name(self) -> str:
        """The node's name, unique within a client."""
        return self.settings.name

    @property
    def rest(self) -> RestClient:
        """The node's REST client (raises `NodeUnavailable` before the client started)."""
        if self._rest is None:
            raise NodeUnavailable(f"node {self.name!r} is not started")
        return self._rest

    @property
    def session_id(self) -> str | None:
        """The id of the node's latest session (the latest `ready`), or `None` before the first."""
        return self._ws.session_id if self._ws is not None else None

    async def wait_synced(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds while a `ready` is being synced; return whether the node is ready."""
        if self.state is NodeState.SYNCING:
            with contextlib.suppress(TimeoutError):
                async with self._client.clock.timeout(timeout):
                    await self._synced.wait()
        return self.state is NodeState.READY

    @property
    def connected(self) -> bool:
        """Whether the node has a live session and can take commands."""
        return self.state is NodeState.READY

    @property
    def penalty(self) -> float:
        """The load-balancing penalty: lower is better (see `lightbulb_lavalink.pool.stats_penalty`)."""
        return stats_penalty(self.stats, self.pending_players)

    @property
    def player_count(self) -> int:
        """How many of the client's players live on this node."""
        return sum(1 for p in self._client.players.values() if p.node is self)

    async def fetch_info(self) -> Info:
        """Ask the node for its version, source managers, filters and plugins."""
        return await self.rest.info()

    # -- lifecycle ----------------------------------------------------------------------------------------------

    async def start(self, session: aiohttp.ClientSession, bot_id: int, session_id: str | None) -> None:
        """Open the REST client and start the websocket, asking to resume `session_id` if given."""
        client = self._client
        settings = client.settings
        self.expected_session_id = session_id
        self._rest = RestClient(
            self.settings.url,
            self.settings.password,
            session=session,
            timeout=settings.request_timeout,
            client_name=settings.client_name,
            clock=self._client.clock,
            max_response_size=settings.max_response_size,
            deviations=self.deviations,
            observer=client.observer.requests(self.name) if client.observer is not None else None,
        )
        self._ws = WebSocketSession(
            self.settings.url,
            self.settings.password,
            bot_id,
            client_name=settings.client_name,
            session=session,
            handler=self,
            session_id=session_id,
            backoff=Backoff(initial=settings.reconnect_delay, maximum=settings.reconnect_max_delay),
            clock=self._client.clock,
            max_message_size=settings.max_response_size,
            connect_timeout=settings.request_timeout,
            ready_timeout=settings.request_timeout,
            deviations=self.deviations,
        )
        self.state = NodeState.CONNECTING
        await self._ws.start()

    async def close(self) -> None:
        """Close the websocket without destroying anything: a resumable session stays resumable."""
        ws = self._ws
        self._closing = True
        try:
            if ws is not None:
                await ws.close()
        finally:
            self._closing = False
            self._ws = None
        if self._rest is not None:
            await self._rest.close()
        self.state = NodeState.DISCONNECTED

    async def wait_ready(self, timeout: float) -> ReadyMessage:
        """Wait until the node's websocket has a session; raise `NodeUnavailable` or the fatal error."""
        if self._ws is None:
            raise NodeUnavailable(f"node {self.name!r} is not started")
        return await self._ws.wait_ready(timeout)

    async def discard_player(self, guild_id: int) -> None:
        """Destroy the guild's player on this node now, or as soon as its session is back if it is away."""
        session_id = self.session_id
        if session_id is not None and self.connected:
            try:
                await self.rest.destroy_player(session_id, guild_id)
                return
            except LavalinkError as exc:
                _LOGGER.warning("guild %s: could not destroy its player on node %s yet: %s", guild_id, self.name, exc)
        self.pending_destroys.add(guild_id)
        self._hooks.on_destroy_deferred(self, guild_id)

    # -- websocket handler ----------------------------------------------------------------------------------------

    def on_message(self, message: Message) -> Awaitable[None] | None:
        """Handle one op from the node, in order. What needs no waiting is done at once (`None`); otherwise the
        rest is returned, to be awaited before the next op."""
        if isinstance(message, PlayerUpdateMessage):  # the hot path: one per playing guild every few seconds
            if self.replay.is_open:
                return self._after_replay(message)
            self._on_player_update(message)
            return None
        client = self._client
        if isinstance(message, StatsMessage):
            self.stats = message.stats
            self.pending_players = 0
            if self._heard(events.NodeStatsEvent):
                client.dispatch(events.NodeStatsEvent(app=client.app, client=client, node=self, stats=message.stats))
            return None
        if isinstance(message, ReadyMessage):
            return self._on_ready(message)
        if isinstance(message, UnknownMessage):
            self._on_unknown(message)
            return None
        return self._on_event(message)

    async def _after_replay(self, message: PlayerUpdateMessage) -> None:
        if self.replay.close():
            # The per-player updates come after the replayed queue: the replay is over.
            await self._hooks.on_replay_done(self)
        self._on_player_update(message)

    def _on_player_update(self, message: PlayerUpdateMessage) -> None:
        player = self._players.get(message.guild_id)
        if player is not None and player.node is self:
            state = message.state
            player.on_state(state)
            if self._heard(events.PlayerUpdateEvent):
                client = self._client
                client.dispatch(
                    events.PlayerUpdateEvent(
                        app=client.app, client=client, player=player, guild_id=player.snowflake, node=self, state=state
                    )
                )

    def _on_unknown(self, message: UnknownMessage) -> None:
        """A message Lavalink itself does not send: a known plugin's event becomes its typed event; anything else (a
        newer server's, another plugin's) is noted once per kind and passed on raw, an event as a `PluginEvent`."""
        client = self._client
        guild = message.data.get("guildId")
        guild_id = hikari.Snowflake(guild) if type(guild) is str and guild.isascii() and guild.isdigit() else None
        if message.op == "event":
            if not plugin_events.known_type(message.type):
                self.deviations.note(f"event {message.type}", "an event type this library does not know; passed on")
            player = client.players.get(guild_id) if guild_id is not None else None
            if player is not None and player.node is not self:
                player = None
            client.dispatch(plugin_events.plugin_event(client, self, message, guild_id=guild_id, player=player))
            return
        self.deviations.note(f"op {message.op}", "an op this library does not know; passed on")
        client.dispatch(
            events.UnknownMessageEvent(
                app=client.app,
                client=client,
                node=self,
                op=message.op,
                type=message.type,
                guild_id=guild_id,
                data=message.data,
            )
        )

    def _on_event(self, message: EventMessage) -> Awaitable[None] | None:
        if self.replay.is_open:
            return self._on_replayed_event(message)
        player = self._players.get(message.guild_id)
        if player is None or player.node is not self:
            _LOGGER.debug(
                "node %s: event %s for guild %s without a player", self.name, type(message).__name__, message.guild_id
            )
            return None
        return player.on_event(message, replayed=False)

    async def _on_replayed_event(self, message: EventMessage) -> None:
        self._replay_heard = self._client.clock.monotonic()
        if not self.replay.admit(message):
            _LOGGER.debug("node %s: dropping a duplicate replayed %s", self.name, type(message).__name__)
            return
        player = self._players.get(message.guild_id)
        if player is None or player.node is not self:
            _LOGGER.debug(
                "node %s: event %s for guild %s without a player", self.name, type(message).__name__, message.guild_id
            )
            return
        rest = player.on_event(message, replayed=True)
        if rest is not None:
            await rest
        self.replay.note_applied()

    async def _on_ready(self, message: ReadyMessage) -> None:
        client = self._client
        at = datetime.datetime.fromtimestamp(client.clock.time(), datetime.UTC)
        self.last_ready = ReadyInfo(session_id=message.session_id, resumed=message.resumed, at=at)
        attempt = self._ws.attempt_started if self._ws is not None else None
        self.last_handshake = None if attempt is None else client.clock.monotonic() - attempt
        self.last_error = None
        self.replay.reset()
        # A quiet-replay watch of an earlier ready gives up now, not once this one is synced: it would close this
        # ready's window in the middle of its sync, before the guilds it finds stalled are listed.
        self._replay_epoch += 1
        epoch = self._replay_epoch
        self.state = NodeState.SYNCING
        self._synced.clear()
        _LOGGER.info(
            "node %s ready: session %s (%s)", self.name, message.session_id, "resumed" if message.resumed else "new"
        )
        # The coordinator syncs players before returning, so the replayed events read after this are applied
        # in order on top of the rebuilt state; commands wait meanwhile (SYNCING).
        try:
            await self._hooks.on_ready(self, message)
        finally:
            if self.state is NodeState.SYNCING:
                self.state = NodeState.READY
            self._synced.set()
        if self.replay.is_open:
            self._replay_heard = client.clock.monotonic()
            self._hooks.spawn(self._end_replay_when_quiet(epoch), name=f"lavalink-replay-{self.name}")
        client.dispatch(
            events.NodeReadyEvent(
                app=client.app, client=client, node=self, session_id=message.session_id, resumed=message.resumed
            )
        )

    async def _end_replay_when_quiet(self, epoch: int) -> None:
        """End the replay window once no event came for `REPLAY_QUIET` seconds, if no `playerUpdate` ended it:
        a server may send none (a session without players; NodeLink's players from before a resume)."""
        clock = self._client.clock
        while self.replay.is_open and self._replay_epoch == epoch:
            wait = self._replay_heard + REPLAY_QUIET - clock.monotonic()
            if wait > 0:
                await clock.sleep(wait)
                continue
            if self.replay.close():
                _LOGGER.debug("node %s: replay over after %s s without an event", self.name, REPLAY_QUIET)
                await self._hooks.on_replay_done(self)
            return

    @property
    def replayed_events(self) -> int:
        """How many events the last resumed `ready` replayed so far."""
        return self.replay.count

    async def on_disconnect(self, code: int | None, reason: str, will_reconnect: bool) -> None:
        """The websocket closed; it reconnects by itself unless `will_reconnect` is false."""
        client = self._client
        was_ready = self.state in (NodeState.READY, NodeState.SYNCING)
        self.state = NodeState.CONNECTING if will_reconnect else NodeState.DISCONNECTED
        closed = f"websocket closed ({code}): {reason}" if reason else f"websocket closed ({code})"
        # A server only closes the socket cleanly itself when it shuts down: Lavalink 4.0.8+ with 1001, NodeLink
        # with 1000 "Server shutdown". Its sessions die with it: no resume to wait for.
        shutdown = will_reconnect and code in _SHUTDOWN_CODES
        if shutdown:
            closed = f"the node shut down ({closed}): its session is gone; reconnecting to recover once it is back"
        self.last_error = closed
        if was_ready and not self._closing:
            # Remember where every track was, in case the node lost the session and we have to recover it.
            for player in client.players.values():
                if player.node is self:
                    player.freeze_position()
            _LOGGER.warning("node %s disconnected: %s", self.name, self.last_error)
            if will_reconnect:
                self._hooks.on_lost(self, session_gone=shutdown)
        if will_reconnect and client.observer is not None:
            client.observer.websocket_reconnect(self.name)
        client.dispatch(
            events.NodeDisconnectedEvent(
                app=client.app, client=client, node=self, code=code, reason=reason, will_reconnect=will_reconnect
            )
        )

    async def on_connect_failed(self, error: LavalinkError, retry_in: float) -> None:
        """A connection attempt failed (refused, timed out, no `ready`); say why until one succeeds."""
        self.last_error = f"cannot connect: {error}"

    async def on_fatal(self, error: LavalinkError) -> None:
        """The node refused us for good (wrong password, bad user id): stop and say why."""
        self.state = NodeState.FAILED
        self._synced.set()
        self.last_error = str(error)
        _LOGGER.error("node %s failed and will not be retried: %s", self.name, error)
