"""What a real server sent: the recorded NodeLink 3.7.0 sessions of ``../shared/transcripts``, read as data.

The folder sits beside the clone (CI puts a copy of ``shared/`` there). When it is absent the tests that need it
are skipped with a reason, except under ``CI=true``, where they fail: CI must never pass without the recordings.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import typing

import attrs
import pytest
from aiohttp import web

TRANSCRIPTS = pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "transcripts"
"""``../shared/transcripts`` relative to the repository root."""

NODELINK = "nodelink-3.7.0"


def folder(server: str = NODELINK) -> pathlib.Path:
    """The recordings of `server`; skips the test (fails it under ``CI=true``) when they are not there."""
    path = TRANSCRIPTS / server
    if not path.is_dir():
        reason = f"the recorded server sessions are not at {path.resolve()} (a copy of shared/ beside the clone)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@attrs.frozen
class Exchange:
    """One recorded REST request and the answer the server gave."""

    index: int
    """Position of the line in its file."""
    label: str | None
    method: str
    path: str
    """The path as sent, query string included."""
    request_body: typing.Any
    status: int
    response_headers: dict[str, str]
    response_body: typing.Any
    """Parsed JSON when the body was JSON, else its text; ``None`` when empty."""

    @property
    def route(self) -> str:
        """The path without its query string."""
        return self.path.partition("?")[0]

    def response(self) -> web.Response:
        """The recorded answer as an aiohttp response (body decompressed, its content type kept)."""
        content_type = self.response_headers.get("Content-Type", "application/json").split(";")[0]
        body = self.response_body
        if body is None:
            return web.Response(status=self.status)
        text = body if isinstance(body, str) and content_type != "application/json" else json.dumps(body)
        return web.Response(status=self.status, text=text, content_type=content_type)


@attrs.frozen
class Transcript:
    """One recorded scenario: every line of its JSON Lines file, in the order things happened."""

    name: str
    lines: tuple[dict[str, typing.Any], ...]

    @classmethod
    def load(cls, name: str, server: str = NODELINK) -> Transcript:
        path = folder(server) / f"{name}.jsonl"
        with path.open(encoding="utf-8") as file:
            lines = tuple(json.loads(line) for line in file if line.strip())
        return cls(name=name, lines=lines)

    @property
    def exchanges(self) -> list[Exchange]:
        """Every REST exchange, in order."""
        return [
            Exchange(
                index=i,
                label=line.get("label"),
                method=line["method"],
                path=line["path"],
                request_body=line["request_body"],
                status=line["status"],
                response_headers=line["response_headers"],
                response_body=line["response_body"],
            )
            for i, line in enumerate(self.lines)
            if line.get("kind") == "rest"
        ]

    def exchange(self, label: str | None = None, *, method: str | None = None, route: str | None = None) -> Exchange:
        """The first exchange with this label (and method, and path without query string, when given)."""
        for exchange in self.exchanges:
            if label is not None and exchange.label != label:
                continue
            if method is not None and exchange.method != method:
                continue
            if route is not None and exchange.route != route:
                continue
            return exchange
        raise LookupError(f"{self.name}: no exchange {label!r} {method or ''} {route or ''}")

    def frames(self, op: str | None = None, event: str | None = None) -> list[dict[str, typing.Any]]:
        """The JSON frames the server sent over the websocket (of one op or event type, when given)."""
        found = []
        for line in self.lines:
            if line.get("kind") != "ws" or line.get("dir") != "recv" or not isinstance(line.get("data"), dict):
                continue
            data = line["data"]
            if op is not None and data.get("op") != op:
                continue
            if event is not None and data.get("type") != event:
                continue
            found.append(data)
        return found

    def raw_frames(self, op: str | None = None, event: str | None = None) -> list[str]:
        """`frames` serialized again, one websocket text frame each."""
        return [json.dumps(frame, separators=(",", ":")) for frame in self.frames(op, event)]


@contextlib.asynccontextmanager
async def serve_app(app: web.Application) -> typing.AsyncIterator[str]:
    """Serve `app` on a free loopback port for the block; yields its ``http://host:port`` URL."""
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def serving(exchange: Exchange) -> web.Application:
    """An app that answers every request, whatever its route, with `exchange`'s recorded answer."""

    async def answer(request: web.Request) -> web.StreamResponse:
        return exchange.response()

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app
