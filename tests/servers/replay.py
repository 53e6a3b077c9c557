"""`ReplayNode`: a small aiohttp server on 127.0.0.1 that answers as a recorded server did.

REST requests are answered with recorded exchanges (by method and route, or the one a test names with `answer`);
the websocket sends the recorded ``ready`` and then the recorded frames. Before answering an exchange the node
sends the frames its transcript recorded before that answer (events often came first), so what the client sees
is the recording's own order. Session ids of every transcript are treated as one: the replayed session's.
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
import typing

from aiohttp import web

from .transcripts import Exchange, Transcript

_SESSION = "{session}"


class ReplayNode:
    """Serve `transcripts` (the first one's ``ready`` is the session) to one client at a time."""

    def __init__(self, *transcripts: Transcript, password: str = "youshallnotpass") -> None:
        self.transcripts = transcripts
        self.password = password
        ids = [f["sessionId"] for t in transcripts for f in t.frames("ready")]
        self._ready = transcripts[0].frames("ready")[0]
        self.session_id: str = self._ready["sessionId"]
        self._ids = re.compile("|".join(re.escape(i) for i in ids)) if ids else None
        self._exchanges = [(t, e) for t in transcripts for e in t.exchanges]
        self._used: set[tuple[str, int]] = set()
        self._named: collections.deque[tuple[Transcript, Exchange]] = collections.deque()
        self._sent: dict[str, int] = {}  # transcript -> index of the first line not yet played
        self.requests: list[tuple[str, str, typing.Any]] = []
        """Every REST request: method, path with query, JSON body."""
        self.misses: list[tuple[str, str]] = []
        """Requests no recorded exchange could answer (answered 404)."""
        self.connections = 0
        self._ws: web.WebSocketResponse | None = None
        self._connected = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ----------------------------------------------------------------------------------------------

    async def __aenter__(self) -> typing.Self:
        app = web.Application()
        app.router.add_get("/v4/websocket", self._websocket)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self.host, self.port = host, port
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what tests drive ---------------------------------------------------------------------------------------

    def answer(self, label: str, transcript: Transcript | None = None) -> Exchange:
        """Answer the next REST request with the recorded exchange `label` (of `transcript`, else the first that
        has it), whatever the route the client asks; returns that exchange."""
        for t, exchange in self._exchanges:
            if (transcript is None or t is transcript) and exchange.label == label:
                self._named.append((t, exchange))
                return exchange
        raise LookupError(f"no recorded exchange labelled {label!r}")

    async def connected(self) -> None:
        """Wait until a client's websocket is open (its ``ready`` sent)."""
        async with asyncio.timeout(5):
            await self._connected.wait()

    async def play(
        self,
        transcript: Transcript,
        *,
        before: Exchange | None = None,
        stop: typing.Callable[[dict[str, typing.Any]], bool] | None = None,
    ) -> None:
        """Send `transcript`'s frames not yet sent, up to the answer of `before` (else to its end), or up to the
        first frame `stop` is true of (not sent)."""
        end = len(transcript.lines) if before is None else before.index
        index = start = self._sent.get(transcript.name, 0)
        while index < end:
            line = transcript.lines[index]
            data = line.get("data")
            if line.get("kind") == "ws" and line.get("dir") == "recv" and isinstance(data, dict):
                if stop is not None and stop(data):
                    break
                if data.get("op") != "ready":
                    await self.send(data)
            index += 1
        self._sent[transcript.name] = max(start, index)

    async def send(self, frame: typing.Mapping[str, typing.Any] | str) -> None:
        """Send one text frame to the connected client."""
        ws = self._ws
        assert ws is not None and not ws.closed, "no client is connected"
        await ws.send_str(frame if isinstance(frame, str) else json.dumps(frame, separators=(",", ":")))

    async def close(self, code: int, reason: str) -> None:
        """Close the client's websocket as the server, with `code` and `reason`."""
        if self._ws is not None:
            await self._ws.close(code=code, message=reason.encode())

    # -- the server ---------------------------------------------------------------------------------------------

    def _route(self, path: str) -> str:
        route = path.partition("?")[0]
        return self._ids.sub(_SESSION, route) if self._ids is not None else route

    def _find(self, method: str, route: str) -> tuple[Transcript, Exchange] | None:
        if self._named:
            return self._named.popleft()
        candidates = [(t, e) for t, e in self._exchanges if e.method == method and self._route(e.path) == route]
        for t, exchange in candidates:
            if (t.name, exchange.index) not in self._used:
                return t, exchange
        return candidates[-1] if candidates else None

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        body = json.loads(raw) if raw else None
        self.requests.append((request.method, request.path_qs, body))
        if request.headers.get("Authorization") != self.password:
            return web.Response(status=401, text="Unauthorized", content_type="text/plain")
        found = self._find(request.method, self._route(request.path))
        if found is None:
            self.misses.append((request.method, request.path_qs))
            return web.Response(status=404)
        transcript, exchange = found
        self._used.add((transcript.name, exchange.index))
        if self._ws is not None and not self._ws.closed:
            await self.play(transcript, before=exchange)
        return exchange.response()

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != self.password:
            return web.Response(status=401, text="Invalid password provided.")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections += 1
        self._ws = ws
        await ws.send_str(json.dumps(self._ready, separators=(",", ":")))
        self._connected.set()
        async for _ in ws:  # NodeLink ignores client frames
            pass
        self._connected.clear()
        return ws
