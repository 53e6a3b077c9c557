"""Issue 10, item 4: a node's answer is read up to `max_response_size` bytes, never more.

A node that answered with 256 MiB took the bot from 56 to about 900 MiB. A larger answer now fails the request
with a `ProtocolError` saying it was too large, and the rest of it is never read.
"""

from __future__ import annotations

import asyncio
import typing

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightbulb_lavalink.errors import ProtocolError, RestError, SettingsError
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.protocol.transport import DEFAULT_MAX_RESPONSE_SIZE
from lightbulb_lavalink.settings import LavalinkSettings

from .helpers import PASSWORD, serve_app

LIMIT = 64 * 1024
GUARD = 10.0  # a bound on the whole test, never waited for when the client behaves


class Flood:
    """A node whose every answer is as long as asked, or endless."""

    def __init__(self) -> None:
        self.size = 0
        self.declared: int | None = None
        self.endless = False
        self.status = 200
        self.sent = 0
        self.cut = asyncio.Event()
        self.hold = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=self.status)
        response.content_type = "text/plain"
        if self.declared is not None:
            response.content_length = self.declared
        await response.prepare(request)
        chunk = b"4" * 16384
        try:
            if self.declared is not None and not self.endless:
                await response.write(b"4" * 10)
                await self.hold.wait()  # never sends the rest it announced
            while self.endless or self.sent < self.size:
                piece = chunk if self.endless else chunk[: self.size - self.sent]
                await response.write(piece)
                self.sent += len(piece)
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            self.cut.set()
            raise
        return response


@pytest.fixture
async def flood() -> typing.AsyncIterator[tuple[Flood, str]]:
    node = Flood()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", node.handle)
    async with serve_app(app) as url:
        try:
            yield node, url
        finally:
            node.hold.set()


async def test_an_endless_answer_fails_once_past_the_limit(flood: tuple[Flood, str]) -> None:
    node, url = flood
    node.endless = True
    async with RestClient(url, PASSWORD, max_response_size=LIMIT) as rest, asyncio.timeout(GUARD):
        with pytest.raises(ProtocolError) as raised:
            await rest.version()
        await node.cut.wait()  # the client hung up instead of reading on
    assert "too large" in str(raised.value) and str(LIMIT) in str(raised.value)


async def test_an_announced_256_mib_answer_is_refused_without_reading_it(flood: tuple[Flood, str]) -> None:
    node, url = flood
    node.declared = 256 * 1024 * 1024
    async with RestClient(url, PASSWORD) as rest, asyncio.timeout(GUARD):
        with pytest.raises(ProtocolError) as raised:
            await rest.load_tracks("ytsearch:everything")
    assert "too large" in str(raised.value) and "268435456 bytes" in str(raised.value)
    assert rest.max_response_size == DEFAULT_MAX_RESPONSE_SIZE


async def test_a_long_error_answer_is_cut_not_read_to_its_end(flood: tuple[Flood, str]) -> None:
    node, url = flood
    node.status, node.endless = 500, True
    async with RestClient(url, PASSWORD, max_response_size=LIMIT) as rest, asyncio.timeout(GUARD):
        with pytest.raises(RestError) as raised:
            await rest.stats()
    assert raised.value.status == 500


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(0, 3 * LIMIT) | st.integers(LIMIT - 2, LIMIT + 2), announce=st.booleans())
async def test_answers_up_to_the_limit_are_read_larger_ones_refused(
    flood: tuple[Flood, str], size: int, announce: bool
) -> None:
    node, url = flood
    node.size, node.sent, node.declared = size, 0, (size if announce else None)
    node.hold.set()
    async with RestClient(url, PASSWORD, max_response_size=LIMIT) as rest, asyncio.timeout(GUARD):
        if size == 0:
            with pytest.raises(ProtocolError, match="no version"):
                await rest.version()
        elif size <= LIMIT:
            assert await rest.version() == "4" * size
        else:
            with pytest.raises(ProtocolError, match="too large"):
                await rest.version()


def test_the_limit_is_a_setting_checked_like_the_others() -> None:
    assert LavalinkSettings().max_response_size == DEFAULT_MAX_RESPONSE_SIZE == 32 * 1024 * 1024
    assert LavalinkSettings.from_env({"LAVALINK_MAX_RESPONSE_SIZE": "1048576"}).max_response_size == 1048576
    for bad in (0, -1, 1024, 2**40, 1.5, "big", True, 10**5000):
        with pytest.raises(SettingsError) as raised:
            LavalinkSettings(max_response_size=bad)  # type: ignore[arg-type]
        assert raised.value.field == "max_response_size"
    with pytest.raises(SettingsError) as raised:
        LavalinkSettings.from_env({"LAVALINK_MAX_RESPONSE_SIZE": "lots"})
    assert raised.value.field == "LAVALINK_MAX_RESPONSE_SIZE"
