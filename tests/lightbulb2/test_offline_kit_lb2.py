"""The offline kit with a lightbulb 2 bot (``bot_class=lightbulb.BotApp``), and the bot's own store at bot.d."""

from __future__ import annotations

import typing

import hikari
import lightbulb

from lightbulb_lavalink.stores import MemoryStore, StoreKey
from lightbulb_lavalink.testing import OfflineBot


def build(bot: typing.Any) -> None:
    @bot.command
    @lightbulb.command("nodes", "How many nodes")
    @lightbulb.implements(lightbulb.SlashCommand)
    async def nodes(ctx: lightbulb.SlashContext) -> None:
        await ctx.respond(f"{len(ctx.bot.d.lavalink.nodes)} node(s)", flags=hikari.MessageFlag.EPHEMERAL)

    bot.load_extensions("lightbulb_lavalink")


async def test_a_lightbulb2_bot_offline_with_its_own_store() -> None:
    store = MemoryStore()
    async with OfflineBot(build, bot_class=lightbulb.BotApp, store=store) as world:
        reply = await world.invoke("nodes")
        assert (reply.content, reply.ephemeral) == ("1 node(s)", True)
        status = await world.invoke("lavalink status", permissions=hikari.Permissions.MANAGE_GUILD)
        assert "🟢 main" in status.fields()
        lavalink = await world.lavalink()
        key = StoreKey(bot_id=world.discord.bot_id, node="main")
        assert await store.get_session(key) == lavalink.nodes["main"].session_id  # bot.d.lavalink_store won
        await world.restart()
        assert (await world.lavalink()) is not lavalink
