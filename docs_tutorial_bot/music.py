"""The tutorial bot's commands: /play, /skip, /queue, /stop."""

from __future__ import annotations

import hikari
import lightbulb

from lightbulb_lavalink import LavalinkClient, LoadType

loader = lightbulb.Loader()


@loader.command
class Play(lightbulb.SlashCommand, name="play", description="Play a song (a URL or words to search)"):
    query = lightbulb.string("query", "A URL, or words to search")

    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient, bot: hikari.GatewayBot) -> None:
        if ctx.guild_id is None:
            await ctx.respond("Use me in a server.", ephemeral=True)
            return
        voice = bot.cache.get_voice_state(ctx.guild_id, ctx.user.id)
        if voice is None or voice.channel_id is None:
            await ctx.respond("Join a voice channel first.", ephemeral=True)
            return
        await ctx.defer()
        query = self.query if self.query.startswith("http") else f"ytsearch:{self.query}"
        result = await lavalink.load_tracks(query)
        if result.load_type is LoadType.ERROR or not result.tracks:
            await ctx.respond(f"Nothing found for `{self.query}`.")
            return
        track = result.tracks[0]
        player = await lavalink.join(ctx.guild_id, voice.channel_id)
        if player.track is None:
            await player.play(track)
            await ctx.respond(f"Playing **{track.info.title}**.")
        else:
            player.queue.add(track)
            await ctx.respond(f"Queued **{track.info.title}** ({len(player.queue)} in the queue).")


@loader.command
class Skip(lightbulb.SlashCommand, name="skip", description="Skip the current song"):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None:
        player = lavalink.get_player(ctx.guild_id) if ctx.guild_id else None
        if player is None or player.track is None:
            await ctx.respond("Nothing is playing.", ephemeral=True)
            return
        following = await player.skip()
        await ctx.respond(f"Now playing **{following.info.title}**." if following else "The queue is empty.")


@loader.command
class Queue(lightbulb.SlashCommand, name="queue", description="What plays now and next"):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None:
        player = lavalink.get_player(ctx.guild_id) if ctx.guild_id else None
        if player is None or player.track is None:
            await ctx.respond("Nothing is playing.", ephemeral=True)
            return
        embed = hikari.Embed(title="Queue", description=f"Now: **{player.track.info.title}**")
        for number, track in enumerate(player.queue.upcoming[:10], 1):
            embed.add_field(f"{number}.", track.info.title)
        await ctx.respond(embed=embed)


@loader.command
class Stop(lightbulb.SlashCommand, name="stop", description="Stop and leave the voice channel"):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None:
        if ctx.guild_id is None or lavalink.get_player(ctx.guild_id) is None:
            await ctx.respond("I am not in a voice channel.", ephemeral=True)
            return
        await lavalink.leave(ctx.guild_id)
        await ctx.respond("Bye!")
