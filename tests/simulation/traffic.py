"""Traffic held in transit: chosen REST calls of the client and websocket frames of the node wait until the
schedule lets them go, so that other steps happen while they are on their way (latency, never loss)."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import typing

import attrs

from lightbulb_lavalink.errors import NodeUnavailable
from lightbulb_lavalink.protocol.player import TrackUpdate
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.testing.session import Connection

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from lightbulb_lavalink.protocol.player import PlayerInfo, PlayerList, PlayerUpdate

__all__ = ["Hold", "Traffic"]


class Hold(enum.Enum):
    """What the schedule can hold in transit, so that other steps happen while it is on its way."""

    PLAYERS_REQUEST = "GET players, before it reaches the node"
    PLAYERS_ANSWER = "GET players, its answer"
    START_REQUEST = "PATCH starting a track, before it reaches the node"
    START_ANSWER = "PATCH starting a track, its answer (the node already plays it)"
    START_REQUEST_THEN_ANSWER = "PATCH starting a track, before it reaches the node and again once it acted"
    FRAMES = "websocket frames after the next ready"


@attrs.define(eq=False)
class _Held:
    hold: Hold
    what: str
    gate: asyncio.Future[None]


class Traffic:
    """Holds chosen REST calls of the client and websocket frames of the node until `release()`.

    Holding is latency, never loss: a held call goes on when released (or fails with the process, `fail()`),
    and held frames are delivered before anything can cut their connection (`World` releases them first).
    Installed for one example with `installed()`, which patches `RestClient.get_player_list`,
    `RestClient.update_player` and the emulator's `Connection.send` and counts what goes through (progress
    for `settle`).
    """

    def __init__(self) -> None:
        self.armed: list[Hold] = []
        self.held: list[_Held] = []
        self.calls = 0
        self.frames = 0
        self._frames_held: list[tuple[Connection, str]] = []
        self._frames_after_ready = False
        self._holding_frames: set[Connection] = set()
        self.on_frame: Callable[[Connection, str], None] | None = None
        """Told of every websocket frame the node sends, as it goes out."""

    @property
    def holding(self) -> bool:
        """Whether anything is held now."""
        return bool(self.held or self._holding_frames)

    def arm(self, hold: Hold) -> None:
        """Hold the next call (or frames) of that kind."""
        if hold is Hold.FRAMES:
            self._frames_after_ready = True
        else:
            self.armed.append(hold)

    def release(self) -> int:
        """Let everything held go on, in order; returns how many things were held."""
        count = len(self.held) + len(self._holding_frames)
        held, self.held = self.held, []
        for item in held:
            if not item.gate.done():
                item.gate.set_result(None)
        self._deliver_frames()
        return count

    def fail(self) -> None:
        """The process died: held calls fail, held frames are delivered (to a socket about to close)."""
        held, self.held = self.held, []
        for item in held:
            if not item.gate.done():
                item.gate.set_exception(NodeUnavailable("simulated: the bot process died with this call"))
        self._deliver_frames()

    def disarm(self) -> None:
        """Forget what was armed and not triggered yet."""
        self.armed.clear()
        self._frames_after_ready = False

    def describe(self) -> list[str]:
        """What is held now, for failure reports."""
        frames = [f"{len(self._frames_held)} websocket frame(s)"] if self._holding_frames else []
        return [f"{item.hold.value}: {item.what}" for item in self.held] + frames

    def _take(self, *holds: Hold) -> Hold | None:
        for hold in self.armed:
            if hold in holds:
                self.armed.remove(hold)
                return hold
        return None

    async def _wait(self, hold: Hold, what: str) -> None:
        item = _Held(hold, what, asyncio.get_running_loop().create_future())
        self.held.append(item)
        await item.gate

    async def get_players(self, call: Callable[[], Awaitable[PlayerList]], session_id: str) -> PlayerList:
        self.calls += 1
        hold = self._take(Hold.PLAYERS_REQUEST, Hold.PLAYERS_ANSWER)
        what = f"session {session_id}"
        if hold is Hold.PLAYERS_REQUEST:
            await self._wait(hold, what)
        result = await call()
        if hold is Hold.PLAYERS_ANSWER:
            await self._wait(hold, what)
        return result

    async def update_player(
        self, call: Callable[[], Awaitable[PlayerInfo]], guild_id: int, update: PlayerUpdate
    ) -> PlayerInfo:
        self.calls += 1
        track = update.track
        starts = isinstance(track, TrackUpdate) and isinstance(track.encoded, str)
        holds = (Hold.START_REQUEST, Hold.START_ANSWER, Hold.START_REQUEST_THEN_ANSWER)
        hold = self._take(*holds) if starts else None
        what = f"guild {guild_id}"
        if hold in (Hold.START_REQUEST, Hold.START_REQUEST_THEN_ANSWER):
            await self._wait(hold, what)
        result = await call()
        if hold in (Hold.START_ANSWER, Hold.START_REQUEST_THEN_ANSWER):
            await self._wait(hold, what)
        return result

    def send_frame(self, send: Callable[[Connection, str], None], connection: Connection, text: str) -> None:
        self.frames += 1
        if self.on_frame is not None:
            self.on_frame(connection, text)
        if connection in self._holding_frames:
            self._frames_held.append((connection, text))
            return
        send(connection, text)
        if self._frames_after_ready and '"op":"ready"' in text:
            self._frames_after_ready = False
            self._holding_frames.add(connection)

    def _deliver_frames(self) -> None:
        frames, self._frames_held = self._frames_held, []
        self._holding_frames.clear()
        for connection, text in frames:
            _ORIGINAL_SEND(connection, text)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Route the client's REST calls and the node's websocket frames through this object."""
        get_players = RestClient.get_player_list
        update_player = RestClient.update_player

        async def patched_get_players(rest: RestClient, session_id: str) -> PlayerList:
            return await self.get_players(lambda: get_players(rest, session_id), session_id)

        async def patched_update_player(
            rest: RestClient, session_id: str, guild_id: int, update: PlayerUpdate, *, no_replace: bool = False
        ) -> PlayerInfo:
            return await self.update_player(
                lambda: update_player(rest, session_id, guild_id, update, no_replace=no_replace), guild_id, update
            )

        def patched_send(connection: Connection, text: str) -> None:
            self.send_frame(_ORIGINAL_SEND, connection, text)

        RestClient.get_player_list = patched_get_players  # type: ignore[method-assign]
        RestClient.update_player = patched_update_player  # type: ignore[method-assign, assignment]
        Connection.send = patched_send  # type: ignore[method-assign, assignment]
        try:
            yield
        finally:
            RestClient.get_player_list = get_players  # type: ignore[method-assign]
            RestClient.update_player = update_player  # type: ignore[method-assign]
            Connection.send = _ORIGINAL_SEND  # type: ignore[method-assign]


_ORIGINAL_SEND = Connection.send
