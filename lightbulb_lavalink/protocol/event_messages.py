"""The ``op: event`` messages of a guild's player (track start/end/exception/stuck, voice socket closed)."""

from __future__ import annotations

import enum
import typing

import attrs

from lightbulb_lavalink.protocol._parse import (
    at,
    get_guild_id,
    get_object,
    json_type,
    loose_bool,
    loose_int,
    loose_str,
    make_twin,
    require_object,
)
from lightbulb_lavalink.protocol.deviations import note
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
    UNKNOWN = "unknown"
    """A reason this library does not know (a newer server's, a plugin's): the raw value is in `raw_reason`."""

    @property
    def may_start_next(self) -> bool:
        """Whether the next track should start (finished, load failed), as Lavalink's own rule says.

        Never for an `UNKNOWN` reason: a queue does not move on an end it does not understand.
        """
        return self is TrackEndReason.FINISHED or self is TrackEndReason.LOAD_FAILED


_END_REASONS: typing.Final[typing.Mapping[str, TrackEndReason]] = {
    r.value: r for r in TrackEndReason if r is not TrackEndReason.UNKNOWN
}


def _raw_reason(message: TrackEndMessage) -> str | None:
    return message.reason.value


def _end_reason(d: dict[str, typing.Any], where: str) -> tuple[TrackEndReason, str | None]:
    value = d.get("reason")
    if type(value) is str:
        reason = _END_REASONS.get(value)
        if reason is not None:
            return reason, value
        note(at(where, "reason"), f"unknown track end reason {value[:40]!r}; passed on as unknown")
        return TrackEndReason.UNKNOWN, value
    note(at(where, "reason"), f"expected a string, got {json_type(value)}; read as unknown", malformed=True)
    return TrackEndReason.UNKNOWN, None


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
    """Why it ended; `TrackEndReason.UNKNOWN` for a reason this library does not know."""
    raw_reason: str | None = attrs.field(default=attrs.Factory(_raw_reason, takes_self=True))
    """The reason as the node sent it (``"finished"``, or a newer server's); ``None`` when it was not a string."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the event; an unknown or unreadable reason is carried as `TrackEndReason.UNKNOWN`."""
        d, guild_id = _event_head(data, where)
        track = _event_track(d, where)
        reason, raw = _end_reason(d, where)
        return cls(guild_id=guild_id, track=track, reason=reason, raw_reason=raw)

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire event (the reason as it was sent)."""
        reason = self.raw_reason if self.raw_reason is not None else self.reason.value
        return _track_event_payload("TrackEndEvent", self.guild_id, self.track, reason=reason)


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
        """Parse the event; an exception that cannot be read reads as unknown (``message``, ``cause`` ``None``)."""
        d, guild_id = _event_head(data, where)
        return cls(
            guild_id=guild_id,
            track=_event_track(d, where),
            exception=ExceptionInfo.from_payload(d.get("exception"), at(where, "exception")),
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
    threshold_ms: int | None
    """The node's stuck threshold, in milliseconds (``None``: not sent readably)."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the event."""
        d, guild_id = _event_head(data, where)
        return cls(
            guild_id=guild_id,
            track=_event_track(d, where),
            threshold_ms=loose_int(d, "thresholdMs", where),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire event."""
        return _track_event_payload("TrackStuckEvent", self.guild_id, self.track, thresholdMs=self.threshold_ms)


@attrs.frozen(kw_only=True, weakref_slot=False)
class WebSocketClosedMessage:
    """``WebSocketClosedEvent``: the node's connection to the Discord voice gateway closed."""

    guild_id: int
    """The player's guild."""
    code: int | None
    """The close code (Discord's 4xxx codes; 1000 for a local close); ``None`` when the node did not say."""
    reason: str | None
    """The close reason, ``""`` when none; ``None`` when the node did not say."""
    by_remote: bool | None
    """Whether Discord closed it; ``None`` when the node did not say."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the event: only the guild is needed, a missing or unreadable code, reason or side is unknown."""
        d, guild_id = _event_head(data, where)
        return cls(
            guild_id=guild_id,
            code=loose_int(d, "code", where),
            reason=loose_str(d, "reason", where),
            by_remote=loose_bool(d, "byRemote", where),
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
    track = fast_track(data.get("track"), lazy_info=True)
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
        end.raw_reason = reason
        end.__class__ = TrackEndMessage
        return end  # type: ignore[no-any-return]
    if event_type == "TrackStartEvent":
        start = _object_new(_TrackStartTwin)
        start.guild_id = int(guild_id)
        start.track = track
        start.__class__ = TrackStartMessage
        return start  # type: ignore[no-any-return]
    return None
