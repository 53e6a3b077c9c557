"""The emulator's plugin routes (LavaSearch, LavaLyrics, SponsorBlock), answering as the plugins' sources do."""

from __future__ import annotations

import json
import typing

from aiohttp import web

from lightbulb_lavalink.testing.catalog import track_json
from lightbulb_lavalink.testing.plugins import PluginRequest, lyrics_json
from lightbulb_lavalink.testing.wire import HttpError, dumps, parse_long

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.testing.plugins import FakePlugins
    from lightbulb_lavalink.testing.server import FakeLavalink
    from lightbulb_lavalink.testing.session import FakeSession

__all__ = ["add_plugin_routes"]

_SEARCH_TYPES = ("track", "album", "artist", "playlist", "text")


def _json(payload: object) -> web.Response:
    return web.Response(text=dumps(payload), content_type="application/json")


def _flag(request: web.Request) -> bool:
    return request.query.get("skipTrackSource", "").lower() == "true"


class _PluginRoutes:
    def __init__(self, node: FakeLavalink, plugins: FakePlugins) -> None:
        self.node = node
        self.plugins = plugins

    def _record(self, request: web.Request, body: typing.Any = None) -> int | None:
        text = request.match_info.get("guild_id")
        guild = parse_long(text) if text is not None else None
        self.plugins.record(PluginRequest(method=request.method, path=request.path, guild_id=guild, body=body))
        return guild

    def _session(self, request: web.Request) -> FakeSession:
        session = self.node.connected_session(request.match_info["session_id"])
        if session is None:
            raise HttpError(404, "Session not found")
        return session

    def _guild(self, request: web.Request) -> int:
        guild = parse_long(request.match_info["guild_id"])
        if guild is None:
            raise HttpError(400, "Failed to convert value of type 'java.lang.String' to required type 'long'")
        return guild

    # --- LavaSearch --------------------------------------------------------------------------------------

    async def load_search(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        query = request.query.get("query")
        if query is None:
            raise HttpError(400, "Required request parameter 'query' for method parameter type String is not present")
        asked = [t.strip() for t in request.query.get("types", "").split(",") if t.strip()]
        types = [t for t in asked if t in _SEARCH_TYPES] or list(_SEARCH_TYPES)
        outcome = self.node.catalog.load(query)
        if outcome.load_type != "search" or not outcome.tracks:
            return web.Response(status=204)
        version = self.node.context.version
        first = outcome.tracks[0]
        base = first.info.uri or f"https://{first.info.source_name}.example"

        def listing(kind: str, name: str) -> dict[str, typing.Any]:
            info = {"type": kind, "url": f"{base}/{kind}", "artworkUrl": first.info.artwork_url,
                    "author": first.info.author, "totalTracks": len(outcome.tracks)}  # fmt: skip
            return {"info": {"name": name, "selectedTrack": -1}, "pluginInfo": info, "tracks": []}

        term = query.split(":", 1)[-1].strip()
        return _json(
            {
                "tracks": [track_json(t, version) for t in outcome.tracks] if "track" in types else [],
                "albums": [listing("album", f"{term} (Album)")] if "album" in types else [],
                "artists": [listing("artist", f"{first.info.author}'s Top Tracks")] if "artist" in types else [],
                "playlists": [listing("playlist", f"100% {term}")] if "playlist" in types else [],
                "texts": [{"text": term, "plugin": {}}] if "text" in types else [],
                "plugin": {},
            }
        )

    # --- LavaLyrics --------------------------------------------------------------------------------------

    async def track_lyrics(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        session = self._session(request)
        player = session.players.get(self._guild(request))
        if player is None:
            raise HttpError(404, "Player not found")
        track = player.track
        if track is None:
            raise HttpError(404, "No track playing")
        lines = self.plugins.lyrics_of(track)
        return web.Response(status=204) if not lines else _json(lyrics_json(track.info.source_name, lines))

    async def lyrics(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        encoded = request.query.get("track")
        if not encoded:
            raise HttpError(400, "Required request parameter 'track' for method parameter type String is not present")
        track = self.node.decode(encoded)
        lines = self.plugins.lyrics_of(track)
        return web.Response(status=204) if not lines else _json(lyrics_json(track.info.source_name, lines))

    async def subscribe(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        guild = self._guild(request)
        session = self.node.connected_session(request.match_info["session_id"])
        if session is None:
            return web.Response(status=204)  # LavaLyrics answers 204 for an unknown session
        session.plugins.lyrics[guild] = _flag(request)
        player = session.players.get(guild)
        if player is None:
            raise HttpError(404, "Player not found")  # subscribed all the same, as the plugin does
        track = player.track
        if track is not None:
            self.plugins.load_lyrics(player, track)
        return web.Response(status=204)

    async def unsubscribe(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        session = self.node.connected_session(request.match_info["session_id"])
        if session is not None:
            session.plugins.lyrics.pop(self._guild(request), None)
        return web.Response(status=204)

    # --- SponsorBlock ------------------------------------------------------------------------------------

    async def get_categories(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        session = self._session(request)
        categories = session.plugins.categories.get(self._guild(request))
        if categories is None:
            raise HttpError(404, "Guild not found")
        return _json(list(categories))

    async def put_categories(self, request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.text())
        except ValueError as exc:
            raise HttpError(400, f"Failed to read request: {exc}") from None
        self._record(request, body)
        if not isinstance(body, list) or not all(isinstance(c, str) for c in body):
            raise HttpError(400, "Failed to read request: expected an array of strings")
        session = self._session(request)
        session.plugins.categories[self._guild(request)] = tuple(dict.fromkeys(body))
        return web.Response(status=204)

    async def delete_categories(self, request: web.Request) -> web.StreamResponse:
        self._record(request)
        session = self.node.connected_session(request.match_info["session_id"])
        if session is not None:
            session.plugins.categories.pop(self._guild(request), None)
        return web.Response(status=204)


def add_plugin_routes(app: web.Application, node: FakeLavalink, plugins: FakePlugins) -> None:
    """Register the routes of the plugins `node` serves."""
    routes = _PluginRoutes(node, plugins)
    player = "/v4/sessions/{session_id}/players/{guild_id}"
    if "lavasearch" in plugins:
        app.router.add_get("/v4/loadsearch", routes.load_search)
    if "lavalyrics" in plugins:
        app.router.add_get(f"{player}/track/lyrics", routes.track_lyrics)
        app.router.add_get("/v4/lyrics", routes.lyrics)
        app.router.add_post(f"{player}/lyrics/subscribe", routes.subscribe)
        app.router.add_delete(f"{player}/lyrics/subscribe", routes.unsubscribe)
    if "sponsorblock" in plugins:
        app.router.add_get(f"{player}/sponsorblock/categories", routes.get_categories)
        app.router.add_put(f"{player}/sponsorblock/categories", routes.put_categories)
        app.router.add_delete(f"{player}/sponsorblock/categories", routes.delete_categories)
