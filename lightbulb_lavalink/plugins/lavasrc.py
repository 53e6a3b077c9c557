"""LavaSrc (topi314/LavaSrc): search prefixes of its sources, and what it adds to tracks and playlists.

From the plugin's sources: the prefixes are each source manager's ``SEARCH_PREFIX``/``ISRC_PREFIX``/
``RECOMMENDATIONS_PREFIX``; a track's ``pluginInfo`` (``LavaSrcAudioPluginInfoModifier``) holds ``albumName``,
``albumUrl``, ``artistUrl``, ``artistArtworkUrl``, ``previewUrl``, ``isPreview`` (and ``isLocal`` for Spotify); a
playlist's holds ``type`` (playlist, album, artist, recommendations), ``url``, ``artworkUrl``, ``author``,
``totalTracks``.
"""

from __future__ import annotations

import enum
import logging
import typing

import attrs

from lightbulb_lavalink.plugins.base import PluginKind

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.plugins.access import Plugins
    from lightbulb_lavalink.protocol.tracks import LoadResult, Playlist, Track

__all__ = ["LavaSrc", "LavaSrcPlaylistInfo", "LavaSrcTrackInfo", "PlaylistKind", "SearchSource", "search_query"]

_LOGGER = logging.getLogger("lightbulb_lavalink.plugins.lavasrc")


class SearchSource(enum.StrEnum):
    """A search (or lookup) prefix; its value is the prefix. Those of YouTube and SoundCloud are Lavalink's own,
    every other one needs LavaSrc (with that source enabled in its configuration)."""

    YOUTUBE = "ytsearch:"
    YOUTUBE_MUSIC = "ytmsearch:"
    SOUNDCLOUD = "scsearch:"
    SPOTIFY = "spsearch:"
    SPOTIFY_RECOMMENDATIONS = "sprec:"
    APPLE_MUSIC = "amsearch:"
    DEEZER = "dzsearch:"
    DEEZER_ISRC = "dzisrc:"
    DEEZER_RECOMMENDATIONS = "dzrec:"
    YANDEX_MUSIC = "ymsearch:"
    YANDEX_MUSIC_RECOMMENDATIONS = "ymrec:"
    VK_MUSIC = "vksearch:"
    VK_MUSIC_RECOMMENDATIONS = "vkrec:"
    TIDAL = "tdsearch:"
    TIDAL_RECOMMENDATIONS = "tdrec:"
    QOBUZ = "qbsearch:"
    QOBUZ_ISRC = "qbisrc:"
    QOBUZ_RECOMMENDATIONS = "qbrec:"
    JIOSAAVN = "jssearch:"
    JIOSAAVN_RECOMMENDATIONS = "jsrec:"

    @property
    def needs_lavasrc(self) -> bool:
        """Whether the node needs LavaSrc for it (every prefix but YouTube's and SoundCloud's)."""
        return self not in (SearchSource.YOUTUBE, SearchSource.YOUTUBE_MUSIC, SearchSource.SOUNDCLOUD)


def search_query(source: SearchSource | str, query: str) -> str:
    """The identifier that searches `query` on `source`: ``search_query(SearchSource.SPOTIFY, "x")`` is
    ``"spsearch:x"``. A `source` may be a prefix string (``"spsearch:"``) or a member's name (``"spotify"``).

    Raises:
        ValueError: `query` is empty, or `source` is no known prefix.
    """
    if not isinstance(query, str) or not query.strip():
        raise ValueError("a search needs a query")
    return f"{_source(source).value}{query.strip()}"


def _source(source: SearchSource | str) -> SearchSource:
    if isinstance(source, SearchSource):
        return source
    try:
        return SearchSource(source)
    except ValueError:
        try:
            return SearchSource[str(source).upper()]
        except KeyError:
            raise ValueError(f"unknown search source {source!r}") from None


def _opt(info: typing.Mapping[str, typing.Any], key: str, kind: type, what: str) -> typing.Any:
    value = info.get(key)
    if value is None or (isinstance(value, kind) and not (kind is int and isinstance(value, bool))):
        return value
    _LOGGER.warning("%s pluginInfo.%s: expected %s, got %r; read as unknown", what, key, kind.__name__, value)
    return None


@attrs.frozen(kw_only=True, weakref_slot=False)
class LavaSrcTrackInfo:
    """What LavaSrc adds to a track's ``pluginInfo``, typed. Each field is `None` when absent or unreadable."""

    album_name: str | None = None
    """The album's name."""
    album_url: str | None = None
    """The album's page."""
    artist_url: str | None = None
    """The artist's page."""
    artist_artwork_url: str | None = None
    """The artist's picture."""
    preview_url: str | None = None
    """A short preview of the track."""
    is_preview: bool = False
    """Whether the track is only that preview."""
    is_local: bool | None = None
    """Spotify only: whether it is a local file of the user's."""

    @classmethod
    def of(cls, track: Track) -> LavaSrcTrackInfo:
        """The LavaSrc fields of `track` (all `None` for a track LavaSrc did not load)."""
        return cls.from_plugin_info(track.plugin_info)

    @classmethod
    def from_plugin_info(cls, info: typing.Any) -> LavaSrcTrackInfo:
        """Read a ``pluginInfo`` object; never raises (a malformed field reads as unknown, with a warning)."""
        if not isinstance(info, typing.Mapping):
            if info is not None:
                _LOGGER.warning("track pluginInfo: expected an object, got %s; read as empty", type(info).__name__)
            return cls()
        what = "track"
        return cls(
            album_name=_opt(info, "albumName", str, what),
            album_url=_opt(info, "albumUrl", str, what),
            artist_url=_opt(info, "artistUrl", str, what),
            artist_artwork_url=_opt(info, "artistArtworkUrl", str, what),
            preview_url=_opt(info, "previewUrl", str, what),
            is_preview=_opt(info, "isPreview", bool, what) is True,
            is_local=_opt(info, "isLocal", bool, what),
        )


class PlaylistKind(enum.StrEnum):
    """What kind of list LavaSrc loaded."""

    PLAYLIST = "playlist"
    ALBUM = "album"
    ARTIST = "artist"
    RECOMMENDATIONS = "recommendations"
    UNKNOWN = "unknown"
    """A kind this library does not know (a newer LavaSrc's)."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class LavaSrcPlaylistInfo:
    """What LavaSrc adds to a playlist's ``pluginInfo``, typed. Each field is `None` when absent or unreadable."""

    kind: PlaylistKind | None = None
    """Playlist, album, artist or recommendations (`PlaylistKind.UNKNOWN` for a newer kind)."""
    url: str | None = None
    """The list's page."""
    artwork_url: str | None = None
    """Its cover."""
    author: str | None = None
    """Its author."""
    total_tracks: int | None = None
    """How many tracks it has in all (the load may return fewer)."""

    @classmethod
    def of(cls, playlist: Playlist) -> LavaSrcPlaylistInfo:
        """The LavaSrc fields of `playlist`."""
        return cls.from_plugin_info(playlist.plugin_info)

    @classmethod
    def from_plugin_info(cls, info: typing.Any) -> LavaSrcPlaylistInfo:
        """Read a ``pluginInfo`` object; never raises (a malformed field reads as unknown, with a warning)."""
        if not isinstance(info, typing.Mapping):
            return cls()
        what = "playlist"
        raw_kind = _opt(info, "type", str, what)
        kind = None
        if raw_kind is not None:
            try:
                kind = PlaylistKind(raw_kind.lower())
            except ValueError:
                kind = PlaylistKind.UNKNOWN
        return cls(
            kind=kind,
            url=_opt(info, "url", str, what),
            artwork_url=_opt(info, "artworkUrl", str, what),
            author=_opt(info, "author", str, what),
            total_tracks=_opt(info, "totalTracks", int, what),
        )


class LavaSrc:
    """LavaSrc for one client: ``client.plugins.lavasrc``."""

    __slots__ = ("_plugins",)

    def __init__(self, plugins: Plugins) -> None:
        self._plugins = plugins

    async def search(self, source: SearchSource | str, query: str, *, node: Node | str | None = None) -> LoadResult:
        """Search `query` on `source` (``GET /v4/loadtracks`` with its prefix) on `node` (default: the best node).

        Raises:
            ValueError: `query` is empty or `source` unknown (nothing is sent).
            PluginUnavailable: The source needs LavaSrc and the node does not have it (nothing is sent).
            NodeUnavailable: No node has a session now.
            RestError: The node refused the request.
        """
        identifier = search_query(source, query)
        chosen = _source(source)
        if chosen.needs_lavasrc:
            target = await self._plugins.node_with(PluginKind.LAVASRC, node)
        else:
            target = self._plugins.resolve(node)
        return await target.rest.load_tracks(identifier)

    @staticmethod
    def track_info(track: Track) -> LavaSrcTrackInfo:
        """`LavaSrcTrackInfo.of(track)`."""
        return LavaSrcTrackInfo.of(track)

    @staticmethod
    def playlist_info(playlist: Playlist) -> LavaSrcPlaylistInfo:
        """`LavaSrcPlaylistInfo.of(playlist)`."""
        return LavaSrcPlaylistInfo.of(playlist)
