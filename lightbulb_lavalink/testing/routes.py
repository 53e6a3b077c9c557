"""The emulator's REST endpoints (protocol §4.3), with Lavalink's validation order and messages."""

from __future__ import annotations

import json
import typing

import attrs
from aiohttp import web
from aiohttp.typedefs import Middleware

from lightbulb_lavalink.testing.catalog import track_json
from lightbulb_lavalink.testing.patch import PlayerPatch, decode_blob
from lightbulb_lavalink.testing.traffic import parse_body
from lightbulb_lavalink.testing.wire import (
    HttpError,
    dumps,
    error_response,
    parse_long,
    read_bool,
    read_int,
    read_object,
    read_str,
)

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.protocol.tracks import Track
    from lightbulb_lavalink.testing.server import FakeLavalink
    from lightbulb_lavalink.testing.session import FakeSession

__all__ = ["NODE_KEY", "add_routes", "api_version_header", "make_middleware"]

NODE_KEY: web.AppKey[FakeLavalink] = web.AppKey("fake_lavalink")
"""The emulator an app serves (for the response hooks)."""


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(status=status, text=dumps(payload), content_type="application/json")


async def _read_body(request: web.Request) -> object:
    if request.content_type != "application/json":
        raise HttpError(415, f"Content-Type '{request.content_type}' is not supported.")
    raw = await request.text()
    if not raw:
        raise HttpError(400, "Failed to read request: required request body is missing")
    try:
        return typing.cast("object", json.loads(raw))
    except ValueError as exc:
        raise HttpError(400, f"Failed to read request: {exc}") from None


def _guild_id(request: web.Request) -> int:
    text = request.match_info["guild_id"]
    guild_id = parse_long(text)
    if guild_id is not None:
        return guild_id
    raise HttpError(
        400,
        f"Failed to convert value of type 'java.lang.String' to required type 'long'; For input string: \"{text}\"",
    )


def _bool_param(request: web.Request, name: str) -> bool:
    value = request.query.get(name)
    if value is None or value == "":
        return False
    lowered = value.lower()
    if lowered in ("true", "on", "yes", "1"):
        return True
    if lowered in ("false", "off", "no", "0"):
        return False
    raise HttpError(
        400,
        "Failed to convert value of type 'java.lang.String' to required type 'boolean'; "
        f"Invalid boolean value [{value}]",
    )


class _Routes:
    def __init__(self, node: FakeLavalink) -> None:
        self.node = node

    def session(self, request: web.Request) -> FakeSession:
        session = self.node.connected_session(request.match_info["session_id"])
        if session is None:
            raise HttpError(404, self.node.context.version.session_not_found)
        return session

    def decode(self, encoded: str) -> Track:
        return decode_blob(encoded, self.node.catalog.sources)

    # --- tracks ------------------------------------------------------------------------------------------

    async def load_tracks(self, request: web.Request) -> web.Response:
        identifier = request.query.get("identifier")
        if identifier is None:
            raise HttpError(
                400, "Required request parameter 'identifier' for method parameter type String is not present"
            )
        return _json(self.node.catalog.load(identifier).to_json(self.node.context.version))

    async def decode_track(self, request: web.Request) -> web.Response:
        encoded = request.query.get("encodedTrack") or request.query.get("track")
        if not encoded:
            raise HttpError(400, "No track to decode provided")
        track = self.decode(encoded)
        return _json(track_json(_echo(track, encoded), self.node.context.version))

    async def decode_tracks(self, request: web.Request) -> web.Response:
        body = await _read_body(request)
        if not isinstance(body, list) or not all(isinstance(item, str) for item in body):
            raise HttpError(400, "Failed to read request: expected an array of strings")
        if not body:
            raise HttpError(400, "No tracks to decode provided")
        version = self.node.context.version
        return _json([track_json(_echo(self.decode(encoded), encoded), version) for encoded in body])

    # --- sessions and players ----------------------------------------------------------------------------

    async def update_session(self, request: web.Request) -> web.Response:
        body = read_object(await _read_body(request), "")
        resuming = read_bool(body["resuming"], "resuming") if "resuming" in body else None
        timeout = read_int(body["timeout"], "timeout") if "timeout" in body else None
        session = self.session(request)
        if resuming is not None:
            session.resuming = resuming
        if timeout is not None:
            session.timeout = timeout
        return _json({"resuming": session.resuming, "timeout": session.timeout})

    async def get_players(self, request: web.Request) -> web.Response:
        session = self.session(request)
        return _json([player.to_json() for player in session.players.values()])

    async def get_player(self, request: web.Request) -> web.Response:
        guild_id = _guild_id(request)
        session = self.session(request)
        player = session.players.get(guild_id)
        if player is None and self.node.context.version.nodelink:  # NodeLink creates it (transcript 09)
            player = session.get_or_create_player(guild_id)
        if player is None:
            raise HttpError(404, "Player not found")
        return _json(player.to_json())

    async def destroy_player(self, request: web.Request) -> web.Response:
        guild_id = _guild_id(request)
        self.session(request).destroy_player(guild_id)
        return web.Response(status=204)

    async def update_player(self, request: web.Request) -> web.Response:
        guild_id = _guild_id(request)
        body = read_object(await _read_body(request), "")
        no_replace = _bool_param(request, "noReplace")
        update = PlayerPatch.parse(body, channel_ids=self.node.context.version.channel_id)
        session = self.session(request)
        return _json(update.apply(self.node, session, guild_id, no_replace=no_replace))

    # --- node --------------------------------------------------------------------------------------------

    async def info(self, request: web.Request) -> web.Response:
        return _json(self.node.info_json())

    async def stats(self, request: web.Request) -> web.Response:
        return _json(self.node.stats_json(None))

    async def version(self, request: web.Request) -> web.Response:
        return web.Response(text=self.node.context.version.semver, content_type="text/plain")

    async def legacy(self, request: web.Request) -> web.Response:
        if not self.node.context.version.legacy_route_warnings:
            raise HttpError(404, "No message available")
        return web.Response(status=200)

    async def route_planner_status(self, request: web.Request) -> web.Response:
        planner = self.node.route_planner
        if planner is None:
            return web.Response(status=204)
        return _json(planner.status_json())

    async def free_address(self, request: web.Request) -> web.Response:
        body = read_object(await _read_body(request), "")
        address = read_str(body.get("address"), "address")
        planner = self.node.route_planner
        if planner is None:
            raise HttpError(500, "Can't access disabled route planner")
        planner.free(address)
        return web.Response(status=204)

    async def free_all(self, request: web.Request) -> web.Response:
        planner = self.node.route_planner
        if planner is None:
            raise HttpError(500, "Can't access disabled route planner")
        planner.free_all()
        return web.Response(status=204)


def _echo(track: Track, encoded: str) -> Track:
    """The decoded track as ``decodetrack`` returns it: the input blob echoed, no user data."""
    return attrs.evolve(track, encoded=encoded)


_Handler = typing.Callable[[web.Request], typing.Awaitable[web.StreamResponse]]


def make_middleware(node: FakeLavalink) -> Middleware:
    """The request pipeline: 404/405 before auth, REST auth (401 missing, 403 wrong), `HttpError` → JSON body.

    A fault of `node.faults` that matches the request comes first, as a proxy in front of the node would
    (it may still let the node act, then answers in its place). The websocket route does its own auth (401
    for both, protocol §2.1).
    """

    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if request.path == "/v4/websocket":  # logged as a handshake by the server
            return await dispatch(request, handler)
        index = node.traffic.record_request(request, parse_body(await request.read()))
        response = await dispatch(request, handler)
        node.traffic.record_status(index, response.status)
        return response

    async def dispatch(request: web.Request, handler: _Handler) -> web.StreamResponse:
        fault = node.faults.take(request)
        if fault is None:
            return await serve(request, handler)
        return await node.faults.fire(fault, request, lambda: serve(request, handler))

    async def serve(request: web.Request, handler: _Handler) -> web.StreamResponse:
        now_ms = node.context.clock.time_ms()
        http_exception = request.match_info.http_exception
        if http_exception is not None:
            if http_exception.status == 405:
                message = f"Request method '{request.method}' is not supported"
            else:
                message = f"No static resource {request.path.lstrip('/')}."
            return error_response(request, http_exception.status, message, now_ms=now_ms)
        if request.path != "/v4/websocket":
            authorization = request.headers.get("Authorization")
            if authorization != node.password and node.context.version.nodelink:  # 401 for both (transcript 09)
                return web.Response(status=401, text="Unauthorized", content_type="text/plain")
            if authorization is None:
                return web.Response(status=401)
            if authorization != node.password:
                return web.Response(status=403)
        try:
            return await handler(request)
        except HttpError as exc:
            return error_response(request, exc.status, exc.message, exception=exc.exception, now_ms=now_ms)

    return middleware


async def api_version_header(request: web.Request, response: web.StreamResponse) -> None:
    """Every response carries ``Lavalink-Api-Version: 4`` (upgrade and error responses included); NodeLink's say
    ``Nodelink-Api-Version: 4`` and ``IamNodelink: true``, except the 101."""
    node = request.app.get(NODE_KEY)
    if node is not None and node.context.version.nodelink:
        if response.status != 101:
            response.headers["Nodelink-Api-Version"] = "4"
            response.headers["IamNodelink"] = "true"
        return
    response.headers["Lavalink-Api-Version"] = "4"


def add_routes(app: web.Application, node: FakeLavalink) -> None:
    """Register every REST route of `node` on `app` (the websocket route is added by the server)."""
    app[NODE_KEY] = node
    routes = _Routes(node)
    app.router.add_get("/version", routes.version)
    app.router.add_get("/", routes.legacy)
    app.router.add_get("/v3/websocket", routes.legacy)
    app.router.add_get("/v4/loadtracks", routes.load_tracks)
    app.router.add_get("/v4/decodetrack", routes.decode_track)
    app.router.add_post("/v4/decodetracks", routes.decode_tracks)
    app.router.add_get("/v4/info", routes.info)
    app.router.add_get("/v4/stats", routes.stats)
    app.router.add_patch("/v4/sessions/{session_id}", routes.update_session)
    app.router.add_get("/v4/sessions/{session_id}/players", routes.get_players)
    app.router.add_get("/v4/sessions/{session_id}/players/{guild_id}", routes.get_player)
    app.router.add_patch("/v4/sessions/{session_id}/players/{guild_id}", routes.update_player)
    app.router.add_delete("/v4/sessions/{session_id}/players/{guild_id}", routes.destroy_player)
    app.router.add_get("/v4/routeplanner/status", routes.route_planner_status)
    app.router.add_post("/v4/routeplanner/free/address", routes.free_address)
    app.router.add_post("/v4/routeplanner/free/all", routes.free_all)
