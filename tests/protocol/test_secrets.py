"""Issue 10, item 1: a node that redirects in a loop (or quotes our password back) never gets the password printed.

aiohttp's errors carry the request with its headers in their repr; the REST client and the websocket handshake
are where those errors become ours, and nothing of the request may survive there: not in the message, not in
the exception chain, not in a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import typing

import aiohttp
import pytest
from aiohttp import web

from lightbulb_lavalink.errors import LavalinkError, NodeUnavailable, RestError, SettingsError
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.protocol.websocket import Backoff, WebSocketSession
from lightbulb_lavalink.testing import ManualClock
from tests.exception_texts import exception_texts

from .helpers import serve_app

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.protocol.messages import Message

PASSWORD = "Pa55-Redirect-Secret"


def redirect_loop_app() -> web.Application:
    async def loop(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.path)  # the same path again, forever

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", loop)
    return app


class RecordEvent(logging.Handler):
    """Keeps every record and sets `seen` when one matches."""

    def __init__(self, match: str) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.match = match
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if self.match in record.getMessage():
            self.seen.set()


@contextlib.contextmanager
def recording(match: str) -> typing.Iterator[RecordEvent]:
    handler = RecordEvent(match)
    logger = logging.getLogger("lightbulb_lavalink")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def record_texts(record: logging.LogRecord) -> list[str]:
    texts = [record.getMessage(), repr(record.args)]
    if record.exc_info and record.exc_info[1] is not None:
        texts += exception_texts(record.exc_info[1])
    return texts


async def test_rest_redirect_loop_never_shows_the_password() -> None:
    async with serve_app(redirect_loop_app()) as url, RestClient(url, PASSWORD) as rest:
        with recording("/v4/info") as log, pytest.raises(NodeUnavailable) as raised:
            await rest.info()
    assert "302" in str(raised.value) and "Lavalink never redirects" in str(raised.value)
    for text in exception_texts(raised.value):
        assert PASSWORD not in text
    for record in log.records:
        for text in record_texts(record):
            assert PASSWORD not in text


async def test_rest_does_not_follow_a_redirect_elsewhere() -> None:
    """A redirect would send the password to wherever the node points (or loop): it is a clear error instead."""
    requests: list[str] = []

    async def moved(request: web.Request) -> web.StreamResponse:
        requests.append(request.path)
        raise web.HTTPMovedPermanently(f"https://elsewhere.example:8443{request.path}?password={PASSWORD}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", moved)
    async with serve_app(app) as url, RestClient(url, PASSWORD) as rest:
        with pytest.raises(NodeUnavailable) as raised:
            await rest.stats()
    assert requests == ["/v4/stats"]
    assert "301" in str(raised.value) and "https://elsewhere.example:8443/v4/stats" in str(raised.value)
    assert PASSWORD not in str(raised.value)


@pytest.mark.parametrize("status", [400, 403, 404, 500])
async def test_an_answer_quoting_the_password_is_scrubbed(status: int) -> None:
    async def echo(request: web.Request) -> web.StreamResponse:
        said = f"bad Authorization {request.headers['Authorization']}"
        return web.json_response({"status": status, "error": said, "message": said}, status=status, reason="Nope")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    async with serve_app(app) as url, RestClient(url, PASSWORD) as rest:
        with pytest.raises(RestError) as raised:
            await rest.get_player("abc", 1)
    assert raised.value.status == status
    for text in [*exception_texts(raised.value), raised.value.message, raised.value.error]:
        assert PASSWORD not in text


@pytest.mark.parametrize(
    "base_url", [f"http://user:{PASSWORD}@lava:2333", f"http://lava:{PASSWORD}", f"http://{PASSWORD}@lava"]
)
def test_a_password_in_the_node_url_is_refused_without_showing_it(base_url: str) -> None:
    with pytest.raises(SettingsError) as raised:
        RestClient(base_url, PASSWORD)
    for text in exception_texts(raised.value):
        assert PASSWORD not in text


class _Handler:
    def __init__(self) -> None:
        self.failures: list[LavalinkError] = []

    async def on_message(self, message: Message) -> None:
        pass

    async def on_disconnect(self, code: int | None, reason: str, will_reconnect: bool) -> None:
        pass

    async def on_fatal(self, error: LavalinkError) -> None:
        self.failures.append(error)

    async def on_connect_failed(self, error: LavalinkError, retry_in: float) -> None:
        self.failures.append(error)


async def test_websocket_handshake_redirect_loop_never_shows_the_password() -> None:
    handler = _Handler()
    async with serve_app(redirect_loop_app()) as url, aiohttp.ClientSession() as http:
        ws = WebSocketSession(
            url, PASSWORD, 1, session=http, handler=handler, backoff=Backoff(initial=60), clock=ManualClock()
        )
        with recording("cannot connect to Lavalink") as log:
            await ws.start()
            await log.seen.wait()
            await ws.close()
    assert "redirect" in log.records[-1].getMessage()
    for record in log.records:
        for text in record_texts(record):
            assert PASSWORD not in text
    for error in handler.failures:
        for text in exception_texts(error):
            assert PASSWORD not in text
