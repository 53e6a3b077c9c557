"""`resumes_session`: a new connection tells a paused session (it resumes it) from one a live connection holds (it
gets a fresh session), which NodeLink's REST cannot; the probe leaves either as it found it."""

from __future__ import annotations

import json
import typing

import aiohttp
import pytest
from aiohttp import web

from lightbulb_lavalink.errors import LavalinkError, ProtocolError
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.protocol.session_probe import resumes_session
from lightbulb_lavalink.protocol.websocket import websocket_url
from lightbulb_lavalink.testing import FakeLavalink, ManualClock
from tests.loop_turns import turns

PASSWORD = "probe-pa55word"
USER = 1_100_000_000_000_000_001


@pytest.fixture
async def nodelink() -> typing.AsyncIterator[FakeLavalink]:
    async with FakeLavalink(password=PASSWORD, clock=ManualClock(), flavour="nodelink") as node:
        yield node


async def held_session(node: FakeLavalink, http: aiohttp.ClientSession) -> tuple[aiohttp.ClientWebSocketResponse, str]:
    """A connection holding a resumable session, as a running bot's."""
    headers = {"Authorization": PASSWORD, "User-Id": str(USER), "Client-Name": "bot/1.0"}
    ws = await http.ws_connect(websocket_url(node.url), headers=headers)
    ready = json.loads((await ws.receive()).data)
    async with RestClient(node.url, PASSWORD) as rest:
        await rest.update_session(ready["sessionId"], resuming=True, timeout=60)
    return ws, ready["sessionId"]


async def probe(node: FakeLavalink, http: aiohttp.ClientSession, session_id: str, password: str = PASSWORD) -> bool:
    return await resumes_session(
        http, node.url, password, user_id=USER, session_id=session_id, clock=ManualClock(), timeout=5
    )


async def test_a_held_session_is_not_resumed_and_its_connection_keeps_it(nodelink: FakeLavalink) -> None:
    async with aiohttp.ClientSession() as http:
        ws, session_id = await held_session(nodelink, http)
        assert not await probe(nodelink, http, session_id)
        assert nodelink.connected_session(session_id) is not None and not nodelink.sessions[session_id].paused
        assert len(nodelink.sessions) == 1  # the fresh session the probe got was ended with its connection
        await ws.close()


async def test_a_paused_session_is_resumed_then_paused_again(nodelink: FakeLavalink) -> None:
    async with aiohttp.ClientSession() as http:
        ws, session_id = await held_session(nodelink, http)
        await ws.close()
        await turns()  # the server handles the close
        assert nodelink.sessions[session_id].paused
        assert await probe(nodelink, http, session_id)
        await turns()
        assert nodelink.sessions[session_id].paused  # resumable again: the next start resumes it


async def test_a_refused_handshake_never_shows_the_password(nodelink: FakeLavalink) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(LavalinkError) as caught:
            await probe(nodelink, http, "abcdefghijklmnop", password="wrong-pa55word")
    assert "wrong-pa55word" not in str(caught.value) and PASSWORD not in str(caught.value)


async def test_a_first_frame_nested_too_deep_for_the_json_reader_is_a_protocol_error() -> None:
    """Only ValueError was caught: such a frame raised RecursionError, which no caller of the probe (the handoff's
    start) expects, instead of the ProtocolError documented."""

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str("[" * 100_000 + "]" * 100_000)
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/v4/websocket", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(ProtocolError):
                await resumes_session(
                    http, f"http://127.0.0.1:{port}", PASSWORD, user_id=USER, session_id="s", clock=ManualClock(),
                    timeout=5,
                )  # fmt: skip
    finally:
        await runner.cleanup()
