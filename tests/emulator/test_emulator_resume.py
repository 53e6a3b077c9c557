"""Sessions and resuming (§3): pause, queue, 404 while paused, replay order, expiry, new sessions."""

from __future__ import annotations

import typing

import aiohttp
import pytest

from lightbulb_lavalink.testing import FakeLavalink, ManualClock

from .conftest import VOICE, Api, Connect, NodeFactory, RawSocket, expect_marker, open_session, wait_until


def kinds(messages: list[dict[str, typing.Any]]) -> list[str]:
    return [m.get("type", m["op"]) for m in messages]


def add(node: FakeLavalink, identifier: str, length: int) -> str:
    return node.add_track(title=identifier, identifier=identifier, length=length).encoded


async def start(api: Api, session_id: str, guild: int, encoded: str, sock: RawSocket) -> None:
    status, _ = await api.patch_player(session_id, guild, {"track": {"encoded": encoded}, "voice": VOICE})
    assert status == 200
    await sock.recv_many(4)  # voice update, start, two updates


async def test_not_resuming_destroys_players_on_close(node: FakeLavalink, api: Api, connect: Connect) -> None:
    sock, session_id = await open_session(connect, node)
    await start(api, session_id, 1, add(node, "a", 60_000), sock)
    await node.drop_connections()
    assert session_id not in node.sessions
    status, body, _ = await api.call("GET", f"/v4/sessions/{session_id}/players")
    assert (status, body["message"]) == (404, "Session not found")
    sock2 = await connect(node, session_id=session_id)
    assert sock2.headers["Session-Resumed"] == "false"
    ready = await sock2.ready()
    assert ready["resumed"] is False and ready["sessionId"] != session_id
    assert node.players_of(ready["sessionId"]) == {}


async def test_clean_close_also_pauses_a_resumable_session(node: FakeLavalink, api: Api, connect: Connect) -> None:
    sock, session_id = await open_session(connect, node)
    await api.enable_resuming(session_id)
    await sock.ws.close()
    await wait_until(lambda: node.sessions[session_id].paused)
    sock2 = await connect(node, session_id=session_id)
    assert sock2.headers["Session-Resumed"] == "true"
    assert await sock2.recv() == {"op": "ready", "resumed": True, "sessionId": session_id}


async def test_full_resume_with_events_while_paused(
    make_node: NodeFactory, http: aiohttp.ClientSession, connect: Connect
) -> None:
    node = await make_node(stats_interval=15.0)
    clock = node.clock
    assert isinstance(clock, ManualClock)
    api = Api(node, http)
    sock, session_id = await open_session(connect, node)
    await api.enable_resuming(session_id, 120)
    await start(api, session_id, 1, add(node, "short", 10_000), sock)
    await start(api, session_id, 2, add(node, "longer", 20_000), sock)
    await start(api, session_id, 3, add(node, "longest", 600_000), sock)
    clock.advance(2)
    await node.drop_connections()  # network cut in the middle of playback
    session = node.sessions[session_id]
    assert session.paused and session.connection is None
    for path in ("", "/players", "/players/1"):
        method = "PATCH" if path == "" else "GET"
        status, body, _ = await api.call(method, f"/v4/sessions/{session_id}{path}", body={} if path == "" else None)
        assert (status, body["message"]) == (404, "Session not found")
    clock.advance(23)  # t=25: "short" ended at 10, stats at 15, "longer" ended at 20, stats at 30 not yet
    node.players_of(session_id)[3].fail("boom")  # an exception while paused is queued too
    assert len(session.queued) == 5
    players = node.players_of(session_id)
    assert players[1].track is None and players[2].track is None
    assert players[3].track is None

    sock2 = await connect(node, session_id=session_id, user_id="999")  # User-Id is not compared
    assert sock2.headers["Session-Resumed"] == "true"
    messages = await sock2.recv_many(9)
    assert messages[0] == {"op": "ready", "resumed": True, "sessionId": session_id}
    assert kinds(messages[1:]) == [
        "TrackEndEvent", "stats", "TrackEndEvent", "TrackExceptionEvent", "TrackEndEvent",
        "playerUpdate", "playerUpdate", "playerUpdate",
    ]  # fmt: skip
    assert (messages[1]["guildId"], messages[1]["reason"], messages[1]["track"]["info"]["position"]) == (
        "1", "finished", 10_000,
    )  # fmt: skip
    assert messages[2]["uptime"] == 15_000
    assert (messages[3]["guildId"], messages[3]["reason"]) == ("2", "finished")
    assert (messages[5]["guildId"], messages[5]["reason"]) == ("3", "finished")
    assert [m["guildId"] for m in messages[6:]] == ["1", "2", "3"]
    assert all(m["state"]["connected"] for m in messages[6:])
    await expect_marker(node, session_id, sock2)  # no immediate stats on resume
    clock.advance(5)  # the original cadence: 15, 30, 45 ...
    stats = await sock2.recv()
    assert (stats["op"], stats["uptime"]) == ("stats", 30_000)
    status, players, _ = await api.call("GET", f"/v4/sessions/{session_id}/players")
    assert status == 200 and len(players) == 3


async def test_player_updates_are_dropped_while_paused(
    node: FakeLavalink, clock: ManualClock, api: Api, connect: Connect
) -> None:
    sock, session_id = await open_session(connect, node)
    await api.enable_resuming(session_id)
    await start(api, session_id, 1, add(node, "long", 600_000), sock)
    await node.drop_connections()
    clock.advance(30)  # six periodic updates would have been sent
    assert node.sessions[session_id].queued == []
    sock2 = await connect(node, session_id=session_id)
    ready, update = await sock2.recv_many(2)
    assert ready["resumed"] is True
    assert (update["op"], update["state"]["position"]) == ("playerUpdate", 30_000)
    await expect_marker(node, session_id, sock2)


async def test_expiry_destroys_the_session_and_its_players(
    node: FakeLavalink, clock: ManualClock, api: Api, connect: Connect
) -> None:
    sock, session_id = await open_session(connect, node)
    await api.enable_resuming(session_id, 10)
    await start(api, session_id, 1, add(node, "long", 600_000), sock)
    await node.drop_connections()
    player = node.players_of(session_id)[1]
    clock.advance(9.9)
    assert node.sessions[session_id].paused
    clock.advance(0.1)
    assert session_id not in node.sessions
    assert player.track is None
    sock2 = await connect(node, session_id=session_id)
    assert sock2.headers["Session-Resumed"] == "false"
    ready = await sock2.ready()
    assert ready["resumed"] is False and ready["sessionId"] != session_id
    assert node.players_of(ready["sessionId"]) == {}
    await expect_marker(node, ready["sessionId"], sock2)  # the old queue was discarded


@pytest.mark.parametrize("seconds", [0, -1])
async def test_non_positive_timeout_expires_at_once(
    node: FakeLavalink, api: Api, connect: Connect, seconds: int
) -> None:
    _, session_id = await open_session(connect, node)
    await api.enable_resuming(session_id, seconds)
    await node.drop_connections()
    assert session_id not in node.sessions


async def test_connected_or_unknown_session_id_gives_a_new_session(
    node: FakeLavalink, api: Api, connect: Connect
) -> None:
    sock, session_id = await open_session(connect, node)
    await api.enable_resuming(session_id)
    await api.patch_player(session_id, 1, {})
    for requested in (session_id, "unknownunknown00", ""):
        other = await connect(node, session_id=requested)
        assert other.headers["Session-Resumed"] == "false"
        ready = await other.ready()
        assert ready["resumed"] is False and ready["sessionId"] != session_id
    await expect_marker(node, session_id, sock)  # the connected session is unaffected
    assert list(node.players_of(session_id)) == [1]


async def test_resumed_session_pauses_again_with_the_same_settings(
    node: FakeLavalink, clock: ManualClock, api: Api, connect: Connect
) -> None:
    _, session_id = await open_session(connect, node)
    await api.enable_resuming(session_id, 30)
    await node.drop_connections()
    sock2 = await connect(node, session_id=session_id)
    assert (await sock2.recv())["resumed"] is True
    _, settings, _ = await api.call("PATCH", f"/v4/sessions/{session_id}", body={})
    assert settings == {"resuming": True, "timeout": 30}
    await node.drop_connections()
    assert node.sessions[session_id].paused
    clock.advance(30)
    assert session_id not in node.sessions


async def test_only_one_connection_resumes_a_session(node: FakeLavalink, api: Api, connect: Connect) -> None:
    _, session_id = await open_session(connect, node)
    await api.enable_resuming(session_id)
    await node.drop_connections()
    first = await connect(node, session_id=session_id)
    second = await connect(node, session_id=session_id)
    assert first.headers["Session-Resumed"] == "true"
    assert second.headers["Session-Resumed"] == "false"
    assert (await second.ready())["sessionId"] != session_id


async def test_restart_loses_paused_sessions(node: FakeLavalink, api: Api, connect: Connect) -> None:
    _, session_id = await open_session(connect, node)
    await api.enable_resuming(session_id)
    await node.drop_connections()
    await node.restart()
    assert node.sessions == {}
    sock = await connect(node, session_id=session_id)
    assert sock.headers["Session-Resumed"] == "false"


async def test_a_failed_resume_handshake_leaves_the_session_resumable(
    node: FakeLavalink, clock: ManualClock, api: Api, connect: Connect
) -> None:
    _, session_id = await open_session(connect, node)
    await api.enable_resuming(session_id, 20)
    await node.drop_connections()
    broken = await connect(node, session_id=session_id, user_id="not-a-number")
    assert (await broken.recv_close()).data == 1011
    await wait_until(lambda: node.connections == 0)
    sock = await connect(node, session_id=session_id)
    assert sock.headers["Session-Resumed"] == "true"
    assert (await sock.recv())["resumed"] is True


async def test_close_cancels_every_timer(make_node: NodeFactory, http: aiohttp.ClientSession, connect: Connect) -> None:
    clock = ManualClock()
    node = await make_node(clock=clock)
    api = Api(node, http)
    sock, playing = await open_session(connect, node)
    await start(api, playing, 1, add(node, "a", 600_000), sock)
    sock2, paused = await open_session(connect, node)
    await api.enable_resuming(paused)
    await start(api, paused, 2, add(node, "b", 600_000), sock2)
    node.players_of(paused)[2].stick()
    await sock2.ws.close()
    await wait_until(lambda: node.sessions[paused].paused)
    assert clock.pending > 0
    await node.close()
    assert clock.pending == 0
    assert node.connections == 0


async def test_refusing_new_connections_until_accepted(node: FakeLavalink, api: Api, connect: Connect) -> None:
    _, session_id = await open_session(connect, node)
    await api.enable_resuming(session_id)
    port = node.port
    await node.drop_connections(refuse_new=True)
    with pytest.raises(aiohttp.ClientConnectionError):
        await connect(node, session_id=session_id)
    await node.accept_connections()
    assert node.port == port
    sock = await connect(node, session_id=session_id)
    assert (await sock.recv())["resumed"] is True
