"""`FakeSession`: one websocket session of the emulator, with its players, stats timer and resume state."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import typing

from aiohttp import web

from lightbulb_lavalink.testing.player import FakePlayer
from lightbulb_lavalink.testing.plugins import SessionPlugins
from lightbulb_lavalink.testing.wire import dumps

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.testing.clock import Timer
    from lightbulb_lavalink.testing.context import NodeContext

__all__ = ["Connection", "FakeSession"]

_LOGGER = logging.getLogger("lightbulb_lavalink.testing.session")


class Connection:
    """One accepted websocket: an ordered outbox drained by a writer task the connection owns."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        """The server side of the websocket."""
        self.request = request
        """The upgrade request (its transport is what `abort()` cuts)."""
        self._outbox: collections.deque[str] = collections.deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False
        self._writer = asyncio.get_running_loop().create_task(self._write_loop(), name="fake-lavalink-writer")

    def send(self, text: str) -> None:
        """Queue a text frame; frames go out in the order they were queued."""
        if not self._closing:
            self._outbox.append(text)
            self._idle.clear()
            self._wake.set()

    async def _write_loop(self) -> None:
        while True:
            self._idle.set()
            await self._wake.wait()
            self._wake.clear()
            while self._outbox:
                text = self._outbox.popleft()
                if self.ws.closed:
                    self._outbox.clear()
                    return
                try:
                    await self.ws.send_str(text)
                except (ConnectionError, RuntimeError):
                    self._outbox.clear()
                    return

    async def flush(self) -> None:
        """Wait until every queued frame was handed to the transport (or the socket is gone)."""
        if self._idle.is_set() or self._writer.done():
            return
        idle = asyncio.ensure_future(self._idle.wait())
        try:
            await asyncio.wait((idle, self._writer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            idle.cancel()

    def abort(self) -> None:
        """Cut the TCP connection without a close handshake (the client sees 1006)."""
        self._closing = True
        self._outbox.clear()
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def close(self, code: int, reason: str = "") -> None:
        """Send what is queued, then close the websocket with `code` (and `reason`)."""
        await self.flush()
        self._closing = True
        with contextlib.suppress(ConnectionError, RuntimeError, asyncio.TimeoutError):
            await self.ws.close(code=code, message=reason.encode())

    async def stop_writer(self) -> None:
        """Cancel and await the writer task."""
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer


class FakeSession:
    """A Lavalink session: players by guild, ``resuming``/``timeout`` settings and the paused-state queue."""

    def __init__(
        self,
        session_id: str,
        context: NodeContext,
        *,
        stats: typing.Callable[[FakeSession], dict[str, typing.Any]],
        on_expired: typing.Callable[[FakeSession], None],
    ) -> None:
        self.id = session_id
        """The 16-character session id."""
        self.players: dict[int, FakePlayer] = {}
        """Players of this session by guild id."""
        self.resuming = False
        """Whether the session survives a disconnect (``PATCH /v4/sessions/{id}``)."""
        self.timeout = 60
        """Seconds a paused session waits for a resume before it is destroyed."""
        self.paused = False
        """Whether the socket is gone and the session awaits a resume (messages are queued meanwhile)."""
        self.destroyed = False
        """Whether the session was shut down (players destroyed); a destroyed session is never used again."""
        self.connection: Connection | None = None
        """The websocket currently attached, ``None`` while paused."""
        self.plugins = SessionPlugins()
        """What plugins keep for this session (SponsorBlock categories, lyrics subscriptions)."""
        self.created_at = context.clock.now()
        """Emulated time of creation (the stats cadence counts from here)."""
        self._ctx = context
        self._stats = stats
        self._on_expired = on_expired
        self._queue: list[str] = []
        self._silent: set[str] = set()  # guild ids whose players say nothing (NodeLink single-process, resumed)
        self._stats_timer: Timer | None = None
        self._resume_timer: Timer | None = None

    @property
    def queued(self) -> list[str]:
        """Messages (serialized) held while paused, in order."""
        return list(self._queue)

    # --- sending -----------------------------------------------------------------------------------------

    def send(self, payload: dict[str, typing.Any]) -> None:
        """Send an op now, queue it while paused (NodeLink: lose it), or drop it once the session is destroyed."""
        if self.destroyed or (self._silent and payload.get("guildId") in self._silent):
            return
        text = dumps(payload)
        if self.paused:
            if not self._ctx.version.nodelink:
                self._queue.append(text)
        elif self.connection is not None:
            self.connection.send(text)

    def send_player_update(self, player: FakePlayer) -> None:
        """Send a ``playerUpdate`` op; dropped, not queued, while paused (protocol §3.4). NodeLink sends none for a
        paused player."""
        if self.paused or self.destroyed or self.connection is None:
            return
        if (player.paused and self._ctx.version.nodelink) or str(player.guild_id) in self._silent:
            return
        self.connection.send(dumps(player.update_json()))

    # --- lifecycle ---------------------------------------------------------------------------------------

    def open(self, connection: Connection) -> None:
        """Attach the first socket: ``ready{resumed:false}``, then a ``stats`` op now and every interval (NodeLink:
        none on connect, the first one an interval later)."""
        self.connection = connection
        self.plugins.reset()
        self.send({"op": "ready", "resumed": False, "sessionId": self.id})
        self._stats_tick(self.created_at, send=not self._ctx.version.nodelink)

    def _stats_tick(self, deadline: float, *, send: bool = True) -> None:
        if send:
            self.send(self._stats(self))
        next_deadline = deadline + self._ctx.stats_interval

        def fire() -> None:
            self._stats_timer = None
            if not self.destroyed:
                self._stats_tick(next_deadline)

        self._stats_timer = self._ctx.clock.call_at(next_deadline, fire)

    def detach(self, connection: Connection) -> None:
        """The socket went away: pause when resuming (timer of `timeout` seconds), else shut down."""
        if self.connection is not connection or self.destroyed:
            return
        self.connection = None
        if not self.resuming:
            _LOGGER.debug("session %s closed, not resumable: destroying its players", self.id)
            self.shutdown()
            return
        self.paused = True
        _LOGGER.debug("session %s paused for %s s", self.id, self.timeout)
        if self.timeout <= 0:
            self._expire()
            return
        clock = self._ctx.clock
        self._resume_timer = clock.call_at(clock.now() + self.timeout, self._expire)

    def _expire(self) -> None:
        self._resume_timer = None
        if self.paused and not self.destroyed:
            _LOGGER.debug("session %s was not resumed in time: destroyed", self.id)
            self.shutdown()
            self._on_expired(self)

    def take_for_resume(self) -> bool:
        """Claim a paused session for a resuming handshake (cancels its timeout); False if not resumable."""
        if not self.paused or self.destroyed or self._resume_timer is None:
            return False
        self._resume_timer.cancel()
        self._resume_timer = None
        return True

    def release_claim(self) -> None:
        """A claimed resume did not happen (the handshake failed): wait a full `timeout` again."""
        if self.paused and not self.destroyed and self._resume_timer is None:
            clock = self._ctx.clock
            self._resume_timer = clock.call_at(clock.now() + self.timeout, self._expire)

    def resume(self, connection: Connection) -> None:
        """Attach a new socket: ``ready{resumed:true}``, the queued messages, then one update per player."""
        self.paused = False
        self.connection = connection
        self.plugins.reset()  # as SponsorBlock and LavaLyrics do in onWebSocketOpen, resumed or not
        connection.send(dumps({"op": "ready", "resumed": True, "sessionId": self.id}))
        queued, self._queue = self._queue, []
        for text in queued:
            connection.send(text)
        if self._ctx.nodelink_single_process:
            self._silent = {str(guild_id) for guild_id in self.players}
        for player in self.players.values():
            self.send_player_update(player)

    def shutdown(self) -> None:
        """Destroy every player and cancel every timer; queued messages are discarded."""
        if self.destroyed:
            return
        self.destroyed = True
        self.paused = False
        self.connection = None
        for timer in (self._stats_timer, self._resume_timer):
            if timer is not None:
                timer.cancel()
        self._stats_timer = self._resume_timer = None
        for player in self.players.values():
            player.destroy(emit=False)
        self.players.clear()
        self._queue.clear()

    # --- players -----------------------------------------------------------------------------------------

    def get_or_create_player(self, guild_id: int) -> FakePlayer:
        """The guild's player, created on demand."""
        player = self.players.get(guild_id)
        if player is None:
            player = self.players[guild_id] = FakePlayer(self, guild_id, self._ctx)
        return player

    def destroy_player(self, guild_id: int) -> None:
        """Stop and remove the guild's player (``TrackEndEvent`` ``stopped`` if a track was loaded)."""
        player = self.players.pop(guild_id, None)
        self._silent.discard(str(guild_id))
        self.plugins.categories.pop(guild_id, None)  # SponsorBlock's onDestroyPlayer
        if player is not None:
            player.destroy()
