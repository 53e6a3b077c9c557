"""What `GET /v4/loadtracks` answers: `LoadResult`, `Playlist`, and the `ExceptionInfo` of a failure."""

from __future__ import annotations

import enum
import typing

import attrs

from lightbulb_lavalink.errors import ProtocolError
from lightbulb_lavalink.protocol._parse import (
    at,
    fail,
    get_choice,
    get_int,
    get_object,
    get_str,
    opt_object,
    opt_str,
    require_object,
)
from lightbulb_lavalink.protocol.track import Track

__all__ = ["ExceptionInfo", "LoadResult", "LoadType", "Playlist", "PlaylistInfo", "Severity"]


def _parse_tracks(data: typing.Any, where: str) -> list[Track]:
    if type(data) is not list:
        fail(where, "an array", data)
    parse = Track.from_payload
    return [parse(item, f"{where}[{i}]") for i, item in enumerate(data)]


@attrs.frozen(kw_only=True, weakref_slot=False)
class PlaylistInfo:
    """A playlist's name and the track its URL pointed at."""

    name: str
    """The playlist's name."""
    selected_track: int = -1
    """Index of the selected track in the playlist, ``-1`` when none."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "info") -> typing.Self:
        """Parse the wire PlaylistInfo."""
        d = require_object(data, where)
        return cls(name=get_str(d, "name", where), selected_track=get_int(d, "selectedTrack", where))

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire PlaylistInfo."""
        return {"name": self.name, "selectedTrack": self.selected_track}


@attrs.frozen(kw_only=True, weakref_slot=False)
class Playlist:
    """A loaded playlist: its info, plugin data and tracks."""

    info: PlaylistInfo
    """Name and selected track."""
    plugin_info: typing.Mapping[str, typing.Any] = attrs.field(factory=dict, hash=False)
    """Extra information a Lavalink plugin attached (raw JSON)."""
    tracks: list[Track] = attrs.field(factory=list, hash=False)
    """The playlist's tracks, in order."""

    @property
    def selected(self) -> Track | None:
        """The selected track, if the playlist has one."""
        index = self.info.selected_track
        return self.tracks[index] if 0 <= index < len(self.tracks) else None

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "data") -> typing.Self:
        """Parse the wire Playlist; a missing `pluginInfo` reads as empty."""
        d = require_object(data, where)
        if "tracks" not in d:
            raise ProtocolError(at(where, "tracks"), "missing")
        return cls(
            info=PlaylistInfo.from_payload(get_object(d, "info", where), at(where, "info")),
            plugin_info=opt_object(d, "pluginInfo", where) or {},
            tracks=_parse_tracks(d["tracks"], at(where, "tracks")),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Playlist."""
        return {
            "info": self.info.to_payload(),
            "pluginInfo": dict(self.plugin_info),
            "tracks": [t.to_payload() for t in self.tracks],
        }


class Severity(enum.StrEnum):
    """How bad a loading or playback failure is, as lavaplayer classifies it."""

    COMMON = "common"
    """The cause is known and expected (the video is unavailable, ...)."""
    SUSPICIOUS = "suspicious"
    """The cause is unknown but probably not a Lavalink bug."""
    FAULT = "fault"
    """Probably a bug or a change on the source's side."""


_SEVERITIES: typing.Final[typing.Mapping[str, Severity]] = {s.value: s for s in Severity}


@attrs.frozen(kw_only=True, weakref_slot=False)
class ExceptionInfo:
    """A failure Lavalink reports: a load error or a `TrackExceptionEvent`'s `exception`."""

    message: str | None
    """The human-readable message, ``None`` when the server has none."""
    severity: Severity
    """How bad it is."""
    cause: str
    """The underlying cause (``"java.io.IOException: ..."``)."""
    cause_stack_trace: str | None = None
    """The cause's stack trace text; ``None`` before Lavalink 4.1."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "exception") -> typing.Self:
        """Parse the wire Exception; a missing `causeStackTrace` (Lavalink 4.0) reads as ``None``."""
        d = require_object(data, where)
        severity = get_choice(d, "severity", where, _SEVERITIES, "severity")
        if "message" not in d:
            raise ProtocolError(at(where, "message"), "missing")
        return cls(
            message=opt_str(d, "message", where),
            severity=severity,
            cause=get_str(d, "cause", where),
            cause_stack_trace=opt_str(d, "causeStackTrace", where),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Exception (`causeStackTrace` only when known)."""
        payload: dict[str, typing.Any] = {
            "message": self.message,
            "severity": self.severity.value,
            "cause": self.cause,
        }
        if self.cause_stack_trace is not None:
            payload["causeStackTrace"] = self.cause_stack_trace
        return payload


class LoadType(enum.StrEnum):
    """What `GET /v4/loadtracks` found."""

    TRACK = "track"
    """One track (a direct link)."""
    PLAYLIST = "playlist"
    """A playlist."""
    SEARCH = "search"
    """Search results (possibly none)."""
    EMPTY = "empty"
    """Nothing matched."""
    ERROR = "error"
    """Loading failed."""


_LOAD_TYPES: typing.Final[typing.Mapping[str, LoadType]] = {t.value: t for t in LoadType}


@attrs.frozen(kw_only=True, weakref_slot=False)
class LoadResult:
    """The answer of `GET /v4/loadtracks`: a load type and the matching data."""

    load_type: LoadType
    """What was found."""
    data: Track | Playlist | list[Track] | ExceptionInfo | None = attrs.field(default=None, hash=False)
    """`Track` (track), `Playlist` (playlist), `list[Track]` (search), `ExceptionInfo` (error) or None."""

    @property
    def tracks(self) -> list[Track]:
        """Every track found, whatever the load type (empty for empty and error results)."""
        data = self.data
        if isinstance(data, Track):
            return [data]
        if isinstance(data, Playlist):
            return list(data.tracks)
        if isinstance(data, list):
            return list(data)
        return []

    @property
    def playlist(self) -> Playlist | None:
        """The playlist, for a playlist result."""
        return self.data if isinstance(self.data, Playlist) else None

    @property
    def error(self) -> ExceptionInfo | None:
        """What went wrong, for an error result."""
        return self.data if isinstance(self.data, ExceptionInfo) else None

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse a wire LoadResult; `empty` accepts ``"data": null``, ``{}`` or no `data` at all."""
        d = require_object(data, where)
        load_type = get_choice(d, "loadType", where, _LOAD_TYPES, "load type")
        body = d.get("data")
        data_where = at(where, "data")
        if load_type is LoadType.EMPTY:
            if body is not None and body != {}:
                fail(data_where, "null or {}", body)
            return cls(load_type=load_type, data=None)
        if "data" not in d:
            raise ProtocolError(data_where, "missing")
        parsed: Track | Playlist | list[Track] | ExceptionInfo
        if load_type is LoadType.TRACK:
            parsed = Track.from_payload(body, data_where)
        elif load_type is LoadType.PLAYLIST:
            parsed = Playlist.from_payload(body, data_where)
        elif load_type is LoadType.SEARCH:
            parsed = _parse_tracks(body, data_where)
        else:
            parsed = ExceptionInfo.from_payload(body, data_where)
        return cls(load_type=load_type, data=parsed)

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire LoadResult (``"data": null`` for empty)."""
        data = self.data
        body: typing.Any
        if data is None:
            body = None
        elif isinstance(data, list):
            body = [t.to_payload() for t in data]
        else:
            body = data.to_payload()
        return {"loadType": self.load_type.value, "data": body}
