"""REST endpoints outside players: auth, errors, track loading/decoding, info, stats, route planner (§4)."""

from __future__ import annotations

import aiohttp
import pytest

from lightbulb_lavalink.protocol.codec import decode_track, encode_track
from lightbulb_lavalink.protocol.tracks import TrackInfo
from lightbulb_lavalink.testing import FakeLavalink, ManualClock

from .conftest import START_MS, Api, Connect, NodeFactory, open_session, wait_until

ROUTES = [
    ("GET", "/version"),
    ("GET", "/v4/info"),
    ("GET", "/v4/stats"),
    ("GET", "/v4/loadtracks?identifier=x"),
    ("GET", "/v4/decodetrack?encodedTrack=x"),
    ("POST", "/v4/decodetracks"),
    ("PATCH", "/v4/sessions/abc"),
    ("GET", "/v4/sessions/abc/players"),
    ("GET", "/v4/sessions/abc/players/1"),
    ("PATCH", "/v4/sessions/abc/players/1"),
    ("DELETE", "/v4/sessions/abc/players/1"),
    ("GET", "/v4/routeplanner/status"),
    ("POST", "/v4/routeplanner/free/all"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_rest_auth_missing_is_401_wrong_is_403_with_empty_bodies(api: Api, method: str, path: str) -> None:
    status, body, response = await api.call(method, path, auth=None)
    assert (status, body) == (401, "")
    assert response.headers["Lavalink-Api-Version"] == "4"
    status, body, _ = await api.call(method, path, auth="wrong")
    assert (status, body) == (403, "")


async def test_error_body_shape_and_key_order(api: Api) -> None:
    status, body, response = await api.call("GET", "/v4/sessions/nosuchsession0000/players")
    assert status == 404
    assert response.headers["Lavalink-Api-Version"] == "4"
    assert body == {
        "timestamp": START_MS,
        "status": 404,
        "error": "Not Found",
        "message": "Session not found",
        "path": "/v4/sessions/nosuchsession0000/players",
    }
    assert list(body) == ["timestamp", "status", "error", "message", "path"]


@pytest.mark.parametrize(("value", "has_trace"), [("true", True), ("yes", True), ("", True), ("false", False)])
async def test_trace_only_when_requested(api: Api, value: str, has_trace: bool) -> None:
    status, body, _ = await api.call("GET", "/v4/sessions/x/players", params={"trace": value})
    assert status == 404
    assert ("trace" in body) is has_trace
    if has_trace:
        assert list(body) == ["timestamp", "status", "error", "trace", "message", "path"]
        assert "\tat " in body["trace"]
    assert body["path"] == "/v4/sessions/x/players"


@pytest.mark.parametrize("path", ["/v4/nothing", "/v4/info/", "/v3/info", "/info"])
async def test_unknown_paths_404_without_auth(api: Api, path: str) -> None:
    status, body, response = await api.call("GET", path, auth=None)
    assert status == 404
    assert body["status"] == 404 and body["path"] == path
    assert response.headers["Lavalink-Api-Version"] == "4"


async def test_wrong_method_is_405(api: Api) -> None:
    status, body, response = await api.call("PUT", "/v4/info")
    assert (status, body["error"]) == (405, "Method Not Allowed")
    assert response.headers["Lavalink-Api-Version"] == "4"


async def test_version_is_plain_text(make_node: NodeFactory, http: aiohttp.ClientSession) -> None:
    node = await make_node(version="4.0.8")
    status, body, response = await Api(node, http).call("GET", "/version")
    assert (status, body) == (200, "4.0.8")
    assert response.content_type == "text/plain"


@pytest.mark.parametrize(
    ("version", "semver"),
    [("4.2.2", (4, 2, 2, "")), ("4.1.0-rc1", (4, 1, 0, "rc1")), ("4.0.0", (4, 0, 0, ""))],
)
async def test_info(
    make_node: NodeFactory, http: aiohttp.ClientSession, version: str, semver: tuple[object, ...]
) -> None:
    node = await make_node(version=version, disabled_filters=["karaoke"])
    status, info, _ = await Api(node, http).call("GET", "/v4/info")
    assert status == 200
    assert list(info) == [
        "version",
        "buildTime",
        "git",
        "jvm",
        "lavaplayer",
        "sourceManagers",
        "filters",
        "plugins",
    ]
    v = info["version"]
    assert (v["major"], v["minor"], v["patch"], v["preRelease"]) == semver
    assert v["semver"] == version
    assert "build" not in v
    assert info["filters"] == [  # karaoke disabled
        "volume", "equalizer", "timescale", "tremolo", "vibrato", "distortion", "rotation", "channelMix", "lowPass",
    ]  # fmt: skip
    assert "youtube" in info["sourceManagers"] and "http" in info["sourceManagers"]
    assert info["plugins"] == []


async def test_legacy_root_route_answers_200_empty(api: Api) -> None:
    assert (await api.call("GET", "/"))[:2] == (200, "")
    assert (await api.call("GET", "/", auth=None))[:2] == (401, "")


# --- stats --------------------------------------------------------------------------------------------


async def test_rest_stats_have_no_op_and_no_frame_stats_by_default(api: Api) -> None:
    status, stats, _ = await api.call("GET", "/v4/stats")
    assert status == 200
    assert list(stats) == ["players", "playingPlayers", "uptime", "memory", "cpu"]


async def test_rest_stats_can_write_frame_stats_null(make_node: NodeFactory, http: aiohttp.ClientSession) -> None:
    node = await make_node(rest_frame_stats_null=True)
    _, stats, _ = await Api(node, http).call("GET", "/v4/stats")
    assert next(iter(stats)) == "frameStats" and stats["frameStats"] is None


async def test_stats_count_players_of_connected_sessions_only(
    node: FakeLavalink, api: Api, connect: Connect, clock: ManualClock
) -> None:
    _, first = await open_session(connect, node)
    sock2, second = await open_session(connect, node)
    track = (await api.load("ytsearch:counted"))["data"][0]["encoded"]
    await api.patch_player(first, 1, {"track": {"encoded": track}})
    await api.patch_player(first, 2, {"track": {"encoded": track}, "paused": True})
    await api.patch_player(second, 3, {})
    await api.enable_resuming(second)
    clock.advance(45)
    _, stats, _ = await api.call("GET", "/v4/stats")
    assert (stats["players"], stats["playingPlayers"], stats["uptime"]) == (3, 1, 45_000)
    await sock2.ws.close()
    await sock2.recv_close()
    await wait_until(lambda: node.sessions[second].paused)
    _, stats, _ = await api.call("GET", "/v4/stats")
    assert (stats["players"], stats["playingPlayers"]) == (2, 1)


async def test_frame_stats_appear_once_a_player_played_through_a_full_minute(
    make_node: NodeFactory, api: Api, connect: Connect
) -> None:
    clock = ManualClock(start_epoch_ms=START_MS - START_MS % 60_000)  # start on a minute boundary
    node = await make_node(clock=clock)
    api = Api(node, api.http)
    sock, session_id = await open_session(connect, node)
    identifier = node.add_track(title="long", length=3_600_000, identifier="long-one").encoded
    clock.advance(1)
    await api.patch_player(session_id, 1, {"track": {"encoded": identifier}})
    clock.advance(59)
    while (message := await sock.recv())["op"] != "stats":
        pass
    assert message["frameStats"] is None  # playing for one minute: the previous minute is not covered yet
    clock.advance(60)
    while (message := await sock.recv())["op"] != "stats":
        pass
    assert message["frameStats"] == {"sent": 3000, "nulled": 0, "deficit": 0}


# --- track loading ------------------------------------------------------------------------------------


async def test_loadtracks_requires_identifier(api: Api) -> None:
    status, body, _ = await api.call("GET", "/v4/loadtracks")
    assert status == 400 and "identifier" in body["message"]


@pytest.mark.parametrize(
    ("identifier", "load_type"),
    [
        ("dQw4w9WgXcQ", "track"),
        ("https://example.com/song.mp3", "track"),
        ("ytsearch:never gonna", "search"),
        ("ytmsearch:never gonna", "search"),
        ("scsearch:lofi", "search"),
        ("https://www.youtube.com/playlist?list=PL123", "playlist"),
        ("https://www.youtube.com/watch?v=abc&list=PL9", "playlist"),
        ("an error please", "error"),
        ("https://example.com/empty.mp3", "empty"),
        ("spsearch:something", "empty"),
    ],
)
async def test_loadtracks_always_200_with_five_load_types(api: Api, identifier: str, load_type: str) -> None:
    status, result, _ = await api.call("GET", "/v4/loadtracks", params={"identifier": identifier})
    assert status == 200
    assert list(result) == ["loadType", "data"]
    assert result["loadType"] == load_type
    if load_type == "empty":
        assert result["data"] is None
    elif load_type == "search":
        assert len(result["data"]) == 5
    elif load_type == "playlist":
        assert list(result["data"]) == ["info", "pluginInfo", "tracks"]
        assert result["data"]["info"]["selectedTrack"] == -1
        assert len(result["data"]["tracks"]) >= 4


async def test_loaded_track_json_shape_matches_its_blob(api: Api) -> None:
    result = await api.load("https://example.com/music/My%20Song.mp3")
    track = result["data"]
    assert list(track) == ["encoded", "info", "pluginInfo", "userData"]
    assert track["pluginInfo"] == {} and track["userData"] == {}
    info = track["info"]
    assert list(info) == [
        "identifier", "isSeekable", "author", "length", "isStream", "position", "title", "uri", "sourceName",
        "artworkUrl", "isrc",
    ]  # fmt: skip
    assert info["isrc"] is None and info["artworkUrl"] is None
    assert info["title"] == "My Song" and info["sourceName"] == "http"
    decoded = decode_track(track["encoded"])
    assert decoded.info.version == 3
    assert decoded.info.source_extra == b"\x00\x03mp3"
    assert decoded.info.to_payload() == info


async def test_error_result_has_cause_stack_trace_from_4_1(make_node: NodeFactory, http: aiohttp.ClientSession) -> None:
    for version, expected in (("4.0.8", False), ("4.1.0", True)):
        node = await make_node(version=version)
        data = (await Api(node, http).load("error-me"))["data"]
        assert data["severity"] == "common"
        assert data["cause"].startswith("com.sedmelluq.discord.lavaplayer.tools.FriendlyException: ")
        assert ("causeStackTrace" in data) is expected
        assert list(data)[:3] == ["message", "severity", "cause"]


async def test_4_0_1_omits_empty_plugin_info_and_user_data(make_node: NodeFactory, http: aiohttp.ClientSession) -> None:
    node = await make_node(version="4.0.1")
    track = (await Api(node, http).load("abc"))["data"]
    assert "pluginInfo" not in track and "userData" not in track


# --- decoding -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("param", ["encodedTrack", "track"])
async def test_decodetrack_echoes_the_input_blob(api: Api, param: str) -> None:
    v2 = (
        "QAAAjQIAJVJpY2sgQXN0bGV5IC0gTmV2ZXIgR29ubmEgR2l2ZSBZb3UgVXAADlJpY2tBc3RsZXlWRVZPAAAAAAADPCAAC2RRdzR3OVdnWGNR"
        "AAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9ZFF3NHc5V2dYY1EAB3lvdXR1YmUAAAAAAAAAAA=="
    )
    status, track, _ = await api.call("GET", "/v4/decodetrack", params={param: v2})
    assert status == 200
    assert track["encoded"] == v2
    assert track["info"]["title"] == "Rick Astley - Never Gonna Give You Up"
    assert track["info"]["artworkUrl"] is None and track["userData"] == {}


async def test_decodetrack_errors(api: Api) -> None:
    status, body, _ = await api.call("GET", "/v4/decodetrack")
    assert (status, body["message"]) == (400, "No track to decode provided")
    status, body, _ = await api.call("GET", "/v4/decodetrack", params={"encodedTrack": "!!!not base64"})
    assert status == 500
    unknown = encode_track(TrackInfo(identifier="x", author="a", length=1000, title="t", source_name="nosuchsource"))
    status, body, _ = await api.call("GET", "/v4/decodetrack", params={"encodedTrack": unknown})
    assert status == 500
    assert body["message"] == "Failed to decode track due to a mismatching version or missing source manager"


async def test_decodetracks(api: Api) -> None:
    blobs = [t["encoded"] for t in (await api.load("scsearch:x"))["data"]]
    status, tracks, _ = await api.call("POST", "/v4/decodetracks", body=blobs)
    assert status == 200
    assert [t["encoded"] for t in tracks] == blobs
    status, body, _ = await api.call("POST", "/v4/decodetracks", body=[])
    assert (status, body["message"]) == (400, "No tracks to decode provided")
    status, body, _ = await api.call("POST", "/v4/decodetracks", body={"tracks": blobs})
    assert status == 400


async def test_json_body_needs_json_content_type(api: Api) -> None:
    async with api.http.post(
        api.node.url + "/v4/decodetracks",
        data="[]",
        headers={"Authorization": "pw", "Content-Type": "text/plain"},
    ) as response:
        assert response.status == 415


# --- sessions -----------------------------------------------------------------------------------------


async def test_session_patch_updates_present_fields_only(node: FakeLavalink, api: Api, connect: Connect) -> None:
    _, session_id = await open_session(connect, node)
    path = f"/v4/sessions/{session_id}"
    assert (await api.call("PATCH", path, body={}))[:2] == (200, {"resuming": False, "timeout": 60})
    assert (await api.call("PATCH", path, body={"resuming": True}))[:2] == (
        200,
        {"resuming": True, "timeout": 60},
    )
    assert (await api.call("PATCH", path, body={"timeout": -5, "resumingKey": "x"}))[:2] == (
        200,
        {"resuming": True, "timeout": -5},
    )
    assert (await api.call("PATCH", path, body={"timeout": None}))[0] == 400
    assert (await api.call("PATCH", path, body={"resuming": "yes"}))[0] == 400
    assert (await api.call("PATCH", path, body={"timeout": 1.5}))[0] == 400
    assert node.sessions[session_id].timeout == -5
    status, body, _ = await api.call("PATCH", "/v4/sessions/unknown", body={"resuming": True})
    assert (status, body["message"]) == (404, "Session not found")


# --- route planner ------------------------------------------------------------------------------------


async def test_route_planner_disabled(api: Api) -> None:
    status, body, _ = await api.call("GET", "/v4/routeplanner/status")
    assert (status, body) == (204, "")
    status, body, _ = await api.call("POST", "/v4/routeplanner/free/all")
    assert (status, body["message"]) == (500, "Can't access disabled route planner")
    status, body, _ = await api.call("POST", "/v4/routeplanner/free/address", body={"address": "1.0.0.1"})
    assert (status, body["message"]) == (500, "Can't access disabled route planner")


async def test_route_planner_enabled(make_node: NodeFactory, http: aiohttp.ClientSession) -> None:
    node = await make_node(route_planner=True)
    api = Api(node, http)
    assert node.route_planner is not None
    node.route_planner.mark_failing("2001:db8::5", at_ms=START_MS)
    status, body, _ = await api.call("GET", "/v4/routeplanner/status")
    assert status == 200 and body["class"] == "RotatingIpRoutePlanner"
    assert body["details"]["failingAddresses"][0]["failingAddress"] == "2001:db8::5"
    status, body, _ = await api.call("POST", "/v4/routeplanner/free/address", body={"address": "not an ip"})
    assert (status, body["message"]) == (400, "Invalid address: not an ip")
    assert (await api.call("POST", "/v4/routeplanner/free/address", body={"address": "2001:db8::5"}))[0] == 204
    assert node.route_planner.failing == {}
    assert (await api.call("POST", "/v4/routeplanner/free/all"))[0] == 204
