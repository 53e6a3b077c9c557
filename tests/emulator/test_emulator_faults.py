"""Fault injection on the REST API (`node.faults`), seen over real HTTP by raw aiohttp and the package's RestClient."""

from __future__ import annotations

import asyncio
import typing

import aiohttp
import pytest

from lightbulb_lavalink.errors import (
    NodeUnavailable,
    ProtocolError,
    RequestTimeoutError,
    RestError,
    SettingsError,
)
from lightbulb_lavalink.protocol.player import PlayerUpdate, TrackUpdate
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.testing import NGINX_502_PAGE, NODELINK_SESSION_NOT_FOUND, FakeLavalink

from .conftest import PASSWORD, Api, Connect, RawSocket, expect_marker, open_session

GUILD = 77
PLAYER = "/v4/sessions/*/players/*"


@pytest.fixture
async def session(node: FakeLavalink, connect: Connect) -> tuple[RawSocket, str]:
    return await open_session(connect, node)


@pytest.fixture
async def rest(node: FakeLavalink, http: aiohttp.ClientSession) -> typing.AsyncIterator[RestClient]:
    client = RestClient(node.url, PASSWORD, session=http)
    yield client
    await client.close()


def volume(value: int) -> PlayerUpdate:
    return PlayerUpdate(volume=value)


# --- what the client gets ----------------------------------------------------------------------------------


async def test_a_proxy_502_page_refuses_the_request_once(
    node: FakeLavalink, api: Api, rest: RestClient, session: tuple[RawSocket, str]
) -> None:
    _, session_id = session
    fault = node.faults.add("PATCH", PLAYER, status=502, body=NGINX_502_PAGE, content_type="text/html")
    status, body, response = await api.call("PATCH", f"/v4/sessions/{session_id}/players/{GUILD}", body={})
    assert (status, body, response.content_type) == (502, NGINX_502_PAGE, "text/html")
    assert node.players_of(session_id) == {}  # the node never saw the request
    assert not fault.active and fault.remaining == 0  # times=1 by default
    player = await rest.update_player(session_id, GUILD, volume(50))  # the next one goes through
    assert player.volume == 50
    node.faults.add("PATCH", PLAYER, status=502, body=NGINX_502_PAGE, content_type="text/html")
    with pytest.raises(RestError) as caught:
        await rest.update_player(session_id, GUILD, volume(60))
    assert (caught.value.status, caught.value.message) == (502, "Bad Gateway")
    assert node.players_of(session_id)[GUILD].volume == 50


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (429, "", "No message available"),
        (500, "Something broke", "Something broke"),
        (404, NODELINK_SESSION_NOT_FOUND, NODELINK_SESSION_NOT_FOUND),
    ],
    ids=["429", "500", "404 worded like NodeLink"],
)
async def test_a_status_with_a_lavalink_error_body(
    node: FakeLavalink,
    api: Api,
    rest: RestClient,
    session: tuple[RawSocket, str],
    status: int,
    message: str,
    expected: str,
) -> None:
    _, session_id = session
    fault = node.faults.add("GET", "/v4/sessions/*/players", status=status, message=message, times=2)
    path = f"/v4/sessions/{session_id}/players"
    got, body, response = await api.call("GET", path)
    assert (got, response.content_type) == (status, "application/json")
    assert list(body) == ["timestamp", "status", "error", "message", "path"]
    assert (body["status"], body["message"], body["path"]) == (status, expected, path)
    with pytest.raises(RestError) as caught:
        await rest.get_players(session_id)
    assert (caught.value.status, caught.value.message) == (status, expected)
    assert fault.remaining == 0 and len(fault.hits) == 2
    assert await rest.get_players(session_id) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("<html><body>Maintenance</body></html>", "text/html"), ("", None), ('{"foo": 1}', "application/json")],
    ids=["html", "empty", "wrong json"],
)
async def test_a_200_that_is_not_a_player_is_a_protocol_error(
    node: FakeLavalink, rest: RestClient, session: tuple[RawSocket, str], body: str, content_type: str | None
) -> None:
    _, session_id = session
    node.faults.add("PATCH", PLAYER, status=200, body=body, content_type=content_type)
    with pytest.raises(ProtocolError):
        await rest.update_player(session_id, GUILD, volume(5))
    assert node.players_of(session_id) == {}


# --- apply: did the node act? ------------------------------------------------------------------------------


@pytest.mark.parametrize("apply", [False, True])
async def test_apply_decides_whether_the_node_acted_before_the_failure(
    node: FakeLavalink, rest: RestClient, session: tuple[RawSocket, str], apply: bool
) -> None:
    sock, session_id = session
    blob = node.add_track(title="Song", identifier="song").encoded
    fault = node.faults.add("PATCH", PLAYER, status=504, apply=apply)
    with pytest.raises(RestError) as caught:
        await rest.update_player(session_id, GUILD, PlayerUpdate(track=TrackUpdate(encoded=blob), volume=30))
    assert caught.value.status == 504
    assert [hit.applied for hit in fault.hits] == [apply]
    if apply:  # a proxy timed out after the node started the track
        player = node.players_of(session_id)[GUILD]
        assert player.has_track and player.volume == 30
        assert (await sock.recv())["type"] == "TrackStartEvent"
    else:
        assert node.players_of(session_id) == {}
        await expect_marker(node, session_id, sock)


async def test_drop_connections_cuts_the_websocket_right_when_the_track_starts(
    node: FakeLavalink, rest: RestClient, session: tuple[RawSocket, str], connect: Connect
) -> None:
    sock, session_id = session
    await rest.update_session(session_id, resuming=True, timeout=60)
    blob = node.add_track(title="Song", identifier="song").encoded
    node.faults.add("PATCH", PLAYER, status=502, body=NGINX_502_PAGE, apply=True, drop_connections=True)
    with pytest.raises(RestError):
        await rest.update_player(session_id, GUILD, PlayerUpdate(track=TrackUpdate(encoded=blob)))
    closed = await sock.recv_close()
    assert closed.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)
    assert node.sessions[session_id].paused
    resumed = await connect(node, session_id=session_id)
    assert (await resumed.recv())["resumed"] is True
    player = await rest.get_player(session_id, GUILD)
    assert player.track is not None and player.track.info.identifier == "song"


# --- hang ----------------------------------------------------------------------------------------------------


async def test_a_hang_lets_the_client_time_out_and_close_cuts_it(
    node: FakeLavalink, http: aiohttp.ClientSession, session: tuple[RawSocket, str]
) -> None:
    _, session_id = session
    fault = node.faults.add("GET", "/v4/sessions/*/players", hang=True)
    impatient = RestClient(node.url, PASSWORD, session=http, timeout=0.3)
    request = asyncio.ensure_future(impatient.get_players(session_id))
    hit = await fault.wait(1)
    assert (hit.method, hit.path, hit.held) == ("GET", f"/v4/sessions/{session_id}/players", True)
    assert fault.held == 1
    with pytest.raises(RequestTimeoutError):
        await request
    patient = RestClient(node.url, PASSWORD, session=http, timeout=60)
    info = node.faults.add("GET", "/v4/info", hang=True)
    waiting = asyncio.ensure_future(patient.info())
    await info.wait(1)
    async with asyncio.timeout(5):  # a failsafe: close() must not wait for the held requests
        await node.close()
    with pytest.raises(NodeUnavailable):
        await waiting
    assert fault.held == 0 and info.held == 0


async def test_release_and_remove_answer_held_requests_with_the_fault(
    node: FakeLavalink, rest: RestClient, session: tuple[RawSocket, str]
) -> None:
    _, session_id = session
    fault = node.faults.add("PATCH", PLAYER, hang=True, apply=True, status=504, times=None)
    held = [asyncio.ensure_future(rest.update_player(session_id, guild, volume(5))) for guild in (1, 2)]
    await fault.wait(2)
    assert fault.held == 2
    assert {guild: p.volume for guild, p in node.players_of(session_id).items()} == {1: 5, 2: 5}  # applied
    fault.release()
    for request in held:
        with pytest.raises(RestError) as caught:
            await request
        assert caught.value.status == 504
    assert fault.active and fault.remaining is None  # releasing keeps the fault
    third = asyncio.ensure_future(rest.update_player(session_id, 3, volume(7)))
    await fault.wait(3)
    fault.remove()
    with pytest.raises(RestError):
        await third
    assert not fault.active and node.faults.active == ()
    assert (await rest.update_player(session_id, 3, volume(8))).volume == 8


# --- matching and counting -----------------------------------------------------------------------------------


async def test_times_counts_down_on_matching_requests_only(
    node: FakeLavalink, rest: RestClient, session: tuple[RawSocket, str]
) -> None:
    _, session_id = session
    fault = node.faults.add("patch", PLAYER, guild_id=1, status=500, times=2)
    assert (await rest.update_player(session_id, 2, volume(1))).volume == 1  # another guild
    assert await rest.get_players(session_id) != []  # another method and path
    for remaining in (1, 0):
        with pytest.raises(RestError):
            await rest.update_player(session_id, 1, volume(1))
        assert fault.remaining == remaining
    assert (await rest.update_player(session_id, 1, volume(9))).volume == 9
    assert [(hit.method, hit.guild_id) for hit in fault.hits] == [("PATCH", 1), ("PATCH", 1)]
    assert node.faults.hits == fault.hits


async def test_forever_until_removed(node: FakeLavalink, rest: RestClient, session: tuple[RawSocket, str]) -> None:
    _, session_id = session
    fault = node.faults.add("*", "/v4/**", status=503, times=None)
    for _ in range(3):
        with pytest.raises(RestError):
            await rest.info()
    with pytest.raises(RestError):
        await rest.update_player(session_id, GUILD, volume(1))
    assert len(fault.hits) == 4 and fault.active
    fault.remove()
    assert (await rest.info()).version.major == 4


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/v4/sessions/*", "/v4/sessions/abc", True),
        ("/v4/sessions/*", "/v4/sessions/abc/players", False),  # one * is one path segment
        ("/v4/sessions/**", "/v4/sessions/abc/players/1", True),
        ("/v4/sessions/*/players/*", "/v4/sessions/abc/players/1", True),
        ("/v4/info", "/v4/info/", False),
    ],
)
async def test_path_patterns(node: FakeLavalink, api: Api, pattern: str, path: str, matches: bool) -> None:
    fault = node.faults.add("*", pattern, status=418)
    status, _, _ = await api.call("GET", path)
    assert (status == 418) is matches
    assert len(fault.hits) == int(matches)


async def test_the_websocket_handshake_is_never_faulted(node: FakeLavalink, connect: Connect) -> None:
    fault = node.faults.add("*", "/v4/**", status=502, times=None)
    sock = await connect(node)
    assert (await sock.recv())["op"] == "ready"
    assert fault.hits == ()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"times": 0}, "times"),
        ({"status": 99}, "status"),
        ({"status": 600}, "status"),
        ({"body": "x", "message": "y"}, "message"),
        ({"path": "v4/info"}, "path"),
        ({"method": ""}, "method"),
    ],
)
async def test_bad_faults_are_refused(node: FakeLavalink, kwargs: dict[str, typing.Any], field: str) -> None:
    arguments: dict[str, typing.Any] = {"method": "GET", "path": "/v4/info", **kwargs}
    with pytest.raises(SettingsError) as caught:
        node.faults.add(arguments.pop("method"), arguments.pop("path"), **arguments)
    assert caught.value.field == field
    assert node.faults.active == ()
