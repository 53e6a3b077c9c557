"""The simulated world: FakeLavalink, a fake Discord, a store and bot processes, all on one `ManualClock`.

Nothing here knows the reference model: this module only runs things. `World` owns what outlives a bot process
(the node, Discord, the store) and the current `Process` (a GatewayBot, its `LavalinkClient` and voice gateway).
Every wait is on the event loop (`settle`) or on the manual clock (`World.advance`, `World.drive`): no real
time is read or slept anywhere, so a schedule replays exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import typing

import attrs
import hikari

from lightbulb_lavalink import events
from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import StoreError, TrackDecodeError
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.stores import MemoryStore, StoreKey
from lightbulb_lavalink.stores.base import decode_guilds
from lightbulb_lavalink.testing import FakeLavalink, ManualClock
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeGuild, FakeVoiceGateway, VoiceRecord
from lightbulb_lavalink.testing.offline_bot import make_token

from .traffic import Traffic

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine, Iterable

    from lightbulb_lavalink.protocol.tracks import Track
    from lightbulb_lavalink.snapshot import GuildSnapshot
    from lightbulb_lavalink.testing import FakePlayer

__all__ = [
    "NODE",
    "RESUME_TIMEOUT",
    "TRACK_LENGTH",
    "FlakyStore",
    "NotQuiescentError",
    "Process",
    "StuckError",
    "World",
    "entry_of",
    "settle",
]

NODE: typing.Final = "main"
"""The one node's name."""
RESUME_TIMEOUT: typing.Final = 30
"""Seconds Lavalink keeps a session of a bot that went away."""
TRACK_LENGTH: typing.Final = 86_400_000
"""A day: tracks end only when a step ends them, so the model knows exactly what plays."""
HISTORY_LIMIT: typing.Final = 4
"""Small, so that schedules reach the bounded history."""
SNAPSHOT_INTERVAL: typing.Final = 1.0
RECONNECT_DELAY: typing.Final = 1.0
RECONNECT_MAX_DELAY: typing.Final = 8.0
WRITER_RETRY_MAX: typing.Final = 30.0
"""`SnapshotWriter`'s default longest retry delay while the store fails."""
HEAL_SECONDS: typing.Final = 2 * (RESUME_TIMEOUT + RECONNECT_MAX_DELAY + WRITER_RETRY_MAX)
"""How long the final "everything heals" lets pass: past every one-off timer of the client and the node."""

QUIET_ROUNDS: typing.Final = 10
"""Event loop turns in a row with nothing runnable and no counter moving before `settle` calls it quiet."""
MAX_ROUNDS: typing.Final = 20_000
"""Turns after which `settle` gives up: something keeps the loop busy for ever (a livelock)."""
START_EPOCH_MS: typing.Final = 1_767_225_600_000
"""Wall-clock time of the manual clock's zero (2026-01-01), so snapshots' timestamps are reproducible too."""

_ENTRY = re.compile(r"^e(\d+)$")

# hikari builds an SSL context (reading the system's certificates, ~20 ms) for every GatewayBot; a bot process
# here never opens a TLS connection, so every bot shares one.
_SSL_CONTEXT = ssl.create_default_context()


class NotQuiescentError(AssertionError):
    """The event loop never went quiet: something is busy for ever without the clock moving."""


class StuckError(AssertionError):
    """Something that must finish did not, even with the clock moved past every timer."""


def entry_of(track: Track | None) -> int | None:
    """The entry a simulation track stands for (identifier ``e7`` -> 7); `None` for no track or a foreign one."""
    if track is None:
        return None
    try:
        match = _ENTRY.match(track.info.identifier)
    except TrackDecodeError:
        return None
    return int(match.group(1)) if match else None


def _runnable(loop: asyncio.AbstractEventLoop) -> int:
    # CPython's event loop keeps the callbacks of the current turn in `_ready`: when this task runs, anything
    # still there was scheduled by someone else (I/O that just arrived, a task woken up) and will run next.
    ready = getattr(loop, "_ready", None)
    return len(ready) if ready is not None else 0


async def settle(progress: Callable[[], object] = lambda: None) -> int:
    """Run the event loop until it is quiet: nothing runnable and `progress()` unchanged for `QUIET_ROUNDS`
    turns in a row. Returns the number of turns. Only loopback sockets are involved, so data written in one
    turn is readable in the next: a quiet stretch means every message sent has been handled.

    Raises `NotQuiescentError` after `MAX_ROUNDS` turns.
    """
    loop = asyncio.get_running_loop()
    quiet = rounds = 0
    last = progress()
    while quiet < QUIET_ROUNDS:
        await asyncio.sleep(0)
        rounds += 1
        now = progress()
        if _runnable(loop) or now != last:
            quiet = 0
            last = now
        else:
            quiet += 1
        if rounds > MAX_ROUNDS:
            raise NotQuiescentError(f"the event loop was still busy after {MAX_ROUNDS} turns")
    return rounds


def make_sim_bot(bot_id: int) -> hikari.GatewayBot:
    """`lightbulb_lavalink.testing.gateway.make_bot` with one shared SSL context (see `_SSL_CONTEXT`)."""
    return hikari.GatewayBot(
        make_token(bot_id),
        banner=None,
        logs=None,
        suppress_optimization_warning=True,
        intents=hikari.Intents.ALL_UNPRIVILEGED,
        auto_chunk_members=False,
        rest_url="http://127.0.0.1:9/api/v10",  # the discard port, as make_bot: nothing leaves the machine
        http_settings=hikari.impl.HTTPSettings(ssl=_SSL_CONTEXT),
    )


# -- the store ------------------------------------------------------------------------------------------------


class FlakyStore:
    """A `MemoryStore` that outlives bot processes and fails every call with `StoreError` while `down`.

    It presents itself as a database server (``redis://``): like Redis or PostgreSQL, it can be down at boot
    and come back, so the client keeps it and retries instead of falling back to a memory store.
    """

    def __init__(self) -> None:
        self.inner = MemoryStore()
        """Where the data lives."""
        self.down = False
        """While true, every call raises `StoreError`."""
        self.calls = 0
        """Calls received (a progress counter for `settle`)."""

    @property
    def url(self) -> str:
        return "redis://simulated-store"

    @property
    def problems(self) -> tuple[()]:
        return ()

    def saved(self, key: StoreKey) -> dict[int, GuildSnapshot]:
        """What the store holds for `key`, read without counting as a call (for reports and checks)."""
        return decode_guilds(self.inner._guilds.get(key, {}).items(), self.url)

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise StoreError("simulated store outage")

    async def open(self) -> None:
        self._check()

    async def close(self) -> None:
        """Nothing to release: the data outlives every process."""

    async def get_session(self, key: StoreKey) -> str | None:
        self._check()
        return await self.inner.get_session(key)

    async def set_session(self, key: StoreKey, session_id: str | None) -> None:
        self._check()
        await self.inner.set_session(key, session_id)

    async def get_guilds(self, key: StoreKey) -> dict[int, GuildSnapshot]:
        self._check()
        return await self.inner.get_guilds(key)

    async def put_guild(self, key: StoreKey, snapshot: GuildSnapshot) -> None:
        self._check()
        await self.inner.put_guild(key, snapshot)

    async def put_guilds(self, key: StoreKey, snapshots: Iterable[GuildSnapshot]) -> None:
        self._check()
        await self.inner.put_guilds(key, snapshots)

    async def delete_guild(self, key: StoreKey, guild_id: int) -> None:
        self._check()
        await self.inner.delete_guild(key, guild_id)

    async def list_keys(self, bot_id: int) -> list[StoreKey]:
        self._check()
        return await self.inner.list_keys(bot_id)


# -- bot processes ---------------------------------------------------------------------------------------------


class EventTap:
    """Sees every `LavalinkEvent` at the moment the client dispatches it (not when listeners get to run).

    hikari calls a waiter's predicate synchronously inside `dispatch`; this waiter's predicate records the
    event and never matches, so it keeps waiting for ever.
    """

    def __init__(self, bot: hikari.GatewayBot, seen: Callable[[events.LavalinkEvent], None]) -> None:
        self._bot = bot
        self._seen = seen
        self._task: asyncio.Task[object] | None = None
        self.count = 0

    def _predicate(self, event: events.LavalinkEvent) -> bool:
        self.count += 1
        self._seen(event)
        return False

    async def start(self) -> None:
        wait = self._bot.event_manager.wait_for(events.LavalinkEvent, timeout=None, predicate=self._predicate)
        self._task = asyncio.ensure_future(wait)
        await asyncio.sleep(0)  # the waiter is registered when the coroutine starts

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@attrs.define(eq=False)
class Process:
    """One run of the bot: what a restart throws away."""

    number: int
    """1 for the first boot, then 2, 3..."""
    bot: hikari.GatewayBot
    client: LavalinkClient
    voice: FakeVoiceGateway
    tap: EventTap


class World:
    """What outlives bot processes: the manual clock, FakeLavalink, Discord (guilds with a listener in voice),
    the store; plus the bot process currently running, if any."""

    def __init__(self, *, seed: int, guilds: int, on_event: Callable[[events.LavalinkEvent], None]) -> None:
        self.seed = seed
        self.guild_count = guilds
        self.clock = ManualClock(start_epoch_ms=START_EPOCH_MS)
        self.lavalink = FakeLavalink(
            clock=self.clock,
            seed=seed,
            player_update_interval=10.0,
            stats_interval=60.0,
            track_stuck_threshold_ms=10_000,
        )
        self.discord = FakeDiscord(clock=self.clock)  # the gateway rate limit counts emulated time
        self.guilds: list[FakeGuild] = []
        self.store = FlakyStore()
        self.traffic = Traffic()
        self.process: Process | None = None
        self.boots = 0
        self.node_down = False
        """Whether the node refuses connections (`NodeDown` until `NodeUp`)."""
        self.session_id: str | None = None
        """The last session id a bot process had (the session node events go to while the bot is away)."""
        self._on_event = on_event

    # -- lifecycle ----------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[World]:
        """Start the node and Discord (each guild gets a listener in its first voice channel); tear down after."""
        with self.traffic.installed():
            await self.lavalink.start()
            try:
                for _ in range(self.guild_count):
                    guild = await self.discord.add_guild(members=2)
                    listener = guild.member_ids[1]
                    guild.voice[listener] = VoiceRecord(
                        channel_id=guild.voice_channel_ids[0], session_id=f"{listener:032x}"
                    )
                    self.guilds.append(guild)
                yield self
            finally:
                await self._teardown()

    async def _teardown(self) -> None:
        self.traffic.disarm()
        self.traffic.fail()
        self.store.down = False
        process, self.process = self.process, None
        if process is not None:
            with contextlib.suppress(Exception):
                await self.drive(self._close(process), limit=60.0, what="closing the last bot process")
        await self.lavalink.close()

    def settings(self) -> LavalinkSettings:
        return LavalinkSettings(
            nodes=(
                NodeSettings(name=NODE, host="127.0.0.1", port=self.lavalink.port, password=self.lavalink.password),
            ),
            resume_timeout=RESUME_TIMEOUT,
            voice_timeout=10.0,
            request_timeout=10.0,
            history_limit=HISTORY_LIMIT,
            snapshot_interval=SNAPSHOT_INTERVAL,
            position_save_interval=5.0,
            reconnect_delay=RECONNECT_DELAY,
            reconnect_max_delay=RECONNECT_MAX_DELAY,
        )

    async def boot(self) -> Process:
        """Start a bot process: gateway READY and GUILD_CREATEs, then `LavalinkClient.start()`; then settle."""
        assert self.process is None, "a bot process is already running"
        self.boots += 1
        bot = make_sim_bot(self.discord.bot_id)
        await self.discord.connect(bot)
        voice = FakeVoiceGateway(self.discord)
        client = LavalinkClient(bot, self.settings(), store=self.store, voice_gateway=voice, clock=self.clock)
        process = Process(number=self.boots, bot=bot, client=client, voice=voice, tap=EventTap(bot, self._on_event))
        await process.tap.start()
        self.process = process
        await self.drive(client.start(), what="LavalinkClient.start()")
        await self.settle()
        return process

    async def stop(self, *, crash: bool) -> None:
        """End the running process: a clean `close()` (sessions stay resumable, snapshots flushed), or a crash
        (the socket dies with the process and writes still pending are lost)."""
        process, self.process = self.process, None
        assert process is not None, "no bot process is running"
        client = process.client
        if crash:
            hub = client._hub
            writer, hub.writer = hub.writer, None
            if writer is not None:
                writer.discard()
                await writer.close()
            self.traffic.fail()
        else:
            self.traffic.release()
        await self.drive(self._close(process), what="stopping the bot process")
        await self.settle()

    async def _close(self, process: Process) -> None:
        await process.client.close()
        await process.voice.close()
        await process.tap.stop()

    # -- time and the event loop --------------------------------------------------------------------------

    def _progress(self) -> tuple[int, ...]:
        process = self.process
        return (
            self.traffic.calls,
            self.traffic.frames,
            self.store.calls,
            process.tap.count if process is not None else -1,
            len(process.client._hub._tasks) if process is not None else -1,
        )

    async def settle(self) -> None:
        """Run the event loop until nothing moves (see `settle`), and remember the session in use."""
        await settle(self._progress)
        process = self.process
        if process is not None:
            session_id = process.client.nodes[NODE].session_id
            if session_id is not None:
                self.session_id = session_id

    async def advance(self, seconds: float) -> None:
        """Let `seconds` pass, timer by timer: each timer that falls due runs, then the loop settles.

        What can run now runs first, at the current time: the clock never jumps over work already waiting.
        """
        await self.settle()
        target = self.clock.now() + seconds
        while (deadline := self.clock.next_deadline) is not None and deadline <= target:
            self.clock.advance(max(0.0, deadline - self.clock.now()))
            await self.settle()
        # max(): `now + (deadline - now)` may land one float step past a deadline equal to `target`.
        self.clock.advance(max(0.0, target - self.clock.now()))
        await self.settle()

    async def advance_to_next(self) -> float:
        """Move the clock to the next timer's deadline, run it and settle; returns the seconds that passed."""
        deadline = self.clock.next_deadline
        if deadline is None:
            return 0.0
        before = self.clock.now()
        self.clock.advance(max(0.0, deadline - before))
        await self.settle()
        return self.clock.now() - before

    async def drive(
        self, coro: Coroutine[typing.Any, typing.Any, None], *, limit: float = HEAL_SECONDS, what: str
    ) -> None:
        """Run `coro` to completion, moving the clock timer by timer when it waits on time (at most `limit`
        seconds); raises `StuckError` if it is still not done by then."""
        task = asyncio.ensure_future(coro)
        deadline = self.clock.now() + limit
        try:
            while True:
                await settle(self._progress)
                if task.done():
                    break
                next_deadline = self.clock.next_deadline
                if next_deadline is None or next_deadline > deadline:
                    raise StuckError(f"{what} did not finish within {limit:g} emulated seconds")
                self.clock.advance(max(0.0, next_deadline - self.clock.now()))
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        task.result()

    # -- the node -----------------------------------------------------------------------------------------

    async def deliver_frames(self) -> None:
        """Let the websocket frames held in transit arrive now (a hold is latency, not loss), and settle."""
        self.traffic._deliver_frames()
        await self.settle()

    async def cut(self, *, refuse: bool) -> None:
        """Cut every websocket (sessions pause); with `refuse`, the node also stops accepting connections."""
        await self.deliver_frames()  # frames held in transit arrive before the cut
        await self.lavalink.drop_connections(refuse_new=refuse)
        if refuse:
            self.node_down = True
        await self.settle()

    async def node_up(self) -> None:
        """Accept connections again after `cut(refuse=True)`."""
        await self.lavalink.accept_connections()
        self.node_down = False
        await self.settle()

    async def restart_node(self) -> None:
        """The node dies and comes back: sockets cut without a close frame, every session and player lost."""
        await self.deliver_frames()
        await self.lavalink.drop_connections()
        await self.lavalink.restart()
        await self.settle()

    def fake_player(self, guild_id: int) -> FakePlayer | None:
        """The node's player of a guild in the last session a bot process had (paused sessions included)."""
        if self.session_id is None:
            return None
        return self.lavalink.players_of(self.session_id).get(guild_id)

    # -- the store ----------------------------------------------------------------------------------------

    def store_key(self) -> StoreKey:
        return StoreKey(bot_id=self.discord.bot_id, node=NODE)

    def pending_writes(self) -> int:
        """Snapshot writes the running process has not made yet."""
        process = self.process
        writer = process.client._hub.writer if process is not None else None
        return writer.pending if writer is not None else 0

    async def flush_writes(self) -> None:
        """Bring the store back and let time pass until the running process has written everything."""
        self.store.down = False
        deadline = self.clock.now() + HEAL_SECONDS
        while self.pending_writes():
            if self.clock.next_deadline is None or self.clock.now() > deadline:
                raise StuckError(f"{self.pending_writes()} snapshot write(s) still pending after the store came back")
            await self.advance_to_next()
