"""LavaSearch (topi314/LavaSearch): ``GET /v4/loadsearch`` for tracks, albums, artists, playlists and texts at once.

Wire format (the plugin's ``protocol/SearchItem.kt``): ``?query=...&types=track,album,artist,playlist,text`` answers
``{tracks: [Track], albums: [Playlist], artists: [Playlist], playlists: [Playlist], texts: [{text, plugin}],
plugin}`` (a playlist's ``tracks`` always empty), or 204 when nothing was found.
"""

from __future__ import annotations

import enum
import typing

import attrs

from lightbulb_lavalink.plugins.base import PluginKind, parse_list, plugin_object, read_object, read_str
from lightbulb_lavalink.protocol.tracks import Playlist, Track

if typing.TYPE_CHECKING:
    from collections.abc import Iterable

    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.plugins.access import Plugins

__all__ = ["LavaSearch", "SearchResult", "SearchText", "SearchType"]


class SearchType(enum.StrEnum):
    """What a LavaSearch search looks for."""

    TRACK = "track"
    ALBUM = "album"
    ARTIST = "artist"
    PLAYLIST = "playlist"
    TEXT = "text"


@attrs.frozen(kw_only=True, weakref_slot=False)
class SearchText:
    """A text result (a suggestion)."""

    text: str
    """The text."""
    plugin: typing.Mapping[str, typing.Any] = attrs.field(factory=dict, hash=False)
    """What other plugins added."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "text") -> SearchText:
        """Parse a wire text; raises `ProtocolError` naming the field."""
        d = read_object(data, where)
        return cls(text=typing.cast("str", read_str(d, "text", where)), plugin=plugin_object(d, "plugin"))


def _track(data: typing.Any, where: str) -> Track:
    return Track.from_payload(data, where)


def _playlist(data: typing.Any, where: str) -> Playlist:
    return Playlist.from_payload(data, where)


@attrs.frozen(kw_only=True, weakref_slot=False)
class SearchResult:
    """What a search found, by kind (a kind not asked for is empty). Albums, artists and playlists come without
    tracks: load one's URL (``plugin_info["url"]`` with LavaSrc) to get them."""

    tracks: tuple[Track, ...] = ()
    """Tracks."""
    albums: tuple[Playlist, ...] = ()
    """Albums."""
    artists: tuple[Playlist, ...] = ()
    """Artists (their top tracks, as a playlist)."""
    playlists: tuple[Playlist, ...] = ()
    """Playlists."""
    texts: tuple[SearchText, ...] = ()
    """Text suggestions."""
    plugin: typing.Mapping[str, typing.Any] = attrs.field(factory=dict, hash=False)
    """What other plugins added."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> SearchResult:
        """Parse the wire result; a missing list reads as empty, a malformed item is a `ProtocolError` naming it."""
        d = read_object(data, where or "<root>")

        def items(key: str, parse: typing.Callable[[typing.Any, str], typing.Any]) -> tuple[typing.Any, ...]:
            value = d.get(key)
            return () if value is None else parse_list(parse, value, f"{where}.{key}" if where else key)

        return cls(
            tracks=items("tracks", _track),
            albums=items("albums", _playlist),
            artists=items("artists", _playlist),
            playlists=items("playlists", _playlist),
            texts=items("texts", SearchText.from_payload),
            plugin=plugin_object(d, "plugin"),
        )

    @property
    def empty(self) -> bool:
        """Whether nothing was found."""
        return not (self.tracks or self.albums or self.artists or self.playlists or self.texts)


_ALL_TYPES: typing.Final = tuple(SearchType)


class LavaSearch:
    """LavaSearch for one client: ``client.plugins.lavasearch``."""

    __slots__ = ("_plugins",)

    def __init__(self, plugins: Plugins) -> None:
        self._plugins = plugins

    async def search(
        self,
        query: str,
        *,
        types: Iterable[SearchType | str] = _ALL_TYPES,
        node: Node | str | None = None,
    ) -> SearchResult:
        """Search `query` (with a source prefix such as ``spsearch:`` from `lightbulb_lavalink.plugins.search_query`)
        for the given kinds on `node` (default: the best node). Nothing found is an empty result, not an error.

        Raises:
            ValueError: `query` is empty, or no type is asked for (nothing is sent).
            PluginUnavailable: The node does not have the LavaSearch plugin (nothing is sent).
            NodeUnavailable: No node has a session now.
            ProtocolError: The answer cannot be read.
            RestError: The node refused the request.
        """
        if not isinstance(query, str) or not query.strip():
            raise ValueError("a search needs a query")
        kinds = [str(SearchType(t)) for t in types]
        if not kinds:
            raise ValueError("a search needs at least one type")
        target = await self._plugins.node_with(PluginKind.LAVASEARCH, node)
        data = await target.rest.request_json("GET", "/v4/loadsearch", query={"query": query, "types": ",".join(kinds)})
        return SearchResult() if data is None else SearchResult.from_payload(data)
