"""The emulator's deterministic track catalog: every identifier loads something, no setup needed.

Rules, checked in this order on the identifier given to ``/v4/loadtracks`` (case-insensitive markers):

* a track registered with `Catalog.add_track` (by identifier or URI), a playlist from `Catalog.add_playlist`;
* contains ``error`` → an ``error`` result (``causeStackTrace`` from 4.1.0); contains ``empty`` → ``empty``;
* a URL containing ``playlist`` or ``list=`` → a playlist of 4 to 8 tracks;
* ``ytsearch:``/``ytmsearch:`` (youtube) or ``scsearch:`` (soundcloud) → 5 search results; any other
  ``<name>search:`` prefix → ``empty`` (no such source);
* a YouTube / SoundCloud URL → a track of that source; any other ``http(s)://`` URL → an ``http`` track
  (a stream when the URL contains ``stream`` or ``radio``);
* anything else → a youtube-like track with that identifier.

Title, author and length are derived from a hash of the identifier. A track whose identifier contains
``unplayable`` fails when played (``TrackExceptionEvent`` then ``TrackEndEvent`` ``loadFailed``); one whose
identifier contains ``stuck`` gets stuck when played (``TrackStuckEvent`` after the threshold).
"""

from __future__ import annotations

import enum
import hashlib
import re
import typing
import urllib.parse

import attrs

from lightbulb_lavalink.protocol.codec import encode_track
from lightbulb_lavalink.protocol.track import STREAM_LENGTH
from lightbulb_lavalink.protocol.tracks import Track, TrackInfo
from lightbulb_lavalink.testing.wire import java_stack_trace

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.testing.versions import EmulatedVersion

__all__ = ["DEFAULT_SOURCES", "STREAM_LENGTH", "Catalog", "LoadOutcome", "Playback", "track_json"]

DEFAULT_SOURCES: tuple[str, ...] = ("youtube", "soundcloud", "bandcamp", "twitch", "vimeo", "http", "local")
"""Source managers the emulator reports and can decode blobs of (others are added by `Catalog.add_track`)."""

_ADJECTIVES = (
    "Electric", "Silent", "Golden", "Midnight", "Broken", "Endless", "Crimson", "Quiet", "Wild", "Neon",
    "Paper", "Velvet", "Frozen", "Distant", "Hollow", "Bright",
)  # fmt: skip
_NOUNS = (
    "Dreams", "Highway", "Ocean", "Heart", "Summer", "Lights", "River", "Echoes", "Garden", "Skyline",
    "Letters", "Horizon", "Shadows", "Parade", "Machine", "Harbor",
)  # fmt: skip
_ARTISTS = (
    "The Lanterns", "Nova Reed", "Glass Animals Club", "Mira Vale", "Kite Runner", "Orchid Lane",
    "The Static Hours", "Juniper Fox", "Low Tide", "Atlas Bloom", "Pale Harbor", "Rosa Quinn",
)  # fmt: skip
_VARIANTS = ("Official Video", "Lyrics", "Live", "Remix", "Acoustic", "Extended Mix", "Audio", "Cover")
_SEARCH = re.compile(r"^([a-z]+)search:(.*)$", re.IGNORECASE | re.DOTALL)
_SEARCH_SOURCES = {"yt": "youtube", "ytm": "youtube", "sc": "soundcloud"}
_HTTP_EXTRA = b"\x00\x03mp3"  # what the http/local source managers write: the container probe name
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class Playback(enum.Enum):
    """What happens when the emulator plays a track."""

    NORMAL = "normal"
    """Plays to its end."""
    FAIL = "fail"
    """Fails before any audio: ``TrackExceptionEvent`` then ``TrackEndEvent`` ``loadFailed``."""
    STUCK = "stuck"
    """Stops providing audio: ``TrackStuckEvent`` once the stuck threshold has passed."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class LoadOutcome:
    """What loading an identifier gave, before rendering: one of the five load types."""

    load_type: str
    """``track``, ``playlist``, ``search``, ``empty`` or ``error``."""
    tracks: tuple[Track, ...] = ()
    """The loaded track(s): one for ``track``, the playlist's or the results otherwise."""
    playlist_name: str = ""
    """The playlist's name (``playlist`` only)."""
    selected_track: int = -1
    """The playlist's selected track index, ``-1`` for none."""
    message: str = ""
    """The error message (``error`` only)."""
    severity: str = "common"
    """The error severity (``error`` only)."""

    def to_json(self, version: EmulatedVersion) -> dict[str, typing.Any]:
        """The LoadResult wire JSON (``loadType`` then ``data``; ``data`` is ``null`` for ``empty``; NodeLink's
        ``{}``)."""
        data: object
        if self.load_type == "track":
            data = track_json(self.tracks[0], version)
        elif self.load_type == "playlist":
            data = {
                "info": {"name": self.playlist_name, "selectedTrack": self.selected_track},
                "pluginInfo": {},
                "tracks": [track_json(t, version) for t in self.tracks],
            }
        elif self.load_type == "search":
            data = [track_json(t, version) for t in self.tracks]
        elif self.load_type == "error":
            if version.nodelink:  # the exception under `exception`, only its message and severity (transcript 03)
                return {"loadType": "error", "exception": {"message": self.message, "severity": self.severity}}
            data = exception_json(self.message, self.severity, version, load_error=True)
        else:
            data = {} if version.nodelink else None
        return {"loadType": self.load_type, "data": data}


def exception_json(message: str, severity: str, version: EmulatedVersion, *, load_error: bool) -> dict[str, object]:
    """An Exception object (``message, severity, cause[, causeStackTrace]``) as Lavalink writes it.

    A load error's cause is the FriendlyException itself; a playback error's is its root cause.
    """
    if load_error:
        exc, text = "com.sedmelluq.discord.lavaplayer.tools.FriendlyException", message
    else:
        exc, text = "java.io.IOException", f"Emulated playback failure: {message}"
    out: dict[str, object] = {"message": message, "severity": severity, "cause": f"{exc}: {text}"}
    if version.cause_stack_trace:
        out["causeStackTrace"] = java_stack_trace(
            exc, text, ("com.sedmelluq.discord.lavaplayer.source.FakeSourceManager.load(FakeSource.java:7)",)
        )
    return out


def track_json(track: Track, version: EmulatedVersion) -> dict[str, typing.Any]:
    """Track wire JSON: ``encoded, info, pluginInfo, userData`` (empty extras left out only in 4.0.1)."""
    info = track.info
    out: dict[str, typing.Any] = {
        "encoded": track.encoded,
        "info": {
            "identifier": info.identifier,
            "isSeekable": not info.is_stream,
            "author": info.author,
            "length": info.length,
            "isStream": info.is_stream,
            "position": info.position,
            "title": info.title,
            "uri": info.uri,
            "sourceName": info.source_name,
            "artworkUrl": info.artwork_url,
            "isrc": info.isrc,
        },
    }
    plugin_info = dict(track.plugin_info)
    user_data = dict(track.user_data)
    if plugin_info or not version.omit_empty_track_extras:
        out["pluginInfo"] = plugin_info
    if user_data or not version.omit_empty_track_extras:
        out["userData"] = user_data
    return out


def make_track(info: TrackInfo) -> Track:
    """A Track (empty plugin info and user data) whose blob is the codec's version-3 encoding of `info`."""
    return Track(encoded=encode_track(info), info=info, plugin_info={}, user_data={})


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _pick(options: typing.Sequence[str], digest: bytes, offset: int) -> str:
    return options[digest[offset] % len(options)]


def _video_id(seed: str) -> str:
    digest = _digest("id:" + seed)
    return "".join(_ID_ALPHABET[b % 64] for b in digest[:11])


class Catalog:
    """Deterministic track lookup plus tracks and playlists registered by tests."""

    def __init__(self, sources: typing.Iterable[str] = DEFAULT_SOURCES) -> None:
        self._sources: list[str] = list(dict.fromkeys(sources))
        self._tracks: dict[str, Track] = {}
        self._playlists: dict[str, tuple[str, tuple[Track, ...], int]] = {}
        self._playback: dict[tuple[str, str], Playback] = {}
        self._searches: dict[str, str] = dict(_SEARCH_SOURCES)

    def add_search_sources(self, prefixes: typing.Mapping[str, str]) -> None:
        """Serve more ``<prefix>search:`` prefixes (LavaSrc's ``sp`` → ``spotify``...), their sources listed too."""
        self._searches.update(prefixes)
        for source in prefixes.values():
            if source not in self._sources:
                self._sources.append(source)

    @property
    def sources(self) -> tuple[str, ...]:
        """Source manager names (``/v4/info`` ``sourceManagers``); blobs of other sources fail to decode."""
        return tuple(self._sources)

    def add_track(
        self,
        *,
        title: str,
        author: str = "Unknown artist",
        length: int = 180_000,
        identifier: str | None = None,
        uri: str | None = None,
        source_name: str = "http",
        is_stream: bool = False,
        artwork_url: str | None = None,
        isrc: str | None = None,
        playback: Playback = Playback.NORMAL,
    ) -> Track:
        """Register an exact track, returned (with its blob) when its identifier or URI is loaded.

        A `length` of ``-1`` (what NodeLink reports for a file it has not measured) or ``2**63 - 1`` makes a track
        of unknown length: seekable, it plays until it is stopped.
        """
        ident = identifier if identifier is not None else _video_id(f"{source_name}:{title}:{author}")
        info = TrackInfo(
            identifier=ident,
            is_seekable=not is_stream,
            author=author,
            length=STREAM_LENGTH if is_stream else length,
            is_stream=is_stream,
            position=0,
            title=title,
            uri=uri,
            source_name=source_name,
            artwork_url=artwork_url,
            isrc=isrc,
            source_extra=_HTTP_EXTRA if source_name in ("http", "local") else b"",
        )
        track = make_track(info)
        self._tracks[ident] = track
        if uri is not None:
            self._tracks[uri] = track
        if source_name not in self._sources:
            self._sources.append(source_name)
        self._playback[(source_name, ident)] = playback
        return track

    def add_playlist(self, url: str, name: str, tracks: typing.Sequence[Track], *, selected_track: int = -1) -> None:
        """Register a playlist: loading `url` returns these tracks under `name`."""
        self._playlists[url] = (name, tuple(tracks), selected_track)

    def playback_of(self, info: TrackInfo) -> Playback:
        """How a track behaves when played: as registered, else from the markers in its identifier."""
        registered = self._playback.get((info.source_name, info.identifier))
        if registered is not None:
            return registered
        lowered = info.identifier.lower()
        if "unplayable" in lowered:
            return Playback.FAIL
        if "stuck" in lowered:
            return Playback.STUCK
        return Playback.NORMAL

    def load(self, identifier: str) -> LoadOutcome:
        """Resolve `identifier` by the rules in this module's docstring."""
        if identifier in self._tracks:
            return LoadOutcome(load_type="track", tracks=(self._tracks[identifier],))
        if identifier in self._playlists:
            name, tracks, selected = self._playlists[identifier]
            return LoadOutcome(load_type="playlist", tracks=tracks, playlist_name=name, selected_track=selected)
        lowered = identifier.lower()
        if "error" in lowered:
            return LoadOutcome(
                load_type="error", message=f"The track '{identifier}' is unavailable.", severity="common"
            )
        if "empty" in lowered:
            return LoadOutcome(load_type="empty")
        is_url = lowered.startswith(("http://", "https://"))
        if is_url and ("playlist" in lowered or "list=" in lowered):
            return self._playlist(identifier)
        search = _SEARCH.match(identifier)
        if search is not None:
            source = self._searches.get(search.group(1).lower())
            if source is None:
                return LoadOutcome(load_type="empty")
            return LoadOutcome(load_type="search", tracks=self._search(source, search.group(2).strip()))
        if is_url:
            return LoadOutcome(load_type="track", tracks=(self._from_url(identifier),))
        return LoadOutcome(load_type="track", tracks=(self._youtube(identifier, identifier),))

    def _youtube(self, video_id: str, seed: str, *, title: str | None = None) -> Track:
        digest = _digest(seed)
        stream = "stream" in video_id.lower()
        quoted = urllib.parse.quote(video_id, safe="")
        return make_track(
            TrackInfo(
                identifier=video_id,
                is_seekable=not stream,
                author=_pick(_ARTISTS, digest, 0),
                length=STREAM_LENGTH if stream else _length(digest),
                is_stream=stream,
                position=0,
                title=title or f"{_pick(_ADJECTIVES, digest, 1)} {_pick(_NOUNS, digest, 2)}",
                uri=f"https://www.youtube.com/watch?v={quoted}",
                source_name="youtube",
                artwork_url=f"https://i.ytimg.com/vi/{quoted}/maxresdefault.jpg",
                isrc=None,
            )
        )

    def _soundcloud(self, seed: str, uri: str | None = None, *, title: str | None = None) -> Track:
        digest = _digest(seed)
        number = int.from_bytes(digest[:4], "big")
        artist = _pick(_ARTISTS, digest, 0)
        name = title or f"{_pick(_ADJECTIVES, digest, 1)} {_pick(_NOUNS, digest, 2)}"
        return make_track(
            TrackInfo(
                identifier=f"O:https://api-v2.soundcloud.com/media/soundcloud:tracks:{number}/stream",
                is_seekable=True,
                author=artist,
                length=_length(digest),
                is_stream=False,
                position=0,
                title=name,
                uri=uri or f"https://soundcloud.com/{_slug(artist)}/{_slug(name)}",
                source_name="soundcloud",
                artwork_url=None,
                isrc=None,
            )
        )

    def _search(self, source: str, query: str) -> tuple[Track, ...]:
        base = query or "Untitled"
        results = []
        for index in range(5):
            seed = f"{source}search:{query}#{index}"
            variant = _pick(_VARIANTS, _digest(seed), 3)
            title = f"{base} ({variant})"
            if source == "youtube":
                results.append(self._youtube(_video_id(seed), seed, title=title))
            elif source == "soundcloud":
                results.append(self._soundcloud(seed, title=title))
            else:
                results.append(self._lavasrc(source, seed, title=title))
        return tuple(results)

    def _lavasrc(self, source: str, seed: str, *, title: str) -> Track:
        """A track of one of LavaSrc's sources, with the ``pluginInfo`` LavaSrc adds."""
        digest = _digest(seed)
        artist = _pick(_ARTISTS, digest, 0)
        ident = _video_id(seed)
        base = f"https://{source}.example/{{}}/{ident}"
        track = make_track(
            TrackInfo(
                identifier=ident,
                is_seekable=True,
                author=artist,
                length=_length(digest),
                is_stream=False,
                position=0,
                title=title,
                uri=base.format("track"),
                source_name=source,
                artwork_url=base.format("cover"),
                isrc=f"US{int.from_bytes(digest[:5], 'big') % 10**10:010d}",
            )
        )
        plugin_info = {
            "albumName": f"{title} (Album)",
            "albumUrl": base.format("album"),
            "artistUrl": base.format("artist"),
            "artistArtworkUrl": base.format("artist-cover"),
            "previewUrl": base.format("preview"),
            "isPreview": False,
        }
        return attrs.evolve(track, plugin_info=plugin_info)

    def _playlist(self, url: str) -> LoadOutcome:
        digest = _digest(url)
        count = 4 + digest[5] % 5
        soundcloud = "soundcloud.com" in url.lower()
        tracks = tuple(
            self._soundcloud(f"{url}#{i}") if soundcloud else self._youtube(_video_id(f"{url}#{i}"), f"{url}#{i}")
            for i in range(count)
        )
        name = f"{_pick(_ADJECTIVES, digest, 6)} {_pick(_NOUNS, digest, 7)} Mix"
        return LoadOutcome(load_type="playlist", tracks=tracks, playlist_name=name)

    def _from_url(self, url: str) -> Track:
        parsed = urllib.parse.urlsplit(url)
        host = parsed.hostname or ""
        if host.endswith(("youtube.com", "youtu.be")):
            video = urllib.parse.parse_qs(parsed.query).get("v", [""])[0] if "watch" in parsed.path else ""
            if not video:
                video = parsed.path.rstrip("/").rsplit("/", 1)[-1] or _video_id(url)
            return self._youtube(video, video)
        if host.endswith("soundcloud.com"):
            return self._soundcloud(url, url)
        digest = _digest(url)
        lowered = url.lower()
        stream = "stream" in lowered or "radio" in lowered
        last = urllib.parse.unquote(parsed.path.rstrip("/").rsplit("/", 1)[-1])
        title = last.rsplit(".", 1)[0] if last else host or url
        return make_track(
            TrackInfo(
                identifier=url,
                is_seekable=not stream,
                author="Unknown artist",
                length=STREAM_LENGTH if stream else _length(digest),
                is_stream=stream,
                position=0,
                title=title,
                uri=url,
                source_name="http",
                artwork_url=None,
                isrc=None,
                source_extra=_HTTP_EXTRA,
            )
        )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _length(digest: bytes) -> int:
    """Between 1 and 6 minutes, whole seconds."""
    return (60 + int.from_bytes(digest[8:12], "big") % 300) * 1000
