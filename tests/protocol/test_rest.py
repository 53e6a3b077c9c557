"""The REST client: what it sends, how each error answer maps to an exception, and every endpoint on FakeLavalink."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import logging
import math
import socket
import types
import typing

import aiohttp
import pytest
from aiohttp import web

from lightbulb_lavalink.errors import (
    AuthenticationError,
    NodeUnavailable,
    PlayerNotFoundError,
    PlayerOrSessionNotFoundError,
    ProtocolError,
    RequestTimeoutError,
    RestError,
    SessionNotFoundError,
    SettingsError,
)
from lightbulb_lavalink.protocol.player import PlayerUpdate, TrackUpdate
from lightbulb_lavalink.protocol.rest import DEFAULT_CLIENT_NAME, RestClient
from lightbulb_lavalink.protocol.tracks import LoadType, Track
from lightbulb_lavalink.testing import FakeLavalink, ManualClock

from .helpers import BLOB, PASSWORD, free_port, serve_app


class OddNode:
    """A node that answers every request with what the test says, and records what it got."""

    def __init__(self) -> None:
        self.requests: list[dict[str, typing.Any]] = []
        self.answer: typing.Callable[[web.Request], typing.Awaitable[web.StreamResponse]] = self._ok
        self.release = asyncio.Event()
        self.url = ""

    @staticmethod
    async def _ok(request: web.Request) -> web.StreamResponse:
        return web.json_response({})

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            {
                "method": request.method,
                "raw_path": request.raw_path,
                "path": request.path,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "body": await request.read(),
            }
        )
        return await self.answer(request)


@contextlib.asynccontextmanager
async def serve(node: OddNode) -> typing.AsyncIterator[OddNode]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", node.handle)
    async with serve_app(app) as node.url:
        try:
            yield node
        finally:
            node.release.set()


@pytest.fixture
async def odd() -> typing.AsyncIterator[OddNode]:
    async with serve(OddNode()) as node:
        yield node


@pytest.fixture
async def rest(odd: OddNode) -> typing.AsyncIterator[RestClient]:
    client = RestClient(odd.url, PASSWORD, timeout=5)
    yield client
    await client.close()


def answer(status: int, body: bytes | str | None = None, content_type: str = "application/json") -> typing.Any:
    async def respond(request: web.Request) -> web.StreamResponse:
        if body is None:
            return web.Response(status=status)
        return web.Response(status=status, body=body if isinstance(body, bytes) else body.encode(),
                            content_type=content_type)

    return respond


def spring_error(status: int, error: str, message: str, path: str) -> str:
    return json.dumps(
        {"timestamp": 1667857581613, "status": status, "error": error, "message": message, "path": path}
    )


# ---------------------------------------------------------------------------------------------------- requests


async def test_requests_carry_the_password_and_json_bodies_their_content_type(
    odd: OddNode, rest: RestClient
) -> None:
    odd.answer = answer(204)
    await rest.free_address("1.0.0.1")
    await rest.destroy_player("abc", 42)
    post, delete = odd.requests
    assert post["headers"]["Authorization"] == PASSWORD
    assert post["headers"]["Content-Type"] == "application/json"
    assert json.loads(post["body"]) == {"address": "1.0.0.1"}
    assert post["headers"]["User-Agent"] == DEFAULT_CLIENT_NAME
    assert delete["method"] == "DELETE" and delete["path"] == "/v4/sessions/abc/players/42"
    assert delete["headers"]["Authorization"] == PASSWORD
    assert "Content-Type" not in delete["headers"] and delete["body"] == b""


async def test_identifiers_are_url_encoded(odd: OddNode, rest: RestClient) -> None:
    odd.answer = answer(200, '{"resuming":true,"timeout":60}')
    await rest.update_session("a/b+c", resuming=True)
    odd.answer = answer(500, spring_error(500, "Internal Server Error", "x", "/v4/decodetrack"))
    with pytest.raises(RestError):
        await rest.decode_track("QAAA+/=")
    with pytest.raises(RestError):
        await rest.load_tracks("ytsearch:a+b c&d=e?#")
    session, decode, load = odd.requests
    assert session["raw_path"] == "/v4/sessions/a%2Fb%2Bc"
    assert decode["raw_path"] == "/v4/decodetrack?encodedTrack=QAAA%2B%2F%3D"
    assert decode["query"] == {"encodedTrack": "QAAA+/="}
    assert load["query"] == {"identifier": "ytsearch:a+b c&d=e?#"}


async def test_update_session_sends_only_what_is_given(odd: OddNode, rest: RestClient) -> None:
    odd.answer = answer(200, '{"resuming":false,"timeout":90}')
    assert (await rest.update_session("abc", timeout=90)).timeout == 90
    await rest.update_session("abc", resuming=False)
    assert [json.loads(r["body"]) for r in odd.requests] == [{"timeout": 90}, {"resuming": False}]
    assert all(r["method"] == "PATCH" for r in odd.requests)


async def test_update_player_sends_strict_json_leaving_out_user_data_that_is_not_json(
    odd: OddNode, rest: RestClient, caplog: pytest.LogCaptureFixture
) -> None:
    # User data that got past Track's check (changed in place, read from a hand-edited store) must not cost the
    # track: Lavalink refuses a body with NaN (and Python cannot even write a datetime), so it is left out.
    track = {"encoded": BLOB, "info": Track(encoded=BLOB).info.to_payload(), "pluginInfo": {}, "userData": {}}
    player = {"guildId": "42", "track": track, "volume": 100, "paused": False, "filters": {},
              "state": {"time": 1, "position": 0, "connected": True, "ping": 0},
              "voice": {"token": "t", "endpoint": "e", "sessionId": "s"}}  # fmt: skip
    odd.answer = answer(200, json.dumps(player))
    user_data = {
        "requester": "42",
        "score": math.nan,
        "when": datetime.datetime(2024, 5, 1),
        "title": "broken \ud83d",
        "marks": [1, math.inf, 3],
    }
    with caplog.at_level(logging.WARNING, "lightbulb_lavalink.protocol.rest"):
        await rest.update_player("abc", 42, PlayerUpdate(track=TrackUpdate(encoded=BLOB, user_data=user_data)))
    (request,) = odd.requests
    body = json.loads(request["body"], parse_constant=_refuse_constant)  # strictly, as Lavalink reads it
    request["body"].decode("utf-8")
    assert body == {"track": {"encoded": BLOB, "userData": {"requester": "42", "marks": [1, None, 3]}}}
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "guild 42" in warning
    for path in ("['score']", "['when']", "['title']", "['marks'][1]"):
        assert path in warning
    await rest.update_player("abc", 42, PlayerUpdate(track=TrackUpdate(encoded=BLOB, user_data={"a": [1.5]})))
    assert json.loads(odd.requests[1]["body"])["track"]["userData"] == {"a": [1.5]}


def _refuse_constant(name: str) -> typing.NoReturn:
    raise ValueError(f"{name} is not JSON")


async def test_version_is_plain_text_and_an_empty_route_planner_is_none(odd: OddNode, rest: RestClient) -> None:
    odd.answer = answer(200, "4.0.8", content_type="text/plain")
    assert await rest.version() == "4.0.8"
    odd.answer = answer(204)
    assert await rest.routeplanner_status() is None
    await rest.free_all_addresses()
    assert [r["path"] for r in odd.requests] == ["/version", "/v4/routeplanner/status", "/v4/routeplanner/free/all"]


async def test_debug_log_names_each_request_and_never_the_password(
    odd: OddNode, rest: RestClient, caplog: pytest.LogCaptureFixture
) -> None:
    odd.answer = answer(403)
    with caplog.at_level(logging.DEBUG, logger="lightbulb_lavalink"), pytest.raises(AuthenticationError):
        await rest.free_all_addresses()
    odd.answer = answer(204)
    with caplog.at_level(logging.DEBUG, logger="lightbulb_lavalink"):
        await rest.free_address("9.9.9.9")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST /v4/routeplanner/free/all" in text and "POST /v4/routeplanner/free/address" in text
    assert PASSWORD not in text


# ---------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        (404, spring_error(404, "Not Found", "Session not found", "/v4/sessions/x/players/1"),
         PlayerOrSessionNotFoundError, "Session not found"),
        (404, spring_error(404, "Not Found", "Player not found", "/v4/sessions/x/players/1"),
         PlayerOrSessionNotFoundError, "Player not found"),
        (400, spring_error(400, "Bad Request", "End time must be greater than 0", "/v4/sessions/x/players/1"),
         RestError, "End time must be greater than 0"),
        (500, '{"status": 500, "message": 12, "weird": true}', RestError, "Internal Server Error"),
        (500, "[1, 2, 3]", RestError, "Internal Server Error"),
        (502, b"<html>Bad gateway</html>", RestError, "Bad Gateway"),
        (404, None, PlayerOrSessionNotFoundError, "Not Found"),
    ],
)
async def test_error_answers_map_to_errors(
    odd: OddNode,
    rest: RestClient,
    status: int,
    body: str | bytes | None,
    kind: type[RestError],
    message: str,
) -> None:
    odd.answer = answer(status, body)
    with pytest.raises(RestError) as raised:
        await rest.get_player("x", 1)
    error = raised.value
    assert type(error) is kind
    assert (error.status, error.message, error.path, error.method) == (status, message, "/v4/sessions/x/players/1",
                                                                        "GET")
    assert str(status) in str(error) and message in str(error)


@pytest.mark.parametrize(("status", "why"), [(401, "401 Unauthorized"), (403, "403 Forbidden")])
async def test_refused_password(odd: OddNode, rest: RestClient, status: int, why: str) -> None:
    odd.answer = answer(status)
    with pytest.raises(AuthenticationError) as raised:
        await rest.info()
    assert raised.value.status == status
    assert "refused the password" in str(raised.value) and why in str(raised.value)
    assert PASSWORD not in str(raised.value)


async def test_timeout(odd: OddNode) -> None:
    async def never(request: web.Request) -> web.StreamResponse:
        await odd.release.wait()
        return web.Response(status=204)

    odd.answer = never
    async with RestClient(odd.url, PASSWORD, timeout=0.2) as rest:
        with pytest.raises(RequestTimeoutError) as raised:
            await rest.stats()
    assert "/v4/stats" in str(raised.value) and odd.url in str(raised.value)
    assert isinstance(raised.value, TimeoutError)


async def test_connection_refused_names_the_address() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with RestClient(url, PASSWORD) as rest:
        with pytest.raises(NodeUnavailable) as raised:
            await rest.info()
    assert url in str(raised.value)


class _FailingResolver(aiohttp.abc.AbstractResolver):
    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[typing.Any]:
        raise OSError(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        pass


async def test_dns_failure_names_the_address() -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=_FailingResolver())) as http:
        rest = RestClient("http://lavalink.invalid:2333", PASSWORD, session=http)
        with pytest.raises(NodeUnavailable) as raised:
            await rest.version()
    assert "lavalink.invalid:2333" in str(raised.value)


@pytest.mark.parametrize("body", [b"{not json", b'{"loadType": ["bogus"], "data": null}', b"[]"])
async def test_malformed_success_payload_is_a_protocol_error(odd: OddNode, rest: RestClient, body: bytes) -> None:
    odd.answer = answer(200, body)
    with pytest.raises(ProtocolError):
        await rest.load_tracks("anything")


async def test_a_bad_item_in_a_list_is_named_by_its_index(odd: OddNode, rest: RestClient) -> None:
    odd.answer = answer(200, b'[{"encoded": "x"}, 5]')
    with pytest.raises(ProtocolError) as raised:
        await rest.decode_tracks(["a", "b"])
    assert raised.value.where.startswith("[0]")


_READABLE_PLAYER = {
    "guildId": "42", "track": None, "volume": 100, "paused": False, "filters": {},
    "state": {"time": 0, "position": 0, "connected": True, "ping": 1},
    "voice": {"token": "t", "endpoint": "e", "sessionId": "s"},
}  # fmt: skip


async def test_an_unreadable_player_costs_that_player_only(odd: OddNode, rest: RestClient) -> None:
    body = [_READABLE_PLAYER, {"guildId": "7", "track": {"encoded": 5}}, 5, {**_READABLE_PLAYER, "guildId": "43"}]
    odd.answer = answer(200, json.dumps(body).encode())
    listing = await rest.get_player_list("abc")
    assert [p.guild_id for p in listing.players] == [42, 43]
    assert [(u.index, u.guild_id) for u in listing.unreadable] == [(1, 7), (2, None)]
    assert "track" in listing.unreadable[0].reason
    assert [p.guild_id for p in await rest.get_players("abc")] == [42, 43]  # the readable ones, the others logged


async def test_a_player_list_that_is_not_a_list_is_a_protocol_error(odd: OddNode, rest: RestClient) -> None:
    odd.answer = answer(200, b'{"players": []}')
    with pytest.raises(ProtocolError):
        await rest.get_player_list("abc")


def test_bad_base_url_is_a_settings_error() -> None:
    with pytest.raises(SettingsError):
        RestClient("localhost:2333", PASSWORD)
    with pytest.raises(SettingsError):
        RestClient("http://localhost:2333", PASSWORD, timeout=0)


# ---------------------------------------------------------------------------------------------------- session ownership


async def test_a_session_passed_in_stays_open(odd: OddNode) -> None:
    async with aiohttp.ClientSession() as http:
        rest = RestClient(odd.url + "/", PASSWORD, session=http)
        assert rest.base_url == odd.url
        odd.answer = answer(200, "4.2.2", content_type="text/plain")
        assert await rest.version() == "4.2.2"
        await rest.close()
        assert not http.closed
        with pytest.raises(NodeUnavailable):
            await rest.version()


async def test_an_own_session_is_closed_with_the_client(odd: OddNode) -> None:
    rest = RestClient(odd.url, PASSWORD)
    odd.answer = answer(200, "4.2.2", content_type="text/plain")
    await rest.version()
    own = rest._session
    assert own is not None and not own.closed
    await rest.close()
    await rest.close()
    assert own.closed and rest.closed


# ---------------------------------------------------------------------------------------------------- FakeLavalink


@pytest.fixture
async def lavalink() -> typing.AsyncIterator[FakeLavalink]:
    async with FakeLavalink(password=PASSWORD, clock=ManualClock(), route_planner=True) as node:
        yield node


@pytest.fixture
async def node_rest(lavalink: FakeLavalink) -> typing.AsyncIterator[RestClient]:
    async with RestClient(lavalink.url, PASSWORD) as client:
        yield client


@contextlib.asynccontextmanager
async def connected_session(node: FakeLavalink) -> typing.AsyncIterator[str]:
    """A websocket session opened by hand (no `WebSocketSession`): yields its id while it stays connected."""
    headers = {"Authorization": node.password, "User-Id": "1", "Client-Name": "tests/1.0"}
    async with aiohttp.ClientSession() as http, http.ws_connect(node.url + "/v4/websocket", headers=headers) as ws:
        async for msg in ws:
            data = json.loads(msg.data)
            if data["op"] == "ready":
                yield data["sessionId"]
                return
    raise AssertionError("no ready")


@pytest.fixture
async def session_id(lavalink: FakeLavalink) -> typing.AsyncIterator[str]:
    async with connected_session(lavalink) as sid:
        yield sid


async def test_load_tracks_every_load_type(lavalink: FakeLavalink, node_rest: RestClient) -> None:
    added = lavalink.add_track(title="Exact Song", identifier="exact-song-1")
    exact = await node_rest.load_tracks("exact-song-1")
    assert exact.load_type is LoadType.TRACK
    assert [t.encoded for t in exact.tracks] == [added.encoded]
    assert exact.tracks[0].info.title == "Exact Song"

    search = await node_rest.load_tracks("ytsearch:never gonna + give")
    assert search.load_type is LoadType.SEARCH and search.tracks

    failed = await node_rest.load_tracks("this has an error in it")
    assert failed.load_type is LoadType.ERROR
    assert failed.error is not None and "unavailable" in (failed.error.message or "")

    nothing = await node_rest.load_tracks("empty please")
    assert nothing.load_type is LoadType.EMPTY and nothing.tracks == []


async def test_decode_track_and_tracks(lavalink: FakeLavalink, node_rest: RestClient) -> None:
    # titles of "~" (0x7E) make blobs with "+" in them, which must travel in the query string intact
    tracks = [lavalink.add_track(title="~" * (n + 3), identifier=f"song-{n}") for n in range(6)]
    plus = next(t for t in tracks if "+" in t.encoded)
    decoded = await node_rest.decode_track(plus.encoded)
    assert decoded.encoded == plus.encoded and decoded.info.title == plus.info.title

    many = await node_rest.decode_tracks([t.encoded for t in tracks[:3]])
    assert [t.info.identifier for t in many] == ["song-0", "song-1", "song-2"]
    assert await node_rest.decode_tracks([]) == []


async def test_player_lifecycle(lavalink: FakeLavalink, node_rest: RestClient, session_id: str) -> None:
    first = lavalink.add_track(title="First", identifier="first")
    second = lavalink.add_track(title="Second", identifier="second")
    guild = 987654321987654321

    user_data = types.MappingProxyType({"requester": "42"})  # read-only, as models hand it out
    player = await node_rest.update_player(
        session_id, guild, PlayerUpdate(track=TrackUpdate(encoded=first.encoded, user_data=user_data), volume=55)
    )
    assert player.guild_id == guild and player.volume == 55 and not player.paused
    assert player.track is not None and player.track.info.identifier == "first"
    assert dict(player.track.user_data) == {"requester": "42"}

    kept = await node_rest.update_player(
        session_id, guild, PlayerUpdate(track=TrackUpdate(encoded=second.encoded)), no_replace=True
    )
    assert kept.track is not None and kept.track.info.identifier == "first"
    replaced = await node_rest.update_player(session_id, guild, PlayerUpdate(track=TrackUpdate(identifier="second")))
    assert replaced.track is not None and replaced.track.info.identifier == "second"

    assert [p.guild_id for p in await node_rest.get_players(session_id)] == [guild]
    assert (await node_rest.get_player(session_id, guild)).track == replaced.track
    assert set(lavalink.players_of(session_id)) == {guild}

    await node_rest.destroy_player(session_id, guild)
    await node_rest.destroy_player(session_id, guild)  # idempotent, as on Lavalink
    with pytest.raises(PlayerNotFoundError) as raised:
        await node_rest.get_player(session_id, guild)
    assert raised.value.path == f"/v4/sessions/{session_id}/players/{guild}"
    assert await node_rest.get_players(session_id) == []


async def test_validation_error_carries_the_server_message(node_rest: RestClient, session_id: str) -> None:
    with pytest.raises(RestError) as raised:
        await node_rest.update_player(session_id, 1, PlayerUpdate(end_time=0))
    assert type(raised.value) is RestError
    assert raised.value.status == 400 and raised.value.method == "PATCH"
    assert raised.value.message == "End time must be greater than 0"


async def test_unknown_session(node_rest: RestClient) -> None:
    with pytest.raises(SessionNotFoundError):
        await node_rest.get_players("nosuchsession000")
    with pytest.raises(SessionNotFoundError):
        await node_rest.update_session("nosuchsession000", resuming=True)


async def test_update_session(lavalink: FakeLavalink, node_rest: RestClient, session_id: str) -> None:
    info = await node_rest.update_session(session_id, resuming=True, timeout=90)
    assert (info.resuming, info.timeout) == (True, 90)
    fake = lavalink.sessions[session_id]
    assert (fake.resuming, fake.timeout) == (True, 90)
    info = await node_rest.update_session(session_id, resuming=False)
    assert (info.resuming, info.timeout) == (False, 90)


async def test_node_endpoints(lavalink: FakeLavalink, node_rest: RestClient, session_id: str) -> None:
    info = await node_rest.info()
    assert info.version.semver == lavalink.version
    assert "volume" in info.filters
    assert await node_rest.version() == lavalink.version
    track = lavalink.add_track(title="Busy", identifier="busy")
    await node_rest.update_player(session_id, 5, PlayerUpdate(track=TrackUpdate(encoded=track.encoded)))
    stats = await node_rest.stats()
    assert (stats.players, stats.playing_players) == (1, 1)


async def test_route_planner(lavalink: FakeLavalink, node_rest: RestClient) -> None:
    status = await node_rest.routeplanner_status()
    assert status is not None and status.class_name
    assert await node_rest.free_address("1.0.0.1") is None
    assert await node_rest.free_all_addresses() is None


async def test_disabled_route_planner() -> None:
    async with FakeLavalink(password=PASSWORD) as node, RestClient(node.url, PASSWORD) as rest:
        assert await rest.routeplanner_status() is None
        with pytest.raises(RestError) as raised:
            await rest.free_all_addresses()
    assert raised.value.status == 500 and raised.value.method == "POST"


async def test_wrong_password_on_fake_lavalink(lavalink: FakeLavalink) -> None:
    async with RestClient(lavalink.url, "not-the-password") as rest:
        with pytest.raises(AuthenticationError) as raised:
            await rest.info()
    assert raised.value.status == 403
    assert "not-the-password" not in str(raised.value)
