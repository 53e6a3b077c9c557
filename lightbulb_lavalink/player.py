"""One guild's player: what plays now on which node, its bot-side queue, and the commands that drive it."""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import enum
import logging
import typing

import attrs
import hikari

from lightbulb_lavalink import events
from lightbulb_lavalink.arguments import check_bool, check_filters, check_ms, check_track, check_volume
from lightbulb_lavalink.errors import LavalinkError, NodeUnavailable, ProtocolError, TrackDecodeError
from lightbulb_lavalink.protocol.backoff import Backoff
from lightbulb_lavalink.protocol.filters import Filters
from lightbulb_lavalink.protocol.messages import (
    TrackEndMessage,
    TrackEndReason,
    TrackExceptionMessage,
    TrackStartMessage,
    TrackStuckMessage,
)
from lightbulb_lavalink.protocol.player import UNSET, PlayerUpdate, TrackUpdate
from lightbulb_lavalink.queue import GuildQueue, QueueMove, restore_track
from lightbulb_lavalink.snapshot import GuildSnapshot, TrackSnapshot
from lightbulb_lavalink.verdicts import refuses

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


def _same_blob_but_position(a: str, b: str) -> bool:
    """Whether two blobs differ only in the position they carry (its last 8 bytes): the same track re-encoded by
    the node where an event or answer saw it. Cheap: no field is decoded."""
    if len(a) != len(b):
        return False
    try:
        raw_a, raw_b = binascii.a2b_base64(a), binascii.a2b_base64(b)
    except (binascii.Error, ValueError):
        return False
    return len(raw_a) > 12 and raw_a[:-8] == raw_b[:-8]


def same_track(a: Track | None, b: Track | None) -> bool:
    """Whether two track objects stand for the same track.

    Lavalink re-encodes tracks (with the current position), so the `encoded` strings of one track differ between
    a REST answer and an event; identity is the source and its identifier.
    """
    if a is None or b is None:
        return a is b
    if a.encoded == b.encoded or _same_blob_but_position(a.encoded, b.encoded):
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
    """Being recreated from its snapshot on a new session: commands wait; a track's end never advances the queue."""
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

    def spawn(self, coro: Coroutine[typing.Any, typing.Any, None], *, name: str) -> asyncio.Task[None]:
        """Run `coro` in a task the client owns and cancels on close; return the task."""
        ...


@attrs.frozen(kw_only=True, weakref_slot=False)
class _InFlight:
    """A command whose request is on its way: its queue change (`move`) waits for the node to take it, and until
    then snapshots report what played `before` it (with the live queue), never a state half-way between."""

    move: QueueMove
    target: Track | None  # what the command starts (`None`: it stops)
    before: GuildSnapshot


@attrs.frozen(kw_only=True, weakref_slot=False)
class _Unconfirmed:
    """A command whose answer was unreadable: it raised and its queue change was not made, but the node may have
    applied it. If `track` then starts, the change stands after all."""

    track: Track
    move: QueueMove


class Player:
    """A guild's player: its node, voice channel, current track, interpolated position and queue.

    Created by `LavalinkClient.join` (or rebuilt by the resume coordinator); never construct one yourself.
    """

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
        "_pending",
        "_pending_at",
        "_phase",
        "_position_save_interval",
        "_ready",
        "_restore_generation",
        "_retry",
        "_saved",
        "_sent",
        "_starting",
        "_state_at",
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
        # What should be playing but has not started: the request that starts it failed for a reason that is not
        # the track's (the node away, a 5xx, an unreadable answer...). Snapshots report it as the track, a retry
        # or the session's return starts it, and commands act on it as on the current track.
        self._pending: Track | None = None
        self._pending_at = 0  # where the pending track starts, in milliseconds
        self._retry: asyncio.Task[None] | None = None  # retries the pending track while the node is connected
        self._starting: Track | None = None  # the track a request in flight starts, to know its blob when it echoes
        self._lock = asyncio.Lock()  # one command or retry changes the track at a time
        self._ready = asyncio.Event()  # cleared while the guild is restored or recovered: commands wait
        self._ready.set()
        self._phase: GuildState | None = None  # RESTORING or RECOVERING while the guild is being brought back
        self._restore_generation = 0  # bumped by every claim: a restore in flight for an older one gives way
        self._saved: GuildSnapshot | None = None  # what the store holds meanwhile, the truth until it is done
        self._superseded: Track | None = None  # replaced or stopped by a command: its end never advances
        self._unconfirmed: _Unconfirmed | None = None
        self._in_flight: _InFlight | None = None
        self._track_events = 0  # bumped by every track event, to tell stale REST answers
        self._last_ended: Track | None = None
        self._advanced_past: Track | None = None  # the track the queue last moved on from, until another starts
        self._unstarted: Track | None = None  # the track we started whose TrackStartEvent has not come yet
        self._sent: Track | None = None  # the last track a start request was sent for (it may have started)
        self._end_time: int | None = None  # the current track's early end (a clip), for snapshots
        # Any change to the queue (a user's `player.queue.add(...)` included) schedules a snapshot write.
        self.queue.on_change = self._save

    def __repr__(self) -> str:
        title = _title(self.track) if self.track else None
        return f"Player(guild_id={self.guild_id}, node={self.node.name!r}, track={title}, queued={len(self.queue)})"

    @property
    def position(self) -> int:
        """The position in the current track in milliseconds, interpolated since Lavalink's last update.

        Kept within the track's length when the node knows it (NodeLink reports ``-1`` for files it has not
        measured, Lavalink ``2**63 - 1`` for streams: those are not clamped)."""
        if self.track is None or self.state is None:
            return 0
        position = self.state.position
        if not self.paused and not self._frozen:
            position += int((self._client.clock.monotonic() - self._state_at) * 1000)
        length = self.track.info.known_length
        return max(0, position) if length is None else max(0, min(position, length))

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

        A track waiting to start (its request failed and is being retried) counts as the playing one: with
        `replace=False` `track` is queued behind it; a `track` played now goes in front of it (it plays next,
        it is not dropped); with no `track` it is started now. Bad arguments raise `TypeError`/`ValueError`
        before anything is sent.
        """
        if track is not None:
            check_track(track)
        check_ms(start, "start")
        if end is not None and check_ms(end, "end") <= start:
            raise ValueError(f"end ({end} ms) must come after start ({start} ms)")
        if paused is not None:
            check_bool(paused, "paused")
        check_bool(replace, "replace")
        await self._prepare()
        async with self._lock:
            # A pending track is the current one as far as the user can tell (`snapshot()` reports it).
            pending = self._pending if self.track is None else None
            current = self.track if self.track is not None else pending
            if track is not None and not replace and current is not None:
                self.queue.add(track)
                return current
            move = QueueMove()
            if track is None:
                if current is not None and not replace:
                    return current
                if pending is not None:
                    # Play what should be playing, now rather than at its next retry.
                    track = pending
                    if not start and end is None:
                        start, end = self._pending_at, self._end_time
                else:
                    move = self.queue.plan_next()
                    track = move.started
                    if track is None:
                        return None
            elif pending is not None:
                move = QueueMove(front=pending)  # it never got to play: it plays next, it is not dropped
            await self._command(move, track, start=start, end=end, paused=paused)
            return track

    async def pause(self) -> None:
        """Pause playback."""
        await self._prepare()
        async with self._lock:
            await self._update(PlayerUpdate(paused=True))
        self._save(position=True)

    async def resume(self) -> None:
        """Resume paused playback."""
        await self._prepare()
        async with self._lock:
            await self._update(PlayerUpdate(paused=False))
        self._save(position=True)

    async def set_pause(self, paused: bool) -> None:
        """Pause or resume (`TypeError` unless `paused` is a bool)."""
        check_bool(paused, "paused")
        await (self.pause() if paused else self.resume())

    async def seek(self, position: int) -> None:
        """Jump to `position` milliseconds in the current track."""
        check_ms(position, "position")
        await self._prepare()
        async with self._lock:
            await self._update(PlayerUpdate(position=position))
        self._save(position=True)

    async def set_volume(self, volume: int) -> None:
        """Set the volume, 0 to 1000 (100 is unchanged)."""
        check_volume(volume)
        await self._prepare()
        async with self._lock:
            await self._update(PlayerUpdate(volume=volume))
        self._save()

    async def set_filters(self, filters: Filters) -> None:
        """Replace every audio filter with `filters` (`TypeError` unless it is a `Filters`)."""
        check_filters(filters)
        await self._prepare()
        async with self._lock:
            await self._update(PlayerUpdate(filters=filters))
        self.filters = filters  # the node took them, whatever of them it reports readably (NodeLink's volume: {})
        self._save()

    async def skip(self) -> Track | None:
        """Skip the current track and play the next one from the queue; return it (`None`: queue ended).

        A track waiting to start is skipped like a playing one (it goes to the history). If the node cannot be
        reached the error is raised and the queue is left as it was.
        """
        await self._prepare()
        async with self._lock:
            # A pending track is skipped like a playing one: to the history, never silently dropped.
            move = self.queue.plan_skip(self.track if self.track is not None else self._pending)
            nxt = move.started
            await self._command(move, nxt)
        if nxt is None:
            self._client.dispatch(events.QueueEndEvent(app=self._client.app, client=self._client, player=self))
        return nxt

    async def stop(self) -> None:
        """Stop the current track (or the one waiting to start); the queue is kept."""
        await self._prepare()
        async with self._lock:
            await self._stop()

    async def _command(
        self,
        move: QueueMove,
        target: Track | None,
        *,
        start: int = 0,
        end: int | None = None,
        paused: bool | None = None,
    ) -> None:
        """Start `target` (`None`: stop) and make the command's queue change once the node took it: at its answer,
        or at the first event that says so if that comes first. A failed command changes nothing; a user's edits
        meanwhile stand either way.

        An unreadable answer (`ProtocolError`) does not say the node did nothing: if `target` starts after all,
        its TrackStartEvent makes the change (see `_Unconfirmed`).
        """
        flight = _InFlight(move=move, target=target, before=self.snapshot())
        self._in_flight = flight
        try:
            if target is None:
                await self._stop()
            else:
                await self._switch_to(target, start=start, end=end, paused=paused)
        except BaseException as exc:
            if self._in_flight is flight:
                self._in_flight = None
                if target is not None and isinstance(exc, ProtocolError):
                    self._unconfirmed = _Unconfirmed(track=target, move=move)
            raise
        self._take_effect(flight)

    def _take_effect(self, flight: _InFlight) -> None:
        """The node took the command in flight: its queue change stands (once)."""
        if self._in_flight is flight:
            self._in_flight = None
            self.queue.apply(flight.move)

    async def destroy(self) -> None:
        """Destroy the player on its node and forget it (the queue is dropped); used by `LavalinkClient.leave`.

        When the node is away the player is destroyed as soon as its session is back.
        """
        self._destroyed = True
        self._ready.set()
        if self._retry is not None:
            self._retry.cancel()
        await self.node.discard_player(self.guild_id)

    def snapshot(self) -> GuildSnapshot:
        """The plain-data form of this guild's playback and queue, for the session store.

        While the guild is being restored or recovered its playback is the saved one (with the live queue): a
        state not yet confirmed by the node never overwrites what the store holds. A track waiting to start is
        reported as the track, `pending`, at the position it will start from.
        """
        if self._saved is not None:
            return attrs.evolve(self._saved, queue=self.queue.snapshot(), updated_at=self._client.clock.time())
        if self._in_flight is not None:
            before = self._in_flight.before
            return attrs.evolve(before, queue=self.queue.snapshot(), updated_at=self._client.clock.time())
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
        )

    async def restore(self, snap: GuildSnapshot, voice: VoiceState | None) -> None:
        """Recreate this player on its node from `snap`: track at its position, pause, volume, filters, voice.

        The track is the snapshot's own blob, sent with its position even at 0 (a blob says where it starts). Until
        the node confirms it, it is pending: if the request fails, the snapshot still has it. Ends a restore or
        recovery on success; raises when the node did not take it. One request at a time per guild (a command or
        an older restore in flight finishes first); a restore that a newer claim superseded while its request was
        in flight leaves the guild to that claim.
        """
        generation = self._restore_generation
        async with self._lock:
            await self._restore_locked(snap, voice, generation)

    async def _restore_locked(self, snap: GuildSnapshot, voice: VoiceState | None, generation: int) -> None:
        track = None if snap.track is None else _restored(snap.track)
        if track is not None:
            self.track = None
            self._set_pending(track, snap.position, snap.end_time)
        update = PlayerUpdate(
            track=(TrackUpdate(encoded=track.encoded, user_data=dict(track.user_data)) if track is not None else UNSET),
            position=snap.position if track is not None else UNSET,
            end_time=snap.end_time if track is not None and snap.end_time is not None else UNSET,
            paused=snap.paused,
            volume=snap.volume,
            filters=Filters.from_payload(snap.filters) if snap.filters else UNSET,
            voice=voice if voice is not None else UNSET,
        )
        if self._destroyed:
            return  # left meanwhile: nothing to restore
        self._starting = self._sent = track
        if isinstance(update.filters, Filters):
            self.filters = update.filters  # what the node reports of them unreadably is these
        events_before = self._track_events
        try:
            await self._update(update)
        finally:
            self._starting = None
        if generation != self._restore_generation:
            # A newer claim (a later ready) took the guild while this request was in flight: it restores it again.
            return
        # The restored track ended before the answer came (a recovery decides what plays, not that end): it is
        # pending still, and starts again from where the snapshot had it.
        again = (
            track is not None
            and self.track is None
            and (
                self._pending is track
                or (self._track_events != events_before and same_track(self._last_ended, track))
            )
        )
        self._pending = None
        if again and track is not None:
            self._pending, self._pending_at = track, snap.position
        self._end_time = snap.end_time if track is not None else None
        self.end_restore()
        self._hooks.save(self)
        if again and track is not None:
            _LOGGER.info("guild %s: %s ended while being restored; starting it again", self.guild_id, _title(track))
            self._hooks.spawn(self._start_when_free(track), name=f"lavalink-next-{self.guild_id}")

    def restore_idle(self, snap: GuildSnapshot) -> None:
        """Bring back a guild that was not in voice: its queue is already there; a track it had waits (pending)."""
        self.end_restore()
        self.track = None
        track = None if snap.track is None else _restored(snap.track)
        if track is not None:
            self._set_pending(track, snap.position, snap.end_time)
        self._hooks.save(self)

    def sync_from(self, info: PlayerInfo, saved: GuildSnapshot | None) -> bool:
        """Take a resumed session's player as the truth for what plays now (the claimed queue is what comes next),
        and end the restore. Returns whether the guild should be playing but the node is idle: its track ended
        unseen, and the queue must advance once the replay is over (unless a replayed event did it)."""
        playing = info.track
        kept = _restored(saved.track) if saved is not None and saved.track is not None else None
        was_pending = saved is not None and saved.pending
        if kept is not None and not was_pending and self._pending is not None and same_track(self._pending, kept):
            # Pending only because a restore of it failed (the saved track was playing): the node says what it is.
            self._pending = None
        if kept is not None and was_pending and self._pending is None and saved is not None:
            self._set_pending(kept, saved.position, saved.end_time)  # rebuilt from the store: it had not started
        stalled = False
        if playing is not None:
            if self._pending is not None and same_track(self._pending, playing):
                playing, self._pending = self._pending, None  # the start reached the node after all
            elif kept is not None and same_track(kept, playing):
                # The same track: keep the blob the user queued, with its user data. (A looped queue that came round
                # to this very track while the bot was away cannot be told from it: the history misses that turn.)
                playing = kept
            elif kept is not None and saved is not None:
                moved = self._moved_on_unseen(saved, kept, playing)
                if moved is not None:
                    playing = moved
                    if self._pending is kept:
                        self._pending = None  # the saved pending track did play (or was skipped) unseen
        elif kept is not None and not was_pending and saved is not None and not saved.paused:
            stalled = self._pending is None
        self.end_restore()
        if saved is not None and saved.filters:
            self.filters = Filters.from_payload(saved.filters)  # what a filter the node reports unreadably was
        # The store has this guild as it was saved: its position needs no write of its own right now.
        self._last_position_save = self._client.clock.monotonic()
        self._apply_info(info)
        self.track = playing
        if playing is not None and kept is playing and saved is not None:
            self._end_time = saved.end_time
        return stalled

    def _moved_on_unseen(self, saved: GuildSnapshot, kept: Track, playing: Track) -> Track | None:
        """If the node plays the track that was next in the saved queue, the old process started it and died
        before saving that: move the queue on as it did (the saved track to the history, and to the end of a
        looped queue; the started one out of the queue, wherever a user's change during the restore put it) and
        return the queue's object for it; else `None`, changing nothing."""
        if not saved.queue.tracks:
            return None
        head = _restored(saved.queue.tracks[0])
        if head is None or not same_track(head, playing):
            return None
        index = next((i for i, queued in enumerate(self.queue) if same_track(queued, head)), None)
        return self.queue.move_on(kept, index)

    @property
    def pending(self) -> Track | None:
        """The track that should play but is not on the node yet (it starts when it can), or `None`."""
        return self._pending

    @property
    def track_events(self) -> int:
        """How many track events the node sent for this player (to tell whether a replayed one came)."""
        return self._track_events

    async def start_pending(self) -> None:
        """The node's session is back: start the pending track now (from where it was to start), not at its next
        retry."""
        if self._pending is None or self.track is not None:
            return
        if self._lock.locked():  # a command is in flight: it settles the pending track, or this task starts it
            self._hooks.spawn(self._start_when_free(self._pending), name=f"lavalink-next-{self.guild_id}")
            return
        await self._start_when_free(self._pending)

    def advance_unseen(self, finished: GuildSnapshot) -> None:
        """The saved current track of `finished` ended while nobody watched (the node is idle): a `TrackEndEvent`
        (`replayed`, `finished`) says so, the queue moves on now, and the next track is pending (`start_pending`
        starts it once the replay is over). A replayed end of that track then changes nothing; a command meanwhile
        acts on the pending track."""
        track = None if finished.track is None else _restored(finished.track)
        if track is None:
            return
        _LOGGER.info("guild %s: its track had ended before the restart; continuing the queue", self.guild_id)
        client = self._client
        # Listeners learn of the end as of any other that happened while the bot was away (the node's own event,
        # if it still comes, is then the end of a track the queue already moved on from: it changes nothing).
        client.dispatch(
            events.TrackEndEvent(
                app=client.app,
                client=client,
                player=self,
                track=track,
                reason=TrackEndReason.FINISHED,
                may_start_next=True,
                replayed=True,
            )
        )
        self._advanced_past = track
        nxt = self.queue.advance(track)
        if nxt is not None:
            if nxt is not track:
                # The old process may have started it, and it may have ended since (its events still to come).
                self._sent = nxt
            self._set_pending(nxt, 0, None)
            return
        self._save(position=True)
        self._client.dispatch(events.QueueEndEvent(app=self._client.app, client=self._client, player=self))

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

    async def overrule(self) -> None:
        """A request of this guild's previous (left) player reached the node after this one took over: put back
        what this player plays (stop, when nothing)."""
        async with self._lock:
            if self._destroyed or not self.node.connected or self._pending is not None:
                return
            try:
                if self.track is None:
                    await self._stop()
                else:
                    track = self.track
                    await self._update(
                        PlayerUpdate(
                            track=TrackUpdate(encoded=track.encoded, user_data=dict(track.user_data)),
                            position=self.position,
                            end_time=self._end_time if self._end_time is not None else UNSET,
                            paused=self.paused,
                        )
                    )
            except LavalinkError as exc:
                _LOGGER.warning("guild %s: could not undo a late request of its left player: %s", self.guild_id, exc)

    async def send_voice(self, info: VoiceConnectionInfo) -> None:
        """Hand Lavalink the guild's Discord voice connection (a join, a move, a region change, a rejoin)."""
        if self._destroyed:
            return  # left meanwhile: a voice update must not create its player again
        self.channel_id = info.channel_id
        async with self._lock:
            if not self._destroyed:
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
        """Replace whatever plays by `track`; the end of the replaced track never advances the queue.

        `position` is always sent: a blob carries the position it was taken at, so one from an event or a REST
        answer would otherwise start there. The player keeps `track` itself (the user's object) as its track.
        """
        superseded, self._superseded = self._superseded, self.track
        self._unconfirmed = None
        update = PlayerUpdate(
            track=TrackUpdate(encoded=track.encoded, user_data=dict(track.user_data)),
            position=start,
            end_time=end if end is not None else UNSET,
            paused=paused if paused is not None else UNSET,
        )
        self._starting = self._sent = track
        try:
            await self._update(update)
        except BaseException:
            self._superseded = superseded
            raise
        finally:
            self._starting = None
        self._pending = None
        self._advanced_past = None
        self._unstarted = self.track
        self._end_time = end
        self._save(position=True)

    async def _stop(self) -> None:
        superseded, self._superseded = self._superseded, self.track
        self._unconfirmed = None
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
        if self._destroyed:
            # The bot left while this request was in flight: it may have created the player again.
            successor = self._client.get_player(self.guild_id)
            if successor is None or successor is self or successor.node is not self.node:
                await self.node.discard_player(self.guild_id)
            elif isinstance(update.track, TrackUpdate):
                # The guild was joined again meanwhile: the node's player is the new one's, and this late start
                # landed on it. The new player puts back what it plays.
                self._hooks.spawn(successor.overrule(), name=f"lavalink-overrule-{self.guild_id}")
            return
        # The answer travels apart from the websocket. If track events arrived meanwhile, the answer's track is
        # stale unless this update started that track itself (and it has not been seen ending since).
        fresh = generation == self._track_events
        if not fresh and info.track is not None and isinstance(update.track, TrackUpdate):
            fresh = not (self._last_ended is not None and same_track(self._last_ended, info.track))
        if fresh and info.track is None and self.track is not None and update.track is UNSET:
            # Our track ended on the node and its end event is on its way (it advances the queue): until it comes,
            # or a sync infers it, the track stays ours (dropping it here would skip the advance for good).
            fresh = False
        self._apply_info(info, track=fresh)

    def _apply_info(self, info: PlayerInfo, *, track: bool = True) -> None:
        """Take Lavalink's view of the player (a REST answer) as the truth; `track=False` keeps track and state.

        A track we sent stays the object we sent (see `_own`). What the node did not report readably (a field
        another server words or wraps differently) is left as it was.
        """
        if track:
            current = None if info.track is None else self._own(info.track)
            if current is not None and current is self._pending:
                self._pending = None  # it did start
            self.track = current
            if info.state is not None:
                self.on_state(info.state)
        if info.paused is not None:
            self.paused = info.paused
        if info.volume is not None:
            self.volume = info.volume
        self.filters = info.filters.with_unread_from(self.filters)  # what the node reported unreadably is ours
        if info.voice.session_id:
            self.voice = info.voice

    def _own(self, track: Track) -> Track:
        """Our own object for `track`, a blob the node sent back (an event, a REST answer), or `track` itself.

        The node re-encodes a track with its current position; the object we sent is the blob the user queued,
        with its user data, and is what goes to the history and back into a loop.
        """
        for mine in (self._starting, self._pending, self.track):
            if mine is not None and same_track(mine, track):
                return mine
        return track

    # -- for the core: the node, the hub and the resume coordinator call these; bots do not ----------------------

    def mark_left(self) -> None:
        """The bot left the guild: nothing brings this player back (commands waiting on it go on and fail)."""
        self._destroyed = True
        if self._retry is not None:
            self._retry.cancel()
        self._saved = None
        self._phase = None
        self._ready.set()

    def begin_restore(self, phase: GuildState, saved: GuildSnapshot | None) -> None:
        """The guild is being restored (`RESTORING`) or recovered (`RECOVERING`) from `saved`: commands wait."""
        self._restore_generation += 1
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
        """A track or voice event from the node, in order (`replayed`: queued while the bot was away).

        While the guild is being recovered, a track's end is reported but never advances the queue: the recovery
        decides what plays.
        """
        client = self._client
        common: dict[str, typing.Any] = {"app": client.app, "client": client, "player": self}
        event: events.PlayerEvent
        if isinstance(message, TrackEndMessage):
            await self._on_track_end(message, replayed=replayed)
            return
        if isinstance(message, TrackStartMessage):
            self._track_events += 1
            started = self._own(message.track)
            if started is self._pending:
                self._pending = None  # it started after all (the answer to its request was lost or unreadable)
            flight = self._in_flight
            if flight is not None and flight.target is not None and same_track(flight.target, message.track):
                self._take_effect(flight)  # the node took the command before its answer came back
            unconfirmed, self._unconfirmed = self._unconfirmed, None
            if unconfirmed is not None and same_track(unconfirmed.track, message.track):
                # The command that raised on an unreadable answer did take effect: so does its queue change.
                self.queue.apply(unconfirmed.move)
                started = unconfirmed.track
            self.track = started
            self._advanced_past = None
            self._unstarted = None
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
            flight = self._in_flight
            if flight is not None and message.reason in (TrackEndReason.REPLACED, TrackEndReason.STOPPED):
                self._take_effect(flight)  # the node replaced or stopped it: the command's answer is on its way
        finished = ended
        stale = unannounced = False
        if (
            self.track is not None
            and self._unstarted is self.track
            and message.reason is TrackEndReason.FINISHED
            and same_track(self.track, ended)
        ):
            # The same track finished before the play we started announced itself: an earlier play of it (its end
            # was inferred already, and the queue came round to it again). Never advance twice.
            still_current, stale = False, True
        elif self.track is not None and same_track(self.track, ended):
            finished, self.track = self.track, None  # the object we sent: the blob the user queued
            # Before our start announced itself: our play failing to load (NodeLink sends no start then), or the
            # end of an earlier play of it that comes late (see `_advance_from`).
            unannounced = self._unstarted is finished
            self._unstarted = None
            still_current = True
        elif (
            self._pending is not None
            and self._sent is self._pending
            and self._phase is None  # a restore's own track ending meanwhile: the restore starts it again
            and message.reason.may_start_next
            and same_track(self._pending, ended)
        ):
            finished, self._pending = self._pending, None  # it did play: we missed its start
            still_current = True
        else:
            # Idle: the end of a track we never saw start is still news, not one the queue already moved on from.
            still_current = self.track is None and self._pending is None and not same_track(self._advanced_past, ended)
        if stale or (not still_current and message.reason.may_start_next and same_track(self._advanced_past, ended)):
            # The end of a play the queue already moved on from (inferred by a resume, or told twice): listeners
            # were told of it then; telling them again would end the track twice.
            _LOGGER.debug("guild %s: dropping a second end of %s", self.guild_id, _title(ended))
            return
        client.dispatch(
            events.TrackEndEvent(
                app=client.app,
                client=client,
                player=self,
                track=ended,
                reason=message.reason,
                may_start_next=message.reason.may_start_next,
                raw_reason=message.raw_reason,
                replayed=replayed,
            )
        )
        if not message.reason.may_start_next or self._destroyed or superseded or self._phase is not None:
            return
        if not still_current:
            # Another track is playing already (started while this event was in flight): never skip it.
            _LOGGER.debug("guild %s: ignoring end of %s, another track is playing", self.guild_id, _title(ended))
            return
        await self._advance_from(finished, unannounced=unannounced)

    async def _advance_from(self, finished: Track, *, unannounced: bool = False) -> None:
        """`finished` ended on its own: the queue moves on at once (what a listener of the end saw), and the next
        track is pending until it starts. The start waits for a command in flight; a command that acted on the
        pending track meanwhile (skip, play) settled it.

        `unannounced`: the end came before the start we sent for `finished` announced itself. If it was the late
        end of an earlier play, ours is still to begin: when the queue is over, it is stopped (a next track
        replaces it anyway)."""
        self._advanced_past = finished
        nxt = self.queue.advance(finished)
        if nxt is None:
            await self._play_next(None)
            if unannounced:
                self._hooks.spawn(self._silence(finished), name=f"lavalink-silence-{self.guild_id}")
            return
        self._set_pending(nxt, 0, None)
        if self._lock.locked():
            # A command is in flight: start it once that is done, without holding up the node's other guilds.
            self._hooks.spawn(self._start_when_free(nxt), name=f"lavalink-next-{self.guild_id}")
            return
        await self._start_when_free(nxt)

    async def _silence(self, finished: Track) -> None:
        """The queue ended with `finished`, whose start we sent had not announced itself: if that start plays after
        all (or may still), stop it (see `_advance_from`); a command that started something since wins."""
        async with self._lock:
            late = self.track is None or (same_track(self.track, finished) and self._sent is finished)
            if late and self._pending is None and not self._destroyed and self.node.connected:
                try:
                    await self._stop()
                except LavalinkError as exc:
                    _LOGGER.debug("guild %s: could not stop a late start: %s", self.guild_id, exc)

    async def _start_when_free(self, nxt: Track) -> None:
        """Start the pending `nxt` once no command is in flight, unless one settled it meanwhile."""
        async with self._lock:
            if self._pending is nxt and self.track is None and not self._destroyed:
                await self._play_next(nxt, start=self._pending_at, end=self._end_time)

    async def _play_next(self, nxt: Track | None, *, start: int = 0, end: int | None = None) -> None:
        """Start `nxt` (the queue's next track); `QueueEndEvent` when none is left.

        Tracks the node refuses are skipped. When the request fails for any other reason, `nxt` stays pending
        (the queue as it was, nothing to the history) and is retried until it starts.
        """
        failure = await self._advance_to(nxt, start=start, end=end)
        if failure is not None:
            self._retry_later()
            self._dispatch_start_failed(*failure, refused=False)

    def _set_pending(self, track: Track, start: int, end: int | None) -> None:
        self._pending, self._pending_at, self._end_time = track, start, end
        self._save()

    async def _advance_to(
        self, nxt: Track | None, *, start: int = 0, end: int | None = None
    ) -> tuple[Track, LavalinkError] | None:
        """Start `nxt`, skipping tracks the node refuses; `QueueEndEvent` when none is left.

        Returns the track and the error when a request failed for a reason that is not the track's: the track
        is then pending, the queue untouched.
        """
        client = self._client
        while nxt is not None:
            self._set_pending(nxt, start, end)
            try:
                # A new track unpauses the player unless told: a pause the user asked for meanwhile stands.
                await self._switch_to(nxt, start=start, end=end, paused=self.paused)
                return None
            except LavalinkError as exc:
                if self._pending is not nxt:
                    return None  # settled meanwhile: its TrackStartEvent came, or a command replaced it
                if not await refuses(nxt, exc, decode=lambda blob: self.node.rest.decode_track(blob)):
                    _LOGGER.warning("guild %s: could not start %s, retrying: %s", self.guild_id, _title(nxt), exc)
                    return nxt, exc
                _LOGGER.warning("guild %s: skipping %s, the node refused it: %s", self.guild_id, _title(nxt), exc)
                self._pending = None
                self._dispatch_start_failed(nxt, exc, refused=True)
            nxt = self.queue.advance(None)
            start, end = 0, None
        self._pending = None
        self._save(position=True)
        client.dispatch(events.QueueEndEvent(app=client.app, client=client, player=self))
        return None

    def _retry_later(self) -> None:
        if self._destroyed or (self._retry is not None and not self._retry.done()):
            return
        self._retry = self._hooks.spawn(self._retry_pending(), name=f"lavalink-retry-{self.guild_id}")

    async def _retry_pending(self) -> None:
        """Retry the pending track with backoff while its node is connected.

        Once the node is away the retries end: its session's return starts the track (a resumed session
        through `start_pending`, a lost one through the recovery of the snapshot, which reports it).
        """
        settings = self._client.settings
        backoff = Backoff(initial=settings.reconnect_delay, maximum=settings.reconnect_max_delay)
        for delay in backoff.delays():
            await self._client.clock.sleep(delay)
            if self._destroyed or self._pending is None or self.track is not None or not self.node.connected:
                return
            async with self._lock:
                track = self._pending
                if track is None or self.track is not None:
                    return
                failure = await self._advance_to(track, start=self._pending_at, end=self._end_time)
            if failure is None:
                return
            self._dispatch_start_failed(*failure, refused=False)

    def _dispatch_start_failed(self, track: Track, error: LavalinkError, *, refused: bool) -> None:
        client = self._client
        client.dispatch(
            events.TrackStartFailedEvent(
                app=client.app, client=client, player=self, track=track, error=error, refused=refused
            )
        )

    def _save(self, *, position: bool = False) -> None:
        if position:
            self._last_position_save = self._client.clock.monotonic()
        if not self._destroyed:
            self._hooks.save(self)
