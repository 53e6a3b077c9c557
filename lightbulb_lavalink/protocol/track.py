"""A playable track: `TrackInfo`, `Track`, and the fast builders the codec and the event parser use."""

from __future__ import annotations

import sys
import typing

import attrs

from lightbulb_lavalink.errors import ProtocolError, TrackDecodeError
from lightbulb_lavalink.protocol._parse import (
    EMPTY_MAPPING,
    at,
    get_bool,
    get_int,
    get_str,
    loose_object,
    make_twin,
    opt_str,
    require_object,
    unreadable,
)
from lightbulb_lavalink.protocol.deviations import note
from lightbulb_lavalink.protocol.user_data import checked_user_data

__all__ = ["STREAM_LENGTH", "Track", "TrackInfo"]

STREAM_LENGTH: typing.Final[int] = 0x7FFF_FFFF_FFFF_FFFF
"""The `length` Lavalink reports for streams and tracks of unknown length (Java ``Long.MAX_VALUE``)."""

_intern = sys.intern


def _none_if_empty(value: typing.Mapping[str, typing.Any] | None) -> typing.Mapping[str, typing.Any] | None:
    return value or None


def _checked_user_data(value: typing.Mapping[str, typing.Any] | None) -> dict[str, typing.Any] | None:
    # Only user-facing construction runs this (the codec's and the parser's fast builders skip converters).
    return checked_user_data(value) if value else None


@attrs.frozen(kw_only=True, weakref_slot=False)
class TrackInfo:
    """What a track is: the `info` object of a Lavalink track, plus how its blob was encoded."""

    identifier: str
    """The source's own id for the track (a YouTube video id, a URL, ...)."""
    author: str
    """The track's author or artist."""
    length: int
    """Duration in milliseconds; `STREAM_LENGTH` (``2**63 - 1``) for streams, ``-1`` when NodeLink has not measured
    it (see `known_length`)."""
    is_stream: bool = False
    """Whether the track is a live stream."""
    is_seekable: bool = attrs.field(default=attrs.Factory(lambda self: not self.is_stream, takes_self=True))
    """Whether the track supports seeking; not stored in the blob, so decoding (and the default) says
    ``not is_stream``, as lavaplayer does for its standard tracks."""
    position: int = 0
    """Playback position in milliseconds at the time the track was encoded or reported."""
    title: str
    """The track's title."""
    uri: str | None = None
    """The track's URL, ``None`` when it has none (and for version 1 blobs)."""
    source_name: str
    """The source manager that loaded it (``"youtube"``, ``"http"``, ...)."""
    artwork_url: str | None = None
    """The artwork's URL, if any (always ``None`` for blobs older than version 3)."""
    isrc: str | None = None
    """The International Standard Recording Code, if known (``None`` for blobs older than version 3)."""
    version: int = 3
    """The track blob version this info was decoded from (1, 2 or 3); hand-built infos encode as 3.

    Not part of the JSON payload: it only lets `encode_track` reproduce a decoded blob byte for byte.
    """
    source_extra: bytes = b""
    """Opaque source-specific bytes found between `source_name` and the position in a decoded blob.

    Not part of the JSON payload (e.g. ``b"\\x00\\x03mp3"`` for an ``http`` track).
    """

    @property
    def known_length(self) -> int | None:
        """The duration in milliseconds, or ``None`` for a stream or a length the server does not know (NodeLink's
        ``-1``, Java's ``Long.MAX_VALUE`` or more)."""
        length = self.length
        return None if self.is_stream or not 0 <= length < STREAM_LENGTH else length

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "info") -> typing.Self:
        """Parse the wire `info` object; raise `ProtocolError` naming the bad field."""
        d = require_object(data, where)
        return cls(
            identifier=get_str(d, "identifier", where),
            is_seekable=get_bool(d, "isSeekable", where),
            author=get_str(d, "author", where),
            length=get_int(d, "length", where),
            is_stream=get_bool(d, "isStream", where),
            position=get_int(d, "position", where),
            title=get_str(d, "title", where),
            uri=opt_str(d, "uri", where),
            source_name=_intern(get_str(d, "sourceName", where)),
            artwork_url=opt_str(d, "artworkUrl", where),
            isrc=opt_str(d, "isrc", where),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire `info` object, in Lavalink's key order (`version`, `source_extra` are not sent)."""
        return {
            "identifier": self.identifier,
            "isSeekable": self.is_seekable,
            "author": self.author,
            "length": self.length,
            "isStream": self.is_stream,
            "position": self.position,
            "title": self.title,
            "uri": self.uri,
            "sourceName": self.source_name,
            "artworkUrl": self.artwork_url,
            "isrc": self.isrc,
        }


@attrs.frozen(kw_only=True, weakref_slot=False, eq=False, repr=False)
class Track:
    """A playable track: the base64 blob Lavalink understands, what it is, and data attached to it.

    Memory per queued track is kept low: `plugin_info` and `user_data` read as one shared, empty, read-only
    mapping when there is none, and a track parsed from JSON whose blob says exactly what its `info` says
    keeps only the blob; its `info` is decoded from it on first access (then kept). Give a track user data
    with ``Track(..., user_data={...})`` or `with_user_data`: it must be strict JSON (string keys; no NaN, no
    lone surrogate, no datetime or set), else `UserDataError` names the offending key path, and the track
    keeps its own copy (tuples become lists), so changing the dict afterwards does not change the track.
    """

    encoded: str
    """The base64 track blob (send this to Lavalink to play the track)."""
    _info: TrackInfo | None = attrs.field(default=None, alias="info")
    # Use `info`: ``None`` here means "decode it from `encoded` when asked".
    _plugin_info: typing.Mapping[str, typing.Any] | None = attrs.field(
        default=None, alias="plugin_info", converter=_none_if_empty
    )
    _user_data: typing.Mapping[str, typing.Any] | None = attrs.field(
        default=None, alias="user_data", converter=_checked_user_data
    )

    @property
    def info(self) -> TrackInfo:
        """What the track is; for a track built without one, decoded from `encoded` (`TrackDecodeError`)."""
        info: typing.Any = self._info  # a `TrackInfo`; `None` or a checked wire `info` object: built when asked
        if type(info) is TrackInfo:
            return info
        if info is None:
            from lightbulb_lavalink.protocol.codec import decode_track  # here: the codec imports this module

            info = decode_track(self.encoded).info
        elif type(info) is dict:
            info = _info_from_checked(info)
        else:  # a subclass of `TrackInfo` the bot built the track with: its own
            return typing.cast("TrackInfo", info)
        object.__setattr__(self, "_info", info)  # a cache: the value was already determined
        return typing.cast("TrackInfo", info)

    @property
    def known_length(self) -> int | None:
        """`info.known_length`: the duration in milliseconds, or ``None`` for a stream or an unknown length (read
        without building `info` when the track came with one from the node)."""
        info: typing.Any = self._info
        if type(info) is dict:
            length: int = info["length"]
            return None if info["isStream"] or not 0 <= length < STREAM_LENGTH else length
        return self.info.known_length

    @property
    def source_and_identifier(self) -> tuple[str, str]:
        """What tells a track from another: its source's name and the source's own id for it (read without building
        `info` when the track came with one from the node). Raises `TrackDecodeError` as `info` does."""
        info: typing.Any = self._info
        if type(info) is dict:
            return info["sourceName"], info["identifier"]
        info = self.info
        return info.source_name, info.identifier

    @property
    def plugin_info(self) -> typing.Mapping[str, typing.Any]:
        """Extra information a Lavalink plugin attached to the track (raw JSON, read-only)."""
        return self._plugin_info or EMPTY_MAPPING

    @property
    def user_data(self) -> typing.Mapping[str, typing.Any]:
        """The bot's own JSON-safe data attached to the track (e.g. who requested it); kept by Lavalink."""
        return self._user_data or EMPTY_MAPPING

    def with_user_data(self, data: typing.Mapping[str, typing.Any] | None = None, /, **values: typing.Any) -> Track:
        """Return a copy of this track whose user data is `data` (or the current one) updated with `values`.

        ``track.with_user_data(requester=123)`` adds a key; ``track.with_user_data({})`` clears it. Raises
        `UserDataError` (a `TypeError` and a `ValueError`) naming the key path of any value that is not JSON.
        """
        # What this track holds was checked when it was given (or read from JSON): check only what is new.
        merged = dict(self.user_data) if data is None else checked_user_data(data)
        if values:
            merged.update(checked_user_data(values))
        return new_track(self.encoded, self._info, self._plugin_info, merged or None)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Track)
        if self.encoded != other.encoded:
            return False
        if (self._info is not None or other._info is not None) and self.info != other.info:
            return False
        return self.plugin_info == other.plugin_info and self.user_data == other.user_data

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self.encoded)

    def __repr__(self) -> str:
        described = repr(self.info) if self._info is not None else "<decoded on access>"
        return (
            f"Track(encoded={self.encoded!r}, info={described}, plugin_info={dict(self.plugin_info)!r}, "
            f"user_data={dict(self.user_data)!r})"
        )

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse a wire Track; a missing `pluginInfo`/`userData` (Lavalink 4.0.1) reads as empty.

        When the blob decodes to exactly the `info` sent, only the blob is kept (`info` is decoded again on
        first access), which is what makes a queued track small. Only `encoded` is needed: an `info` field that
        cannot be read is taken from the blob (or, if the blob cannot be decoded either, read as unknown: ``""``,
        ``-1`` for the length; the identifier and source are then needed), a `pluginInfo`/`userData` that is not
        an object reads as empty; each noted.
        """
        if cls is Track:
            track = compact_track(data)
            if track is not None:
                return typing.cast("typing.Self", track)
        d = require_object(data, where)
        encoded = get_str(d, "encoded", where)
        info_data = d.get("info")
        try:
            info = TrackInfo.from_payload(info_data, at(where, "info"))
        except ProtocolError as exc:
            info = _info_despite(exc, info_data, encoded, at(where, "info"))
        return cls(
            encoded=encoded,
            info=info,
            plugin_info=loose_object(d, "pluginInfo", where, optional=True),
            user_data=loose_object(d, "userData", where, optional=True),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Track (``pluginInfo`` and ``userData`` always present, ``{}`` when empty)."""
        return {
            "encoded": self.encoded,
            "info": self.info.to_payload(),
            "pluginInfo": dict(self._plugin_info or ()),
            "userData": dict(self._user_data or ()),
        }


_INFO_FIELDS: typing.Final = (
    # wire key, attribute, JSON type, the value when unknown (`_NEEDED`: a ProtocolError without the blob)
    ("identifier", "identifier", str, None),
    ("author", "author", str, ""),
    ("length", "length", int, -1),
    ("isStream", "is_stream", bool, False),
    ("position", "position", int, 0),
    ("title", "title", str, ""),
    ("uri", "uri", str, None),
    ("sourceName", "source_name", str, None),
    ("artworkUrl", "artwork_url", str, None),
    ("isrc", "isrc", str, None),
)
_NEEDED: typing.Final = frozenset({"identifier", "sourceName"})
_NULLABLE: typing.Final = frozenset({"uri", "artworkUrl", "isrc"})


def _info_despite(error: ProtocolError, data: typing.Any, encoded: str, where: str) -> TrackInfo:
    """A track's `info` that did not parse: each field that cannot be read is taken from the blob, which says the
    same things; without a decodable blob it reads as unknown, except the identity of the track (raises)."""
    from lightbulb_lavalink.protocol.codec import decode_track  # here: the codec imports this module

    try:
        blob: TrackInfo | None = decode_track(encoded).info
    except TrackDecodeError:
        blob = None
    d = data if type(data) is dict else {}
    if d is not data:
        unreadable(where, "an object", data)
    values: dict[str, typing.Any] = {}
    for key, attribute, kind, unknown in _INFO_FIELDS:
        value = d.get(key)
        if type(value) is kind or (value is None and key in _NULLABLE):
            values[attribute] = value
            continue
        if d is data:
            state = "unreadable" if key in d else "missing"
            read = "read from the track's blob" if blob is not None else "read as unknown"
            note(at(where, key), f"{state}; {read}", malformed=key in d)
        if blob is not None:
            values[attribute] = getattr(blob, attribute)
        elif key in _NEEDED:
            raise error
        else:
            values[attribute] = unknown
    seekable = d.get("isSeekable")
    if type(seekable) is bool:
        values["is_seekable"] = seekable
    else:
        values["is_seekable"] = blob.is_seekable if blob is not None else not values["is_stream"]
    values["source_name"] = _intern(values["source_name"])
    return TrackInfo(**values)


# Fast construction for the hot paths (decoding blobs, parsing events). The classes stay frozen for users,
# but a frozen attrs ``__init__`` (or a slot descriptor call) costs ~50 ns per field. Instead the object is
# built as an instance of a plain twin class with the very same slots, filled with ordinary attribute stores,
# then given its real class: CPython allows ``__class__`` assignment between classes of identical layout.
# No converters run, so callers pass `plugin_info`/`user_data` already normalised (a non-empty dict or None).
_object_new = object.__new__
_TrackInfoTwin = make_twin(TrackInfo)
_TrackTwin = make_twin(Track)


def new_track_info(
    identifier: str,
    is_seekable: bool,
    author: str,
    length: int,
    is_stream: bool,
    position: int,
    title: str,
    uri: str | None,
    source_name: str,
    artwork_url: str | None,
    isrc: str | None,
    version: int,
    source_extra: bytes,
) -> TrackInfo:
    """Build a `TrackInfo` from already validated values, fast (private to the protocol package)."""
    info = _object_new(_TrackInfoTwin)
    info.identifier = identifier
    info.is_seekable = is_seekable
    info.author = author
    info.length = length
    info.is_stream = is_stream
    info.position = position
    info.title = title
    info.uri = uri
    info.source_name = source_name
    info.artwork_url = artwork_url
    info.isrc = isrc
    info.version = version
    info.source_extra = source_extra
    info.__class__ = TrackInfo
    return info  # type: ignore[no-any-return]


def new_track(
    encoded: str,
    info: TrackInfo | dict[str, typing.Any] | None,
    plugin_info: typing.Mapping[str, typing.Any] | None = None,
    user_data: dict[str, typing.Any] | None = None,
) -> Track:
    """Build a `Track` from validated values, fast; empty mappings must be passed as ``None``.

    `info` ``None`` makes a compact track: only do that when `encoded` is known to decode to the right info. A
    dict is a wire `info` object `fast_track` checked, read on first access.
    `user_data` is not checked (`Track`'s constructor checks it): pass only data that was read from JSON or
    already checked. The session stores and the REST client repair whatever is not JSON when they write it.
    """
    track = _object_new(_TrackTwin)
    # This module's own class, filled without its converters: the fast path of decoding thousands of queues.
    track.encoded = encoded
    track._info = info  # noqa: SLF001 - Track's own slots, see above
    track._plugin_info = plugin_info  # noqa: SLF001
    track._user_data = user_data  # noqa: SLF001
    track.__class__ = Track
    return track  # type: ignore[no-any-return]


def _info_from_checked(info: dict[str, typing.Any]) -> TrackInfo:
    """The `TrackInfo` of a wire `info` object `fast_track` checked (kept as it came, see `lazy_info`)."""
    return new_track_info(
        info["identifier"],
        info["isSeekable"],
        info["author"],
        info["length"],
        info["isStream"],
        info["position"],
        info["title"],
        info.get("uri"),
        _intern(info["sourceName"]),
        info.get("artworkUrl"),
        info.get("isrc"),
        3,
        b"",
    )


def fast_track(data: typing.Any, *, lazy_info: bool = False) -> Track | None:
    """Build a `Track` from a well-formed wire Track; ``None`` lets `Track.from_payload` say what is wrong.

    `lazy_info`: keep the checked wire `info` object itself (its `TrackInfo` is built on first access), for the
    tracks of events, mostly compared and dropped. A dict of strings and numbers is no object Python's
    collector follows, where a `TrackInfo` kept for the length of a song is one more it walks at every pass.
    """
    try:
        encoded = data["encoded"]
        info = data["info"]
        identifier = info["identifier"]
        is_seekable = info["isSeekable"]
        author = info["author"]
        length = info["length"]
        is_stream = info["isStream"]
        position = info["position"]
        title = info["title"]
        source_name = info["sourceName"]
        uri = info.get("uri")
        artwork_url = info.get("artworkUrl")
        isrc = info.get("isrc")
        plugin_info = data.get("pluginInfo")
        user_data = data.get("userData")
    except (KeyError, TypeError, IndexError, AttributeError):
        return None
    if (
        type(data) is not dict
        or type(info) is not dict
        or type(encoded) is not str
        or type(identifier) is not str
        or type(author) is not str
        or type(title) is not str
        or type(source_name) is not str
        or type(length) is not int
        or type(position) is not int
        or type(is_seekable) is not bool
        or type(is_stream) is not bool
        or (uri is not None and type(uri) is not str)
        or (artwork_url is not None and type(artwork_url) is not str)
        or (isrc is not None and type(isrc) is not str)
        or (plugin_info is not None and type(plugin_info) is not dict)
        or (user_data is not None and type(user_data) is not dict)
    ):
        return None
    # Every field `_info_from_checked` reads was checked above.
    return new_track(
        encoded, info if lazy_info else _info_from_checked(info), plugin_info or None, user_data or None
    )


def compact_track(data: typing.Any) -> Track | None:
    """A well-formed wire Track, compact (only its blob kept) when the blob decodes to exactly its `info`.

    ``None`` lets `Track.from_payload` say what is wrong.
    """
    track = fast_track(data)
    if track is None:
        return None
    info = track._info  # noqa: SLF001 - Track's own slot: reading `info` would decode the blob
    assert info is not None
    from lightbulb_lavalink.protocol.codec import decode_track  # here: the codec imports this module

    try:
        decoded = decode_track(track.encoded)._info  # noqa: SLF001
    except TrackDecodeError:
        return track
    if decoded == info:
        object.__setattr__(track, "_info", None)
    return track
