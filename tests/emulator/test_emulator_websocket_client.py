"""The package's own WebSocketSession against the emulator: ready, events, a network cut and the resume."""

from __future__ import annotations

import asyncio
import typing

import aiohttp
import pytest

from lightbulb_lavalink.errors import AuthenticationError, LavalinkError
from lightbulb_lavalink.protocol.backoff import Backoff
from lightbulb_lavalink.protocol.messages import (
    PlayerUpdateMessage,
    ReadyMessage,
    StatsMessage,
    TrackEndMessage,
    TrackEndReason,
    TrackStartMessage,
)
from lightbulb_lavalink.protocol.player import PlayerUpdate, TrackUpdate, VoiceState
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.protocol.websocket import WebSocketSession
from lightbulb_lavalink.testing import FakeLavalink, ManualClock

from .conftest import PASSWORD, wait_until

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.protocol.messages import Message

FAST = Backoff(initial=0.01, maximum=0.05, jitter=0.0)
VOICE = VoiceState(token="t", endpoint="e:443", session_id="s", channel_id="9")


class Recorder:
    """A WebSocketHandler that keeps everything it is told, in order."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[Message] = asyncio.Queue()
        self.disconnects: list[tuple[int | None, bool]] = []
        self.fatal: list[LavalinkError] = []

    async def on_message(self, message: Message) -> None:
        await self.messages.put(message)

    async def on_disconnect(self, code: int | None, reason: str, will_reconnect: bool) -> None:
        self.disconnects.append((code, will_reconnect))

    async def on_fatal(self, error: LavalinkError) -> None:
        self.fatal.append(error)

    async def next(self) -> Message:
        return await asyncio.wait_for(self.messages.get(), timeout=5.0)  # failsafe only

    async def next_of(self, kind: type[typing.Any]) -> typing.Any:
        while not isinstance(message := await self.next(), kind):
            pass
        return message


@pytest.fixture
async def client(
    node: FakeLavalink, http: aiohttp.ClientSession
) -> typing.AsyncIterator[tuple[WebSocketSession, Recorder]]:
    recorder = Recorder()
    ws = WebSocketSession(node.url, PASSWORD, 4242, session=http, handler=recorder, backoff=FAST, heartbeat=None)
    await ws.start()
    yield ws, recorder
    await ws.close()


async def test_ready_then_stats(client: tuple[WebSocketSession, Recorder], node: FakeLavalink) -> None:
    ws, recorder = client
    ready = await ws.wait_ready(timeout=5)
    assert ready.resumed is False and ready.session_id in node.sessions
    assert ws.session_resumed_header is False
    assert await recorder.next() == ready
    stats = await recorder.next()
    assert isinstance(stats, StatsMessage) and stats.stats.frame_stats is None


async def test_network_cut_mid_playback_then_resume(
    client: tuple[WebSocketSession, Recorder], node: FakeLavalink, clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    ws, recorder = client
    rest = RestClient(node.url, PASSWORD, session=http)
    session_id = (await ws.wait_ready(timeout=5)).session_id
    await rest.update_session(session_id, resuming=True, timeout=60)
    short = node.add_track(title="Short", identifier="short", length=8_000)
    long = node.add_track(title="Long", identifier="long", length=600_000)
    for guild, track in ((1, short), (2, long)):
        await rest.update_player(
            session_id,
            guild,
            PlayerUpdate(track=TrackUpdate(encoded=track.encoded, user_data={"g": guild}), voice=VOICE),
        )
    start = await recorder.next_of(TrackStartMessage)
    assert start.guild_id == 1 and start.track.user_data == {"g": 1}
    clock.advance(3)
    await node.drop_connections(refuse_new=True)  # the cut: no close frame, and no way back for now
    clock.advance(10)  # guild 1's track ends while the client is away
    await node.accept_connections()
    resumed = await recorder.next_of(ReadyMessage)
    assert resumed == ReadyMessage(resumed=True, session_id=session_id)
    assert ws.session_resumed_header is True and ws.session_id == session_id
    replayed = [await recorder.next() for _ in range(3)]
    assert isinstance(replayed[0], TrackEndMessage)
    assert (replayed[0].guild_id, replayed[0].reason, replayed[0].track.info.position) == (
        1,
        TrackEndReason.FINISHED,
        8000,
    )
    assert replayed[0].track.user_data == {"g": 1}
    assert [type(m) for m in replayed[1:]] == [PlayerUpdateMessage, PlayerUpdateMessage]
    assert [(m.guild_id, m.state.position) for m in replayed[1:]] == [(1, 0), (2, 13_000)]  # type: ignore[union-attr]
    assert (None, True) in recorder.disconnects  # died without a close frame, reconnecting
    players = {p.guild_id: p for p in await rest.get_players(session_id)}
    assert players[1].track is None and players[2].track is not None


async def test_client_close_keeps_a_resumable_session(
    client: tuple[WebSocketSession, Recorder], node: FakeLavalink, http: aiohttp.ClientSession
) -> None:
    ws, _ = client
    session_id = (await ws.wait_ready(timeout=5)).session_id
    await RestClient(node.url, PASSWORD, session=http).update_session(session_id, resuming=True)
    await ws.close()
    await wait_until(lambda: node.sessions[session_id].paused)


async def test_node_restart_gives_a_new_session(client: tuple[WebSocketSession, Recorder], node: FakeLavalink) -> None:
    ws, recorder = client
    old = (await ws.wait_ready(timeout=5)).session_id
    await node.restart()
    ready = await recorder.next_of(ReadyMessage)
    while ready.session_id == old:  # the first ready in the queue is the original one
        ready = await recorder.next_of(ReadyMessage)
    assert ready.resumed is False
    assert ws.session_resumed_header is False and ws.session_id == ready.session_id
    assert (1001, True) in recorder.disconnects


async def test_wrong_password_is_fatal(node: FakeLavalink, http: aiohttp.ClientSession) -> None:
    recorder = Recorder()
    ws = WebSocketSession(node.url, "nope", 1, session=http, handler=recorder, backoff=FAST, heartbeat=None)
    await ws.start()
    with pytest.raises(AuthenticationError):
        await ws.wait_ready(timeout=5)
    assert isinstance(recorder.fatal[0], AuthenticationError)
    await ws.close()
    assert node.sessions == {}
