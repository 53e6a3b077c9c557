"""What `GET /v4/loadtracks` answers: `LoadResult`, `Playlist`, and the `ExceptionInfo` of a failure."""

from __future__ import annotations

import enum
import typing

import attrs

from lightbulb_lavalink.errors import ProtocolError
from lightbulb_lavalink.protocol._parse import (
    at,
    fail,
    get_str,
    json_type,
    loose_int,
    loose_object,
    loose_str,
    require_object,
    unreadable,
)
from lightbulb_lavalink.protocol.deviations import note
from lightbulb_lavalink.protocol.track import Track

__all__ = ["ExceptionInfo", "LoadResult", "LoadType", "Playlist", "PlaylistInfo", "Severity"]


def _parse_tracks(data: typing.Any, where: str) -> list[Track]:
    """The tracks of a playlist or a search; one that cannot be read is left out (noted), not the others."""
    if type(data) is not list:
        fail(where, "an array", data)
    parse = Track.from_payload
    tracks = []
    for i, item in enumerate(data):
        try:
            tracks.append(parse(item, f"{where}[{i}]"))
        except ProtocolError as exc:
            note(exc.where, f"{exc.problem}; track left out", malformed=True)
    return tracks


@attrs.frozen(kw_only=True, weakref_slot=False)
class PlaylistInfo:
    """A playlist's name and the track its URL pointed at."""

    name: str | None
    """The playlist's name (``None``: not sent readably)."""
    selected_track: int = -1
    """Index of the selected track in the playlist, ``-1`` when none (or not sent readably)."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "info") -> typing.Self:
        """Parse the wire PlaylistInfo; a field that is missing or of the wrong type reads as unknown."""
        d = data if type(data) is dict else {}
        selected = loose_int(d, "selectedTrack", where)
        return cls(name=loose_str(d, "name", where), selected_track=-1 if selected is None else selected)

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
            info=PlaylistInfo.from_payload(loose_object(d, "info", where), at(where, "info")),
            plugin_info=loose_object(d, "pluginInfo", where, optional=True) or {},
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
    UNKNOWN = "unknown"
    """A severity this library does not know, or none was sent: the raw value is in `ExceptionInfo.raw_severity`."""


_SEVERITIES: typing.Final[typing.Mapping[str, Severity]] = {s.value: s for s in Severity if s is not Severity.UNKNOWN}


def _raw_severity(info: ExceptionInfo) -> str | None:
    return info.severity.value


@attrs.frozen(kw_only=True, weakref_slot=False)
class ExceptionInfo:
    """A failure Lavalink reports: a load error or a `TrackExceptionEvent`'s `exception`."""

    message: str | None
    """The human-readable message, ``None`` when the server has none."""
    severity: Severity
    """How bad it is; `Severity.UNKNOWN` for a severity this library does not know."""
    cause: str | None
    """The underlying cause (``"java.io.IOException: ..."``); ``None`` when the server did not say (NodeLink's
    load errors)."""
    cause_stack_trace: str | None = None
    """The cause's stack trace text; ``None`` before Lavalink 4.1 (and on NodeLink)."""
    raw_severity: str | None = attrs.field(default=attrs.Factory(_raw_severity, takes_self=True))
    """The severity as the node sent it; ``None`` when it sent none or not a string."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "exception") -> typing.Self:
        """Parse the wire Exception. Nothing in it is needed to act (the track failed either way): a field that is
        missing or of the wrong type reads as ``None``, an unknown severity as `Severity.UNKNOWN` (noted)."""
        d = data if type(data) is dict else {}
        if d is not data:
            unreadable(where, "an object", data)
        raw = d.get("severity")
        severity = _SEVERITIES.get(raw) if type(raw) is str else None
        if severity is None:
            if type(raw) is str:
                note(at(where, "severity"), f"unknown severity {raw[:40]!r}; passed on as unknown")
            elif d is data:
                unreadable(at(where, "severity"), "a string", raw)
            raw = raw if type(raw) is str else None
        return cls(
            message=loose_str(d, "message", where, optional=True),
            severity=Severity.UNKNOWN if severity is None else severity,
            raw_severity=raw,
            cause=loose_str(d, "cause", where),
            cause_stack_trace=loose_str(d, "causeStackTrace", where, optional=True),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Exception (`causeStackTrace` only when known; the severity as it was sent)."""
        payload: dict[str, typing.Any] = {
            "message": self.message,
            "severity": self.raw_severity if self.raw_severity is not None else self.severity.value,
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
    UNKNOWN = "unknown"
    """A load type this library does not know (a newer server's, a plugin's): see `LoadResult.raw_load_type`."""


_LOAD_TYPES: typing.Final[typing.Mapping[str, LoadType]] = {t.value: t for t in LoadType if t is not LoadType.UNKNOWN}


def _raw_load_type(result: LoadResult) -> str:
    return result.load_type.value


@attrs.frozen(kw_only=True, weakref_slot=False)
class LoadResult:
    """The answer of `GET /v4/loadtracks`: a load type and the matching data."""

    load_type: LoadType
    """What was found; `LoadType.UNKNOWN` for a load type this library does not know."""
    data: Track | Playlist | list[Track] | ExceptionInfo | None = attrs.field(default=None, hash=False)
    """`Track` (track), `Playlist` (playlist), `list[Track]` (search), `ExceptionInfo` (error) or None."""
    raw_load_type: str = attrs.field(default=attrs.Factory(_raw_load_type, takes_self=True))
    """The load type as the node sent it."""
    raw_data: typing.Any = attrs.field(default=None, hash=False, eq=False)
    """The `data` as sent, for an `UNKNOWN` load type (raw JSON); ``None`` otherwise."""

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
        """Parse a wire LoadResult; `empty` accepts ``"data": null``, ``{}`` or no `data` at all.

        Read liberally: an unknown load type is carried as `LoadType.UNKNOWN` with its raw data; NodeLink's
        error under ``exception`` (not ``data``) is read; anything in an `empty` result is ignored; a playlist
        or search track that cannot be read is left out. A `track`, `playlist` or `search` result without
        readable data is a `ProtocolError`: there is nothing to play.
        """
        d = require_object(data, where)
        raw_type = get_str(d, "loadType", where)
        load_type = _LOAD_TYPES.get(raw_type)
        body = d.get("data")
        data_where = at(where, "data")
        if load_type is None:
            note(at(where, "loadType"), f"unknown load type {raw_type[:40]!r}; passed on as unknown")
            return cls(load_type=LoadType.UNKNOWN, raw_load_type=raw_type, raw_data=body)
        if load_type is LoadType.EMPTY:
            if body is not None and body != {}:
                note(data_where, f"expected null or {{}}, got {json_type(body)}; ignored", malformed=True)
            return cls(load_type=load_type, data=None)
        if load_type is LoadType.ERROR:
            if body is None and type(d.get("exception")) is dict:
                note(data_where, "sent as exception (NodeLink)")
                body, data_where = d["exception"], at(where, "exception")
            return cls(load_type=load_type, data=ExceptionInfo.from_payload(body, data_where))
        if "data" not in d:
            raise ProtocolError(data_where, "missing")
        parsed: Track | Playlist | list[Track]
        if load_type is LoadType.TRACK:
            parsed = Track.from_payload(body, data_where)
        elif load_type is LoadType.PLAYLIST:
            parsed = Playlist.from_payload(body, data_where)
        else:
            parsed = _parse_tracks(body, data_where)
        return cls(load_type=load_type, data=parsed)

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire LoadResult (``"data": null`` for empty; an unknown one as it was sent)."""
        data = self.data
        body: typing.Any
        if self.load_type is LoadType.UNKNOWN:
            return {"loadType": self.raw_load_type, "data": self.raw_data}
        if data is None:
            body = None
        elif isinstance(data, list):
            body = [t.to_payload() for t in data]
        else:
            body = data.to_payload()
        return {"loadType": self.load_type.value, "data": body}
