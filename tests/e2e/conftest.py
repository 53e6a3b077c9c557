"""A bot "process" harness: a real never-started GatewayBot, FakeDiscord, FakeLavalink and a real store."""

from __future__ import annotations

import asyncio
import contextlib
import typing

import attrs
import hikari
import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.testing import FakeLavalink, ManualClock
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeGuild, FakeVoiceGateway, make_bot
from tests.event_recorder import EventRecorder
from tests.loop_turns import turns as turns  # re-exported for the e2e tests

if typing.TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterator, Callable

    from lightbulb_lavalink.clock import Clock
    from lightbulb_lavalink.observe import MetricsSource
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.protocol.tracks import Track

# Emulated seconds per real second: a 60 s resume timeout lasts 1.5 s, a 200 s track 5 s.
TIME_SCALE = 40.0


@attrs.define(kw_only=True)
class BotProcess(EventRecorder):
    """One run of the bot: what a restart throws away."""

    bot: hikari.GatewayBot
    client: LavalinkClient
    voice: FakeVoiceGateway

    async def wait_for(
        self, kind: type[hikari.Event], predicate: Callable[[typing.Any], bool] = lambda e: True, timeout: float = 5.0
    ) -> typing.Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for event in self.of_type(kind):
                if predicate(event):
                    return event
            if asyncio.get_running_loop().time() > deadline:
                kinds = sorted({type(e).__name__ for e in self.seen})
                raise AssertionError(f"no {kind.__name__} matching within {timeout}s; saw only {kinds}")
            await asyncio.sleep(0.01)


@attrs.define
class World:
    """Discord, a Lavalink node and a store file that outlive bot processes."""

    lavalink: FakeLavalink
    discord: FakeDiscord
    store_url: str
    guilds: list[FakeGuild]
    processes: list[BotProcess] = attrs.field(factory=list)
    resume_timeout: int = 60
    voice_timeout: float = 10.0
    node_name: str = "main"
    clock: Clock | None = None
    """The clock every bot process runs on (the `ManualClock` of a FakeLavalink driven by hand), or real time."""

    def settings(self) -> LavalinkSettings:
        return LavalinkSettings(
            nodes=(
                NodeSettings(
                    name=self.node_name, host="127.0.0.1", port=self.lavalink.port, password=self.lavalink.password
                ),
            ),
            resume_timeout=self.resume_timeout,
            voice_timeout=self.voice_timeout,
            store=self.store_url,
            snapshot_interval=0.05,
            position_save_interval=0.2,
            reconnect_delay=0.05,
            reconnect_max_delay=0.2,
        )

    async def close(self) -> None:
        """The world's teardown: close every bot process's client (keeping its sessions resumable) and voice."""
        for process in self.processes:
            with contextlib.suppress(Exception):
                await process.client.close()
            await process.voice.close()

    async def boot(
        self,
        *,
        voice_delay: float = 0.0,
        wait: bool = True,
        metrics: MetricsSource | None = None,
        **overrides: typing.Any,
    ) -> BotProcess:
        """Start a bot process: gateway READY + GUILD_CREATEs, then the Lavalink client.

        `voice_delay`: seconds Discord takes to answer a voice join; `wait=False`: return without waiting for the
        node's ready to be handled; `metrics`: measure the client; `overrides`: settings changed for this boot.
        """
        bot = make_bot(bot_id=self.discord.bot_id)
        await self.discord.connect(bot)
        voice = FakeVoiceGateway(self.discord, delay=voice_delay)
        settings = attrs.evolve(self.settings(), **overrides) if overrides else self.settings()
        client = LavalinkClient(bot, settings, voice_gateway=voice, clock=self.clock, metrics=metrics)
        process = BotProcess(bot=bot, client=client, voice=voice, seen=[])

        async def record(event: events.LavalinkEvent) -> None:
            process.receive(event)

        bot.event_manager.subscribe(events.LavalinkEvent, record)
        await client.start()
        if wait:
            await client.wait_ready(5)
        self.processes.append(process)
        return process

    async def stop(self, process: BotProcess) -> None:
        """A clean stop (deploy): `close()` keeps the session resumable."""
        await process.client.close()
        await process.voice.close()

    async def crash(self, process: BotProcess) -> None:
        """A crash: the websocket dies with the process; only what the store already holds survives."""
        # What a killed process leaves: the TCP connection closes (Lavalink pauses the session whatever the
        # close code), and writes that were still pending are lost.
        client = process.client
        hub = client._hub
        writer, hub.writer = hub.writer, None
        if writer is not None:
            writer.discard()
            await writer.close()
        await client.close()
        await process.voice.close()

    def listener_in(self, guild: FakeGuild) -> int:
        return guild.member_ids[1]

    async def seat_listener(self, guild: FakeGuild) -> int:
        user = self.listener_in(guild)
        await self.discord.voice_state(guild.id, user, guild.voice_channel_ids[0])
        return user


@pytest.fixture
async def world(tmp_path: pathlib.Path) -> AsyncIterator[World]:
    async with FakeLavalink(time_scale=TIME_SCALE, player_update_interval=1.0) as lavalink:
        discord = FakeDiscord()
        guilds = [await discord.add_guild(members=3) for _ in range(3)]
        w = World(lavalink=lavalink, discord=discord, store_url=f"sqlite:///{tmp_path / 'sessions.db'}", guilds=guilds)
        try:
            yield w
        finally:
            await w.close()


@contextlib.asynccontextmanager
async def world_on_manual_clock(tmp_path: pathlib.Path, *, guilds: int = 3) -> AsyncIterator[World]:
    """A world whose FakeLavalink and bot processes all run on one `ManualClock` the test moves (`clock_of`)."""
    clock = ManualClock()
    async with FakeLavalink(clock=clock, player_update_interval=1.0) as lavalink:
        discord = FakeDiscord()
        w = World(
            lavalink=lavalink,
            discord=discord,
            store_url=f"sqlite:///{tmp_path / 'sessions.db'}",
            guilds=[await discord.add_guild(members=3) for _ in range(guilds)],
            clock=clock,
        )
        try:
            yield w
        finally:
            await w.close()


@pytest.fixture
async def manual_world(tmp_path: pathlib.Path) -> AsyncIterator[World]:
    """As `world`, on a `ManualClock` (see `world_on_manual_clock`)."""
    async with world_on_manual_clock(tmp_path) as w:
        yield w


def clock_of(world: World) -> ManualClock:
    """The `ManualClock` a world's processes run on (the test moves it)."""
    assert isinstance(world.clock, ManualClock)
    return world.clock


def make_tracks(lavalink: FakeLavalink, prefix: str, count: int, *, length: int = 200_000) -> list[Track]:
    return [
        lavalink.add_track(title=f"{prefix} {i}", author="Test", length=length, identifier=f"{prefix}-{i}")
        for i in range(count)
    ]


async def joined(world: World, process: BotProcess, n: int = 0) -> Player:
    """A listener sits in guild `n`'s first voice channel and the bot joins it; returns the player."""
    guild = world.guilds[n]
    await world.seat_listener(guild)
    return await process.client.join(guild.id, guild.voice_channel_ids[0])


class HeldPatch:
    """Holds the next player PATCH in transit until `release()`: before it reaches Lavalink (`answer=False`, latency on
    the way there) or after Lavalink applied it (`answer=True`, its answer late). Nothing orders the REST connection
    and the websocket, so events may overtake it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, answer: bool) -> None:
        original = RestClient.update_player
        self._armed = False
        self._release = asyncio.Event()
        self.reached = asyncio.Event()
        """Set once the armed PATCH is being held."""

        async def held(client: RestClient, *args: typing.Any, **kwargs: typing.Any) -> typing.Any:
            hold, self._armed = self._armed, False
            if hold and not answer:
                self.reached.set()
                await self._release.wait()
            info = await original(client, *args, **kwargs)
            if hold and answer:
                self.reached.set()
                await self._release.wait()
            return info

        monkeypatch.setattr(RestClient, "update_player", held)

    def arm(self) -> None:
        """Hold the next PATCH."""
        self._armed = True

    def release(self) -> None:
        """Let the held PATCH go on."""
        self._release.set()


class HeldGetPlayers:
    """Holds the next ``GET /v4/sessions/{id}/players`` (the resumed sync's fetch) before it is sent, until
    `release()`: the node counts as syncing meanwhile, which is when commands and faults race the resume."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = RestClient.get_player_list
        self.held = asyncio.Event()
        self._release = asyncio.Event()
        self._armed = True

        async def held(client: RestClient, *args: typing.Any, **kwargs: typing.Any) -> typing.Any:
            hold, self._armed = self._armed, False
            if hold:
                self.held.set()
                await self._release.wait()
            return await original(client, *args, **kwargs)

        monkeypatch.setattr(RestClient, "get_player_list", held)

    def release(self) -> None:
        """Let the held fetch go on."""
        self._release.set()


