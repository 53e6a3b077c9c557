"""Issue 10, item 5: a node that never says `ready`, or cannot be reached at all, is a failed attempt with a reason.

A node that accepted the websocket and never sent `ready` left the node "connecting" forever: no log line,
`last_error` None, and `close()` took 10 s. Now the handshake-to-ready is timed out on the client's clock, logged
once, retried with backoff, and `node.last_error` (shown by `/lavalink status`) says why, for that and for a
first connection that keeps failing (refused, no handshake).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import typing

from aiohttp import web

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.ext.presentation import status_embed
from lightbulb_lavalink.ext.reports import status_view
from lightbulb_lavalink.node import NodeState
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.stores import MemoryStore
from lightbulb_lavalink.testing import ManualClock
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeVoiceGateway, make_bot

from .test_nodes import free_port

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator

GUARD = 5.0  # real seconds: a bound on waits that end at once when the client behaves
REQUEST_TIMEOUT = 7.0


class Records(logging.Handler):
    """Every record of the library; `wait(text)` returns once one holds `text`."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self._changed.set()

    def matching(self, text: str, level: int = logging.DEBUG) -> list[logging.LogRecord]:
        return [r for r in self.records if text in r.getMessage() and r.levelno >= level]

    async def wait(self, text: str, count: int = 1) -> None:
        async with asyncio.timeout(GUARD):
            while len(self.matching(text)) < count:
                self._changed.clear()
                await self._changed.wait()


@contextlib.contextmanager
def records() -> typing.Iterator[Records]:
    handler = Records()
    logger = logging.getLogger("lightbulb_lavalink")
    old = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


class SilentNode:
    """Accepts the websocket handshake, then says nothing and answers nothing (not even a close frame)."""

    def __init__(self) -> None:
        self.connections = 0
        self._changed = asyncio.Event()
        self._never = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoclose=False)
        await ws.prepare(request)
        self.connections += 1
        self._changed.set()
        await self._never.wait()
        return ws

    async def wait_connections(self, count: int) -> None:
        async with asyncio.timeout(GUARD):
            while self.connections < count:
                self._changed.clear()
                await self._changed.wait()

    def stop(self) -> None:
        self._never.set()


def _client(port: int, clock: ManualClock, discord: FakeDiscord) -> LavalinkClient:
    settings = LavalinkSettings(
        nodes=(NodeSettings(name="quiet", host="127.0.0.1", port=port, password="Silent-Node-Password"),),
        request_timeout=REQUEST_TIMEOUT,
        reconnect_delay=1.0,
        reconnect_max_delay=2.0,
    )
    bot = make_bot(bot_id=discord.bot_id)
    return LavalinkClient(bot, settings, store=MemoryStore(), voice_gateway=FakeVoiceGateway(discord), clock=clock)


@contextlib.asynccontextmanager
async def started(port: int, clock: ManualClock) -> AsyncIterator[LavalinkClient]:
    discord = FakeDiscord()
    client = _client(port, clock, discord)
    await client.start(bot_id=discord.bot_id)
    try:
        yield client
    finally:
        async with asyncio.timeout(GUARD):  # no node may keep close() waiting for it
            await client.close()


def status_text(client: LavalinkClient) -> str:
    embed = status_embed(status_view(client))
    return "\n".join([embed.description or "", *(f"{f.name}\n{f.value}" for f in embed.fields)])


async def test_no_ready_after_the_handshake_times_out_logs_once_and_retries() -> None:
    silent = SilentNode()
    app = web.Application()
    app.router.add_get("/v4/websocket", silent.handle)
    clock = ManualClock()
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        with records() as log:
            async with started(port, clock) as client:
                node = client.nodes["quiet"]
                await silent.wait_connections(1)
                await log.wait("waiting for ready")
                assert node.state is NodeState.CONNECTING and node.last_error is None

                clock.advance(REQUEST_TIMEOUT - 0.5)  # not yet
                clock.advance(0.5)  # the node had its request_timeout to say ready
                await log.wait("no ready within")
                assert len(log.matching("no ready within", logging.WARNING)) == 1
                assert node.state is NodeState.CONNECTING
                assert node.last_error is not None and "no ready within 7 s" in node.last_error
                assert "no ready within 7 s" in status_text(client)

                clock.advance(2.0)  # the backoff (at most reconnect_max_delay): a second attempt
                await silent.wait_connections(2)
                await log.wait("waiting for ready", count=2)
                clock.advance(REQUEST_TIMEOUT)
                await log.wait("no ready within", count=2)
            # close() returned at once, though the node never answers a close frame (GUARD in `started`)
    finally:
        silent.stop()
        await runner.cleanup()


async def test_a_refused_first_connection_says_why() -> None:
    clock = ManualClock()
    with records() as log:
        async with started(free_port(), clock) as client:
            await log.wait("cannot connect to Lavalink")
            node = client.nodes["quiet"]
            assert node.state is NodeState.CONNECTING
            assert node.last_error is not None and "cannot connect" in node.last_error
            assert "Connect call failed" in node.last_error or "refused" in node.last_error.lower()
            assert node.last_error in status_text(client)
            clock.advance(2.0)
            await log.wait("cannot connect to Lavalink", count=2)  # retried with backoff, still saying why
            assert node.last_error is not None and "cannot connect" in node.last_error


async def test_a_handshake_that_never_comes_says_why() -> None:
    accepted = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)  # accepts the TCP connection, never answers the HTTP upgrade
        accepted.set()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    clock = ManualClock()
    try:
        with records() as log:
            async with started(port, clock) as client:
                async with asyncio.timeout(GUARD):
                    await accepted.wait()
                clock.advance(REQUEST_TIMEOUT)
                await log.wait("cannot connect to Lavalink")
                node = client.nodes["quiet"]
                assert node.last_error is not None and "no handshake within 7 s" in node.last_error
                assert node.last_error in status_text(client)
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()
