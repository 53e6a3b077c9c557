"""Players on the wire: the `PlayerInfo` Lavalink reports, its state and voice, and `PlayerUpdate`."""

from __future__ import annotations

import enum
import typing

import attrs

from lightbulb_lavalink.errors import ProtocolError
from lightbulb_lavalink.protocol._parse import (
    at,
    get_bool,
    get_guild_id,
    get_int,
    get_object,
    get_str,
    json_type,
    loose_bool,
    loose_int,
    loose_str,
    make_twin,
    opt_str,
    require_object,
    unreadable,
)
from lightbulb_lavalink.protocol.deviations import note
from lightbulb_lavalink.protocol.filters import Filters
from lightbulb_lavalink.protocol.track import fast_track
from lightbulb_lavalink.protocol.tracks import Track

__all__ = [
    "UNSET",
    "PlayerInfo",
    "PlayerList",
    "PlayerState",
    "PlayerUpdate",
    "TrackUpdate",
    "UnreadablePlayer",
    "UnsetType",
    "VoiceState",
]


class UnsetType(enum.Enum):
    """The type of `UNSET`: a field of a request that is left out of the payload."""

    UNSET = enum.auto()

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: typing.Final = UnsetType.UNSET
"""Marks a `PlayerUpdate` / `TrackUpdate` field as absent: it is not sent and Lavalink leaves it unchanged."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class PlayerState:
    """Where a player is, as of `time`: sent in every `playerUpdate` op and in the REST Player."""

    time: int | None
    """The node's clock (Unix epoch, milliseconds) when this state was taken; ``None``: not sent readably."""
    position: int
    """The track position in milliseconds (0 without a track)."""
    connected: bool
    """Whether Lavalink is connected to the Discord voice gateway."""
    ping: int | None
    """Voice gateway ping in milliseconds, -1 when not connected; ``None``: not sent readably."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "state") -> typing.Self:
        """Parse the wire PlayerState: the position and the connection are needed, a bad `time` or `ping` reads
        as ``None``."""
        if cls is PlayerState:
            state = fast_player_state(data)
            if state is not None:
                return typing.cast("typing.Self", state)
        d = require_object(data, where)
        return cls(
            time=loose_int(d, "time", where),
            position=get_int(d, "position", where),
            connected=get_bool(d, "connected", where),
            ping=loose_int(d, "ping", where),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire PlayerState."""
        return {"time": self.time, "position": self.position, "connected": self.connected, "ping": self.ping}


_PlayerStateTwin = make_twin(PlayerState)
_object_new = object.__new__


def fast_player_state(data: typing.Any) -> PlayerState | None:
    """Build a `PlayerState` from a well-formed wire state, or return ``None`` so the caller parses it slowly.

    Private to the protocol package: the websocket hot path (one `playerUpdate` per player every few seconds).
    """
    try:
        time = data["time"]
        position = data["position"]
        connected = data["connected"]
        ping = data["ping"]
    except (KeyError, TypeError, IndexError):
        return None
    if type(time) is not int or type(position) is not int or type(ping) is not int:
        return None
    if type(connected) is not bool:
        return None
    state = _object_new(_PlayerStateTwin)
    state.time = time
    state.position = position
    state.connected = connected
    state.ping = ping
    state.__class__ = PlayerState
    return state  # type: ignore[no-any-return]


@attrs.frozen(kw_only=True, weakref_slot=False)
class VoiceState:
    """The Discord voice connection data Lavalink needs to join a voice channel."""

    token: str
    """The voice server token (from ``VOICE_SERVER_UPDATE``); ``""`` in a Player that has no voice."""
    endpoint: str
    """The voice server, ``host:port`` as Discord sends it; ``""`` in a Player that has no voice."""
    session_id: str
    """The bot's voice session id (from ``VOICE_STATE_UPDATE``); ``""`` in a Player that has no voice."""
    channel_id: str | None = None
    """The voice channel id (required by Lavalink 4.2+, absent before); ``None`` when not known."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "voice") -> typing.Self:
        """Parse the wire VoiceState; a missing `channelId` (Lavalink < 4.2) reads as ``None``.

        Read liberally: a ``null`` or unreadable string reads as ``""`` (NodeLink sends ``null`` without voice),
        a numeric `channelId` as its decimal string.
        """
        d = data if type(data) is dict else {}
        if d is not data:
            unreadable(where, "an object", data)
        channel = d.get("channelId")
        if type(channel) is int:
            note(at(where, "channelId"), "sent as a number")
            channel = str(channel)
        elif channel is not None and type(channel) is not str:
            unreadable(at(where, "channelId"), "a string", channel)
            channel = None
        return cls(
            token=loose_str(d, "token", where, optional=True) or "",
            endpoint=loose_str(d, "endpoint", where, optional=True) or "",
            session_id=loose_str(d, "sessionId", where, optional=True) or "",
            channel_id=channel,
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire VoiceState (``channelId`` always written, ``null`` when unknown)."""
        return {
            "token": self.token,
            "endpoint": self.endpoint,
            "sessionId": self.session_id,
            "channelId": self.channel_id,
        }


@attrs.frozen(kw_only=True, weakref_slot=False)
class PlayerInfo:
    """A player as Lavalink reports it (REST Player): guild, track, volume, pause, state, voice, filters."""

    guild_id: int
    """The guild the player belongs to."""
    track: Track | None
    """The loaded track (re-encoded by the server, with its current position), ``None`` when idle."""
    volume: int | None
    """The player volume, 0 to 1000 (100 is unchanged); ``None``: not sent readably."""
    paused: bool | None
    """Whether the player is paused; ``None``: not sent readably."""
    state: PlayerState | None
    """Position and connection state; ``None``: not sent readably."""
    voice: VoiceState
    """The voice data the player was given (empty strings when none, or not sent readably)."""
    filters: Filters
    """The filters in effect (those that could be read)."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the wire Player.

        The guild and the track (``null`` when idle) are needed; any other field that is missing or cannot be
        read costs only that field (noted), so a player reported by NodeLink or a newer server is still known.
        """
        if cls is PlayerInfo:
            info = _usual_player(data)
            if info is not None:
                return typing.cast("typing.Self", info)
        d = require_object(data, where)
        if "track" not in d:
            raise ProtocolError(at(where, "track"), "missing")
        track = d["track"]
        state: PlayerState | None = None
        state_data = d.get("state")
        try:
            state = PlayerState.from_payload(state_data, at(where, "state"))
        except ProtocolError as exc:
            note(exc.where, f"{exc.problem}; the player's state read as unknown", malformed=state_data is not None)
        voice = d.get("voice")
        if voice is None:
            note(at(where, "voice"), "missing; read as no voice")
        filters = d.get("filters")
        if filters is None:
            note(at(where, "filters"), "missing; read as none")
        return cls(
            guild_id=get_guild_id(d, "guildId", where),
            track=None if track is None else Track.from_payload(track, at(where, "track")),
            volume=loose_int(d, "volume", where),
            paused=loose_bool(d, "paused", where),
            state=state,
            voice=_NO_VOICE if voice is None else VoiceState.from_payload(voice, at(where, "voice")),
            filters=_NO_FILTERS if filters is None else Filters.from_payload(filters, at(where, "filters")),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Player."""
        return {
            "guildId": str(self.guild_id),
            "track": None if self.track is None else self.track.to_payload(),
            "volume": self.volume,
            "paused": self.paused,
            "state": None if self.state is None else self.state.to_payload(),
            "voice": self.voice.to_payload(),
            "filters": self.filters.to_payload(),
        }


@attrs.frozen(kw_only=True, weakref_slot=False)
class UnreadablePlayer:
    """One entry of a session's player list that could not be read (what a newer server or a plugin may send)."""

    index: int
    """Its position in the list."""
    guild_id: int | None
    """Its guild, when at least the ``guildId`` could be read; else `None`."""
    reason: str
    """What is wrong with it, with the dotted path of the field (``track.encoded: expected a string, ...``)."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class PlayerList:
    """A session's players (``GET /v4/sessions/{id}/players``): those that could be read, and those that could not.

    One unreadable entry costs that player only: the caller treats its guild as unknown (a resumed sync recovers
    it from its snapshot) and keeps every other.
    """

    players: tuple[PlayerInfo, ...]
    """The players that could be read, in the server's order."""
    unreadable: tuple[UnreadablePlayer, ...] = ()
    """The entries that could not."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the player array; raises `ProtocolError` only when the answer is not an array at all."""
        if not isinstance(data, list):
            raise ProtocolError(where, f"expected a JSON array of players, got {json_type(data)}")
        players: list[PlayerInfo] = []
        skipped: list[UnreadablePlayer] = []
        for index, item in enumerate(data):
            try:
                players.append(PlayerInfo.from_payload(item))
            except ProtocolError as exc:
                guild_id: int | None = None
                if isinstance(item, dict):
                    try:
                        guild_id = get_guild_id(item, "guildId", "")
                    except ProtocolError:
                        guild_id = None
                reason = f"{exc.where}: {exc.problem}" if exc.where else exc.problem
                skipped.append(UnreadablePlayer(index=index, guild_id=guild_id, reason=reason))
        return cls(players=tuple(players), unreadable=tuple(skipped))

    @property
    def unreadable_guilds(self) -> frozenset[int]:
        """The guilds of the unreadable entries whose guild could be read."""
        return frozenset(u.guild_id for u in self.unreadable if u.guild_id is not None)


_NO_VOICE: typing.Final = VoiceState(token="", endpoint="", session_id="")


def _requested_voice(data: typing.Any, where: str) -> VoiceState:
    """A request's `voice`, read strictly, as a server does (a partial voice state is refused)."""
    d = require_object(data, where)
    return VoiceState(
        token=get_str(d, "token", where),
        endpoint=get_str(d, "endpoint", where),
        session_id=get_str(d, "sessionId", where),
        channel_id=opt_str(d, "channelId", where),
    )
_NO_FILTERS: typing.Final = Filters()


def _check_track_update(instance: TrackUpdate, _attribute: object, _value: object) -> None:
    if instance.encoded is not UNSET and instance.identifier is not UNSET:
        raise ValueError("a TrackUpdate takes an encoded track or an identifier, not both")


@attrs.frozen(kw_only=True, weakref_slot=False)
class TrackUpdate:
    """The `track` of a `PlayerUpdate`: what to play (a blob or an identifier to load) and its user data.

    ``TrackUpdate(encoded=None)`` stops the player; ``TrackUpdate(user_data={...})`` alone only changes the
    current track's user data.
    """

    encoded: str | UnsetType | None = attrs.field(default=UNSET, validator=_check_track_update)
    """The base64 track to play, ``None`` to stop, `UNSET` to leave the track alone."""
    identifier: str | UnsetType = UNSET
    """An identifier Lavalink loads and plays (must resolve to one track); exclusive with `encoded`."""
    user_data: typing.Mapping[str, typing.Any] | UnsetType = attrs.field(default=UNSET, hash=False)
    """User data to attach to the track (JSON-safe), `UNSET` to keep it."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "track") -> typing.Self:
        """Parse a request's `track` object (as a Lavalink server, or the emulator, reads it)."""
        d = require_object(data, where)
        encoded: str | UnsetType | None = UNSET
        if "encoded" in d:
            encoded = opt_str(d, "encoded", where)
        identifier: str | UnsetType = get_str(d, "identifier", where) if "identifier" in d else UNSET
        if encoded is not UNSET and identifier is not UNSET:
            raise ProtocolError(where, "both encoded and identifier given")
        user_data: dict[str, typing.Any] | UnsetType = UNSET
        if "userData" in d:
            user_data = get_object(d, "userData", where)
        return cls(encoded=encoded, identifier=identifier, user_data=user_data)

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire object, with only the fields that are set."""
        payload: dict[str, typing.Any] = {}
        if self.encoded is not UNSET:
            payload["encoded"] = self.encoded
        if self.identifier is not UNSET:
            payload["identifier"] = self.identifier
        if self.user_data is not UNSET:
            payload["userData"] = dict(self.user_data)
        return payload


@attrs.frozen(kw_only=True, weakref_slot=False)
class PlayerUpdate:
    """The body of ``PATCH /v4/sessions/{id}/players/{guild}``: every field is optional (`UNSET`).

    ``PlayerUpdate(paused=True)`` pauses; ``PlayerUpdate(track=TrackUpdate(encoded=blob), position=5000)``
    starts a track at 5 s.
    """

    track: TrackUpdate | UnsetType = UNSET
    """The track to play or stop, or user data for the current track."""
    position: int | UnsetType = UNSET
    """Seek to (or, with a new track, start at) this position in milliseconds."""
    end_time: int | UnsetType | None = UNSET
    """Stop the track at this position in milliseconds (> 0); ``None`` is sent as ``null``."""
    volume: int | UnsetType = UNSET
    """The player volume, 0 to 1000."""
    paused: bool | UnsetType = UNSET
    """Pause or resume."""
    filters: Filters | UnsetType = UNSET
    """Replace every filter with these."""
    voice: VoiceState | UnsetType = UNSET
    """Connect to (or move to) this voice server."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse a PATCH body as Lavalink reads it (deprecated top-level `encodedTrack`/`identifier` too)."""
        d = require_object(data, where)
        track: TrackUpdate | UnsetType = UNSET
        if "track" in d:
            if "encodedTrack" in d or "identifier" in d:
                raise ProtocolError(at(where, "track"), "both track and encodedTrack/identifier given")
            track = TrackUpdate.from_payload(d["track"], at(where, "track"))
        elif "encodedTrack" in d or "identifier" in d:
            if "encodedTrack" in d and "identifier" in d:
                raise ProtocolError(where, "both encodedTrack and identifier given")
            if "encodedTrack" in d:
                track = TrackUpdate(encoded=opt_str(d, "encodedTrack", where))
            else:
                track = TrackUpdate(identifier=get_str(d, "identifier", where))
        end_time: int | UnsetType | None = UNSET
        if "endTime" in d:
            end_time = None if d["endTime"] is None else get_int(d, "endTime", where)
        return cls(
            track=track,
            position=get_int(d, "position", where) if "position" in d else UNSET,
            end_time=end_time,
            volume=get_int(d, "volume", where) if "volume" in d else UNSET,
            paused=get_bool(d, "paused", where) if "paused" in d else UNSET,
            filters=Filters.from_payload(d["filters"], at(where, "filters")) if "filters" in d else UNSET,
            voice=_requested_voice(d["voice"], at(where, "voice")) if "voice" in d else UNSET,
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire body, with only the fields that are set."""
        payload: dict[str, typing.Any] = {}
        if self.track is not UNSET:
            payload["track"] = self.track.to_payload()
        if self.position is not UNSET:
            payload["position"] = self.position
        if self.end_time is not UNSET:
            payload["endTime"] = self.end_time
        if self.volume is not UNSET:
            payload["volume"] = self.volume
        if self.paused is not UNSET:
            payload["paused"] = self.paused
        if self.filters is not UNSET:
            payload["filters"] = self.filters.to_payload()
        if self.voice is not UNSET:
            payload["voice"] = self.voice.to_payload()
        return payload


_USUAL_PLAYER_KEYS: typing.Final = frozenset({"guildId", "track", "volume", "paused", "state", "voice", "filters"})
_PlayerInfoTwin = make_twin(PlayerInfo)
_VoiceStateTwin = make_twin(VoiceState)


def _usual_player(data: typing.Any) -> PlayerInfo | None:
    """`PlayerInfo.from_payload` of the usual Player (what Lavalink sends: every field of its type, no filter set),
    checked inline and built without the frozen classes' ``__init__``: a resumed session's list holds one per guild.
    Its track keeps the `info` the node sent instead of decoding the blob to see whether it may keep only the blob
    (`compact_track`): the same `info` either way, one per player. ``None`` for anything else, which the liberal path
    reads (noting what it had to make do with)."""
    if type(data) is not dict or not _USUAL_PLAYER_KEYS.issuperset(data) or len(data) != len(_USUAL_PLAYER_KEYS):
        return None
    guild_id, track_data, volume, paused = data["guildId"], data["track"], data["volume"], data["paused"]
    voice, filters = data["voice"], data["filters"]
    if not (
        type(guild_id) is str
        and guild_id.isascii()
        and guild_id.isdigit()
        and len(guild_id) <= 20
        and type(volume) is int
        and type(paused) is bool
        and type(voice) is dict
        and len(voice) == 4
        and filters == {}
    ):
        return None
    token, endpoint, session_id, channel = voice.get("token"), voice.get("endpoint"), voice.get("sessionId"), voice.get(
        "channelId", _ABSENT
    )
    if type(token) is not str or type(endpoint) is not str or type(session_id) is not str:
        return None
    if channel is not None and type(channel) is not str:
        return None
    state = fast_player_state(data["state"])
    track = None if track_data is None else fast_track(track_data)
    if state is None or (track is None and track_data is not None):
        return None
    voice_state = _object_new(_VoiceStateTwin)
    voice_state.token = token
    voice_state.endpoint = endpoint
    voice_state.session_id = session_id
    voice_state.channel_id = channel
    voice_state.__class__ = VoiceState
    info = _object_new(_PlayerInfoTwin)
    info.guild_id = int(guild_id)
    info.track = track
    info.volume = volume
    info.paused = paused
    info.state = state
    info.voice = voice_state
    info.filters = _NO_FILTERS
    info.__class__ = PlayerInfo
    return info  # type: ignore[no-any-return]


_ABSENT: typing.Final[typing.Any] = object()
