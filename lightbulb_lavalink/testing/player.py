"""`FakePlayer`: one guild's emulated Lavalink player, whose track advances with the emulator's clock."""

from __future__ import annotations

import typing

import attrs

from lightbulb_lavalink.protocol.codec import encode_track
from lightbulb_lavalink.testing.catalog import Playback, exception_json, track_json
from lightbulb_lavalink.testing.filters import FilterSet
from lightbulb_lavalink.testing.plugins import Markers

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.protocol.tracks import Track, TrackInfo
    from lightbulb_lavalink.testing.clock import Timer
    from lightbulb_lavalink.testing.context import NodeContext
    from lightbulb_lavalink.testing.session import FakeSession

__all__ = ["FakePlayer", "FakeVoice"]


@attrs.frozen(kw_only=True, weakref_slot=False)
class FakeVoice:
    """The voice server data a player was given (what Lavalink would connect to Discord with)."""

    token: str
    """The voice token."""
    endpoint: str
    """The voice endpoint."""
    session_id: str
    """The bot's Discord voice session id."""
    channel_id: str | None = None
    """The voice channel id (Lavalink 4.2+), ``None`` before."""


class FakePlayer:
    """A player of one session: current track and position, pause, volume, filters and voice.

    Tests read its state (`track`, `position`, `paused`, `volume`, `filters`, `voice`, `connected`) and
    drive failures with `finish()`, `fail()`, `stick()`/`unstick()` and `close_voice()`.
    """

    def __init__(self, session: FakeSession, guild_id: int, context: NodeContext) -> None:
        self.guild_id = guild_id
        """The guild this player plays in."""
        self.volume = 100
        """Player volume, 0..1000."""
        self.paused = False
        """Whether playback is paused."""
        self.filters = FilterSet()
        """The filter chain from the last ``filters`` update."""
        self.voice: FakeVoice | None = None
        """The voice data of the last valid voice update, ``None`` before any."""
        self.connected = False
        """Whether the (emulated) voice gateway connection is open."""
        self.end_time: int | None = None
        """Position (ms) at which the current track ends early, if an ``endTime`` marker is set."""
        self.stuck = False
        """Whether the current track is stuck (position frozen)."""
        self._session = session
        self._ctx = context
        self._track: Track | None = None
        self._base_position = 0.0
        self._base_time = 0.0
        self._start_position = 0
        self._playing_since: float | None = None
        self._end_timer: Timer | None = None
        self._update_timer: Timer | None = None
        self._stuck_timer: Timer | None = None
        self._destroyed = False
        self._played = False  # NodeLink wraps its filters once a track was played
        self._nodelink = context.version.nodelink
        self.markers = Markers(self, context.clock)
        """Positions in the current track where a plugin acts (a segment to skip, a lyrics line)."""
        if self._nodelink:
            self._notify("PlayerCreatedEvent", player=self.to_json())

    # --- state -------------------------------------------------------------------------------------------

    @property
    def track(self) -> Track | None:
        """The loaded track, ``None`` when idle; its blob and ``info.position`` carry the current position.

        Re-encoded on every access, as Lavalink re-encodes the live track; `has_track` is the cheap test.
        """
        if self._track is None:
            return None
        return self._at(self.position)

    @property
    def has_track(self) -> bool:
        """Whether a track is loaded (paused or not)."""
        return self._track is not None

    @property
    def position(self) -> int:
        """The current position in milliseconds (0 without a track)."""
        if self._track is None:
            return 0
        position = self._base_position
        if self._advancing:
            position += (self._ctx.clock.now() - self._base_time) * 1000.0 * self.filters.speed
        limit = self._limit
        if limit is not None:
            position = min(position, float(limit))
        return max(0, int(position))

    @property
    def playing(self) -> bool:
        """Whether a track is loaded and not paused (what ``playingPlayers`` counts)."""
        return self._track is not None and not self.paused

    @property
    def playing_since(self) -> float | None:
        """Emulated time since which the player has been playing without a break (for ``frameStats``)."""
        return self._playing_since

    @property
    def ping(self) -> int:
        """Voice gateway ping in ms: 0 while connected, -1 without a connection."""
        return 0 if self.connected else -1

    @property
    def advancing(self) -> bool:
        """Whether the position moves now (a track loaded, not paused, not stuck)."""
        return self._advancing

    @property
    def _advancing(self) -> bool:
        return self._track is not None and not self.paused and not self.stuck

    @property
    def _limit(self) -> int | None:
        """Where the track ends (its length or its end marker); ``None`` for a stream or an unknown length."""
        assert self._track is not None
        length = self._track.info.known_length  # a stream or an unknown length never ends
        if self.end_time is None:
            return length
        return self.end_time if length is None else min(length, self.end_time)

    def _at(self, position: int) -> Track:
        """The live track as Lavalink sends it: re-encoded as version 3 with `position` in its blob and info.

        Only the position (and the version byte) change; the source-specific bytes are kept as decoded.
        """
        assert self._track is not None
        info = attrs.evolve(self._track.info, position=position, version=3)
        return attrs.evolve(self._track, encoded=encode_track(info), info=info)

    def state_json(self, position: int | None = None) -> dict[str, typing.Any]:
        """The PlayerState object: ``time, position, connected, ping`` (default: the current position)."""
        return {
            "time": self._ctx.clock.time_ms(),
            "position": self.position if position is None else position,
            "connected": self.connected,
            "ping": self.ping,
        }

    def update_json(self) -> dict[str, typing.Any]:
        """A ``playerUpdate`` op for this player."""
        return {"op": "playerUpdate", "state": self.state_json(), "guildId": str(self.guild_id)}

    def to_json(self) -> dict[str, typing.Any]:
        """The REST Player object: ``guildId, track, volume, paused, state, voice, filters``.

        NodeLink's (transcript 04): extra ``fading`` and ``loudnessNormalizer``, ``null`` voice strings without
        voice, and the filters wrapped in ``{"filters": …}`` once a track was played.
        """
        version = self._ctx.version
        position = self.position
        track = None if self._track is None else self._at(position)
        voice: dict[str, typing.Any] = {
            "token": self.voice.token if self.voice else "",
            "endpoint": self.voice.endpoint if self.voice else "",
            "sessionId": self.voice.session_id if self.voice else "",
        }
        if version.channel_id:
            voice["channelId"] = self.voice.channel_id if self.voice else None
        if self._nodelink:
            return {
                "guildId": str(self.guild_id),
                "track": None if track is None else track_json(track, version),
                "volume": self.volume,
                "fading": {"enabled": False},
                "loudnessNormalizer": False,
                "paused": self.paused,
                "filters": self.filters.to_nodelink_json() if self._played else {},
                "state": self.state_json(position),
                "voice": {key: value or None for key, value in voice.items()},
            }
        return {
            "guildId": str(self.guild_id),
            "track": None if track is None else track_json(track, version),
            "volume": self.volume,
            "paused": self.paused,
            "state": self.state_json(position),
            "voice": voice,
            "filters": self.filters.to_json(omit_defaults=version.omit_filter_defaults),
        }

    def notify(self, event_type: str, **fields: typing.Any) -> None:
        """Send an ``op: event`` of this player's guild with these fields (what plugins send)."""
        self._notify(event_type, **fields)

    def _notify(self, event_type: str, **fields: typing.Any) -> None:
        """One of NodeLink's own events (no track): ``PlayerCreatedEvent``, ``PauseEvent``, ``SeekEvent``…"""
        self._session.send({"op": "event", "type": event_type, "guildId": str(self.guild_id), **fields})

    # --- time --------------------------------------------------------------------------------------------

    def _rebase(self) -> None:
        """Freeze the interpolated position as the new base before any change that affects its speed."""
        self._base_position = float(self.position)
        self._base_time = self._ctx.clock.now()

    def _reschedule_end(self) -> None:
        if self._end_timer is not None:
            self._end_timer.cancel()
            self._end_timer = None
        self.markers.reschedule()
        if not self._advancing or self._track is None or self._track.info.is_stream:
            return
        speed = self.filters.speed
        limit = self._limit
        if speed <= 0 or limit is None:
            return
        remaining_ms = max(0.0, limit - self._base_position)
        clock = self._ctx.clock
        self._end_timer = clock.call_at(self._base_time + remaining_ms / 1000.0 / speed, self._on_end_reached)

    def _on_end_reached(self) -> None:
        self._end_timer = None
        if self._track is not None:
            self._end_track("finished")

    def _update_playing_since(self) -> None:
        if self.playing and self._playing_since is None:
            self._playing_since = self._ctx.clock.now()
        elif not self.playing:
            self._playing_since = None

    def _start_updates(self) -> None:
        if self._update_timer is not None:
            return
        self._tick_updates(self._ctx.clock.now())

    def _tick_updates(self, deadline: float) -> None:
        self._session.send_player_update(self)
        interval = self._ctx.player_update_interval
        next_deadline = deadline + interval

        def fire() -> None:
            self._update_timer = None
            self._tick_updates(next_deadline)

        self._update_timer = self._ctx.clock.call_at(next_deadline, fire)

    def _stop_updates(self) -> None:
        if self._update_timer is not None:
            self._update_timer.cancel()
            self._update_timer = None

    # --- operations (REST) -------------------------------------------------------------------------------

    def _event(self, event_type: str, track: Track, **extra: typing.Any) -> None:
        payload: dict[str, typing.Any] = {"op": "event", "type": event_type, "guildId": str(self.guild_id)}
        if self._nodelink and event_type == "TrackStartEvent":
            payload["playingQuality"] = None
        payload["track"] = track_json(track, self._ctx.version)
        payload.update(extra)
        self._session.send(payload)

    def _end_track(self, reason: str) -> None:
        """Unload the current track and emit ``TrackEndEvent`` with its final position."""
        if self._track is None:
            return
        final = self._at(self.position)
        self.markers.clear()
        self._stop_updates()
        for timer in (self._end_timer, self._stuck_timer):
            if timer is not None:
                timer.cancel()
        self._end_timer = self._stuck_timer = None
        self._track = None
        self.end_time = None
        self.stuck = False
        self._base_position = 0.0
        self._update_playing_since()
        self._event("TrackEndEvent", final, reason=reason)

    def play(self, track: Track, *, position: int | None = None, end_time: int | None = None) -> None:
        """Start `track` (user data kept): the current one ends as ``replaced``, then ``TrackStartEvent``.

        It starts at `position`, or without one where its blob says (lavaplayer's ``decodeTrack`` restores the
        position written in the blob's last 8 bytes), clamped to the track: a negative position is 0, one past
        the end is the end (the track then ends at once, ``finished``), and a stream, which cannot seek,
        always starts at 0. An `end_time` at or before the start is ignored, as lavaplayer does.
        """
        self._end_track("replaced")
        start = _start_position(track.info, position)
        self._track = track
        self._base_position = float(start)
        self._base_time = self._ctx.clock.now()
        self._start_position = start
        self.stuck = False
        self.end_time = end_time if end_time is not None and end_time > start else None
        self._update_playing_since()
        if self._nodelink:  # NodeLink announces the filters before every track
            self._played = True
            self._notify("FiltersChangedEvent", filters=self.filters.to_nodelink_json())
        self._event("TrackStartEvent", self._at(start))
        self._session.send_player_update(self)
        self._start_updates()
        self._reschedule_end()
        if self._ctx.plugins is not None:
            self._ctx.plugins.on_track_start(self, self._at(start), self._session.plugins)
        behaviour = self._ctx.catalog.playback_of(track.info)
        if behaviour is Playback.FAIL:
            self.fail("This track cannot be played (emulated failure).", before_audio=True)
        elif behaviour is Playback.STUCK:
            self.stick()

    def stop(self) -> None:
        """Stop the current track (``TrackEndEvent`` ``stopped``)."""
        self._end_track("stopped")

    def set_paused(self, paused: bool) -> None:
        """Pause or resume (no websocket message, as on a real node)."""
        if paused == self.paused:
            return
        self._rebase()
        self.paused = paused
        if self._nodelink:
            self._notify("PauseEvent", paused=paused)
        self._update_playing_since()
        self._reschedule_end()

    def set_volume(self, volume: int) -> None:
        """Set the volume, clamped to 0..1000 like lavaplayer."""
        self.volume = min(1000, max(0, volume))
        if self._nodelink:
            self._notify("VolumeChangedEvent", volume=self.volume)

    def set_user_data(self, user_data: typing.Mapping[str, typing.Any]) -> None:
        """Replace the current track's user data (no-op when idle)."""
        if self._track is not None:
            self._track = self._track.with_user_data(dict(user_data))

    def seek(self, position: int) -> None:
        """Seek (ignored for streams, and while paused on 4.0.0); then a ``playerUpdate``."""
        if self._track is None:
            return
        if not self._track.info.is_stream and (not self.paused or self._ctx.version.seek_while_paused):
            limit = self._limit
            self._base_position = float(max(0, position) if limit is None else min(max(0, position), limit))
            self._base_time = self._ctx.clock.now()
            self._reschedule_end()
            if self._nodelink:
                self._notify("SeekEvent", position=int(self._base_position), duration=0)
        self._session.send_player_update(self)

    def set_end_time(self, end_time: int) -> None:
        """Set the end marker of the current track (ignored when the position is already past it)."""
        if self._track is None:
            return
        self._rebase()
        if end_time > self.position:
            self.end_time = end_time
            self._reschedule_end()

    def set_filters(self, filters: FilterSet) -> None:
        """Replace the whole filter chain, then a ``playerUpdate``."""
        self._rebase()
        self.filters = filters
        self._reschedule_end()
        if self._nodelink:
            self._notify("FiltersChangedEvent", filters=filters.to_nodelink_json())
        self._session.send_player_update(self)

    def connect_voice(self, voice: FakeVoice) -> None:
        """Open the emulated voice connection (no-op when already connected with the same data)."""
        if self.connected and voice == self.voice:
            return
        self.voice = voice
        self.connected = True
        if self._nodelink:
            voice_json = {"sessionId": voice.session_id, "token": voice.token, "endpoint": voice.endpoint,
                          "channelId": voice.channel_id}  # fmt: skip
            self._notify("PlayerConnectedEvent", voice=voice_json)
        self._session.send_player_update(self)

    def destroy(self, *, emit: bool = True) -> None:
        """Stop the track (``TrackEndEvent`` ``stopped`` when `emit`) and cancel every timer."""
        if self._destroyed:
            return
        if emit and self._nodelink:  # NodeLink: PlayerDestroyedEvent, no TrackEndEvent (transcript 04)
            self._notify("PlayerDestroyedEvent")
        elif emit:
            self._end_track("stopped")
        for timer in (self._end_timer, self._update_timer, self._stuck_timer):
            if timer is not None:
                timer.cancel()
        self._end_timer = self._update_timer = self._stuck_timer = None
        self.markers.clear()
        self._track = None
        self.connected = False
        self._destroyed = True

    # --- controls for tests ------------------------------------------------------------------------------

    def fail(
        self,
        message: str = "Something broke while playing.",
        *,
        severity: str = "common",
        before_audio: bool | None = None,
    ) -> None:
        """Make the current track fail: ``TrackExceptionEvent`` then ``TrackEndEvent``.

        The end reason is ``loadFailed`` when no audio was produced yet (`before_audio`; by default: the
        position has not moved since the start), ``finished`` otherwise.
        """
        if self._track is None:
            return
        if before_audio is None:
            before_audio = self.position == self._start_position
        exception = exception_json(message, severity, self._ctx.version, load_error=False)
        self._event("TrackExceptionEvent", self._at(self.position), exception=exception)
        if self._nodelink:  # two ends: loadFailed, then stopped (transcript 05)
            ended = self._at(self.position)
            self._end_track("loadFailed")
            self._event("TrackEndEvent", ended, reason="stopped")
            return
        self._end_track("loadFailed" if before_audio else "finished")

    def finish(self) -> None:
        """End the current track now, as if it had played to its end: ``TrackEndEvent`` ``finished``."""
        self._end_track("finished")

    def stick(self) -> None:
        """Freeze the track; after the stuck threshold, ``TrackStuckEvent`` then a ``playerUpdate``."""
        if self._track is None or self.stuck:
            return
        self._rebase()
        self.stuck = True
        self._reschedule_end()
        threshold = self._ctx.track_stuck_threshold_ms

        def report() -> None:
            self._stuck_timer = None
            if self._track is not None and self.stuck:
                extra = {"reason": "Track is not seekable"} if self._nodelink else {}
                self._event("TrackStuckEvent", self._at(self.position), thresholdMs=threshold, **extra)
                self._session.send_player_update(self)

        self._stuck_timer = self._ctx.clock.call_at(self._ctx.clock.now() + threshold / 1000.0, report)

    def unstick(self) -> None:
        """Let a stuck track advance again (it may then end normally)."""
        if not self.stuck:
            return
        if self._stuck_timer is not None:
            self._stuck_timer.cancel()
            self._stuck_timer = None
        self._rebase()
        self.stuck = False
        self._reschedule_end()

    def close_voice(
        self, code: int = 4006, reason: str = "Session is no longer valid.", *, by_remote: bool = True
    ) -> None:
        """Close the voice gateway as Discord would: ``WebSocketClosedEvent`` then a ``playerUpdate``."""
        if not self.connected:
            return
        self.connected = False
        self._session.send(
            {
                "op": "event",
                "type": "WebSocketClosedEvent",
                "guildId": str(self.guild_id),
                "code": code,
                "reason": reason,
                "byRemote": by_remote,
            }
        )
        self._session.send_player_update(self)


def _start_position(info: TrackInfo, position: int | None) -> int:
    """Where a track starts: `position` if given, else the blob's; clamped as lavaplayer's seek is."""
    if info.is_stream:
        return 0
    wanted = max(0, info.position if position is None else position)
    length = info.known_length
    return wanted if length is None else min(wanted, length)
