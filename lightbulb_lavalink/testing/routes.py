"""The emulator's REST endpoints (protocol §4.3), with Lavalink's validation order and messages."""

from __future__ import annotations

import json
import re
import typing

import attrs
from aiohttp import web

from lightbulb_lavalink.errors import TrackDecodeError
from lightbulb_lavalink.protocol.codec import decode_track
from lightbulb_lavalink.testing.catalog import track_json
from lightbulb_lavalink.testing.filters import FilterSet, parse_filters
from lightbulb_lavalink.testing.player import FakeVoice
from lightbulb_lavalink.testing.wire import (
    HttpError,
    dumps,
    read_bool,
    read_int,
    read_object,
    read_str,
)

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.protocol.tracks import Track
    from lightbulb_lavalink.testing.server import FakeLavalink
    from lightbulb_lavalink.testing.session import FakeSession

__all__ = ["add_routes"]

_DECODE_FAILED = "Failed to decode track due to a mismatching version or missing source manager"
_LONG = re.compile(r"^[+-]?\d{1,19}$")
_FRIENDLY = "com.sedmelluq.discord.lavaplayer.tools.FriendlyException"
_UNSET: typing.Any = object()


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
    if _LONG.match(text) is not None and -(2**63) <= int(text) < 2**63:
        return int(text)
    raise HttpError(
        400,
        f"Failed to convert value of type 'java.lang.String' to required type 'long'; "
        f'For input string: "{text}"',
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
            raise HttpError(404, "Session not found")
        return session

    def decode(self, encoded: str) -> Track:
        try:
            track = decode_track(encoded)
        except TrackDecodeError as exc:
            raise HttpError(500, str(exc), exception="java.lang.IllegalArgumentException") from None
        if track.info.source_name not in self.node.catalog.sources:
            raise HttpError(500, _DECODE_FAILED, exception=_FRIENDLY)
        return track

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
        update = _PlayerUpdate.parse(body, self.node)
        session = self.session(request)
        return _json(update.apply(self, session, guild_id, no_replace=no_replace))

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


class _PlayerUpdate:
    """A parsed PlayerUpdate body (deserialization errors are 400 before anything else happens)."""

    def __init__(self) -> None:
        self.has_track_object = False
        self.has_top_level_track = False
        self.encoded: typing.Any = _UNSET
        self.identifier: typing.Any = _UNSET
        self.user_data: typing.Any = _UNSET
        self.position: int | None = None
        self.end_time: typing.Any = _UNSET
        self.volume: int | None = None
        self.paused: bool | None = None
        self.filters: FilterSet | None = None
        self.voice: dict[str, typing.Any] | None = None

    @classmethod
    def parse(cls, body: dict[str, typing.Any], node: FakeLavalink) -> _PlayerUpdate:
        update = cls()
        if "track" in body:
            update.has_track_object = True
            track = read_object(body["track"], "track")
            if "encoded" in track:
                enc = track["encoded"]
                update.encoded = None if enc is None else read_str(enc, "track.encoded")
            if "identifier" in track:
                update.identifier = read_str(track["identifier"], "track.identifier")
            if "userData" in track:
                update.user_data = read_object(track["userData"], "track.userData")
        if "encodedTrack" in body:
            update.has_top_level_track = True
            enc = body["encodedTrack"]
            update.encoded = None if enc is None else read_str(enc, "encodedTrack")
        if "identifier" in body:
            update.has_top_level_track = True
            update.identifier = read_str(body["identifier"], "identifier")
        if "position" in body:
            update.position = read_int(body["position"], "position")
        if "endTime" in body:
            end = body["endTime"]
            update.end_time = None if end is None else read_int(end, "endTime")
        if "volume" in body:
            update.volume = read_int(body["volume"], "volume", bits=32)
        if "paused" in body:
            update.paused = read_bool(body["paused"], "paused")
        if "filters" in body:
            update.filters = parse_filters(body["filters"])
        if "voice" in body:
            voice = read_object(body["voice"], "voice")
            fields = ["token", "endpoint", "sessionId"]
            parsed: dict[str, typing.Any] = {}
            for name in fields:
                if name not in voice:
                    raise HttpError(400, f"Failed to read request: missing field '{name}' at 'voice'")
                parsed[name] = read_str(voice[name], f"voice.{name}")
            if node.context.version.channel_id:
                if "channelId" not in voice:
                    raise HttpError(400, "Failed to read request: missing field 'channelId' at 'voice'")
                channel = voice["channelId"]
                parsed["channelId"] = None if channel is None else read_str(channel, "voice.channelId")
            update.voice = parsed
        return update

    def apply(
        self, routes: _Routes, session: FakeSession, guild_id: int, *, no_replace: bool
    ) -> dict[str, typing.Any]:
        node = routes.node
        version = node.context.version
        # 2. track sources
        if self.has_track_object and self.has_top_level_track:
            raise HttpError(400, "Cannot specify both track and encodedTrack/identifier")
        if self.encoded is not _UNSET and self.identifier is not _UNSET:
            raise HttpError(400, "Cannot specify both encodedTrack and identifier")
        new_track = self.encoded is not _UNSET or self.identifier is not _UNSET
        # 3. disabled filters
        if self.filters is not None:
            disabled = [name for name in self.filters.present if name in node.disabled_filters]
            if disabled:
                raise HttpError(400, f"Following filters are disabled in the config: {', '.join(disabled)}")
        # 4. voice
        voice: FakeVoice | None = None
        if self.voice is not None:
            voice = _validate_voice(self.voice, channel_ids=version.channel_id)
        # 5. end time
        if self.end_time is not _UNSET and self.end_time is not None and self.end_time <= 0:
            raise HttpError(400, "End time must be greater than 0")
        # 6. player
        player = session.get_or_create_player(guild_id)
        # 7. voice connection
        if voice is not None:
            if voice.channel_id is not None and not voice.channel_id.lstrip("-").isdigit():
                raise HttpError(
                    500,
                    f'For input string: "{voice.channel_id}"',
                    exception="java.lang.NumberFormatException",
                )
            player.connect_voice(voice)
        # 8. pause and user data of the current track
        if not new_track:
            if self.paused is not None:
                player.set_paused(self.paused)
            if self.user_data is not _UNSET:
                player.set_user_data(self.user_data)
        # 9. volume
        if self.volume is not None:
            player.set_volume(self.volume)
        # 10. seek
        if not new_track and self.position is not None and player.track is not None:
            player.seek(self.position)
        # 11. end marker
        if not new_track and self.end_time is not _UNSET and self.end_time is not None:
            player.set_end_time(self.end_time)
        # 12. filters
        if self.filters is not None:
            self.filters.check_bands()
            player.set_filters(self.filters)
        # 13. new track
        if new_track:
            if no_replace and player.track is not None:
                return player.to_json()
            player.set_paused(self.paused if self.paused is not None else False)
            if self.encoded is None:
                player.stop()
            else:
                track = routes.decode(self.encoded) if self.encoded is not _UNSET else self._load(node)
                track = track.with_user_data(self.user_data if self.user_data is not _UNSET else {})
                end = self.end_time if self.end_time is not _UNSET else None
                player.play(track, position=self.position, end_time=end)
        return player.to_json()

    def _load(self, node: FakeLavalink) -> Track:
        outcome = node.catalog.load(self.identifier)
        status = node.context.version.identifier_error_status
        if outcome.load_type == "track":
            return outcome.tracks[0]
        if outcome.load_type == "empty":
            raise HttpError(status, "No matches found for identifier")
        if outcome.load_type == "error":
            raise HttpError(status, outcome.message)
        raise HttpError(status, "Cannot play a playlist or search result")


def _validate_voice(voice: dict[str, typing.Any], *, channel_ids: bool) -> FakeVoice:
    token, endpoint, session_id = voice["token"], voice["endpoint"], voice["sessionId"]
    if channel_ids:
        channel = voice["channelId"]
        blank = any(not value.strip() for value in (token, endpoint, session_id))
        if blank or channel is None or not channel.strip():
            raise HttpError(400, "token, endpoint, sessionId and channelId must be provided in voice state")
        return FakeVoice(token=token, endpoint=endpoint, session_id=session_id, channel_id=channel)
    if not token or not endpoint or not session_id:
        raise HttpError(
            400,
            f"Partial Lavalink voice state: "
            f"VoiceState(token={token}, endpoint={endpoint}, sessionId={session_id})",
        )
    return FakeVoice(token=token, endpoint=endpoint, session_id=session_id)


def add_routes(app: web.Application, node: FakeLavalink) -> None:
    """Register every REST route of `node` on `app` (the websocket route is added by the server)."""
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
