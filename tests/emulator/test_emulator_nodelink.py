"""``FakeLavalink(flavour="nodelink")`` answers as NodeLink 3.7.0 did in the recordings (``../shared/transcripts``):
the shapes a client reads (keys, wrappers, messages, close codes), compared with what the real server sent."""

from __future__ import annotations

import string
import typing

import aiohttp
import pytest
from servers.transcripts import Transcript

from lightbulb_lavalink.testing import FakeLavalink, ManualClock

from .conftest import PASSWORD, START_MS, VOICE, Api, Connect, NodeFactory

GUILD = 1200000000000000001


def shape(value: typing.Any) -> typing.Any:
    """The keys of every object, recursively (lists by their first item): what a parser depends on."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__ if value is not None else None


@pytest.fixture
async def nodelink(make_node: NodeFactory) -> FakeLavalink:
    return await make_node(flavour="nodelink")


@pytest.fixture
def api_nl(nodelink: FakeLavalink, http: aiohttp.ClientSession) -> Api:
    return Api(nodelink, http)


async def session_of(connect: Connect, node: FakeLavalink) -> tuple[typing.Any, str]:
    sock = await connect(node)
    ready = await sock.recv()  # no stats op on connect
    assert ready["op"] == "ready" and not ready["resumed"]
    return sock, ready["sessionId"]


async def test_version_info_and_stats_are_nodelinks(nodelink: FakeLavalink, api_nl: Api) -> None:
    recorded = Transcript.load("02_rest_info_stats_session")
    assert nodelink.version == "3.7.0" and nodelink.flavour == "nodelink"
    status, text, response = await api_nl.call("GET", "/version")
    assert (status, text) == (200, "3.7.0")
    assert response.headers["Nodelink-Api-Version"] == "4" and response.headers["IamNodelink"] == "true"
    assert "Lavalink-Api-Version" not in response.headers
    _, info, _ = await api_nl.call("GET", "/v4/info")
    expected = recorded.exchange(route="/v4/info").response_body
    assert shape(info) == shape(expected) | {"sourceManagers": shape(info["sourceManagers"])}
    _, stats, _ = await api_nl.call("GET", "/v4/stats")
    assert set(stats) == set(recorded.exchange(route="/v4/stats").response_body)
    assert stats["frameStats"] is None and "nodelinkLoad" in stats["cpu"] and "lavalinkLoad" not in stats["cpu"]


async def test_the_stats_op_comes_an_interval_after_connecting_and_names_nodelink_load(
    nodelink: FakeLavalink, connect: Connect
) -> None:
    recorded = Transcript.load("01_websocket_ready_stats").frames("stats")[0]
    sock, session_id = await session_of(connect, nodelink)
    assert set(session_id) <= set(string.ascii_letters) and len(session_id) == 16
    assert "Session-Resumed" not in sock.headers
    clock = nodelink.clock
    assert isinstance(clock, ManualClock)
    clock.advance(nodelink.context.stats_interval)
    stats = await sock.recv()
    assert set(stats) == set(recorded) - {"frameStats"} | {"frameStats"} and set(stats["cpu"]) == set(recorded["cpu"])


async def test_a_player_is_reported_as_nodelink_reports_it(
    nodelink: FakeLavalink, api_nl: Api, connect: Connect
) -> None:
    lifecycle = Transcript.load("04_player_lifecycle")
    sock, session_id = await session_of(connect, nodelink)
    status, created = await api_nl.patch_player(session_id, GUILD, {})
    assert status == 200
    recorded_new = lifecycle.exchange("empty body on a guild without a player").response_body
    assert set(created) == set(recorded_new) and created["voice"] == recorded_new["voice"]  # nulls
    assert (await sock.recv())["type"] == "PlayerCreatedEvent"
    track = (await api_nl.load("nodelink-song"))["data"]
    await api_nl.patch_player(session_id, GUILD, {"voice": VOICE})
    body = {"track": {"encoded": track["encoded"]}, "filters": {"volume": 0.8, "timescale": {"speed": 1.1}}}
    status, playing = await api_nl.patch_player(session_id, GUILD, body)
    assert status == 200
    recorded = lifecycle.exchange("player with filters").response_body
    assert set(playing) == set(recorded)
    assert set(playing["filters"]) == {"filters"} and playing["filters"]["filters"]["volume"] == {}
    frames = [await sock.recv() for _ in range(8)]
    kinds = [f.get("type", f["op"]) for f in frames]
    assert kinds.index("FiltersChangedEvent") < kinds.index("TrackStartEvent")
    start = frames[kinds.index("TrackStartEvent")]
    assert "playingQuality" in start and "pluginInfo" not in start["track"]


async def test_errors_are_worded_as_nodelinks(nodelink: FakeLavalink, api_nl: Api, connect: Connect) -> None:
    errors = Transcript.load("09_errors")
    status, body, _ = await api_nl.call("GET", "/v4/info", auth="wrong")
    recorded = errors.exchange("wrong password", route="/v4/info")
    assert (status, body) == (recorded.status, recorded.response_body)
    status, body, _ = await api_nl.call("PATCH", "/v4/sessions/unknownsession00", body={"resuming": True})
    recorded = errors.exchange("unknown session", method="PATCH", route="/v4/sessions/unknownsession00")
    assert (status, body["message"]) == (404, recorded.response_body["message"])
    _, session_id = await session_of(connect, nodelink)
    status, player, _ = await api_nl.call("GET", f"/v4/sessions/{session_id}/players/{GUILD}")
    assert status == 200 and player["guildId"] == str(GUILD), "NodeLink creates the player it is asked for"


def recorded_load(load_type: str) -> typing.Any:
    for exchange in Transcript.load("03_loadtracks_decodetracks").exchanges:
        body = exchange.response_body
        if exchange.status == 200 and isinstance(body, dict) and body.get("loadType") == load_type:
            return body
    raise LookupError(load_type)


async def test_load_results_are_nodelinks(api_nl: Api) -> None:
    empty = await api_nl.load("nothing empty here")
    assert empty == recorded_load("empty") == {"loadType": "empty", "data": {}}
    error = await api_nl.load("an error please")
    assert shape(error) == shape(recorded_load("error"))


async def test_a_shutdown_closes_with_1000_server_shutdown(make_node: NodeFactory, connect: Connect) -> None:
    recorded = Transcript.load("10_server_shutdown").lines[-2]
    assert (recorded["close_code"], recorded["data"]) == (1000, "Server shutdown")
    node = await make_node(flavour="nodelink")
    sock, _ = await session_of(connect, node)
    await node.close()
    closed = await sock.recv_close()
    assert (closed.data, closed.extra) == (1000, "Server shutdown")


async def test_a_missing_client_name_is_refused(nodelink: FakeLavalink, connect: Connect) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect(nodelink, client_name=None)
    assert refused.value.status == 400


async def test_unknown_flavours_and_versions_are_settings_errors() -> None:
    from lightbulb_lavalink.errors import SettingsError

    with pytest.raises(SettingsError):
        FakeLavalink(flavour="java", clock=ManualClock(start_epoch_ms=START_MS), password=PASSWORD)
    with pytest.raises(SettingsError):
        FakeLavalink(version="3.7.0")  # Lavalink 3 speaks another protocol
