"""Player REST: PATCH processing order and validation (§4.2, §4.3), Player JSON, GET and DELETE."""

from __future__ import annotations

import typing

import aiohttp
import pytest

from lightbulb_lavalink.protocol.codec import decode_track
from lightbulb_lavalink.testing import FakeLavalink, ManualClock

from .conftest import VOICE, Api, Connect, NodeFactory, RawSocket, expect_marker, open_session

GUILD = 987654321


@pytest.fixture
async def session(node: FakeLavalink, connect: Connect) -> tuple[RawSocket, str]:
    return await open_session(connect, node)


async def encoded(api: Api, identifier: str = "song-one") -> str:
    return typing.cast("str", (await api.load(identifier))["data"]["encoded"])


async def test_patch_with_empty_body_creates_an_idle_player(api: Api, session: tuple[RawSocket, str]) -> None:
    sock, session_id = session
    status, player = await api.patch_player(session_id, GUILD, {})
    assert status == 200
    assert player == {
        "guildId": str(GUILD),
        "track": None,
        "volume": 100,
        "paused": False,
        "state": {"time": player["state"]["time"], "position": 0, "connected": False, "ping": -1},
        "voice": {"token": "", "endpoint": "", "sessionId": "", "channelId": None},
        "filters": {},
    }
    assert list(player) == ["guildId", "track", "volume", "paused", "state", "voice", "filters"]
    await expect_marker(api.node, session_id, sock)  # creating a player sends nothing


async def test_voice_state_without_channel_id_key_before_4_2(
    make_node: NodeFactory, http: aiohttp.ClientSession, connect: Connect
) -> None:
    node = await make_node(version="4.1.2")
    _, session_id = await open_session(connect, node)
    _, player = await Api(node, http).patch_player(session_id, 1, {})
    assert player["voice"] == {"token": "", "endpoint": "", "sessionId": ""}


async def test_get_players_and_player_not_found(api: Api, session: tuple[RawSocket, str]) -> None:
    _, session_id = session
    status, players, _ = await api.call("GET", f"/v4/sessions/{session_id}/players")
    assert (status, players) == (200, [])
    status, body, _ = await api.call("GET", f"/v4/sessions/{session_id}/players/{GUILD}")
    assert (status, body["message"]) == (404, "Player not found")
    await api.patch_player(session_id, GUILD, {"volume": 50})
    status, players, _ = await api.call("GET", f"/v4/sessions/{session_id}/players")
    assert [p["guildId"] for p in players] == [str(GUILD)]
    status, player, _ = await api.call("GET", f"/v4/sessions/{session_id}/players/{GUILD}")
    assert (status, player["volume"]) == (200, 50)


@pytest.mark.parametrize("guild", ["abc", "1.5", "99999999999999999999"])
async def test_non_numeric_guild_id_is_400(api: Api, session: tuple[RawSocket, str], guild: str) -> None:
    _, session_id = session
    status, _, _ = await api.call("GET", f"/v4/sessions/{session_id}/players/{guild}")
    assert status == 400


async def test_player_routes_404_for_unknown_session(api: Api) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        status, body, _ = await api.call(
            method, f"/v4/sessions/nope/players/{GUILD}", body={} if method == "PATCH" else None
        )
        assert (status, body["message"]) == (404, "Session not found")


async def test_delete_player_is_204_and_idempotent(
    node: FakeLavalink, api: Api, session: tuple[RawSocket, str]
) -> None:
    sock, session_id = session
    assert (await api.call("DELETE", f"/v4/sessions/{session_id}/players/{GUILD}"))[:2] == (204, "")
    await api.patch_player(session_id, GUILD, {"track": {"encoded": await encoded(api)}})
    await sock.recv_many(3)  # start, updates
    assert (await api.call("DELETE", f"/v4/sessions/{session_id}/players/{GUILD}"))[:2] == (204, "")
    end = await sock.recv()
    assert (end["type"], end["reason"]) == ("TrackEndEvent", "stopped")
    assert node.players_of(session_id) == {}
    await expect_marker(node, session_id, sock)


# --- validation (§4.2) --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"track": {"encoded": None}, "encodedTrack": None},
            "Cannot specify both track and encodedTrack/identifier",
        ),
        ({"track": {}, "identifier": "x"}, "Cannot specify both track and encodedTrack/identifier"),
        ({"track": {"encoded": "x", "identifier": "y"}}, "Cannot specify both encodedTrack and identifier"),
        ({"encodedTrack": "x", "identifier": "y"}, "Cannot specify both encodedTrack and identifier"),
        ({"endTime": 0}, "End time must be greater than 0"),
        ({"endTime": -10}, "End time must be greater than 0"),
        (
            {"voice": {**VOICE, "channelId": None}},
            "token, endpoint, sessionId and channelId must be provided in voice state",
        ),
        (
            {"voice": {**VOICE, "token": "  "}},
            "token, endpoint, sessionId and channelId must be provided in voice state",
        ),
    ],
)
async def test_validation_messages(
    api: Api, session: tuple[RawSocket, str], body: dict[str, typing.Any], message: str
) -> None:
    _, session_id = session
    status, error = await api.patch_player(session_id, GUILD, body)
    assert (status, error["message"]) == (400, message)


@pytest.mark.parametrize(
    "body",
    [
        {"volume": None},
        {"paused": None},
        {"position": None},
        {"position": "10"},
        {"volume": 1.5},
        {"track": None},
        {"identifier": None},
        {"filters": {"volume": None}},
        {"filters": {"equalizer": None}},
        {"filters": {"timescale": {"speed": "fast"}}},
        {"voice": {"token": "t", "endpoint": "e", "sessionId": "s"}},  # 4.2: channelId may not be omitted
        {"track": {"userData": "not an object"}},
    ],
)
async def test_malformed_bodies_are_400_before_anything_is_applied(
    node: FakeLavalink, api: Api, session: tuple[RawSocket, str], body: dict[str, typing.Any]
) -> None:
    _, session_id = session
    status, _ = await api.patch_player(session_id, GUILD, body)
    assert status == 400
    assert GUILD not in node.players_of(session_id)


async def test_malformed_body_is_400_even_for_an_unknown_session(api: Api) -> None:
    status, _ = await api.patch_player("unknown", GUILD, {"volume": "loud"})
    assert status == 400


async def test_voice_messages_before_4_2(make_node: NodeFactory, http: aiohttp.ClientSession, connect: Connect) -> None:
    node = await make_node(version="4.1.2")
    api = Api(node, http)
    _, session_id = await open_session(connect, node)
    status, error = await api.patch_player(session_id, 1, {"voice": {"token": "t", "endpoint": "", "sessionId": "s"}})
    assert (status, error["message"]) == (
        400,
        "Partial Lavalink voice state: VoiceState(token=t, endpoint=, sessionId=s)",
    )
    status, player = await api.patch_player(session_id, 1, {"voice": {"token": "t", "endpoint": "e", "sessionId": "s"}})
    assert status == 200 and player["state"]["connected"] is True


async def test_non_numeric_channel_id_is_500_in_4_2(api: Api, session: tuple[RawSocket, str]) -> None:
    _, session_id = session
    status, _ = await api.patch_player(session_id, GUILD, {"voice": {**VOICE, "channelId": "general"}})
    assert status == 500


async def test_disabled_filters_are_rejected(
    make_node: NodeFactory, http: aiohttp.ClientSession, connect: Connect
) -> None:
    node = await make_node(disabled_filters=["karaoke", "rotation"])
    _, session_id = await open_session(connect, node)
    status, error = await Api(node, http).patch_player(
        session_id, 1, {"filters": {"rotation": {"rotationHz": 0.2}, "karaoke": None, "volume": 1.0}}
    )
    assert (status, error["message"]) == (
        400,
        "Following filters are disabled in the config: karaoke, rotation",
    )


async def test_earlier_steps_stay_applied_when_a_later_one_fails(
    node: FakeLavalink, api: Api, session: tuple[RawSocket, str]
) -> None:
    _, session_id = session
    status, _ = await api.patch_player(
        session_id,
        GUILD,
        {"voice": VOICE, "volume": 30, "filters": {"equalizer": [{"band": 15, "gain": 0.1}]}},
    )
    assert status == 500
    player = node.players_of(session_id)[GUILD]
    assert player.connected and player.volume == 30
    assert player.filters.values == {}
    await api.patch_player(session_id, GUILD, {"paused": True})
    status, _ = await api.patch_player(session_id, GUILD, {"volume": 40, "encodedTrack": "@@@"})
    assert status == 500
    assert player.volume == 40 and player.paused is False  # a new track was requested: paused reset to false


# --- processing -----------------------------------------------------------------------------------------


async def test_voice_update_connects_once_and_sends_a_player_update(
    node: FakeLavalink, api: Api, session: tuple[RawSocket, str]
) -> None:
    sock, session_id = session
    _, player = await api.patch_player(session_id, GUILD, {"voice": VOICE})
    assert player["state"]["connected"] is True and player["state"]["ping"] >= 0
    assert player["voice"] == VOICE
    update = await sock.recv()
    assert update["op"] == "playerUpdate" and update["state"]["connected"] is True
    await api.patch_player(session_id, GUILD, {"voice": VOICE})  # identical: no-op
    await expect_marker(node, session_id, sock)
    await api.patch_player(session_id, GUILD, {"voice": {**VOICE, "endpoint": "other:443"}})
    assert (await sock.recv())["op"] == "playerUpdate"


async def test_volume_is_clamped(api: Api, session: tuple[RawSocket, str]) -> None:
    _, session_id = session
    assert (await api.patch_player(session_id, GUILD, {"volume": 5000}))[1]["volume"] == 1000
    assert (await api.patch_player(session_id, GUILD, {"volume": -3}))[1]["volume"] == 0


async def test_new_track_unpauses_unless_paused_is_given(api: Api, session: tuple[RawSocket, str]) -> None:
    _, session_id = session
    await api.patch_player(session_id, GUILD, {"paused": True})
    _, player = await api.patch_player(session_id, GUILD, {"track": {"encoded": await encoded(api)}})
    assert player["paused"] is False
    _, player = await api.patch_player(
        session_id, GUILD, {"track": {"encoded": await encoded(api, "b")}, "paused": True}
    )
    assert player["paused"] is True and player["track"]["info"]["identifier"] == "b"


async def test_stop_ends_the_track_as_stopped_and_unpauses(api: Api, session: tuple[RawSocket, str]) -> None:
    sock, session_id = session
    await api.patch_player(session_id, GUILD, {"track": {"encoded": await encoded(api)}, "paused": True})
    await sock.recv_many(3)
    _, player = await api.patch_player(session_id, GUILD, {"track": {"encoded": None}})
    assert player["track"] is None and player["paused"] is False
    end = await sock.recv()
    assert (end["type"], end["reason"], end["track"]["info"]["identifier"]) == (
        "TrackEndEvent",
        "stopped",
        "song-one",
    )
    _, player = await api.patch_player(session_id, GUILD, {"encodedTrack": None, "paused": True})
    assert player["paused"] is True
    await expect_marker(api.node, session_id, sock)  # nothing to stop: no event


async def test_no_replace_keeps_the_current_track_but_applies_volume(api: Api, session: tuple[RawSocket, str]) -> None:
    _, session_id = session
    await api.patch_player(session_id, GUILD, {"track": {"encoded": await encoded(api)}})
    _, player = await api.patch_player(
        session_id, GUILD, {"track": {"encoded": await encoded(api, "other")}, "volume": 10, "paused": True},
        noReplace="true",
    )  # fmt: skip
    assert player["track"]["info"]["identifier"] == "song-one"
    assert player["volume"] == 10 and player["paused"] is False
    _, idle = await api.patch_player(session_id, 5, {"track": {"encoded": await encoded(api, "x")}}, noReplace="true")
    assert idle["track"]["info"]["identifier"] == "x"


async def test_seek_only_with_a_track_and_sends_an_update(
    node: FakeLavalink, api: Api, session: tuple[RawSocket, str]
) -> None:
    sock, session_id = session
    _, player = await api.patch_player(session_id, GUILD, {"position": 5000})
    assert player["state"]["position"] == 0
    await expect_marker(node, session_id, sock)
    await api.patch_player(session_id, GUILD, {"track": {"encoded": await encoded(api)}})
    await sock.recv_many(3)
    _, player = await api.patch_player(session_id, GUILD, {"position": 30_000})
    assert player["state"]["position"] == 30_000
    assert player["track"]["info"]["position"] == 30_000
    assert decode_track(player["track"]["encoded"]).info.position == 30_000
    update = await sock.recv()
    assert (update["op"], update["state"]["position"]) == ("playerUpdate", 30_000)


@pytest.mark.parametrize(("version", "moved"), [("4.0.0", False), ("4.0.1", True)])
async def test_seek_while_paused(
    make_node: NodeFactory, http: aiohttp.ClientSession, connect: Connect, version: str, moved: bool
) -> None:
    node = await make_node(version=version)
    api = Api(node, http)
    _, session_id = await open_session(connect, node)
    await api.patch_player(session_id, 1, {"track": {"encoded": await encoded(api)}, "paused": True})
    _, player = await api.patch_player(session_id, 1, {"position": 10_000})
    assert (player["state"]["position"] == 10_000) is moved


async def test_start_position_and_user_data_with_a_new_track(api: Api, session: tuple[RawSocket, str]) -> None:
    sock, session_id = session
    _, player = await api.patch_player(
        session_id,
        GUILD,
        {"track": {"encoded": await encoded(api), "userData": {"req": 7}}, "position": 12_000},
    )
    assert player["state"]["position"] == 12_000
    assert player["track"]["userData"] == {"req": 7}
    start = await sock.recv()
    assert start["type"] == "TrackStartEvent"
    assert start["track"]["info"]["position"] == 12_000 and start["track"]["userData"] == {"req": 7}
    _, player = await api.patch_player(session_id, GUILD, {"track": {"userData": {"req": 8}}})
    assert player["track"]["userData"] == {"req": 8} and player["track"]["info"]["identifier"] == "song-one"


async def test_end_time_ends_the_track_as_finished(
    node: FakeLavalink, clock: ManualClock, api: Api, session: tuple[RawSocket, str]
) -> None:
    sock, session_id = session
    await api.patch_player(session_id, GUILD, {"track": {"encoded": await encoded(api)}, "endTime": 3000})
    await sock.recv_many(3)
    await api.patch_player(session_id, GUILD, {"endTime": None})  # a no-op, not a reset
    clock.advance(3)
    end = await sock.recv()
    assert (end["type"], end["reason"], end["track"]["info"]["position"]) == (
        "TrackEndEvent",
        "finished",
        3000,
    )
    assert node.players_of(session_id)[GUILD].track is None


async def test_end_time_on_the_current_track(clock: ManualClock, api: Api, session: tuple[RawSocket, str]) -> None:
    sock, session_id = session
    await api.patch_player(session_id, GUILD, {"track": {"encoded": await encoded(api)}})
    await sock.recv_many(3)
    clock.advance(1)
    await api.patch_player(session_id, GUILD, {"endTime": 500})  # already past: ignored, as lavaplayer does
    await api.patch_player(session_id, GUILD, {"endTime": 2000})
    clock.advance(0.999)
    await expect_marker(api.node, session_id, sock)
    clock.advance(0.001)
    end = await sock.recv()
    assert (end["type"], end["reason"], end["track"]["info"]["position"]) == (
        "TrackEndEvent",
        "finished",
        2000,
    )


async def test_identifier_loading(api: Api, session: tuple[RawSocket, str]) -> None:
    _, session_id = session
    _, player = await api.patch_player(session_id, GUILD, {"track": {"identifier": "https://example.com/a.mp3"}})
    assert player["track"]["info"]["uri"] == "https://example.com/a.mp3"
    _, player = await api.patch_player(session_id, GUILD, {"identifier": "dQw4w9WgXcQ"})
    assert player["track"]["info"]["identifier"] == "dQw4w9WgXcQ"


@pytest.mark.parametrize(
    ("identifier", "message"),
    [
        ("https://example.com/empty", "No matches found for identifier"),
        ("ytsearch:abc", "Cannot play a playlist or search result"),
        ("https://youtube.com/playlist?list=1", "Cannot play a playlist or search result"),
        ("error-song", "The track 'error-song' is unavailable."),
    ],
)
@pytest.mark.parametrize(("version", "status"), [("4.0.7", 500), ("4.0.8", 400)])
async def test_identifier_failures(
    make_node: NodeFactory,
    http: aiohttp.ClientSession,
    connect: Connect,
    identifier: str,
    message: str,
    version: str,
    status: int,
) -> None:
    node = await make_node(version=version)
    _, session_id = await open_session(connect, node)
    got, error = await Api(node, http).patch_player(session_id, 1, {"track": {"identifier": identifier}})
    assert (got, error["message"]) == (status, message)
