"""A user's small bot for the offline kit's tests: commands that answer in each way Discord allows (and one not)."""

from __future__ import annotations

import hikari
import lightbulb

from lightbulb_lavalink import LavalinkClient

loader = lightbulb.Loader()


@loader.command
class Nodes(lightbulb.SlashCommand, name="nodes", description="How many nodes"):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None:
        await ctx.respond(f"{len(lavalink.nodes)} node(s)", ephemeral=True)


@loader.command
class Echo(lightbulb.SlashCommand, name="echo", description="Say it back, then again"):
    text = lightbulb.string("text", "what to say")
    times = lightbulb.integer("times", "how often", default=1)
    loud = lightbulb.boolean("loud", "shout", default=False)

    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context) -> None:
        said = self.text.upper() if self.loud else self.text
        await ctx.respond(embed=hikari.Embed(title="Echo", description=said).add_field("times", str(self.times)))
        for _ in range(self.times - 1):
            await ctx.respond(said)


@loader.command
class Twice(lightbulb.SlashCommand, name="twice", description="Answers the interaction twice"):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context) -> None:
        await ctx.interaction.create_initial_response(hikari.ResponseType.MESSAGE_CREATE, "one")
        await ctx.interaction.create_initial_response(hikari.ResponseType.MESSAGE_CREATE, "two")


@loader.command
class Silent(lightbulb.SlashCommand, name="silent", description="Never answers"):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context) -> None:
        return


def build(bot: hikari.GatewayBot) -> lightbulb.Client:
    client = lightbulb.client_from_app(bot)

    @bot.listen(hikari.StartingEvent)
    async def on_starting(_: hikari.StartingEvent) -> None:
        await client.load_extensions("lightbulb_lavalink", "kit_user_bot")

    bot.subscribe(hikari.StartedEvent, client.start)
    bot.subscribe(hikari.StoppingEvent, client.stop)
    return client


async def eager_build(bot: hikari.GatewayBot) -> lightbulb.Client:
    client = lightbulb.client_from_app(bot)
    await client.load_extensions("lightbulb_lavalink")
    return client
