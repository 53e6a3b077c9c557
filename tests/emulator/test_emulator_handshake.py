"""Handshake, session creation, stats cadence and socket shutdown (protocol §2.1-2.7)."""

from __future__ import annotations

import re

import aiohttp
import pytest

from lightbulb_lavalink.testing import FakeLavalink, ManualClock

from .conftest import PASSWORD, Connect, NodeFactory, expect_marker, open_session


async def _handshake_status(http: aiohttp.ClientSession, node: FakeLavalink, headers: dict[str, str]) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await http.ws_connect(node.url + "/v4/websocket", headers=headers)
    return info.value.status


@pytest.mark.parametrize("auth", [None, "wrong", ""])
async def test_websocket_refuses_missing_or_wrong_password_with_401(
    node: FakeLavalink, http: aiohttp.ClientSession, auth: str | None
) -> None:
    headers = {"User-Id": "1"} if auth is None else {"Authorization": auth, "User-Id": "1"}
    assert await _handshake_status(http, node, headers) == 401
    assert node.sessions == {}


@pytest.mark.parametrize("user_id", [None, "", "0", "-0", "+0"])
async def test_websocket_refuses_missing_empty_or_zero_user_id_with_400(
    node: FakeLavalink, http: aiohttp.ClientSession, user_id: str | None
) -> None:
    headers = {"Authorization": PASSWORD}
    if user_id is not None:
        headers["User-Id"] = user_id
    assert await _handshake_status(http, node, headers) == 400
    assert node.sessions == {}


async def test_password_is_checked_before_user_id(node: FakeLavalink, http: aiohttp.ClientSession) -> None:
    assert await _handshake_status(http, node, {"Authorization": "nope"}) == 401


async def test_rejected_handshakes_have_an_empty_body_and_the_api_version_header(
    node: FakeLavalink, http: aiohttp.ClientSession
) -> None:
    async with http.get(node.url + "/v4/websocket", headers={"User-Id": "1"}) as response:
        assert response.status == 401
        assert await response.read() == b""
        assert response.headers["Lavalink-Api-Version"] == "4"


async def test_non_numeric_user_id_upgrades_then_closes_with_1011(node: FakeLavalink, connect: Connect) -> None:
    sock = await connect(node, user_id="bot")
    closing = await sock.recv_close()
    assert closing.type is aiohttp.WSMsgType.CLOSE
    assert closing.data == 1011
    assert node.sessions == {}


async def test_client_name_is_optional(node: FakeLavalink, connect: Connect) -> None:
    sock = await connect(node, client_name=None)
    assert (await sock.recv())["op"] == "ready"


async def test_new_session_upgrade_headers(node: FakeLavalink, connect: Connect) -> None:
    sock = await connect(node)
    assert sock.headers["Session-Resumed"] == "false"
    assert sock.headers["Lavalink-Api-Version"] == "4"


async def test_ready_comes_first_with_a_16_char_id_then_stats_at_once(node: FakeLavalink, connect: Connect) -> None:
    sock = await connect(node)
    ready_text = await sock.recv_raw()
    match = re.fullmatch(r'\{"op":"ready","resumed":false,"sessionId":"([a-z0-9]{16})"\}', ready_text)
    assert match is not None, ready_text
    stats = await sock.recv()
    assert list(stats) == ["op", "frameStats", "players", "playingPlayers", "uptime", "memory", "cpu"]
    assert stats["frameStats"] is None
    assert list(stats["memory"]) == ["free", "used", "allocated", "reservable"]
    assert list(stats["cpu"]) == ["cores", "systemLoad", "lavalinkLoad"]
    assert set(node.sessions) == {match.group(1)}


async def test_every_connection_gets_its_own_session(node: FakeLavalink, connect: Connect) -> None:
    _, first = await open_session(connect, node)
    _, second = await open_session(connect, node)
    assert first != second
    assert set(node.sessions) == {first, second}


async def test_stats_repeat_every_interval_from_session_creation(make_node: NodeFactory, connect: Connect) -> None:
    node = await make_node(stats_interval=60.0)
    clock = node.clock
    assert isinstance(clock, ManualClock)
    clock.advance(5)
    sock, session_id = await open_session(connect, node)
    clock.advance(59.9)
    await expect_marker(node, session_id, sock)  # nothing before a full interval
    clock.advance(0.1)
    stats = await sock.recv()
    assert stats["op"] == "stats"
    assert stats["uptime"] == 65_000
    clock.advance(120)
    assert [m["op"] for m in await sock.recv_many(2)] == ["stats", "stats"]
    await expect_marker(node, session_id, sock)


async def test_client_text_frames_are_ignored(node: FakeLavalink, connect: Connect) -> None:
    sock, session_id = await open_session(connect, node)
    await sock.ws.send_str('{"op":"voiceUpdate","guildId":"1"}')
    await sock.ws.send_str("not even json")
    await expect_marker(node, session_id, sock)
    assert not sock.ws.closed
    assert session_id in node.sessions


async def test_shutdown_closes_sockets_with_1001(make_node: NodeFactory, connect: Connect) -> None:
    node = await make_node(version="4.0.8")
    sock, _ = await open_session(connect, node)
    await node.close()
    closing = await sock.recv_close()
    assert closing.type is aiohttp.WSMsgType.CLOSE
    assert closing.data == 1001
    assert node.sessions == {}


async def test_shutdown_before_4_0_8_drops_sockets_without_close_frame(
    make_node: NodeFactory, connect: Connect
) -> None:
    node = await make_node(version="4.0.7")
    sock, _ = await open_session(connect, node)
    await node.close()
    closing = await sock.recv_close()
    assert closing.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert sock.ws.close_code in (None, 1006)


async def test_node_can_listen_again_on_the_same_port_after_close(make_node: NodeFactory, connect: Connect) -> None:
    node = await make_node()
    port = node.port
    _, old = await open_session(connect, node)
    await node.close()
    assert not node.running
    await node.start()
    assert node.port == port
    _, new = await open_session(connect, node)
    assert old not in node.sessions and new in node.sessions


async def test_restart_loses_sessions_keeps_port_and_resets_uptime(make_node: NodeFactory, connect: Connect) -> None:
    node = await make_node()
    clock = node.clock
    assert isinstance(clock, ManualClock)
    sock, old = await open_session(connect, node)
    clock.advance(100)
    port = node.port
    await node.restart()
    closing = await sock.recv_close()
    assert closing.data == 1001
    assert node.sessions == {} and node.port == port and node.running
    sock2 = await connect(node, session_id=old)
    assert sock2.headers["Session-Resumed"] == "false"
    ready = await sock2.recv()
    assert ready["resumed"] is False and ready["sessionId"] != old
    stats = await sock2.recv()
    assert stats["uptime"] == 0


async def test_two_emulators_in_one_process_are_independent(make_node: NodeFactory, connect: Connect) -> None:
    first = await make_node()
    second = await make_node(password="other")
    assert first.port != second.port
    _, session_a = await open_session(connect, first)
    sock_b = await connect(second, auth="other")
    assert (await sock_b.recv())["op"] == "ready"
    assert set(first.sessions) == {session_a}
    assert session_a not in second.sessions
    await first.close()
    assert not sock_b.ws.closed
    assert len(second.sessions) == 1


async def test_context_manager_serves_on_loopback_with_a_random_port() -> None:
    async with FakeLavalink(password="x") as node:
        assert node.host == "127.0.0.1"
        assert node.port > 0
        assert node.url == f"http://127.0.0.1:{node.port}"
        async with (
            aiohttp.ClientSession() as http,
            http.get(node.url + "/version", headers={"Authorization": "x"}) as response,
        ):
            assert await response.text() == "4.2.2"
    assert not node.running
