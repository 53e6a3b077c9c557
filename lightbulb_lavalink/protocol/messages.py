"""Websocket messages from a Lavalink node (`ready`, `playerUpdate`, `stats`, `event`) and `parse_message`."""

from __future__ import annotations

import enum
import json
import json.decoder
import json.scanner
import typing

import attrs

from lightbulb_lavalink.errors import ProtocolError
from lightbulb_lavalink.protocol._parse import (
    at,
    fail,
    get_bool,
    get_guild_id,
    get_int,
    get_object,
    get_str,
    json_type,
    make_twin,
    require_object,
)
from lightbulb_lavalink.protocol.loading import ExceptionInfo
from lightbulb_lavalink.protocol.player import PlayerState
from lightbulb_lavalink.protocol.stats import Stats, fast_stats
from lightbulb_lavalink.protocol.track import Track, fast_track

__all__ = [
    "EventMessage",
    "Message",
    "PlayerUpdateMessage",
    "ReadyMessage",
    "StatsMessage",
    "TrackEndMessage",
    "TrackEndReason",
    "TrackExceptionMessage",
    "TrackStartMessage",
    "TrackStuckMessage",
    "UnknownMessage",
    "WebSocketClosedMessage",
    "message_from_payload",
    "parse_message",
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


@attrs.frozen(kw_only=True, weakref_slot=False)
class ReadyMessage:
    """``op: ready``: the session is established (first message of every connection)."""

    resumed: bool
    """Whether an earlier session was resumed (its players kept)."""
    session_id: str
    """The session id: use it for REST calls and to resume after a disconnect."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the op."""
        d = require_object(data, where)
        return cls(resumed=get_bool(d, "resumed", where), session_id=get_str(d, "sessionId", where))

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire op."""
        return {"op": "ready", "resumed": self.resumed, "sessionId": self.session_id}


@attrs.frozen(kw_only=True, weakref_slot=False)
class PlayerUpdateMessage:
    """``op: playerUpdate``: a player's position and connection, every few seconds while a track is loaded."""

    guild_id: int
    """The player's guild."""
    state: PlayerState
    """Its state."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the op."""
        d = require_object(data, where)
        return cls(
            guild_id=get_guild_id(d, "guildId", where),
            state=PlayerState.from_payload(get_object(d, "state", where), at(where, "state")),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire op."""
        return {"op": "playerUpdate", "state": self.state.to_payload(), "guildId": str(self.guild_id)}


@attrs.frozen(kw_only=True, weakref_slot=False)
class StatsMessage:
    """``op: stats``: node statistics, every minute."""

    stats: Stats
    """The statistics."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the op."""
        return cls(stats=Stats.from_payload(data, where))

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire op (``frameStats`` always present)."""
        return {"op": "stats", **self.stats.to_payload()}


def _event_head(data: typing.Any, where: str) -> tuple[dict[str, typing.Any], int]:
    d = require_object(data, where)
    return d, get_guild_id(d, "guildId", where)


def _event_track(d: dict[str, typing.Any], where: str) -> Track:
    return Track.from_payload(get_object(d, "track", where), at(where, "track"))


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
        return {
            "op": "event",
            "type": "TrackStartEvent",
            "guildId": str(self.guild_id),
            "track": self.track.to_payload(),
        }


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
        reason = get_str(d, "reason", where)
        try:
            parsed_reason = _END_REASONS[reason]
        except KeyError:
            raise ProtocolError(at(where, "reason"), f"unknown track end reason {reason[:40]!r}") from None
        return cls(guild_id=guild_id, track=track, reason=parsed_reason)

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire event."""
        return {
            "op": "event",
            "type": "TrackEndEvent",
            "guildId": str(self.guild_id),
            "track": self.track.to_payload(),
            "reason": self.reason.value,
        }


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
        return {
            "op": "event",
            "type": "TrackExceptionEvent",
            "guildId": str(self.guild_id),
            "track": self.track.to_payload(),
            "exception": self.exception.to_payload(),
        }


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
        return {
            "op": "event",
            "type": "TrackStuckEvent",
            "guildId": str(self.guild_id),
            "track": self.track.to_payload(),
            "thresholdMs": self.threshold_ms,
        }


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


@attrs.frozen(kw_only=True, weakref_slot=False)
class UnknownMessage:
    """A message this library does not know (a newer op or event type, or a plugin's): kept as raw JSON."""

    op: str
    """The message's `op`."""
    type: str | None = None
    """The event `type` for an unknown event, else ``None``."""
    data: dict[str, typing.Any] = attrs.field(factory=dict, hash=False)
    """The whole message, as decoded JSON."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Keep any message that has a string `op` (and, for events, a string `type`)."""
        d = require_object(data, where)
        op = get_str(d, "op", where)
        event_type = d.get("type")
        if op == "event" and type(event_type) is not str:
            fail(at(where, "type"), "a string", event_type)
        return cls(op=op, type=event_type if op == "event" else None, data=d)

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the message as received."""
        return dict(self.data)


EventMessage: typing.TypeAlias = (
    TrackStartMessage | TrackEndMessage | TrackExceptionMessage | TrackStuckMessage | WebSocketClosedMessage
)
"""The five ``op: event`` messages of a guild's player."""

Message: typing.TypeAlias = ReadyMessage | PlayerUpdateMessage | StatsMessage | EventMessage | UnknownMessage
"""Any message a node sends over the websocket."""

_EVENTS: typing.Final[typing.Mapping[str, typing.Callable[[typing.Any], EventMessage]]] = {
    "TrackStartEvent": TrackStartMessage.from_payload,
    "TrackEndEvent": TrackEndMessage.from_payload,
    "TrackExceptionEvent": TrackExceptionMessage.from_payload,
    "TrackStuckEvent": TrackStuckMessage.from_payload,
    "WebSocketClosedEvent": WebSocketClosedMessage.from_payload,
}


def message_from_payload(data: typing.Any) -> Message:
    """Build the message of an already decoded websocket payload; unknown ops/events give `UnknownMessage`.

    Raises `ProtocolError` (naming the path) for a malformed known message.
    """
    d = require_object(data, "")
    op = d.get("op")
    if type(op) is not str:
        raise ProtocolError("op", "missing" if op is None else f"expected a string, got {json_type(op)}")
    if op == "playerUpdate":
        return PlayerUpdateMessage.from_payload(d)
    if op == "event":
        event_type = d.get("type")
        if type(event_type) is not str:
            fail("type", "a string", event_type)
        parse = _EVENTS.get(event_type)
        if parse is None:
            return UnknownMessage(op=op, type=event_type, data=d)
        return parse(d)
    if op == "stats":
        return StatsMessage.from_payload(d)
    if op == "ready":
        return ReadyMessage.from_payload(d)
    return UnknownMessage(op=op, data=d)


_loads = json.loads
# The C scanner behind json.loads, called directly: json.loads adds ~0.7 µs of Python-level wrapping per
# call, a third of the cost of a playerUpdate. Its key memo is cleared by the scanner after every call.
_scan_json: typing.Callable[[typing.Any, int], tuple[typing.Any, int]] = json.scanner.make_scanner(
    json.decoder.JSONDecoder()  # type: ignore[arg-type]  # typeshed types the class, not the factory
)
_object_new = object.__new__
_PlayerStateTwin = make_twin(PlayerState)
_PlayerUpdateTwin = make_twin(PlayerUpdateMessage)
_StatsMessageTwin = make_twin(StatsMessage)
_TrackStartTwin = make_twin(TrackStartMessage)
_TrackEndTwin = make_twin(TrackEndMessage)


def _fast_track_event(data: dict[str, typing.Any]) -> TrackStartMessage | TrackEndMessage | None:
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


def parse_message(raw: str | bytes) -> Message:
    """Parse one websocket text frame into its message; raises `ProtocolError` for anything malformed.

    Unknown ops and event types are not errors: they give an `UnknownMessage`.
    """
    try:
        try:
            data, end = _scan_json(raw, 0)
            if end != len(raw):  # trailing whitespace or data: json.loads decides
                data = _loads(raw)
        except (StopIteration, TypeError):  # leading whitespace, not JSON, bytes: json.loads decides
            data = _loads(raw)
    except (ValueError, TypeError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise ProtocolError("", f"invalid JSON: {exc}") from None
    # Fast paths, checked without building error paths: `playerUpdate` (one per playing guild every few
    # seconds) inline, track start/end events and stats. Objects are built as slot-identical twins and then
    # given their class (see `track.new_track_info`). Anything unusual falls through to
    # `message_from_payload`, which says exactly what is wrong.
    if type(data) is dict:
        op = data.get("op")
        if op == "playerUpdate":
            try:
                guild_id = data["guildId"]
                state = data["state"]
                time = state["time"]
                position = state["position"]
                connected = state["connected"]
                ping = state["ping"]
            except (KeyError, TypeError, IndexError):
                pass
            else:
                if (
                    type(time) is int
                    and type(position) is int
                    and type(ping) is int
                    and type(connected) is bool
                    and type(guild_id) is str
                    and guild_id.isdigit()
                    and guild_id.isascii()
                    and len(guild_id) <= 20
                ):
                    player_state = _object_new(_PlayerStateTwin)
                    player_state.time = time
                    player_state.position = position
                    player_state.connected = connected
                    player_state.ping = ping
                    player_state.__class__ = PlayerState
                    message = _object_new(_PlayerUpdateTwin)
                    message.guild_id = int(guild_id)
                    message.state = player_state
                    message.__class__ = PlayerUpdateMessage
                    return message  # type: ignore[no-any-return]
        elif op == "event":
            event = _fast_track_event(data)
            if event is not None:
                return event
        elif op == "stats":
            stats = fast_stats(data)
            if stats is not None:
                stats_message = _object_new(_StatsMessageTwin)
                stats_message.stats = stats
                stats_message.__class__ = StatsMessage
                return stats_message  # type: ignore[no-any-return]
    return message_from_payload(data)
