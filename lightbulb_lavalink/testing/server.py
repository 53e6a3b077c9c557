"""`FakeLavalink`: a Lavalink v4 node emulated on aiohttp, for testing bots without a real server."""

from __future__ import annotations

import asyncio
import logging
import random
import string
import typing

from aiohttp import web

from lightbulb_lavalink.errors import SettingsError
from lightbulb_lavalink.testing.catalog import DEFAULT_SOURCES, Catalog
from lightbulb_lavalink.testing.clock import ScaledClock
from lightbulb_lavalink.testing.context import NodeContext
from lightbulb_lavalink.testing.faults import Faults
from lightbulb_lavalink.testing.patch import decode_blob
from lightbulb_lavalink.testing.planner import FakeRoutePlanner
from lightbulb_lavalink.testing.plugin_routes import add_plugin_routes
from lightbulb_lavalink.testing.plugins import LAVASRC_SEARCHES, FakePlugins
from lightbulb_lavalink.testing.routes import add_routes, api_version_header, make_middleware
from lightbulb_lavalink.testing.session import Connection, FakeSession
from lightbulb_lavalink.testing.stats import info_json, stats_json
from lightbulb_lavalink.testing.traffic import HandshakeRecord, RequestRecord, TrafficLog
from lightbulb_lavalink.testing.versions import EmulatedVersion
from lightbulb_lavalink.testing.wire import parse_long

if typing.TYPE_CHECKING:
    import types

    from lightbulb_lavalink.protocol.tracks import Track
    from lightbulb_lavalink.testing.clock import Clock
    from lightbulb_lavalink.testing.player import FakePlayer

__all__ = ["FakeLavalink"]

_LOGGER = logging.getLogger("lightbulb_lavalink.testing.server")
_ID_CHARS = string.ascii_lowercase + string.digits
_NODELINK_ID_CHARS = string.ascii_letters  # NodeLink's session ids: 16 mixed-case letters
_DEFAULT_VERSIONS = {"lavalink": "4.2.2", "nodelink": "3.7.0"}


class FakeLavalink:
    """A Lavalink v4 node on 127.0.0.1 (random port by default), faithful to the protocol, resuming included.

    ``async with FakeLavalink(password="pw", time_scale=1000) as node:`` then connect to `node.url`. `version`
    picks the Lavalink 4.x release whose differences it reproduces (default ``4.2.2``); ``flavour="nodelink"``
    answers as NodeLink does instead (default version ``3.7.0``), with the differences recorded in
    ``shared/transcripts/nodelink-3.7.0`` that a client can notice; ``nodelink_single_process=True`` adds what
    NodeLink without its cluster does: the players a session had before a resume send nothing on the new socket.
    Controls: `add_track`, `drop_connections`, `restart`, `faults` (failing REST requests), per-player
    `fail`/`stick`/`close_voice`; state: `sessions`, `players_of`. Times are emulated: `time_scale` (or a
    `ManualClock` as `clock`) decides how fast tracks advance and timers fire; intervals are in emulated seconds.
    """

    def __init__(
        self,
        *,
        password: str = "youshallnotpass",
        host: str = "127.0.0.1",
        port: int = 0,
        version: str | None = None,
        flavour: str = "lavalink",
        player_update_interval: float = 5.0,
        stats_interval: float = 60.0,
        track_stuck_threshold_ms: int = 10_000,
        time_scale: float = 1.0,
        clock: Clock | None = None,
        disabled_filters: typing.Iterable[str] = (),
        sources: typing.Iterable[str] = DEFAULT_SOURCES,
        rest_frame_stats_null: bool = False,
        route_planner: bool = False,
        seed: int | None = None,
        nodelink_single_process: bool = False,
        plugins: typing.Iterable[str] = (),
    ) -> None:
        intervals = (("player_update_interval", player_update_interval), ("stats_interval", stats_interval))
        for name, value in intervals:
            if not value > 0:
                raise SettingsError(name, f"must be a positive number of seconds, got {value!r}")
        if track_stuck_threshold_ms < 0:
            raise SettingsError("track_stuck_threshold_ms", "must not be negative")
        if not time_scale > 0:
            raise SettingsError("time_scale", f"must be a positive number, got {time_scale!r}")
        if clock is not None and time_scale != 1.0:
            raise SettingsError("time_scale", "cannot be combined with an explicit clock")
        self.password = password
        """The password clients must send as ``Authorization``."""
        self.host = host
        """The address the server listens on."""
        self.catalog = Catalog(sources)
        """Where identifiers resolve; `add_track` and `add_playlist` register exact entries."""
        self.add_track = self.catalog.add_track
        """Register an exact track (`Catalog.add_track`); loading its identifier or URI returns it."""
        self.add_playlist = self.catalog.add_playlist
        """Register a playlist (`Catalog.add_playlist`): loading its URL returns its tracks under its name."""
        self.plugins = FakePlugins(plugins)
        """The Lavalink plugins served (``lavasrc``, ``lavasearch``, ``lavalyrics``, ``sponsorblock``), with their
        controls (`FakePlugins.set_lyrics`, `set_segments`, `set_chapters`) and the requests they received."""
        if "lavasrc" in self.plugins:
            self.catalog.add_search_sources(LAVASRC_SEARCHES)
        self.disabled_filters = frozenset(disabled_filters)
        """Filters disabled in the emulated config (PATCHing them gives 400)."""
        self.rest_frame_stats_null = rest_frame_stats_null
        """Whether ``GET /v4/stats`` writes ``"frameStats":null`` (default: the key is left out)."""
        self.route_planner = FakeRoutePlanner() if route_planner else None
        """The emulated route planner, ``None`` when disabled (status 204, free endpoints 500)."""
        self.traffic = TrafficLog(password=lambda: self.password)
        """The log of what the node received: `requests` and `handshakes`."""
        self.faults = Faults(now_ms=lambda: self.context.clock.time_ms(), drop_connections=self.drop_connections)
        """REST fault injection: ``node.faults.add("PATCH", "/v4/sessions/*/players/*", status=502)``."""
        self._version = EmulatedVersion.parse(
            version if version is not None else _DEFAULT_VERSIONS.get(flavour, "4.2.2"), flavour
        )
        self._port = port
        self._time_scale = time_scale
        self._clock = clock
        self._intervals = (player_update_interval, stats_interval, track_stuck_threshold_ms)
        self._rng = random.Random(seed)
        self._single_process = nodelink_single_process
        self._context: NodeContext | None = None
        self._sessions: dict[str, FakeSession] = {}
        self._connections: set[Connection] = set()
        self._handlers: set[asyncio.Task[typing.Any]] = set()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._started_at = 0.0

    # --- lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening (on the same port again after `close()`); sessions start empty."""
        if self._runner is not None:
            return
        if self._context is None:
            interval, stats, threshold = self._intervals
            self._context = NodeContext(
                clock=self._clock or ScaledClock(self._time_scale),
                version=self._version,
                catalog=self.catalog,
                player_update_interval=interval,
                stats_interval=stats,
                track_stuck_threshold_ms=threshold,
                nodelink_single_process=self._single_process and self._version.nodelink,
                plugins=self.plugins if self.plugins.enabled else None,
            )
        self._started_at = self._context.clock.now()
        app = web.Application(middlewares=[make_middleware(self)])
        app.on_response_prepare.append(api_version_header)
        app.router.add_get("/v4/websocket", self._websocket)
        add_routes(app, self)
        add_plugin_routes(app, self, self.plugins)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await self._listen(runner)
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        _LOGGER.info("fake Lavalink %s listening on %s", self._version.semver, self.url)

    async def _listen(self, runner: web.AppRunner) -> None:
        site = web.TCPSite(runner, self.host, self._port, reuse_address=True)
        await site.start()
        self._site = site
        server = getattr(site, "_server", None)
        if self._port == 0 and server is not None and server.sockets:
            self._port = int(server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Shut down as a real node does: sockets closed (1001 from 4.0.8), every session lost."""
        if self._runner is None:
            return
        await self._close_sockets()
        self.faults.close()  # held requests are cut, or the runner would wait for them
        runner, self._runner = self._runner, None
        self._site = None
        await runner.cleanup()
        _LOGGER.info("fake Lavalink on %s stopped", self.url)

    async def __aenter__(self) -> typing.Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        await self.close()

    async def restart(self) -> None:
        """Emulate a node restart: sockets closed as on shutdown, all sessions and players lost, uptime reset.

        The server keeps listening on the same port.
        """
        await self._close_sockets()
        self._started_at = self.context.clock.now()
        _LOGGER.info("fake Lavalink on %s restarted", self.url)

    async def drop_connections(self, *, refuse_new: bool = False) -> None:
        """Cut every websocket without a close handshake (a network failure); resumable sessions pause.

        With `refuse_new`, the node also drops its HTTP connections and stops listening (clients get
        "connection refused") until `accept_connections()`: a cut that lasts exactly as long as the test wants.
        """
        if refuse_new and self._site is not None:
            await self._site.stop()
            self._site = None
        for connection in list(self._connections):
            for session in list(self._sessions.values()):
                if session.connection is connection:
                    self._detach(session, connection)
            connection.abort()
        server = self._runner.server if refuse_new and self._runner is not None else None
        for protocol in server.connections if server is not None else ():  # keep-alive REST connections too
            if protocol.transport is not None:
                protocol.transport.abort()
        await self._wait_handlers()

    async def accept_connections(self) -> None:
        """Listen again on the same port after ``drop_connections(refuse_new=True)`` (no-op otherwise)."""
        if self._runner is not None and self._site is None:
            await self._listen(self._runner)

    async def _close_sockets(self) -> None:
        sessions = list(self._sessions.values())
        self._sessions.clear()
        for session in sessions:
            session.shutdown()
        connections = list(self._connections)
        close = self._version.shutdown_close
        if close is not None:
            code, reason = close
            await asyncio.gather(*(connection.close(code, reason) for connection in connections))
        else:
            for connection in connections:
                connection.abort()
        await self._wait_handlers()

    async def _wait_handlers(self) -> None:
        pending = {task for task in self._handlers if task is not asyncio.current_task()}
        if pending:
            _, still = await asyncio.wait(pending, timeout=5.0)
            for connection in list(self._connections):
                if still:
                    connection.abort()

    # --- properties --------------------------------------------------------------------------------------

    @property
    def context(self) -> NodeContext:
        """Clock, version, catalog and timings shared by sessions and players (available once started)."""
        if self._context is None:
            raise RuntimeError("the fake Lavalink node has not been started")
        return self._context

    @property
    def clock(self) -> Clock:
        """The emulated clock (a `ScaledClock` unless one was given)."""
        return self.context.clock

    @property
    def version(self) -> str:
        """The emulated server version (``"4.2.2"``; NodeLink's own, ``"3.7.0"``)."""
        return self._version.semver

    @property
    def flavour(self) -> str:
        """The server emulated: ``"lavalink"`` or ``"nodelink"``."""
        return self._version.flavour

    @property
    def port(self) -> int:
        """The TCP port (the one picked by the OS once started with ``port=0``)."""
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port``, the base URL for REST and (with ``ws://``) the websocket."""
        return f"http://{self.host}:{self._port}"

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._runner is not None

    @property
    def connections(self) -> int:
        """How many websockets are open right now."""
        return len(self._connections)

    @property
    def sessions(self) -> typing.Mapping[str, FakeSession]:
        """Live sessions by id, connected and paused ones (see `FakeSession.paused`)."""
        return dict(self._sessions)

    def players_of(self, session_id: str) -> typing.Mapping[int, FakePlayer]:
        """The players of a session by guild id (empty when the session does not exist)."""
        session = self._sessions.get(session_id)
        return dict(session.players) if session is not None else {}

    def connected_session(self, session_id: str) -> FakeSession | None:
        """The session with that id if its websocket is connected (what session-scoped REST requires; NodeLink
        also answers for a session waiting for its resume, and acts on it)."""
        session = self._sessions.get(session_id)
        if session is None or session.destroyed:
            return None
        if session.paused and self._version.nodelink:
            return session
        if session.paused or session.connection is None:
            return None
        return session

    # --- what the node received ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every REST request received, oldest first, the password hidden (``node.traffic.clear()`` empties it)."""
        return self.traffic.requests

    @property
    def handshakes(self) -> list[HandshakeRecord]:
        """Every websocket handshake received, oldest first, the password hidden."""
        return self.traffic.handshakes

    # --- stats and info ----------------------------------------------------------------------------------

    def _connected(self) -> list[FakeSession]:
        return [s for s in self._sessions.values() if s.connection is not None and not s.paused]

    def stats_json(self, session: FakeSession | None) -> dict[str, typing.Any]:
        """A ``stats`` op for `session` (with ``frameStats``) or, with ``None``, the ``/v4/stats`` body."""
        clock = self.context.clock
        return stats_json(
            self._connected(),
            session=session,
            uptime_ms=int((clock.now() - self._started_at) * 1000),
            version=self._version,
            clock=clock,
            frame_stats_null=self.rest_frame_stats_null,
        )

    def info_json(self) -> dict[str, typing.Any]:
        """The ``/v4/info`` body (its ``plugins``: those served)."""
        info = info_json(self._version, self.catalog.sources, self.disabled_filters)
        info["plugins"] = self.plugins.info_json()
        return info

    def decode(self, encoded: str) -> Track:
        """A track blob as this node decodes it (400 for one it cannot)."""
        return decode_blob(encoded, self.catalog.sources)

    # --- sessions ----------------------------------------------------------------------------------------

    def _new_session_id(self) -> str:
        chars = _NODELINK_ID_CHARS if self._version.nodelink else _ID_CHARS
        while True:
            candidate = "".join(self._rng.choice(chars) for _ in range(16))
            if candidate not in self._sessions:
                return candidate

    def _detach(self, session: FakeSession, connection: Connection) -> None:
        session.detach(connection)
        if session.destroyed:
            self._sessions.pop(session.id, None)

    def _expired(self, session: FakeSession) -> None:
        if self._sessions.get(session.id) is session:
            del self._sessions[session.id]

    # --- HTTP plumbing -----------------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        response = await self._open_websocket(request)
        if not isinstance(response, web.WebSocketResponse):
            self.traffic.record_handshake(request, response.status)
        return response

    async def _open_websocket(self, request: web.Request) -> web.StreamResponse:
        nodelink = self._version.nodelink  # NodeLink says why in a text body; Lavalink's bodies are empty
        if request.headers.get("Authorization") != self.password:
            return web.Response(status=401, text="Invalid password provided." if nodelink else None)
        user_id = request.headers.get("User-Id", "")
        user = parse_long(user_id)
        numeric = user is not None
        if not user_id or user == 0 or (nodelink and not numeric):  # NodeLink refuses it at the handshake
            text = ("Invalid User-Id header." if user_id else "User-Id header is missing.") if nodelink else None
            return web.Response(status=400, text=text)
        ws = web.WebSocketResponse(timeout=5.0, autoping=True)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text='Can "Upgrade" only to "WebSocket".')
        client_name = request.headers.get("Client-Name")
        if client_name is None and self._version.nodelink:
            return web.Response(status=400, text="Invalid or missing Client-Name header.")
        if client_name is None:  # documented as required, never enforced: Lavalink only warns
            _LOGGER.warning("websocket from user %s without a Client-Name header", user_id)
        else:
            _LOGGER.debug("websocket from user %s, client %s", user_id, client_name)
        requested = request.headers.get("Session-Id") or ""
        paused = self._sessions.get(requested) if requested else None
        resumed = paused is not None and paused.take_for_resume()
        if not self._version.nodelink:  # NodeLink sends no Session-Resumed header
            ws.headers["Session-Resumed"] = "true" if resumed else "false"
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        connection: Connection | None = None
        session: FakeSession | None = None
        self.traffic.record_handshake(request, 101, resumed=resumed)
        try:
            await ws.prepare(request)
            connection = Connection(ws, request)
            self._connections.add(connection)
            if not numeric:  # passes the handshake, fails when parsed: Spring closes with 1011
                await ws.close(code=1011)
                return ws
            if resumed and paused is not None:
                session = paused
                session.resume(connection)
            else:
                session = FakeSession(
                    self._new_session_id(), self.context, stats=self.stats_json, on_expired=self._expired
                )
                self._sessions[session.id] = session
                session.open(connection)
            async for message in ws:
                if message.type.name == "TEXT":
                    _LOGGER.warning("Lavalink v4 does not support websocket messages: %.100s", message.data)
        finally:
            if resumed and paused is not None and session is None:
                paused.release_claim()
            if connection is not None:
                if session is not None:
                    self._detach(session, connection)
                self._connections.discard(connection)
                await connection.stop_writer()
            self._handlers.discard(task)
        return ws
