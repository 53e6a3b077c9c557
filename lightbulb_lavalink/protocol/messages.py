"""Websocket messages from a Lavalink node (`ready`, `playerUpdate`, `stats`, `event`) and `parse_message`."""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import typing

import attrs

from lightbulb_lavalink.errors import ProtocolError
from lightbulb_lavalink.protocol._parse import (
    at,
    get_bool,
    get_guild_id,
    get_object,
    get_str,
    json_type,
    make_twin,
    require_object,
)
from lightbulb_lavalink.protocol.deviations import note
from lightbulb_lavalink.protocol.event_messages import (
    EVENT_PARSERS,
    EventMessage,
    TrackEndMessage,
    TrackEndReason,
    TrackExceptionMessage,
    TrackStartMessage,
    TrackStuckMessage,
    WebSocketClosedMessage,
    fast_track_event,
)
from lightbulb_lavalink.protocol.player import PlayerState
from lightbulb_lavalink.protocol.stats import Stats, fast_stats

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
        """Keep any message that has a string `op` (an event's `type` is ``None`` unless it is a string)."""
        d = require_object(data, where)
        op = get_str(d, "op", where)
        event_type = d.get("type")
        return cls(op=op, type=event_type if op == "event" and type(event_type) is str else None, data=d)

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the message as received."""
        return dict(self.data)


Message: typing.TypeAlias = ReadyMessage | PlayerUpdateMessage | StatsMessage | EventMessage | UnknownMessage
"""Any message a node sends over the websocket."""


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
            problem = f"expected a string, got {json_type(event_type)}; passed on as an unknown event"
            note("type", problem, malformed=True)
            return UnknownMessage(op=op, type=None, data=d)
        parse = EVENT_PARSERS.get(event_type)
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
            event = fast_track_event(data)
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
