"""One guild's player: what plays now on which node, its bot-side queue, and the commands that drive it."""

from __future__ import annotations

import asyncio
import logging
import typing

import attrs
import hikari

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import (
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
from lightbulb_lavalink.protocol.tracks import Track
from lightbulb_lavalink.queue import GuildQueue
from lightbulb_lavalink.snapshot import GuildSnapshot, TrackSnapshot

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.protocol.messages import EventMessage
    from lightbulb_lavalink.protocol.player import PlayerInfo, PlayerState, VoiceState
    from lightbulb_lavalink.voice import VoiceConnectionInfo

__all__ = ["Player", "same_track"]

_LOGGER = logging.getLogger("lightbulb_lavalink.player")


def _title(track: Track) -> str:
    """A track's title for a log line, even when its blob cannot be decoded."""
    try:
        return repr(track.info.title)
    except TrackDecodeError:
        return "<undecodable track>"


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


def _track_of(saved: TrackSnapshot) -> Track:
    """The track a snapshot saved: its own blob, user data and plugin info (the blob the user queued)."""
    return Track(encoded=saved.encoded, plugin_info=saved.plugin_info, user_data=saved.user_data)


class Player:
    """A guild's player: its node, voice channel, current track, interpolated position and queue.

    Created by `LavalinkClient.join` (or rebuilt by the resume coordinator); never construct one yourself.
    """

    __slots__ = (
        "_client",
        "_destroyed",
        "_end_time",
        "_frozen",
        "_last_ended",
        "_last_position_save",
        "_pending",
        "_position_save_interval",
        "_ready",
        "_starting",
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

    def __init__(self, client: LavalinkClient, node: Node, guild_id: int, *, queue: GuildQueue | None = None) -> None:
        self._client = client
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
        self._starting: Track | None = None  # the track a request in flight starts, to know its blob when it echoes
        self._ready = asyncio.Event()  # cleared while the guild is being recovered: commands wait
        self._ready.set()
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
        """The plain-data form of this guild's playback and queue, for the session store."""
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
        )

    async def _restore(self, snap: GuildSnapshot, voice: VoiceState | None) -> None:
        """Recreate this player on its node from `snap`: track at its position, pause, volume, filters, voice.

        The track is the snapshot's own blob, sent with its position even at 0 (a blob says where it starts).
        """
        track = None if snap.track is None else _track_of(snap.track)
        update = PlayerUpdate(
            track=(TrackUpdate(encoded=track.encoded, user_data=dict(track.user_data)) if track is not None else UNSET),
            position=snap.position if track is not None else UNSET,
            end_time=snap.end_time if track is not None and snap.end_time is not None else UNSET,
            paused=snap.paused,
            volume=snap.volume,
            filters=Filters.from_payload(snap.filters) if snap.filters else UNSET,
            voice=voice if voice is not None else UNSET,
        )
        self._starting = track
        try:
            await self._update(update)
        finally:
            self._starting = None
        self._pending = None
        self._end_time = snap.end_time if track is not None else None
        self._client._schedule_snapshot(self)

    async def _move_to(self, node: Node) -> None:
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
            await self._restore(snap, voice)
        finally:
            client._forget_snapshot(old.name, self.guild_id)
            client._schedule_snapshot(self)
        client.dispatch(events.PlayerMovedEvent(app=client.app, client=client, player=self, previous_node=old))

    async def _send_voice(self, info: VoiceConnectionInfo) -> None:
        """Hand Lavalink the guild's Discord voice connection (a join, a move, a region change, a rejoin)."""
        self.channel_id = info.channel_id
        await self._update(PlayerUpdate(voice=info.to_voice_state()))

    async def _prepare(self) -> None:
        """Before a command: wait for this guild's recovery, and fail before changing anything if the node is away."""
        if not self._ready.is_set():
            await self._ready.wait()
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
        update = PlayerUpdate(
            track=TrackUpdate(encoded=track.encoded, user_data=dict(track.user_data)),
            position=start,
            end_time=end if end is not None else UNSET,
            paused=paused if paused is not None else UNSET,
        )
        self._starting = track
        try:
            await self._update(update)
        except BaseException:
            self._superseded = superseded
            raise
        finally:
            self._starting = None
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
        """Take Lavalink's view of the player (a REST answer) as the truth; `track=False` keeps track and state.

        A track we sent stays the object we sent (see `_own`).
        """
        if track:
            self.track = None if info.track is None else self._own(info.track)
            self._on_state(info.state)
        self.paused = info.paused
        self.volume = info.volume
        self.filters = info.filters
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

    def _freeze_position(self) -> None:
        """The node went away: stop interpolating and save where the track was."""
        if self.state is not None and not self._frozen:
            self.state = attrs.evolve(self.state, position=self.position)
            self._frozen = True
            self._save(position=True)

    def _on_state(self, state: PlayerState) -> None:
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

    async def _on_event(self, message: EventMessage, *, replayed: bool) -> None:
        client = self._client
        common: dict[str, typing.Any] = {"app": client.app, "client": client, "player": self}
        event: events.PlayerEvent
        if isinstance(message, TrackEndMessage):
            await self._on_track_end(message, replayed=replayed)
            return
        if isinstance(message, TrackStartMessage):
            self._track_events += 1
            self.track = self._own(message.track)
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
        finished = ended
        if self.track is not None and same_track(self.track, ended):
            finished, self.track = self.track, None  # the object we sent: the blob the user queued
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
        await self._play_next(self.queue.advance(finished))

    def _adopt(self, snap: GuildSnapshot) -> None:
        """After a resumed sync rebuilt this player, take the current track's own blob from its saved snapshot
        (Lavalink's is re-encoded at its position)."""
        if snap.track is not None and self.track is not None:
            saved = _track_of(snap.track)
            if same_track(self.track, saved):
                self.track = saved

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
            self._client._schedule_snapshot(self)
