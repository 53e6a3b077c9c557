"""A player's state: the guild states, the hooks to its owner, and the fields every part of a player reads."""

from __future__ import annotations

import asyncio
import enum
import logging
import typing

import attrs
import hikari

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.player.identity import title
from lightbulb_lavalink.protocol.filters import Filters
from lightbulb_lavalink.protocol.player import PlayerState
from lightbulb_lavalink.queue import GuildQueue, QueueMove
from lightbulb_lavalink.snapshot import GuildSnapshot, PluginSnapshot, TrackSnapshot

if typing.TYPE_CHECKING:
    from collections.abc import Coroutine

    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.player.commands import Player
    from lightbulb_lavalink.protocol.player import VoiceState
    from lightbulb_lavalink.protocol.tracks import Track


__all__ = ["GuildState", "InFlight", "LeftRequest", "PlayerBase", "PlayerHooks", "Unconfirmed"]

_LOGGER = logging.getLogger("lightbulb_lavalink.player")
# Both frozen: every new player starts with the same empty ones (a restart makes ten thousand players at once).
_NO_FILTERS: typing.Final = Filters()
_NO_PLUGIN_STATE: typing.Final = PluginSnapshot()


class GuildState(enum.Enum):
    """The one state a guild is in; every command and node event says what it does in each (docs/ARCHITECTURE.md)."""

    RESTORING = "restoring"
    """A resumed session is being synced: commands wait; the saved snapshot stays the truth until it is done."""
    RECOVERING = "recovering"
    """Being recreated from its snapshot on a new session: commands wait; a track's end never advances the queue."""
    PLAYING = "playing"
    """A track is loaded on the node (playing or paused)."""
    PENDING = "pending"
    """A track should play but is not on the node yet (node away, or the request failed): it starts when it can."""
    IDLE = "idle"
    """Nothing plays and nothing waits."""
    LEFT = "left"
    """The bot left the guild: the player is gone and nothing brings it back."""


@attrs.frozen(kw_only=True, weakref_slot=False, eq=False)
class LeftRequest:
    """A track request (a start or a stop) of a player whose bot left the guild, still on its way to the node: it may
    land on the node's player of the player that joined the guild since. Until its answer comes, the events it
    causes there are not that player's; then `Player.overrule` puts back what that player plays."""

    sender: object
    """The left player that sent it."""
    track: Track | None
    """The track it starts; `None` for a stop."""


class PlayerHooks(typing.Protocol):
    """How a `Player` reaches its owner (the client's `Hub`)."""

    left_requests: dict[int, LeftRequest]
    """Per guild, the track request of a left player still on its way to the node (see `LeftRequest`)."""

    @property
    def client(self) -> LavalinkClient:
        """The client (for events, settings, voice and the clock)."""
        ...

    def save(self, player: Player) -> None:
        """Schedule a write of the player's snapshot."""
        ...

    def forget(self, node: str, guild_id: int) -> None:
        """Delete the guild's snapshot saved under `node`."""
        ...

    def spawn(self, coro: Coroutine[typing.Any, typing.Any, None], *, name: str) -> asyncio.Task[None]:
        """Run `coro` in a task the client owns and cancels on close; return the task."""
        ...

    def check_commands(self) -> None:
        """Raise `NodeUnavailable` (saying why) if no command may run now: the sessions are being handed over to
        a new process (a handoff deploy), or were."""
        ...

    def check_changes(self) -> None:
        """Raise `NodeUnavailable` (saying why) if no change of a guild could be kept now: a handoff wrote this
        process's last snapshots, and the new process read them."""
        ...


@attrs.frozen(kw_only=True, weakref_slot=False)
class InFlight:
    """A command whose request is on its way: its queue change (`move`) waits for the node to take it, and until
    then snapshots report what played `before` it (with the live queue), never a state half-way between."""

    move: QueueMove
    target: Track | None  # what the command starts (`None`: it stops)
    before: GuildSnapshot


@attrs.frozen(kw_only=True, weakref_slot=False)
class Unconfirmed:
    """A command whose request failed in a way that does not say the node did nothing (an unreadable answer, a
    timeout, a lost connection, a proxy's 5xx, a cancelled command): it raised and its queue change was not made,
    but the node may have applied it. If `track` then starts, the change stands after all."""

    track: Track
    move: QueueMove


class PlayerBase:
    """The fields of a `Player` and what reads them; the layers above add its behaviour (never built alone)."""

    __slots__ = (
        "_advanced_past",
        "_client",
        "_destroyed",
        "_end_time",
        "_frozen",
        "_hooks",
        "_in_flight",
        "_last_ended",
        "_last_position_save",
        "_lock",
        "_overtaken",
        "_pending",
        "_pending_at",
        "_phase",
        "_position_save_interval",
        "_ready",
        "_restore_generation",
        "_retry",
        "_saved",
        "_sending_track",
        "_sent",
        "_starting",
        "_state_at",
        "_state_ping",
        "_state_position",
        "_state_time",
        "_superseded",
        "_track_events",
        "_unconfirmed",
        "_unstarted",
        "channel_id",
        "connected",
        "filters",
        "guild_id",
        "node",
        "paused",
        "plugin_state",
        "queue",
        "snowflake",
        "track",
        "voice",
        "volume",
    )

    def __init__(self, hooks: PlayerHooks, node: Node, guild_id: int, *, queue: GuildQueue | None = None) -> None:
        client = hooks.client
        self._client = client
        self._hooks = hooks
        self.guild_id: int = guild_id
        """The guild this player belongs to."""
        self.node: Node = node
        """The node the player lives on."""
        self.channel_id: int | None = None
        """The voice channel the bot is in, or `None`."""
        self.track: Track | None = None
        """The track playing now, or `None` when idle."""
        self.paused: bool = False
        """Whether playback is paused."""
        self.volume: int = 100
        """Volume, 0 to 1000 (100 is unchanged)."""
        self.filters: Filters = _NO_FILTERS
        """The audio filters in effect."""
        self.queue: GuildQueue = queue if queue is not None else GuildQueue(history_limit=client.settings.history_limit)
        """The bot-side queue of what comes next."""
        # The last state Lavalink reported, kept as its fields (see `state`): an object kept per `playerUpdate`
        # would outlive the collector's young generations and make its full passes come far more often.
        self._state_position: int | None = None  # None: no state reported yet
        self._state_time: int | None = None
        self._state_ping: int | None = None
        self.connected: bool = False
        """Whether Lavalink's voice connection to Discord is up, as last reported."""
        self.voice: VoiceState | None = None
        """The voice state last sent to Lavalink."""
        self.plugin_state: PluginSnapshot = _NO_PLUGIN_STATE
        """What Lavalink plugins hold for this player (set through `LavalinkClient.plugins`): saved with the guild
        and sent again when it is back after a restart."""
        self._state_at = client.clock.monotonic()
        self._last_position_save = 0.0
        self._position_save_interval = client.settings.position_save_interval
        self.snowflake: hikari.Snowflake = hikari.Snowflake(guild_id)
        """`guild_id` as a hikari snowflake (what events carry)."""
        self._destroyed = False
        self._frozen = False
        # What should be playing but has not started: the request that starts it failed for a reason that is not
        # the track's (the node away, a 5xx, an unreadable answer...). Snapshots report it as the track, a retry
        # or the session's return starts it, and commands act on it as on the current track.
        self._pending: Track | None = None
        self._pending_at = 0  # where the pending track starts, in milliseconds
        self._retry: asyncio.Task[None] | None = None  # retries the pending track while the node is connected
        self._starting: Track | None = None  # the track a request in flight starts, to know its blob when it echoes
        self._sending_track = False  # a request starting or stopping a track is on its way (see `LeftRequest`)
        self._lock = asyncio.Lock()  # one command or retry changes the track at a time
        self._ready = asyncio.Event()  # cleared while the guild is restored or recovered: commands wait
        self._ready.set()
        self._phase: GuildState | None = None  # RESTORING or RECOVERING while the guild is being brought back
        self._restore_generation = 0  # bumped by every claim: a restore in flight for an older one gives way
        self._saved: GuildSnapshot | None = None  # what the store holds meanwhile, the truth until it is done
        self._superseded: Track | None = None  # replaced or stopped by a command: its end never advances
        self._unconfirmed: Unconfirmed | None = None
        self._in_flight: InFlight | None = None
        # The track a command in flight replaces or stops, which ended on its own before the node took the command
        # (its end came as finished, not replaced): if the command fails, the queue moves on from it after all.
        self._overtaken: Track | None = None
        self._track_events = 0  # bumped by every track event, to tell stale REST answers
        self._last_ended: Track | None = None
        self._advanced_past: Track | None = None  # the track the queue last moved on from, until another starts
        self._unstarted: Track | None = None  # the track we started whose TrackStartEvent has not come yet
        self._sent: Track | None = None  # the last track a start request was sent for (it may have started)
        self._end_time: int | None = None  # the current track's early end (a clip), for snapshots
        # Any change to the queue (a user's `player.queue.add(...)` included) schedules a snapshot write, and is
        # refused once nothing could write it (a handoff let the sessions go): it fails rather than vanish.
        self.queue.on_change = self._save
        self.queue.guard = hooks.check_changes

    def __repr__(self) -> str:
        name = title(self.track) if self.track else None
        return f"Player(guild_id={self.guild_id}, node={self.node.name!r}, track={name}, queued={len(self.queue)})"

    @property
    def position(self) -> int:
        """The position in the current track in milliseconds, interpolated since Lavalink's last update.

        Kept within the track's length when the node knows it (NodeLink reports ``-1`` for files it has not
        measured, Lavalink ``2**63 - 1`` for streams: those are not clamped)."""
        position = self._state_position
        if self.track is None or position is None:
            return 0
        if not self.paused and not self._frozen:
            position += int((self._client.clock.monotonic() - self._state_at) * 1000)
        length = self.track.known_length
        return max(0, position) if length is None else max(0, min(position, length))

    @property
    def state(self) -> PlayerState | None:
        """The last state Lavalink reported (position, voice connection, ping), or `None` before the first; its
        `connected` is the latest word on the voice connection (a `WebSocketClosedEvent` says it closed)."""
        position = self._state_position
        if position is None:
            return None
        return PlayerState(
            time=self._state_time, position=position, connected=self.connected, ping=self._state_ping
        )

    @property
    def guild_state(self) -> GuildState:
        """The one state the guild is in (see `GuildState`)."""
        if self._destroyed:
            return GuildState.LEFT
        if self._phase is not None:
            return self._phase
        if self.track is not None:
            return GuildState.PLAYING
        if self._pending is not None:
            return GuildState.PENDING
        return GuildState.IDLE

    @property
    def request_in_flight(self) -> bool:
        """Whether a command or a start of this guild is talking to the node right now (it may land later)."""
        return self._starting is not None or self._lock.locked()

    @property
    def left(self) -> bool:
        """Whether the bot left the guild (the player is gone)."""
        return self._destroyed

    @property
    def is_playing(self) -> bool:
        """Whether a track is loaded and not paused."""
        return self.track is not None and not self.paused

    @property
    def pending(self) -> Track | None:
        """The track that should play but is not on the node yet (it starts when it can), or `None`."""
        return self._pending

    @property
    def track_events(self) -> int:
        """How many track events the node sent for this player (to tell whether a replayed one came)."""
        return self._track_events

    @property
    def saved(self) -> GuildSnapshot | None:
        """The snapshot the guild is being restored from, while it is."""
        return self._saved

    def _save(self, *, position: bool = False) -> None:
        if position:
            self._last_position_save = self._client.clock.monotonic()
        if not self._destroyed:
            self._hooks.save(self.as_player())

    def set_plugin_state(self, state: PluginSnapshot) -> None:
        """Remember what the plugins hold for this player now, and save it (`LavalinkClient.plugins` calls this).

        Raises:
            NodeUnavailable: This process handed its sessions over (see `PlayerHooks.check_changes`).
        """
        if state != self.plugin_state:
            self._hooks.check_changes()
            self.plugin_state = state
            self._save()

    def _dispatch_start_failed(self, track: Track, error: LavalinkError, *, refused: bool) -> None:
        client = self._client
        client.dispatch(
            events.TrackStartFailedEvent(
                app=client.app, client=client, player=self.as_player(), track=track, error=error, refused=refused
            )
        )

    def snapshot(self) -> GuildSnapshot:
        """The plain-data form of this guild's playback and queue, for the session store.

        While the guild is being restored or recovered its playback is the saved one (with the live queue): a
        state not yet confirmed by the node never overwrites what the store holds. A track waiting to start is
        reported as the track, `pending`, at the position it will start from.
        """
        now = self._client.clock.time()
        if self._saved is not None:
            return attrs.evolve(self._saved, queue=self.queue.snapshot(), updated_at=now, plugins=self.plugin_state)
        if self._in_flight is not None:
            before = self._in_flight.before
            return attrs.evolve(before, queue=self.queue.snapshot(), updated_at=now, plugins=self.plugin_state)
        pending = self.track is None and self._pending is not None
        track = self.track if self.track is not None else self._pending
        return GuildSnapshot(
            guild_id=self.guild_id,
            node=self.node.name,
            channel_id=self.channel_id,
            track=None if track is None else TrackSnapshot.of(track),
            position=self.position if self.track is not None else self._pending_at if pending else 0,
            paused=self.paused,
            volume=self.volume,
            filters=self.filters.to_payload(),
            queue=self.queue.snapshot(),
            updated_at=self._client.clock.time(),
            end_time=self._end_time if track is not None else None,
            pending=pending,
            plugins=self.plugin_state,
        )

    def on_state(self, state: PlayerState) -> None:
        """A `playerUpdate` op (the hot path): remember it and, at most every few seconds, save the position."""
        now = self._client.clock.monotonic()
        self._state_position = state.position
        self._state_time = state.time
        self.connected = state.connected
        self._state_ping = state.ping
        self._state_at = now
        self._frozen = False
        if (
            self.track is not None
            and not self.paused
            and now - self._last_position_save >= self._position_save_interval
        ):
            self._last_position_save = now
            self._save()

    def as_player(self) -> Player:
        """This object as the `Player` it is (every layer is one), for hooks and events that take a `Player`."""
        return typing.cast("Player", self)
