"""One guild's player: what plays now on which node, its bot-side queue, and the commands that drive it."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import typing

import attrs
import hikari

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import (
    LavalinkError,
    NodeUnavailable,
    RequestTimeoutError,
    RestError,
    SessionNotFoundError,
    TrackDecodeError,
)
from lightbulb_lavalink.protocol.filters import Filters
from lightbulb_lavalink.protocol.messages import (
    TrackEndMessage,
    TrackExceptionMessage,
    TrackStartMessage,
    TrackStuckMessage,
)
from lightbulb_lavalink.protocol.player import UNSET, PlayerUpdate, TrackUpdate
from lightbulb_lavalink.queue import GuildQueue, LoopMode, restore_track
from lightbulb_lavalink.snapshot import GuildSnapshot, TrackSnapshot

if typing.TYPE_CHECKING:
    from collections.abc import Coroutine

    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.protocol.messages import EventMessage
    from lightbulb_lavalink.protocol.player import PlayerInfo, PlayerState, VoiceState
    from lightbulb_lavalink.protocol.tracks import Track
    from lightbulb_lavalink.voice import VoiceConnectionInfo

__all__ = ["GuildState", "Player", "PlayerHooks", "same_track"]

_LOGGER = logging.getLogger("lightbulb_lavalink.player")


def _title(track: Track) -> str:
    """A track's title for a log line, even when its blob cannot be decoded."""
    try:
        return repr(track.info.title)
    except TrackDecodeError:
        return "<undecodable track>"


def _restored(saved: TrackSnapshot) -> Track | None:
    """The track a snapshot saved, or `None` (with a warning) when its blob is unreadable."""
    try:
        return restore_track(saved)
    except TrackDecodeError as exc:
        _LOGGER.warning("cannot read a saved track: %s", exc)
        return None


def same_track(a: Track | None, b: Track | None) -> bool:
    """Whether two track objects stand for the same track.

    Lavalink re-encodes tracks (with the current position), so the `encoded` strings of one track differ between
    a REST answer and an event; identity is the source and its identifier.
    """
    if a is None or b is None:
        return a is b
    if a.encoded == b.encoded:
        return True
    try:
        return a.info.identifier == b.info.identifier and a.info.source_name == b.info.source_name
    except TrackDecodeError:
        return False


class GuildState(enum.Enum):
    """The one state a guild is in; every command and node event says what it does in each (docs/ARCHITECTURE.md)."""

    RESTORING = "restoring"
    """A resumed session is being synced: commands wait; the saved snapshot stays the truth until it is done."""
    RECOVERING = "recovering"
    """Being recreated from its snapshot on a new session: commands wait; track events are ignored."""
    PLAYING = "playing"
    """A track is loaded on the node (playing or paused)."""
    PENDING = "pending"
    """A track should play but is not on the node yet (node away, or the request failed): it starts when it can."""
    IDLE = "idle"
    """Nothing plays and nothing waits."""
    LEFT = "left"
    """The bot left the guild: the player is gone and nothing brings it back."""


class PlayerHooks(typing.Protocol):
    """How a `Player` reaches its owner (the client's `Hub`)."""

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

    def spawn(self, coro: Coroutine[typing.Any, typing.Any, None], *, name: str) -> None:
        """Run `coro` in a task the client owns and cancels on close."""
        ...


class Player:
    """A guild's player: its node, voice channel, current track, interpolated position and queue.

    Created by `LavalinkClient.join` (or rebuilt by the resume coordinator); never construct one yourself.
    """

    __slots__ = (
        "_client",
        "_destroyed",
        "_end_time",
        "_frozen",
        "_hooks",
        "_last_ended",
        "_last_position_save",
        "_pending",
        "_phase",
        "_position_save_interval",
        "_ready",
        "_saved",
        "_state_at",
        "_superseded",
        "_track_events",
        "channel_id",
        "connected",
        "filters",
        "guild_id",
        "node",
        "paused",
        "queue",
        "snowflake",
        "state",
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
        self.filters: Filters = Filters()
        """The audio filters in effect."""
        self.queue: GuildQueue = queue if queue is not None else GuildQueue(history_limit=client.settings.history_limit)
        """The bot-side queue of what comes next."""
        self.state: PlayerState | None = None
        """The last state Lavalink reported (position, voice connection, ping)."""
        self.connected: bool = False
        """Whether Lavalink's voice connection to Discord is up, as last reported."""
        self.voice: VoiceState | None = None
        """The voice state last sent to Lavalink."""
        self._state_at = client.clock.monotonic()
        self._last_position_save = 0.0
        self._position_save_interval = client.settings.position_save_interval
        self.snowflake: hikari.Snowflake = hikari.Snowflake(guild_id)
        """`guild_id` as a hikari snowflake (what events carry)."""
        self._destroyed = False
        self._frozen = False
        self._pending: Track | None = None  # should be playing, but the node was away when it was started
        self._ready = asyncio.Event()  # cleared while the guild is restored or recovered: commands wait
        self._ready.set()
        self._phase: GuildState | None = None  # RESTORING or RECOVERING while the guild is being brought back
        self._saved: GuildSnapshot | None = None  # what the store holds meanwhile, the truth until it is done
        self._superseded: Track | None = None  # replaced or stopped by a command: its end never advances
        self._track_events = 0  # bumped by every track event, to tell stale REST answers
        self._last_ended: Track | None = None
        self._end_time: int | None = None  # the current track's early end (a clip), for snapshots
        # Any change to the queue (a user's `player.queue.add(...)` included) schedules a snapshot write.
        self.queue.on_change = self._save

    def __repr__(self) -> str:
        title = _title(self.track) if self.track else None
        return f"Player(guild_id={self.guild_id}, node={self.node.name!r}, track={title}, queued={len(self.queue)})"

    @property
    def position(self) -> int:
        """The position in the current track in milliseconds, interpolated since Lavalink's last update."""
        if self.track is None or self.state is None:
            return 0
        position = self.state.position
        if not self.paused and not self._frozen:
            position += int((self._client.clock.monotonic() - self._state_at) * 1000)
        length = self.track.info.length
        return max(0, min(position, length)) if not self.track.info.is_stream else max(0, position)

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
    def left(self) -> bool:
        """Whether the bot left the guild (the player is gone)."""
        return self._destroyed

    @property
    def is_playing(self) -> bool:
        """Whether a track is loaded and not paused."""
        return self.track is not None and not self.paused

    # -- commands -------------------------------------------------------------------------------------------

    async def play(
        self,
        track: Track | None = None,
        *,
        start: int = 0,
        end: int | None = None,
        paused: bool | None = None,
        replace: bool = True,
    ) -> Track | None:
        """Play `track` now (or, with no track, the next one from the queue); return what plays.

        `start`/`end` are milliseconds. With `replace=False` an already playing track is kept and `track` is
        queued instead. Returns `None` when there was nothing to play. If the node cannot be reached the error
        is raised and the queue is left as it was.
        """
        await self._prepare()
        if track is not None and not replace and self.track is not None:
            self.queue.add(track)
            return self.track
        checkpoint = self.queue.checkpoint()
        if track is None:
            if self.track is not None and not replace:
                return self.track
            track = self.queue.advance(None)
            if track is None:
                return None
        try:
            await self._switch_to(track, start=start, end=end, paused=paused)
        except BaseException:
            self.queue.rollback(checkpoint)
            raise
        return track

    async def pause(self) -> None:
        """Pause playback."""
        await self._prepare()
        await self._update(PlayerUpdate(paused=True))
        self._save(position=True)

    async def resume(self) -> None:
        """Resume paused playback."""
        await self._prepare()
        await self._update(PlayerUpdate(paused=False))
        self._save(position=True)

    async def set_pause(self, paused: bool) -> None:
        """Pause or resume."""
        await (self.pause() if paused else self.resume())

    async def seek(self, position: int) -> None:
        """Jump to `position` milliseconds in the current track."""
        if position < 0:
            raise ValueError("position must be >= 0")
        await self._prepare()
        await self._update(PlayerUpdate(position=position))
        self._save(position=True)

    async def set_volume(self, volume: int) -> None:
        """Set the volume, 0 to 1000 (100 is unchanged)."""
        if not 0 <= volume <= 1000:
            raise ValueError("volume must be between 0 and 1000")
        await self._prepare()
        await self._update(PlayerUpdate(volume=volume))
        self._save()

    async def set_filters(self, filters: Filters) -> None:
        """Replace every audio filter with `filters`."""
        await self._prepare()
        await self._update(PlayerUpdate(filters=filters))
        self._save()

    async def skip(self) -> Track | None:
        """Skip the current track and play the next one from the queue; return it (`None`: queue ended).

        If the node cannot be reached the error is raised and the queue is left as it was.
        """
        await self._prepare()
        checkpoint = self.queue.checkpoint()
        nxt = self.queue.skip(self.track)
        try:
            if nxt is None:
                await self._stop()
            else:
                await self._switch_to(nxt)
        except BaseException:
            self.queue.rollback(checkpoint)
            raise
        if nxt is None:
            self._client.dispatch(events.QueueEndEvent(app=self._client.app, client=self._client, player=self))
        return nxt

    async def stop(self) -> None:
        """Stop the current track; the queue is kept."""
        await self._prepare()
        await self._stop()

    async def destroy(self) -> None:
        """Destroy the player on its node and forget it (the queue is dropped); used by `LavalinkClient.leave`.

        When the node is away the player is destroyed as soon as its session is back.
        """
        self._destroyed = True
        self._ready.set()
        await self.node.discard_player(self.guild_id)

    def snapshot(self) -> GuildSnapshot:
        """The plain-data form of this guild's playback and queue, for the session store.

        While the guild is being restored or recovered its playback is the saved one (with the live queue): a
        state not yet confirmed by the node never overwrites what the store holds.
        """
        if self._saved is not None:
            return attrs.evolve(self._saved, queue=self.queue.snapshot(), updated_at=self._client.clock.time())
        track = self.track if self.track is not None else self._pending
        return GuildSnapshot(
            guild_id=self.guild_id,
            node=self.node.name,
            channel_id=self.channel_id,
            track=None if track is None else TrackSnapshot.of(track),
            position=self.position if self.track is not None else 0,
            paused=self.paused,
            volume=self.volume,
            filters=self.filters.to_payload(),
            queue=self.queue.snapshot(),
            updated_at=self._client.clock.time(),
            end_time=self._end_time if self.track is not None else None,
            pending=self.track is None and self._pending is not None,
        )

    async def restore(self, snap: GuildSnapshot, voice: VoiceState | None) -> None:
        """Recreate this player on its node from `snap`: track at its position, pause, volume, filters, voice.

        Ends a restore or recovery on success; raises (changing nothing) when the node did not take it.
        """
        track = snap.track
        update = PlayerUpdate(
            track=(TrackUpdate(encoded=track.encoded, user_data=track.user_data) if track is not None else UNSET),
            # Always explicit: a blob carries a position of its own (where an event saw it), never wanted here.
            position=snap.position if track is not None else UNSET,
            end_time=snap.end_time if track is not None and snap.end_time is not None else UNSET,
            paused=snap.paused,
            volume=snap.volume,
            filters=Filters.from_payload(snap.filters) if snap.filters else UNSET,
            voice=voice if voice is not None else UNSET,
        )
        await self._update(update)
        if track is not None and self.track is not None:
            queued = _restored(track)
            if queued is not None and same_track(queued, self.track):
                self.track = queued  # keep the blob the user queued, with its user data
        self._pending = None
        self._end_time = snap.end_time if track is not None else None
        self.end_restore()
        self._hooks.save(self)

    def restore_idle(self, snap: GuildSnapshot) -> None:
        """Bring back a guild that was not in voice: its queue is already there; a track it had waits (pending)."""
        self.end_restore()
        self.track = None
        if snap.track is not None:
            self._pending = _restored(snap.track)
        self._hooks.save(self)

    def sync_from(self, info: PlayerInfo, saved: GuildSnapshot | None) -> bool:
        """Take a resumed session's player as the truth for what plays now (the claimed queue is what comes next),
        and end the restore. Returns whether the guild should be playing but the node is idle: its track ended
        unseen, and the queue must advance once the replay is over (unless a replayed event did it)."""
        playing = info.track
        kept = _restored(saved.track) if saved is not None and saved.track is not None else None
        was_pending = saved is not None and saved.pending
        if kept is not None and was_pending and self._pending is None:
            self._pending = kept  # rebuilt from the store: its next track had not started
        stalled = False
        if playing is not None:
            if self._pending is not None and same_track(self._pending, playing):
                playing, self._pending = self._pending, None  # the start reached the node after all
            elif kept is not None and same_track(kept, playing):
                playing = kept  # keep the blob the user queued, with its user data
            elif kept is not None and not was_pending:
                head = self.queue.peek()
                if head is not None and same_track(head, playing):
                    # The old process started the next track and died before saving it: the saved track finished
                    # (to the history, and to the end of a looped queue) and the head plays.
                    advance = self.queue.skip if self.queue.loop is LoopMode.TRACK else self.queue.advance
                    nxt = advance(kept)
                    if nxt is not None and same_track(nxt, playing):
                        playing = nxt
        elif kept is not None and not was_pending and saved is not None and not saved.paused:
            stalled = self._pending is None
        self.end_restore()
        self._apply_info(info)
        self.track = playing
        if playing is not None and kept is playing and saved is not None:
            self._end_time = saved.end_time
        return stalled

    @property
    def pending(self) -> Track | None:
        """The track that should play but is not on the node yet (it starts when it can), or `None`."""
        return self._pending

    @property
    def track_events(self) -> int:
        """How many track events the node sent for this player (to tell whether a replayed one came)."""
        return self._track_events

    async def start_pending(self) -> None:
        """Start the pending track now (the session is back)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            await self._play_next(pending)

    async def advance_past(self, finished: GuildSnapshot) -> None:
        """The saved current track of `finished` ended while nobody watched: continue the queue after it."""
        if finished.track is None:
            return
        track = _restored(finished.track)
        if track is None:
            return
        await self._play_next(self.queue.advance(track))

    async def move_to(self, node: Node) -> None:
        """Carry this guild's playback over to `node`; the queue does not notice."""
        client = self._client
        old = self.node
        snap = self.snapshot()
        current = client.voice.current(self.guild_id)
        voice = current.to_voice_state() if current is not None else self.voice
        self.node = node
        self._superseded = None
        await old.discard_player(self.guild_id)
        try:
            await self.restore(snap, voice)
        finally:
            self._hooks.forget(old.name, self.guild_id)
            self._hooks.save(self)
        client.dispatch(events.PlayerMovedEvent(app=client.app, client=client, player=self, previous_node=old))

    async def send_voice(self, info: VoiceConnectionInfo) -> None:
        """Hand Lavalink the guild's Discord voice connection (a join, a move, a region change, a rejoin)."""
        self.channel_id = info.channel_id
        await self._update(PlayerUpdate(voice=info.to_voice_state()))

    async def wait_restored(self) -> None:
        """Wait while the guild is being restored or recovered; raise `NodeUnavailable` if it takes too long."""
        if self._ready.is_set():
            return
        wait = self._client.settings.request_timeout + self._client.settings.voice_timeout
        with contextlib.suppress(TimeoutError):
            async with self._client.clock.timeout(wait):
                await self._ready.wait()
        if not self._ready.is_set():
            raise NodeUnavailable(f"guild {self.guild_id} is still being restored; try again in a moment")

    async def _prepare(self) -> None:
        """Before a command: wait for this guild's restore, and fail before changing anything if the node is away
        (`NodeUnavailable`) or the bot left the guild (`LavalinkError`: join again)."""
        if self._destroyed:
            raise LavalinkError(f"the bot left guild {self.guild_id}; join a voice channel again to play there")
        await self.wait_restored()
        if self._destroyed:
            raise LavalinkError(f"the bot left guild {self.guild_id} meanwhile; join a voice channel again")
        if not await self.node.wait_synced(self._client.settings.request_timeout):
            raise NodeUnavailable(f"node {self.node.name!r} has no live session; try again once it is back")
        if self.node.session_id is None or not self.node.connected:
            raise NodeUnavailable(f"node {self.node.name!r} has no live session; try again once it is back")

    async def _switch_to(
        self, track: Track, *, start: int = 0, end: int | None = None, paused: bool | None = None
    ) -> None:
        """Replace whatever plays by `track`; the end of the replaced track never advances the queue."""
        superseded, self._superseded = self._superseded, self.track
        update = PlayerUpdate(
            track=TrackUpdate(encoded=track.encoded, user_data=dict(track.user_data)),
            position=start if start else UNSET,
            end_time=end if end is not None else UNSET,
            paused=paused if paused is not None else UNSET,
        )
        try:
            await self._update(update)
        except BaseException:
            self._superseded = superseded
            raise
        self._pending = None
        self._end_time = end
        self._save(position=True)

    async def _stop(self) -> None:
        superseded, self._superseded = self._superseded, self.track
        try:
            await self._update(PlayerUpdate(track=TrackUpdate(encoded=None)))
        except BaseException:
            self._superseded = superseded
            raise
        self.track = None
        self._pending = None
        self._save(position=True)

    # -- driven by the node and the resume coordinator --------------------------------------------------------

    async def _update(self, update: PlayerUpdate, *, no_replace: bool = False) -> None:
        session_id = self.node.session_id
        if session_id is None or not self.node.connected:
            raise NodeUnavailable(f"node {self.node.name!r} has no live session; try again once it is back")
        generation = self._track_events
        info = await self.node.rest.update_player(session_id, self.guild_id, update, no_replace=no_replace)
        # The answer travels apart from the websocket. If track events arrived meanwhile, the answer's track is
        # stale unless this update started that track itself (and it has not been seen ending since).
        fresh = generation == self._track_events
        if not fresh and info.track is not None and isinstance(update.track, TrackUpdate):
            fresh = not (self._last_ended is not None and same_track(self._last_ended, info.track))
        self._apply_info(info, track=fresh)

    def _apply_info(self, info: PlayerInfo, *, track: bool = True) -> None:
        """Take Lavalink's view of the player (a REST answer) as the truth; `track=False` keeps track and state."""
        if track:
            self.track = info.track
            self.on_state(info.state)
        self.paused = info.paused
        self.volume = info.volume
        self.filters = info.filters
        if info.voice.session_id:
            self.voice = info.voice

    # -- for the core: the node, the hub and the resume coordinator call these; bots do not ----------------------

    def mark_left(self) -> None:
        """The bot left the guild: nothing brings this player back (commands waiting on it go on and fail)."""
        self._destroyed = True
        self._saved = None
        self._phase = None
        self._ready.set()

    def begin_restore(self, phase: GuildState, saved: GuildSnapshot | None) -> None:
        """The guild is being restored (`RESTORING`) or recovered (`RECOVERING`) from `saved`: commands wait."""
        self._phase = phase
        if saved is not None:
            self._saved = saved
        self._ready.clear()

    def end_restore(self) -> None:
        """The guild is back (or given up): commands go on; its own state is the truth again."""
        self._phase = None
        self._saved = None
        self._ready.set()

    @property
    def saved(self) -> GuildSnapshot | None:
        """The snapshot the guild is being restored from, while it is."""
        return self._saved

    def freeze_position(self) -> None:
        """The node went away: stop interpolating and save where the track was."""
        if self.state is not None and not self._frozen:
            self.state = attrs.evolve(self.state, position=self.position)
            self._frozen = True
            self._save(position=True)

    def on_state(self, state: PlayerState) -> None:
        """A `playerUpdate` op (the hot path): remember it and, at most every few seconds, save the position."""
        now = self._client.clock.monotonic()
        self.state = state
        self.connected = state.connected
        self._state_at = now
        self._frozen = False
        if (
            self.track is not None
            and not self.paused
            and now - self._last_position_save >= self._position_save_interval
        ):
            self._last_position_save = now
            self._save()

    async def on_event(self, message: EventMessage, *, replayed: bool) -> None:
        """A track or voice event from the node, in order (`replayed`: queued while the bot was away)."""
        if self._phase is GuildState.RECOVERING:
            # The recovery decides what plays: an event of the track it is about to replace changes nothing.
            _LOGGER.debug("guild %s: ignoring %s during its recovery", self.guild_id, type(message).__name__)
            return
        client = self._client
        common: dict[str, typing.Any] = {"app": client.app, "client": client, "player": self}
        event: events.PlayerEvent
        if isinstance(message, TrackEndMessage):
            await self._on_track_end(message, replayed=replayed)
            return
        if isinstance(message, TrackStartMessage):
            self._track_events += 1
            self.track = message.track
            self._save(position=True)
            event = events.TrackStartEvent(**common, track=message.track, replayed=replayed)
        elif isinstance(message, TrackExceptionMessage):
            event = events.TrackExceptionEvent(
                **common, track=message.track, exception=message.exception, replayed=replayed
            )
        elif isinstance(message, TrackStuckMessage):
            event = events.TrackStuckEvent(
                **common, track=message.track, threshold_ms=message.threshold_ms, replayed=replayed
            )
        else:  # WebSocketClosedMessage: Lavalink's voice connection to Discord closed
            self.connected = False
            event = events.VoiceClosedEvent(
                **common, code=message.code, reason=message.reason, by_remote=message.by_remote, replayed=replayed
            )
        client.dispatch(event)

    async def _on_track_end(self, message: TrackEndMessage, *, replayed: bool) -> None:
        client = self._client
        ended = message.track
        self._track_events += 1
        self._last_ended = ended
        superseded = self._superseded is not None and same_track(self._superseded, ended)
        if superseded:
            self._superseded = None  # one end per replaced or stopped track
        if self.track is not None and same_track(self.track, ended):
            self.track = None
            still_current = True
        else:
            still_current = self.track is None
        client.dispatch(
            events.TrackEndEvent(
                app=client.app,
                client=client,
                player=self,
                track=ended,
                reason=message.reason,
                may_start_next=message.reason.may_start_next,
                replayed=replayed,
            )
        )
        if not message.reason.may_start_next or self._destroyed or superseded:
            return
        if not still_current:
            # Another track is playing already (started while this event was in flight): never skip it.
            _LOGGER.debug("guild %s: ignoring end of %s, another track is playing", self.guild_id, _title(ended))
            return
        await self._play_next(self.queue.advance(ended))

    async def _play_next(self, nxt: Track | None) -> None:
        """Start `nxt` (the queue's next track); skip tracks the node refuses; `QueueEndEvent` when none is left."""
        client = self._client
        while nxt is not None:
            try:
                await self._switch_to(nxt)
                return
            except (SessionNotFoundError, NodeUnavailable, RequestTimeoutError) as exc:
                # The node is away, not the track's fault: it is what should be playing, and starts once the
                # session is back (resumed or recovered).
                _LOGGER.warning("guild %s: could not start the next track %s: %s", self.guild_id, _title(nxt), exc)
                self._pending = nxt
                self._save()
                return
            except (RestError, TrackDecodeError) as exc:
                # The node refused this track (cannot decode it, no such source...): drop it, try the next one.
                _LOGGER.warning("guild %s: skipping %s, the node refused it: %s", self.guild_id, _title(nxt), exc)
                nxt = self.queue.advance(None)
        self._save(position=True)
        client.dispatch(events.QueueEndEvent(app=client.app, client=client, player=self))

    def _save(self, *, position: bool = False) -> None:
        if position:
            self._last_position_save = self._client.clock.monotonic()
        if not self._destroyed:
            self._hooks.save(self)
