"""The ``op: event`` messages of a guild's player (track start/end/exception/stuck, voice socket closed)."""

from __future__ import annotations

import enum
import typing

import attrs

from lightbulb_lavalink.protocol._parse import (
    at,
    get_bool,
    get_choice,
    get_guild_id,
    get_int,
    get_object,
    get_str,
    make_twin,
    require_object,
)
from lightbulb_lavalink.protocol.loading import ExceptionInfo
from lightbulb_lavalink.protocol.track import Track, fast_track

__all__ = [
    "EventMessage",
    "TrackEndMessage",
    "TrackEndReason",
    "TrackExceptionMessage",
    "TrackStartMessage",
    "TrackStuckMessage",
    "WebSocketClosedMessage",
]


class TrackEndReason(enum.StrEnum):
    """Why a track ended (`TrackEndEvent.reason`)."""

    FINISHED = "finished"
    """The track played to its end (or to its `endTime`, or failed after audio had started)."""
    LOAD_FAILED = "loadFailed"
    """The track failed before playing any audio (a `TrackExceptionEvent` came first)."""
    STOPPED = "stopped"
    """The track was stopped, or its player destroyed."""
    REPLACED = "replaced"
    """Another track was started on the player."""
    CLEANUP = "cleanup"
    """The player was cleaned up after not being used for a long time."""

    @property
    def may_start_next(self) -> bool:
        """Whether the next track should start (finished, load failed), as Lavalink's own rule says."""
        return self is TrackEndReason.FINISHED or self is TrackEndReason.LOAD_FAILED


_END_REASONS: typing.Final[typing.Mapping[str, TrackEndReason]] = {r.value: r for r in TrackEndReason}


def _event_head(data: typing.Any, where: str) -> tuple[dict[str, typing.Any], int]:
    d = require_object(data, where)
    return d, get_guild_id(d, "guildId", where)


def _event_track(d: dict[str, typing.Any], where: str) -> Track:
    return Track.from_payload(get_object(d, "track", where), at(where, "track"))


def _track_event_payload(event_type: str, guild_id: int, track: Track, **fields: typing.Any) -> dict[str, typing.Any]:
    return {"op": "event", "type": event_type, "guildId": str(guild_id), "track": track.to_payload(), **fields}


@attrs.frozen(kw_only=True, weakref_slot=False)
class TrackStartMessage:
    """``TrackStartEvent``: a track started playing."""

    guild_id: int
    """The player's guild."""
    track: Track
    """The track (with its position at the start)."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the event."""
        d, guild_id = _event_head(data, where)
        return cls(guild_id=guild_id, track=_event_track(d, where))

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire event."""
        return _track_event_payload("TrackStartEvent", self.guild_id, self.track)


@attrs.frozen(kw_only=True, weakref_slot=False)
class TrackEndMessage:
    """``TrackEndEvent``: a track ended; `reason` says why and whether the next may start."""

    guild_id: int
    """The player's guild."""
    track: Track
    """The track that ended (with its position at the end)."""
    reason: TrackEndReason
    """Why it ended."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the event."""
        d, guild_id = _event_head(data, where)
        track = _event_track(d, where)
        reason = get_choice(d, "reason", where, _END_REASONS, "track end reason")
        return cls(guild_id=guild_id, track=track, reason=reason)

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire event."""
        return _track_event_payload("TrackEndEvent", self.guild_id, self.track, reason=self.reason.value)


@attrs.frozen(kw_only=True, weakref_slot=False)
class TrackExceptionMessage:
    """``TrackExceptionEvent``: a track failed (a `TrackEndMessage` follows)."""

    guild_id: int
    """The player's guild."""
    track: Track
    """The track that failed."""
    exception: ExceptionInfo
    """What went wrong."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the event."""
        d, guild_id = _event_head(data, where)
        return cls(
            guild_id=guild_id,
            track=_event_track(d, where),
            exception=ExceptionInfo.from_payload(get_object(d, "exception", where), at(where, "exception")),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire event."""
        return _track_event_payload(
            "TrackExceptionEvent", self.guild_id, self.track, exception=self.exception.to_payload()
        )


@attrs.frozen(kw_only=True, weakref_slot=False)
class TrackStuckMessage:
    """``TrackStuckEvent``: a track provided no audio for `threshold_ms` (it may still recover)."""

    guild_id: int
    """The player's guild."""
    track: Track
    """The stuck track."""
    threshold_ms: int
    """The node's stuck threshold, in milliseconds."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the event."""
        d, guild_id = _event_head(data, where)
        return cls(
            guild_id=guild_id,
            track=_event_track(d, where),
            threshold_ms=get_int(d, "thresholdMs", where),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire event."""
        return _track_event_payload("TrackStuckEvent", self.guild_id, self.track, thresholdMs=self.threshold_ms)


@attrs.frozen(kw_only=True, weakref_slot=False)
class WebSocketClosedMessage:
    """``WebSocketClosedEvent``: the node's connection to the Discord voice gateway closed."""

    guild_id: int
    """The player's guild."""
    code: int
    """The close code (Discord's 4xxx codes; 1000 for a local close)."""
    reason: str
    """The close reason, ``""`` when none."""
    by_remote: bool
    """Whether Discord closed it."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the event."""
        d, guild_id = _event_head(data, where)
        return cls(
            guild_id=guild_id,
            code=get_int(d, "code", where),
            reason=get_str(d, "reason", where),
            by_remote=get_bool(d, "byRemote", where),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire event."""
        return {
            "op": "event",
            "type": "WebSocketClosedEvent",
            "guildId": str(self.guild_id),
            "code": self.code,
            "reason": self.reason,
            "byRemote": self.by_remote,
        }


EventMessage: typing.TypeAlias = (
    TrackStartMessage | TrackEndMessage | TrackExceptionMessage | TrackStuckMessage | WebSocketClosedMessage
)
"""The five ``op: event`` messages of a guild's player."""

EVENT_PARSERS: typing.Final[typing.Mapping[str, typing.Callable[[typing.Any], EventMessage]]] = {
    "TrackStartEvent": TrackStartMessage.from_payload,
    "TrackEndEvent": TrackEndMessage.from_payload,
    "TrackExceptionEvent": TrackExceptionMessage.from_payload,
    "TrackStuckEvent": TrackStuckMessage.from_payload,
    "WebSocketClosedEvent": WebSocketClosedMessage.from_payload,
}

# The fast path `parse_message` takes for the events that come once per song (see `track.new_track_info`).
_object_new = object.__new__
_TrackStartTwin = make_twin(TrackStartMessage)
_TrackEndTwin = make_twin(TrackEndMessage)


def fast_track_event(data: dict[str, typing.Any]) -> TrackStartMessage | TrackEndMessage | None:
    """The well-formed `TrackStartEvent`/`TrackEndEvent` (one per song), or ``None`` to parse it slowly."""
    guild_id = data.get("guildId")
    event_type = data.get("type")
    if type(guild_id) is not str or not (guild_id.isdigit() and guild_id.isascii() and len(guild_id) <= 20):
        return None
    track = fast_track(data.get("track"))
    if track is None:
        return None
    if event_type == "TrackEndEvent":
        reason = data.get("reason")
        if type(reason) is not str or reason not in _END_REASONS:
            return None
        end = _object_new(_TrackEndTwin)
        end.guild_id = int(guild_id)
        end.track = track
        end.reason = _END_REASONS[reason]
        end.__class__ = TrackEndMessage
        return end  # type: ignore[no-any-return]
    if event_type == "TrackStartEvent":
        start = _object_new(_TrackStartTwin)
        start.guild_id = int(guild_id)
        start.track = track
        start.__class__ = TrackStartMessage
        return start  # type: ignore[no-any-return]
    return None
