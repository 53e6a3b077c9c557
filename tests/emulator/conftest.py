"""Fixtures for the emulator tests: a FakeLavalink on a manual clock, raw websocket and REST helpers."""

from __future__ import annotations

import asyncio
import json
import typing

import aiohttp
import pytest

from lightbulb_lavalink.testing import FakeLavalink, ManualClock

PASSWORD = "pw"
START_MS = 1_700_000_000_000


class RawSocket:
    """A raw aiohttp websocket to the emulator that decodes every text frame as JSON."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.headers = ws._response.headers if ws._response is not None else {}

    async def recv(self) -> dict[str, typing.Any]:
        # 5 s is only a failsafe so that a broken emulator fails the test instead of hanging it.
        message = await self.ws.receive(timeout=5.0)
        assert message.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {message}"
        return typing.cast("dict[str, typing.Any]", json.loads(message.data))

    async def recv_raw(self) -> str:
        message = await self.ws.receive(timeout=5.0)
        assert message.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {message}"
        return typing.cast("str", message.data)

    async def recv_many(self, count: int) -> list[dict[str, typing.Any]]:
        return [await self.recv() for _ in range(count)]

    async def recv_close(self) -> aiohttp.WSMessage:
        while True:
            message = await self.ws.receive(timeout=5.0)
            if message.type is not aiohttp.WSMsgType.TEXT:
                return message

    async def ready(self) -> dict[str, typing.Any]:
        """Read ``ready`` and the ``stats`` op that follows a new session; return ``ready``."""
        ready = await self.recv()
        assert ready["op"] == "ready"
        if not ready["resumed"]:
            assert (await self.recv())["op"] == "stats"
        return ready


async def expect_marker(node: FakeLavalink, session_id: str, sock: RawSocket) -> None:
    """Prove that nothing was sent before this point: a marker op must be the very next frame."""
    node.sessions[session_id].send({"op": "marker"})
    assert await sock.recv() == {"op": "marker"}


class Api:
    """Minimal REST helper with the emulator's password."""

    def __init__(self, node: FakeLavalink, http: aiohttp.ClientSession) -> None:
        self.node = node
        self.http = http

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: typing.Any = None,
        auth: str | None = PASSWORD,
        params: dict[str, str] | None = None,
    ) -> tuple[int, typing.Any, aiohttp.ClientResponse]:
        headers = {} if auth is None else {"Authorization": auth}
        kwargs: dict[str, typing.Any] = {"headers": headers, "params": params}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            headers["Content-Type"] = "application/json"
        async with self.http.request(method, self.node.url + path, **kwargs) as response:
            text = await response.text()
            data = json.loads(text) if response.content_type == "application/json" and text else text
            return response.status, data, response

    async def patch_player(
        self, session_id: str, guild_id: int | str, body: dict[str, typing.Any], **params: str
    ) -> tuple[int, typing.Any]:
        status, data, _ = await self.call(
            "PATCH", f"/v4/sessions/{session_id}/players/{guild_id}", body=body, params=params or None
        )
        return status, data

    async def enable_resuming(self, session_id: str, seconds: int = 60) -> None:
        status, data, _ = await self.call(
            "PATCH", f"/v4/sessions/{session_id}", body={"resuming": True, "timeout": seconds}
        )
        assert status == 200, data

    async def load(self, identifier: str) -> typing.Any:
        status, data, _ = await self.call("GET", "/v4/loadtracks", params={"identifier": identifier})
        assert status == 200
        return data


async def wait_until(predicate: typing.Callable[[], bool]) -> None:
    """The server notices a client-side close on its own schedule: poll (a failsafe, not a timing)."""
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


NodeFactory = typing.Callable[..., typing.Awaitable[FakeLavalink]]


@pytest.fixture
async def make_node() -> typing.AsyncIterator[NodeFactory]:
    """Start emulators (manual clock unless `time_scale` is given); all closed at the end of the test."""
    nodes: list[FakeLavalink] = []

    async def factory(**kwargs: typing.Any) -> FakeLavalink:
        kwargs.setdefault("password", PASSWORD)
        if "time_scale" not in kwargs:
            kwargs.setdefault("clock", ManualClock(start_epoch_ms=START_MS))
        node = FakeLavalink(**kwargs)
        await node.start()
        nodes.append(node)
        return node

    yield factory
    for node in nodes:
        await node.close()


@pytest.fixture
async def node(make_node: NodeFactory) -> FakeLavalink:
    return await make_node()


@pytest.fixture
def clock(node: FakeLavalink) -> ManualClock:
    assert isinstance(node.clock, ManualClock)
    return node.clock


@pytest.fixture
async def http() -> typing.AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(node: FakeLavalink, http: aiohttp.ClientSession) -> Api:
    return Api(node, http)


Connect = typing.Callable[..., typing.Awaitable[RawSocket]]


@pytest.fixture
async def connect(http: aiohttp.ClientSession) -> typing.AsyncIterator[Connect]:
    """Open raw websockets (``connect(node, session_id=..., user_id=...)``); closed at the end."""
    sockets: list[aiohttp.ClientWebSocketResponse] = []

    async def opener(
        target: FakeLavalink,
        *,
        user_id: str | None = "1",
        session_id: str | None = None,
        auth: str | None = PASSWORD,
        client_name: str | None = "tests/1.0",
    ) -> RawSocket:
        headers = {}
        if auth is not None:
            headers["Authorization"] = auth
        if user_id is not None:
            headers["User-Id"] = user_id
        if session_id is not None:
            headers["Session-Id"] = session_id
        if client_name is not None:
            headers["Client-Name"] = client_name
        ws = await http.ws_connect(target.url + "/v4/websocket", headers=headers, autoping=True)
        sockets.append(ws)
        return RawSocket(ws)

    yield opener
    for ws in sockets:
        await ws.close()
    await asyncio.sleep(0)


async def open_session(connect: Connect, node: FakeLavalink) -> tuple[RawSocket, str]:
    """Connect, read ``ready`` and the first ``stats``; return the socket and the session id."""
    sock = await connect(node)
    ready = await sock.ready()
    return sock, typing.cast("str", ready["sessionId"])


async def play(api: Api, session_id: str, guild_id: int, identifier: str, **extra: typing.Any) -> typing.Any:
    """Load `identifier` and start it on the guild's player with a voice connection; return the Player."""
    track = (await api.load(identifier))["data"]
    body: dict[str, typing.Any] = {"track": {"encoded": track["encoded"]}, **extra}
    status, player = await api.patch_player(session_id, guild_id, body)
    assert status == 200, player
    return player


VOICE = {"token": "tok", "endpoint": "us-east1.discord.media:443", "sessionId": "vsid", "channelId": "42"}
