"""The websocket session: handshake, ordered delivery, resume with the latest id, reconnects, fatal refusals, close."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import typing

import aiohttp
import attrs
import pytest
from aiohttp import web

from lightbulb_lavalink.errors import (
    AuthenticationError,
    LavalinkError,
    NodeUnavailable,
    RequestTimeoutError,
    RestError,
    SettingsError,
)
from lightbulb_lavalink.protocol.backoff import Backoff
from lightbulb_lavalink.protocol.messages import (
    Message,
    PlayerUpdateMessage,
    ReadyMessage,
    StatsMessage,
    TrackEndMessage,
    TrackEndReason,
    TrackStartMessage,
    parse_message,
)
from lightbulb_lavalink.protocol.player import PlayerUpdate, TrackUpdate
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.protocol.websocket import WebSocketSession, websocket_url
from lightbulb_lavalink.testing import FakeLavalink, ManualClock
from tests.polling import eventually

from .helpers import PASSWORD, free_port, serve_app

USER_ID = 123456789012345678
FAST = Backoff(initial=0.01, maximum=0.05, factor=2.0, jitter=0.25)

STATS = (
    '{"op":"stats","frameStats":null,"players":0,"playingPlayers":0,"uptime":1139738,'
    '"memory":{"free":228139904,"used":103210112,"allocated":331350016,"reservable":8396996608},'
    '"cpu":{"cores":16,"systemLoad":0.05597997834786306,"lavalinkLoad":3.497090420769919E-5}}'
)


def ready(session_id: str, resumed: bool = False) -> str:
    return json.dumps({"op": "ready", "resumed": resumed, "sessionId": session_id})


def player_update(guild_id: int) -> str:
    return json.dumps(
        {
            "op": "playerUpdate",
            "state": {"time": 1710214147839, "position": guild_id, "connected": True, "ping": 0},
            "guildId": str(guild_id),
        }
    )


class Recorder:
    """A `WebSocketHandler` that records everything and can be made slow."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.disconnects: list[tuple[int | None, str, bool]] = []
        self.fatal: list[LavalinkError] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self._changed = asyncio.Event()

    async def on_message(self, message: Message) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None and isinstance(message, StatsMessage):
                self.entered.set()
                await self.gate.wait()
            await asyncio.sleep(0)  # yield: a concurrent delivery would show up in max_in_flight
            self.messages.append(message)
        finally:
            self.in_flight -= 1
            self._changed.set()

    async def on_disconnect(self, code: int | None, reason: str, will_reconnect: bool) -> None:
        self.disconnects.append((code, reason, will_reconnect))
        self._changed.set()

    async def on_fatal(self, error: LavalinkError) -> None:
        self.fatal.append(error)
        self._changed.set()

    def of(self, kind: type[Message]) -> list[typing.Any]:
        return [m for m in self.messages if isinstance(m, kind)]

    async def until(self, predicate: typing.Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()


class ScriptedNode:
    """A tiny websocket server: connection N answers with `scripts[N]` (frames, then an optional close)."""

    def __init__(self) -> None:
        self.scripts: list[typing.Callable[[web.WebSocketResponse], typing.Awaitable[None]]] = []
        self.handshakes: list[typing.Mapping[str, str]] = []
        self.close_codes: list[int | None] = []
        self.status: int | None = None  # answer the handshake with this HTTP status instead of upgrading
        self.upgrades = 0
        self.upgrade_gate: asyncio.Event | None = None  # hold every handshake until it is set
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.handshakes.append(dict(request.headers))
        if self.upgrade_gate is not None:
            await self.upgrade_gate.wait()
        if self.status is not None:
            return web.Response(status=self.status)
        index, self.upgrades = self.upgrades, self.upgrades + 1
        ws = web.WebSocketResponse()
        ws.headers["Session-Resumed"] = "true" if request.headers.get("Session-Id") == "resumable" else "false"
        await ws.prepare(request)
        if index < len(self.scripts):
            await self.scripts[index](ws)
        async for _ in ws:  # until the client closes
            pass
        self.close_codes.append(ws.close_code)
        return ws


def frames(
    *texts: str, close: int | None = None, message: bytes = b"", hold: asyncio.Event | None = None
) -> typing.Callable[..., typing.Any]:
    async def script(ws: web.WebSocketResponse) -> None:
        for text in texts:
            await ws.send_str(text)
        if hold is not None:
            await hold.wait()
        if close is not None:
            await ws.close(code=close, message=message)

    return script


@contextlib.asynccontextmanager
async def serve(node: ScriptedNode) -> typing.AsyncIterator[ScriptedNode]:
    app = web.Application()
    app.router.add_get("/v4/websocket", node.handle)
    async with serve_app(app) as node.url:
        yield node


@pytest.fixture
async def http() -> typing.AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@contextlib.asynccontextmanager
async def websocket(
    url: str, http: aiohttp.ClientSession, handler: Recorder, **kwargs: typing.Any
) -> typing.AsyncIterator[WebSocketSession]:
    kwargs.setdefault("backoff", FAST)
    kwargs.setdefault("client_name", "tests/1.0")
    ws = WebSocketSession(
        url, kwargs.pop("password", PASSWORD), kwargs.pop("user_id", USER_ID), session=http, handler=handler, **kwargs
    )
    await ws.start()
    try:
        yield ws
    finally:
        await ws.close()
        assert not ws.running


def lavalink_tasks() -> list[asyncio.Task[typing.Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("lavalink websocket") and not t.done()]


# ---------------------------------------------------------------------------------------------------- Backoff


def test_backoff_delays_grow_until_the_maximum() -> None:
    backoff = Backoff(initial=0.5, maximum=30.0, factor=2.0, jitter=0.25)
    rng = random.Random(7)
    delays = [backoff.delay(attempt, rng=rng) for attempt in range(12)]
    uncapped = [d for a, d in enumerate(delays) if backoff.base_delay(a) < 30.0]
    assert len(uncapped) == 6  # 0.5 .. 16
    assert all(later > earlier for earlier, later in itertools.pairwise(uncapped))
    assert all(d <= 30.0 for d in delays)
    assert delays[-1] > 30.0 * 0.75


def test_backoff_delays_are_jittered_within_bounds() -> None:
    backoff = Backoff(initial=1.0, maximum=60.0, factor=2.0, jitter=0.25)
    rng = random.Random(1234)
    samples = [backoff.delay(3, rng=rng) for _ in range(200)]
    assert all(8.0 * 0.75 < s <= 8.0 for s in samples)
    assert len(set(samples)) > 150  # spread, not one value
    assert max(samples) - min(samples) > 1.0


def test_backoff_without_jitter_is_exact_and_huge_attempts_do_not_overflow() -> None:
    backoff = Backoff(initial=1.0, maximum=60.0, factor=3.0, jitter=0.0)
    assert [backoff.delay(a) for a in range(5)] == [1.0, 3.0, 9.0, 27.0, 60.0]
    assert backoff.delay(100_000) == 60.0


def test_backoff_delays_iterator_matches_delay() -> None:
    backoff = Backoff()
    first = list(zip(range(8), backoff.delays(rng=random.Random(5)), strict=False))
    rng = random.Random(5)
    assert [d for _, d in first] == [backoff.delay(a, rng=rng) for a in range(8)]


@pytest.mark.parametrize(
    "kwargs",
    [{"initial": 0}, {"maximum": -1}, {"factor": 0.5}, {"jitter": 1.0}, {"jitter": -0.1}],
)
def test_backoff_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**kwargs)


# ---------------------------------------------------------------------------------------------------- URLs


def test_websocket_url_from_the_node_url() -> None:
    assert websocket_url("http://127.0.0.1:2333") == "ws://127.0.0.1:2333/v4/websocket"
    assert websocket_url("https://lava.example:8443/") == "wss://lava.example:8443/v4/websocket"
    assert websocket_url("https://lava.example/proxy") == "wss://lava.example/proxy/v4/websocket"
    assert websocket_url("ws://h:1/v4/websocket") == "ws://h:1/v4/websocket"
    with pytest.raises(SettingsError):
        websocket_url("ftp://h:1")


# ---------------------------------------------------------------------------------------------------- scripted node


async def test_handshake_headers_ready_and_session_id(http: aiohttp.ClientSession) -> None:
    handler = Recorder()
    async with serve(ScriptedNode()) as node:
        node.scripts.append(frames(ready("newsession000001"), STATS))
        async with websocket(node.url, http, handler, session_id="oldsession000001") as ws:
            got = await ws.wait_ready(5)
            assert got == ReadyMessage(resumed=False, session_id="newsession000001")
            assert ws.session_id == "newsession000001"
            assert ws.session_resumed_header is False
            assert ws.connected
            await handler.until(lambda: bool(handler.of(StatsMessage)))
        headers = node.handshakes[0]
        assert headers["Authorization"] == PASSWORD
        assert headers["User-Id"] == str(USER_ID)
        assert headers["Client-Name"] == "tests/1.0"
        assert headers["Session-Id"] == "oldsession000001"
        assert isinstance(handler.messages[0], ReadyMessage)


async def test_malformed_frames_are_logged_once_and_skipped(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    handler = Recorder()
    async with serve(ScriptedNode()) as node:
        node.scripts.append(frames("not json at all", ready("abc"), '{"op":"playerUpdate","guildId":"x"}', STATS))
        with caplog.at_level(logging.WARNING, logger="lightbulb_lavalink"):
            async with websocket(node.url, http, handler) as ws:
                await ws.wait_ready(5)
                await handler.until(lambda: bool(handler.of(StatsMessage)))
    assert [type(m) for m in handler.messages] == [ReadyMessage, StatsMessage]
    warnings = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert len(warnings) == 2
    assert all(node.url.replace("http", "ws") in r.getMessage() for r in warnings)
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in warnings)


async def test_messages_are_delivered_in_order_one_at_a_time(http: aiohttp.ClientSession) -> None:
    handler = Recorder()
    guilds = list(range(1, 301))
    async with serve(ScriptedNode()) as node:
        node.scripts.append(frames(ready("abc"), *(player_update(g) for g in guilds)))
        async with websocket(node.url, http, handler) as ws:
            await ws.wait_ready(5)
            await handler.until(lambda: len(handler.of(PlayerUpdateMessage)) == len(guilds))
    assert [m.guild_id for m in handler.of(PlayerUpdateMessage)] == guilds
    assert handler.max_in_flight == 1


async def test_reconnects_with_the_latest_session_id(http: aiohttp.ClientSession) -> None:
    handler = Recorder()
    async with serve(ScriptedNode()) as node:
        node.scripts += [
            frames(ready("first00000000000"), close=4000, message=b"bye"),
            frames(ready("first00000000000", resumed=True), close=1001),
            frames(ready("second0000000000")),  # the resume failed: a new session
        ]
        async with websocket(node.url, http, handler, session_id="saved00000000000") as ws:
            await handler.until(lambda: len(handler.of(ReadyMessage)) == 3)
            assert ws.session_id == "second0000000000"
            assert (await ws.wait_ready(5)).session_id == "second0000000000"
    sent = [h.get("Session-Id") for h in node.handshakes]
    assert sent == ["saved00000000000", "first00000000000", "first00000000000"]
    assert [r.resumed for r in handler.of(ReadyMessage)] == [False, True, False]
    assert handler.disconnects[0] == (4000, "bye", True)
    assert handler.disconnects[1][0] == 1001 and handler.disconnects[1][2] is True
    assert handler.disconnects[-1][2] is False


async def test_forgetting_the_session_id_starts_fresh(http: aiohttp.ClientSession) -> None:
    handler = Recorder()
    async with serve(ScriptedNode()) as node:
        forgotten = asyncio.Event()
        node.scripts += [
            frames(ready("first00000000000"), close=1001, hold=forgotten),
            frames(ready("fresh00000000000")),
        ]
        async with websocket(node.url, http, handler) as ws:
            assert (await ws.wait_ready(5)).session_id == "first00000000000"
            ws.session_id = None  # as the owner does when a resume failed
            forgotten.set()
            await handler.until(lambda: len(handler.of(ReadyMessage)) == 2)
    assert [h.get("Session-Id") for h in node.handshakes] == [None, None]


async def test_session_resumed_header_is_exposed(http: aiohttp.ClientSession) -> None:
    handler = Recorder()
    async with serve(ScriptedNode()) as node:
        node.scripts.append(frames(ready("resumable", resumed=True)))
        async with websocket(node.url, http, handler, session_id="resumable") as ws:
            assert (await ws.wait_ready(5)).resumed
            assert ws.session_resumed_header is True


async def test_close_sends_1000_and_leaves_no_task(http: aiohttp.ClientSession) -> None:
    handler = Recorder()
    async with serve(ScriptedNode()) as node:
        node.scripts.append(frames(ready("abc")))
        ws = WebSocketSession(node.url, PASSWORD, USER_ID, session=http, handler=handler, backoff=FAST)
        await ws.start()
        await ws.wait_ready(5)
        assert lavalink_tasks()
        await ws.close()
        await ws.close()  # idempotent
        assert not ws.running and not ws.connected
        assert not lavalink_tasks()
        await handler.until(lambda: bool(node.close_codes))
        assert node.close_codes == [1000]
        assert handler.disconnects == [(1000, "closed by the client", False)]
        with pytest.raises(NodeUnavailable):
            await ws.wait_ready(1)
        with pytest.raises(NodeUnavailable):
            await ws.start()


@contextlib.asynccontextmanager
async def handling_stats(http: aiohttp.ClientSession) -> typing.AsyncIterator[tuple[WebSocketSession, Recorder]]:
    """A started session whose handler holds a stats message until ``handler.gate`` is set."""
    handler = Recorder()
    handler.gate = asyncio.Event()
    async with serve(ScriptedNode()) as node:
        node.scripts.append(frames(ready("abc"), STATS))
        ws = WebSocketSession(node.url, PASSWORD, USER_ID, session=http, handler=handler, backoff=FAST)
        await ws.start()
        try:
            await asyncio.wait_for(handler.entered.wait(), 5)
            yield ws, handler
        finally:
            handler.gate.set()
            await ws.close()


async def test_close_lets_a_slow_handler_finish_its_message(http: aiohttp.ClientSession) -> None:
    async with handling_stats(http) as (ws, handler):
        closing = asyncio.create_task(ws.close())
        for _ in range(5):
            await asyncio.sleep(0)
        assert not closing.done()  # the handler holds the message
        handler.gate.set()
        await closing
        assert handler.of(StatsMessage)  # finished, not cancelled
        assert not ws.running


async def test_close_during_a_handshake(http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture) -> None:
    handler = Recorder()
    node = ScriptedNode()
    node.upgrade_gate = asyncio.Event()
    async with serve(node):
        ws = WebSocketSession(node.url, PASSWORD, USER_ID, session=http, handler=handler, backoff=FAST)
        await ws.start()
        await asyncio.wait_for(_until(lambda: bool(node.handshakes)), 5)
        await ws.close()
        assert not ws.running and not lavalink_tasks()
        node.upgrade_gate.set()
    assert handler.messages == [] and handler.disconnects == []
    assert not [r for r in caplog.records if "still busy" in r.getMessage()]


async def test_close_from_inside_the_handler(http: aiohttp.ClientSession) -> None:
    class Closer(Recorder):
        session: WebSocketSession

        async def on_message(self, message: Message) -> None:
            await super().on_message(message)
            await self.session.close()

    handler = Closer()
    async with serve(ScriptedNode()) as node:
        node.scripts.append(frames(ready("abc"), STATS))
        handler.session = ws = WebSocketSession(node.url, PASSWORD, USER_ID, session=http, handler=handler)
        await ws.start()
        await handler.until(lambda: bool(handler.disconnects))
        await ws.close()
        assert not ws.running
        await handler.until(lambda: bool(node.close_codes))
    assert handler.disconnects == [(1000, "closed by the client", False)]
    assert node.close_codes == [1000]
    assert [type(m) for m in handler.messages] == [ReadyMessage]  # nothing after close


async def test_a_cancelled_close_still_stops_the_session(http: aiohttp.ClientSession) -> None:
    async with handling_stats(http) as (ws, _):
        closing = asyncio.create_task(ws.close())
        await asyncio.sleep(0)
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        await asyncio.wait_for(_until(lambda: not ws.running), 5)
        assert not lavalink_tasks() and ws.closed
        await ws.close()  # still fine afterwards


async def test_wait_ready_times_out_without_ready(http: aiohttp.ClientSession) -> None:
    handler = Recorder()
    async with serve(ScriptedNode()) as node:
        node.scripts.append(frames(STATS))
        async with websocket(node.url, http, handler) as ws:
            with pytest.raises(RequestTimeoutError):
                await ws.wait_ready(0.2)
            assert handler.of(StatsMessage)  # a stats op before ready is handled normally
            assert not ws.connected


@pytest.mark.parametrize(
    ("status", "kind"), [(401, AuthenticationError), (403, AuthenticationError), (400, RestError), (404, RestError)]
)
async def test_refused_handshake_is_fatal(http: aiohttp.ClientSession, status: int, kind: type[RestError]) -> None:
    handler = Recorder()
    async with serve(ScriptedNode()) as node:
        node.status = status
        async with websocket(node.url, http, handler) as ws:
            with pytest.raises(kind) as raised:
                await ws.wait_ready(5)
            await handler.until(lambda: bool(handler.fatal))
            assert not ws.running  # no more retries
            assert ws.fatal_error is raised.value
        assert len(node.handshakes) == 1
    assert handler.fatal == [raised.value]
    assert raised.value.status == status
    assert PASSWORD not in str(raised.value)


async def test_other_handshake_statuses_are_retried(http: aiohttp.ClientSession) -> None:
    handler = Recorder()
    async with serve(ScriptedNode()) as node:
        node.status = 503
        async with websocket(node.url, http, handler) as ws:
            await asyncio.wait_for(_until(lambda: len(node.handshakes) >= 2), 5)
            node.status = None
            node.scripts.append(frames(ready("late")))
            assert (await ws.wait_ready(5)).session_id == "late"


@attrs.frozen(kw_only=True, weakref_slot=False)
class RecordingBackoff(Backoff):
    """A fast backoff that notes which attempt number each wait was for."""

    attempts: list[int] = attrs.field(factory=list, eq=False)

    def delay(self, attempt: int, *, rng: random.Random | None = None) -> float:
        self.attempts.append(attempt)
        return super().delay(attempt, rng=rng)


async def test_backoff_restarts_after_a_successful_ready(http: aiohttp.ClientSession) -> None:
    handler = Recorder()
    backoff = RecordingBackoff(initial=0.01, maximum=0.05)
    async with serve(ScriptedNode()) as node:
        node.status = 503
        node.scripts += [frames(ready("one"), close=1001), frames(ready("one", resumed=True))]
        async with websocket(node.url, http, handler, backoff=backoff):
            await asyncio.wait_for(_until(lambda: len(node.handshakes) >= 3), 5)
            node.status = None
            await handler.until(lambda: len(handler.of(ReadyMessage)) == 2)
        failed = len(node.handshakes) - node.upgrades
    assert failed >= 3
    assert backoff.attempts == [*range(failed), 0]  # growing while refused, from 0 again after the ready


async def test_unreachable_node_keeps_retrying_with_a_warning_per_attempt(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    handler = Recorder()
    url = f"http://127.0.0.1:{free_port()}"
    with caplog.at_level(logging.WARNING, logger="lightbulb_lavalink"):
        async with websocket(url, http, handler) as ws:
            await asyncio.wait_for(_until(lambda: len(_retry_warnings(caplog)) >= 3), 10)
            with pytest.raises(RequestTimeoutError):
                await ws.wait_ready(0.05)
            assert ws.running and not ws.connected
    warnings = _retry_warnings(caplog)
    assert all("ws://127.0.0.1" in r.getMessage() and r.exc_info is None for r in warnings)
    assert not [r for r in caplog.records if "still busy" in r.getMessage()]  # close() did not have to cancel
    assert handler.disconnects == [] and handler.fatal == []
    assert not lavalink_tasks()


def _retry_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and "retry" in r.getMessage()]


async def _until(predicate: typing.Callable[[], bool]) -> None:
    await eventually(predicate, "state that has no event (server requests, log records)")


# ---------------------------------------------------------------------------------------------------- FakeLavalink


@pytest.fixture
async def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def lavalink(clock: ManualClock) -> typing.AsyncIterator[FakeLavalink]:
    async with FakeLavalink(password=PASSWORD, clock=clock) as node:
        yield node


@pytest.fixture
async def rest(lavalink: FakeLavalink) -> typing.AsyncIterator[RestClient]:
    async with RestClient(lavalink.url, PASSWORD) as client:
        yield client


async def _play(lavalink: FakeLavalink, rest: RestClient, session_id: str, guild: int, length: int) -> None:
    track = lavalink.add_track(title=f"Track of {guild}", identifier=f"t-{guild}", length=length)
    await rest.update_player(session_id, guild, PlayerUpdate(track=TrackUpdate(encoded=track.encoded)))


async def test_fake_lavalink_connect_ready_then_stats(lavalink: FakeLavalink, http: aiohttp.ClientSession) -> None:
    handler = Recorder()
    async with websocket(lavalink.url, http, handler) as ws:
        got = await ws.wait_ready(5)
        assert not got.resumed and len(got.session_id) == 16
        assert ws.session_id == got.session_id and ws.session_resumed_header is False
        assert lavalink.connected_session(got.session_id) is not None
        await handler.until(lambda: bool(handler.of(StatsMessage)))
    ops = [type(m) for m in handler.messages]
    assert ReadyMessage in ops and ops.index(StatsMessage) > ops.index(ReadyMessage)


async def test_fake_lavalink_resume_replays_queued_events_in_order(
    lavalink: FakeLavalink, clock: ManualClock, rest: RestClient, http: aiohttp.ClientSession
) -> None:
    first = Recorder()
    async with websocket(lavalink.url, http, first) as ws:
        sid = (await ws.wait_ready(5)).session_id
        await rest.update_session(sid, resuming=True, timeout=60)
        for guild, length in ((1, 5_000), (2, 8_000)):
            await _play(lavalink, rest, sid, guild, length)
        await first.until(lambda: len(first.of(TrackStartMessage)) == 2)
    session = lavalink.sessions[sid]
    await asyncio.wait_for(_until(lambda: session.paused), 5)
    clock.advance(10)  # both tracks end while nobody listens
    queued = [parse_message(text) for text in session.queued]
    assert [(m.guild_id, m.reason) for m in queued if isinstance(m, TrackEndMessage)] == [
        (1, TrackEndReason.FINISHED),
        (2, TrackEndReason.FINISHED),
    ]

    second = Recorder()
    async with websocket(lavalink.url, http, second, session_id=sid) as ws:
        ready_message = await ws.wait_ready(5)
        assert ready_message == ReadyMessage(resumed=True, session_id=sid)
        assert ws.session_id == sid and ws.session_resumed_header is True
        await second.until(lambda: len(second.of(PlayerUpdateMessage)) == 2)
    assert second.messages[0] == ready_message
    assert second.messages[1 : 1 + len(queued)] == queued  # replayed in the order they happened
    assert {m.guild_id for m in second.of(PlayerUpdateMessage)} == {1, 2}


async def test_fake_lavalink_dropped_connection_resumes_the_same_session(
    lavalink: FakeLavalink, rest: RestClient, http: aiohttp.ClientSession
) -> None:
    handler = Recorder()
    async with websocket(lavalink.url, http, handler) as ws:
        sid = (await ws.wait_ready(5)).session_id
        await rest.update_session(sid, resuming=True, timeout=60)
        await _play(lavalink, rest, sid, 7, 60_000)
        await lavalink.drop_connections()
        await handler.until(lambda: len(handler.of(ReadyMessage)) == 2)
        assert handler.disconnects[0][2] is True  # will reconnect
        assert handler.of(ReadyMessage)[1] == ReadyMessage(resumed=True, session_id=sid)
        assert (await ws.wait_ready(5)).resumed
        assert ws.session_id == sid and ws.connected
        assert set(lavalink.players_of(sid)) == {7}
        assert lavalink.connected_session(sid) is not None


async def test_fake_lavalink_expired_session_gives_a_new_id(
    lavalink: FakeLavalink, clock: ManualClock, rest: RestClient, http: aiohttp.ClientSession
) -> None:
    handler = Recorder()
    async with websocket(lavalink.url, http, handler) as ws:
        old = (await ws.wait_ready(5)).session_id
        await rest.update_session(old, resuming=True, timeout=5)
    await asyncio.wait_for(_until(lambda: lavalink.sessions[old].paused), 5)
    clock.advance(6)  # the resume timeout passes
    assert old not in lavalink.sessions

    handler = Recorder()
    async with websocket(lavalink.url, http, handler, session_id=old) as ws:
        got = await ws.wait_ready(5)
        assert not got.resumed and got.session_id != old
        assert ws.session_id == got.session_id
        assert ws.session_resumed_header is False


async def test_fake_lavalink_wrong_password_stops_retrying(lavalink: FakeLavalink, http: aiohttp.ClientSession) -> None:
    handler = Recorder()
    async with websocket(lavalink.url, http, handler, password="wrong") as ws:
        with pytest.raises(AuthenticationError) as raised:
            await ws.wait_ready(5)
        await handler.until(lambda: bool(handler.fatal))
        assert not ws.running
    assert raised.value.status == 401 and "wrong" not in str(raised.value)
    assert handler.fatal == [raised.value] and handler.disconnects == []
    assert not lavalink.sessions


async def test_fake_lavalink_bad_user_id_is_fatal(lavalink: FakeLavalink, http: aiohttp.ClientSession) -> None:
    handler = Recorder()
    async with websocket(lavalink.url, http, handler, user_id=0) as ws:
        with pytest.raises(RestError) as raised:
            await ws.wait_ready(5)
        assert not ws.running
    assert raised.value.status == 400 and not isinstance(raised.value, AuthenticationError)
