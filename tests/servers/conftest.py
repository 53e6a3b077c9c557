"""A real bot (never-started GatewayBot, real LavalinkClient on a `ManualClock`) against a recorded server."""

from __future__ import annotations

import asyncio
import contextlib
import typing

import attrs

from lightbulb_lavalink import events
from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.testing import ManualClock
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeGuild, FakeVoiceGateway, make_bot
from tests.event_recorder import EventRecorder

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator


E = typing.TypeVar("E", bound=events.LavalinkEvent)

GUILD = 1200000000000000001
"""The guild the recordings played in."""


@attrs.define(kw_only=True)
class Bot(EventRecorder):
    """One bot process: its client, the clock it runs on, and every lightbulb-lavalink event it dispatched."""

    client: LavalinkClient
    clock: ManualClock
    guild: FakeGuild
    voice: FakeVoiceGateway


async def got(future: asyncio.Future[E]) -> E:
    """Await an `expect` future (a real-time safety net only: nothing here waits on time)."""
    async with asyncio.timeout(5):
        return await future


@contextlib.asynccontextmanager
async def bot_on(host: str, port: int, password: str, **settings: typing.Any) -> AsyncIterator[Bot]:
    """A started bot whose one node (``"main"``) is at `host`:`port`; it is in guild `GUILD`."""
    clock = ManualClock()
    discord = FakeDiscord()
    guild = await discord.add_guild(guild_id=GUILD, members=3)
    bot = make_bot(bot_id=discord.bot_id)
    await discord.connect(bot)
    async with FakeVoiceGateway(discord) as voice:
        client = LavalinkClient(
            bot,
            LavalinkSettings(
                nodes=(NodeSettings(name="main", host=host, port=port, password=password),),
                store="memory://",
                reconnect_delay=0.05,
                reconnect_max_delay=0.2,
                **settings,
            ),
            voice_gateway=voice,
            clock=clock,
        )
        process = Bot(client=client, clock=clock, guild=guild, voice=voice)

        async def record(event: events.LavalinkEvent) -> None:
            process.receive(event)

        bot.event_manager.subscribe(events.LavalinkEvent, record)
        await client.start()
        try:
            await client.wait_ready(5)
            yield process
        finally:
            await client.close()
