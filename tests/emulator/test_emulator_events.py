"""Track lifecycle on the websocket: event sequences (§2.9), periodic and extra player updates (§2.6)."""

from __future__ import annotations

import asyncio
import typing

import pytest

from lightbulb_lavalink.testing import FakeLavalink, ManualClock, Playback

from .conftest import VOICE, Api, Connect, NodeFactory, RawSocket, expect_marker, open_session

GUILD = 1234


def kinds(messages: list[dict[str, typing.Any]]) -> list[str]:
    return [m.get("type", m["op"]) for m in messages]


@pytest.fixture
async def session(node: FakeLavalink, connect: Connect) -> tuple[RawSocket, str]:
    return await open_session(connect, node)


def add(node: FakeLavalink, identifier: str, length: int = 12_000, **kwargs: typing.Any) -> str:
    return node.add_track(title=identifier.title(), identifier=identifier, length=length, **kwargs).encoded


async def test_start_on_idle_player(node: FakeLavalink, api: Api, session: tuple[RawSocket, str]) -> None:
    sock, session_id = session
    await api.patch_player(session_id, GUILD, {"track": {"encoded": add(node, "a"), "userData": {"k": "v"}}})
    messages = await sock.recv_many(3)
    assert kinds(messages) == ["TrackStartEvent", "playerUpdate", "playerUpdate"]
    start = messages[0]
    assert list(start) == ["op", "type", "guildId", "track"]
    assert start["guildId"] == str(GUILD) and start["track"]["userData"] == {"k": "v"}
    assert list(messages[1]) == ["op", "state", "guildId"]
    await expect_marker(node, session_id, sock)


async def test_replacing_ends_the_old_track_first(
    node: FakeLavalink, clock: ManualClock, api: Api, session: tuple[RawSocket, str]
) -> None:
    sock, session_id = session
    await api.patch_player(session_id, GUILD, {"track": {"encoded": add(node, "a"), "userData": {"n": 1}}})
    await sock.recv_many(3)
    clock.advance(2.5)
    await api.patch_player(session_id, GUILD, {"track": {"encoded": add(node, "b")}})
    messages = await sock.recv_many(4)
    assert kinds(messages) == ["TrackEndEvent", "TrackStartEvent", "playerUpdate", "playerUpdate"]
    end, start = messages[0], messages[1]
    assert (end["reason"], end["track"]["info"]["identifier"]) == ("replaced", "a")
    assert end["track"]["info"]["position"] == 2500  # the position at event time
    assert end["track"]["userData"] == {"n": 1}
    assert start["track"]["info"]["identifier"] == "b" and start["track"]["userData"] == {}


async def test_track_advances_sends_periodic_updates_and_ends_finished_then_idle(
    node: FakeLavalink, clock: ManualClock, api: Api, session: tuple[RawSocket, str]
) -> None:
    sock, session_id = session
    await api.patch_player(session_id, GUILD, {"track": {"encoded": add(node, "a", 12_000)}})
    await sock.recv_many(3)
    clock.advance(30)
    messages = await sock.recv_many(3)
    assert kinds(messages) == ["playerUpdate", "playerUpdate", "TrackEndEvent"]
    assert [m["state"]["position"] for m in messages[:2]] == [5000, 10_000]
    assert messages[2]["reason"] == "finished" and messages[2]["track"]["info"]["position"] == 12_000
    await expect_marker(node, session_id, sock)  # idle: no next track, no more periodic updates
    player = node.players_of(session_id)[GUILD]
    assert player.track is None and player.position == 0


async def test_periodic_updates_continue_while_paused(
    node: FakeLavalink, clock: ManualClock, api: Api, session: tuple[RawSocket, str]
) -> None:
    sock, session_id = session
    await api.patch_player(session_id, GUILD, {"track": {"encoded": add(node, "a", 60_000)}})
    await sock.recv_many(3)
    clock.advance(1)
    await api.patch_player(session_id, GUILD, {"paused": True, "volume": 20})  # no websocket message
    clock.advance(10)
    updates = await sock.recv_many(2)
    assert [u["state"]["position"] for u in updates] == [1000, 1000]
    await expect_marker(node, session_id, sock)


async def test_playback_failure_before_audio(node: FakeLavalink, api: Api, session: tuple[RawSocket, str]) -> None:
    sock, session_id = session
    encoded = add(node, "broken", playback=Playback.FAIL)
    await api.patch_player(session_id, GUILD, {"track": {"encoded": encoded}})
    messages = await sock.recv_many(5)
    assert kinds(messages) == [
        "TrackStartEvent", "playerUpdate", "playerUpdate", "TrackExceptionEvent", "TrackEndEvent",
    ]  # fmt: skip
    exception = messages[3]["exception"]
    assert list(exception) == ["message", "severity", "cause", "causeStackTrace"]
    assert messages[4]["reason"] == "loadFailed"


async def test_unplayable_identifier_fails(api: Api, session: tuple[RawSocket, str]) -> None:
    sock, session_id = session
    await api.patch_player(session_id, GUILD, {"track": {"identifier": "unplayable-thing"}})
    assert kinds(await sock.recv_many(5))[-2:] == ["TrackExceptionEvent", "TrackEndEvent"]


async def test_failure_after_audio_started_ends_finished(make_node: NodeFactory, api: Api, connect: Connect) -> None:
    node = await make_node(version="4.0.8")
    api = Api(node, api.http)
    sock, session_id = await open_session(connect, node)
    await api.patch_player(session_id, GUILD, {"track": {"encoded": add(node, "a", 60_000)}})
    await sock.recv_many(3)
    assert isinstance(node.clock, ManualClock)
    node.clock.advance(2)
    node.players_of(session_id)[GUILD].fail("decoder exploded", severity="fault")
    exception, end = await sock.recv_many(2)
    assert exception["type"] == "TrackExceptionEvent"
    assert exception["exception"]["message"] == "decoder exploded"
    assert exception["exception"]["severity"] == "fault"
    assert "causeStackTrace" not in exception["exception"]  # 4.0.x
    assert exception["track"]["info"]["position"] == 2000
    assert (end["reason"], end["track"]["info"]["position"]) == ("finished", 2000)


async def test_finish_ends_the_track_now_as_finished(
    node: FakeLavalink, clock: ManualClock, api: Api, session: tuple[RawSocket, str]
) -> None:
    sock, session_id = session
    await api.patch_player(session_id, GUILD, {"track": {"encoded": add(node, "a", 20_000), "userData": {"n": 1}}})
    await sock.recv_many(3)
    clock.advance(2)
    player = node.players_of(session_id)[GUILD]
    player.finish()
    end = await sock.recv()
    assert (end["type"], end["reason"]) == ("TrackEndEvent", "finished")
    assert end["track"]["info"]["position"] == 2000 and end["track"]["userData"] == {"n": 1}
    assert player.track is None
    clock.advance(30)  # past its length: its end timer was cancelled, no second end
    await expect_marker(node, session_id, sock)


async def test_stuck_track(make_node: NodeFactory, api: Api, connect: Connect) -> None:
    node = await make_node(track_stuck_threshold_ms=3000, player_update_interval=100)
    clock = node.clock
    assert isinstance(clock, ManualClock)
    api = Api(node, api.http)
    sock, session_id = await open_session(connect, node)
    await api.patch_player(session_id, GUILD, {"track": {"identifier": "stuck-song"}})
    await sock.recv_many(3)
    clock.advance(2.999)
    await expect_marker(node, session_id, sock)
    clock.advance(0.001)
    stuck, update = await sock.recv_many(2)
    assert (stuck["type"], stuck["thresholdMs"]) == ("TrackStuckEvent", 3000)
    assert list(stuck) == ["op", "type", "guildId", "track", "thresholdMs"]
    assert (update["op"], update["state"]["position"]) == ("playerUpdate", 0)
    player = node.players_of(session_id)[GUILD]
    player.unstick()
    clock.advance(1)
    assert player.position == 1000


async def test_voice_close_event(node: FakeLavalink, api: Api, session: tuple[RawSocket, str]) -> None:
    sock, session_id = session
    await api.patch_player(session_id, GUILD, {"voice": VOICE})
    await sock.recv()
    node.players_of(session_id)[GUILD].close_voice(4014, "Disconnected.", by_remote=True)
    closed, update = await sock.recv_many(2)
    assert closed == {
        "op": "event", "type": "WebSocketClosedEvent", "guildId": str(GUILD), "code": 4014,
        "reason": "Disconnected.", "byRemote": True,
    }  # fmt: skip
    assert update["state"]["connected"] is False and update["state"]["ping"] == -1
    _, player = await api.patch_player(session_id, GUILD, {"voice": VOICE})  # same data, but closed: reconnects
    assert player["state"]["connected"] is True


async def test_filters_send_an_update_and_timescale_speeds_the_track(
    node: FakeLavalink, clock: ManualClock, api: Api, session: tuple[RawSocket, str]
) -> None:
    sock, session_id = session
    await api.patch_player(session_id, GUILD, {"track": {"encoded": add(node, "a", 60_000)}})
    await sock.recv_many(3)
    await api.patch_player(session_id, GUILD, {"filters": {"timescale": {"speed": 2.0}}})
    assert (await sock.recv())["op"] == "playerUpdate"
    clock.advance(2)
    assert node.players_of(session_id)[GUILD].position == 4000


async def test_tracks_end_on_their_own_with_a_time_scale(make_node: NodeFactory, api: Api, connect: Connect) -> None:
    node = await make_node(time_scale=2000.0, player_update_interval=60)
    api = Api(node, api.http)
    sock, session_id = await open_session(connect, node)
    player = await api.patch_player(session_id, GUILD, {"track": {"identifier": "three-minutes"}})
    length = player[1]["track"]["info"]["length"]
    assert length >= 60_000
    while (message := await sock.recv()).get("type") != "TrackEndEvent":
        pass
    assert (message["reason"], message["track"]["info"]["position"]) == ("finished", length)
    await asyncio.sleep(0)
