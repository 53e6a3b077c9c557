"""A lightbulb 2 `BotApp` (never started) in the extension tests' world, and what a test does with it."""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import typing

import attrs
import hikari
import lightbulb
from ext_world import BOT_ID, World, settle

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.events import NodeReadyEvent
from lightbulb_lavalink.ext import lightbulb2
from lightbulb_lavalink.testing.discord_rest import offline_bot
from tests.loop_turns import suspend

EXTENSION = "lightbulb_lavalink"


@attrs.define(kw_only=True)
class Running:
    bot: typing.Any  # lightbulb.BotApp
    world: World
    last_id: int = 0

    @property
    def lavalink(self) -> LavalinkClient | None:
        client: LavalinkClient | None = self.bot.d.get("lavalink")
        return client

    async def started(self) -> None:
        """The bot connected: READY and the guilds, then StartedEvent (lightbulb syncs its commands then)."""
        await self.world.discord.connect(self.bot)
        await self.bot.dispatch(hikari.StartedEvent(app=self.bot))
        await settle()

    async def invoke(self, subcommand: str, **kwargs: typing.Any) -> typing.Any:
        interaction_id, payload = self.world.payload(subcommand, **kwargs)
        self.last_id = interaction_id
        await self.world.discord.feed("INTERACTION_CREATE", payload)
        return await self.world.rest.wait_for_answer(interaction_id)

    async def load_when_running(self) -> None:
        """Load into a running bot and wait for the node's ready (the client starts in the background)."""
        ready = asyncio.ensure_future(self.bot.event_manager.wait_for(NodeReadyEvent, timeout=10))
        await suspend()  # the waiter is registered
        self.bot.load_extensions(EXTENSION)
        await ready

    async def unload(self) -> None:
        self.bot.unload_extensions(EXTENSION)
        await lightbulb2.wait_closed(self.bot)
        await settle()


@contextlib.asynccontextmanager
async def running_bot(
    world: World, *, settings: typing.Any = None, default_settings: bool = True, load: bool = True
) -> collections.abc.AsyncIterator[Running]:
    bot = offline_bot(world.rest, BOT_ID, bot_class=lightbulb.BotApp)
    bot.rest.start()
    if settings is not None or default_settings:
        bot.d.lavalink_settings = settings if settings is not None else world.settings()
    bot.d.lavalink_voice_gateway = world.voice
    running = Running(bot=bot, world=world)
    try:
        if load:
            bot.load_extensions(EXTENSION)
        yield running
    finally:
        if EXTENSION in bot.extensions:
            await running.unload()
        await bot.rest.close()


def has_lavalink_command(bot: typing.Any) -> bool:
    return bot.get_slash_command("lavalink") is not None
