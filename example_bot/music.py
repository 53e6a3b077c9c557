"""The music commands: a lightbulb 3 extension using only lightbulb-lavalink's public API.

Load it after ``lightbulb_lavalink`` (which makes `LavalinkClient` injectable):
``await client.load_extensions("lightbulb_lavalink", "example_bot.music")``.
"""

from __future__ import annotations

import logging

import hikari
import lightbulb

from lightbulb_lavalink import LavalinkClient, LavalinkError, LoadType, LoopMode, NodeUnavailable, Player, Track

__all__ = ["loader"]

_LOGGER = logging.getLogger("example_bot.music")

loader = lightbulb.Loader()
"""Every command of the example bot."""

GUILD_ONLY = (hikari.ApplicationContextType.GUILD,)
QUEUE_LINES = 10
ACCENT = hikari.Color(0x5865F2)


# -- helpers ------------------------------------------------------------------------------------------------------


def duration(ms: int | None) -> str:
    """``3:07`` or ``1:02:03``; ``live`` for streams."""
    if ms is None:
        return "live"
    seconds = max(0, ms) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def title(track: Track) -> str:
    """The track as a person reads it: ``**Title** by Author``, linked when it has a URL."""
    info = track.info
    name = f"[{info.title}]({info.uri})" if info.uri else f"**{info.title}**"
    return f"{name} by {info.author}" if info.author else name


def length(track: Track) -> int | None:
    return None if track.info.is_stream else track.info.length


def progress_bar(position: int, total: int | None, width: int = 16) -> str:
    if not total:
        return "🔴 live"
    filled = min(width, int(width * position / total))
    return "▬" * filled + "🔘" + "▬" * (width - filled)


def to_query(text: str) -> str:
    """A URL or identifier as given; anything else becomes a YouTube search."""
    text = text.strip()
    if text.startswith(("http://", "https://")) or ":" in text.split(" ", 1)[0]:
        return text
    return f"ytsearch:{text}"


class NothingPlaying(Exception):
    """A command that needs the guild's player ran where there is none (`on_error` tells the user)."""


def current_player(ctx: lightbulb.Context, lavalink: LavalinkClient) -> Player:
    """The guild's player; `NothingPlaying` when there is none."""
    player = lavalink.get_player(ctx.guild_id) if ctx.guild_id is not None else None
    if player is None:
        raise NothingPlaying
    return player


# -- /play --------------------------------------------------------------------------------------------------------


@loader.command
class Play(
    lightbulb.SlashCommand, name="play", description="Play a song or playlist (URL or search)", contexts=GUILD_ONLY
):
    query = lightbulb.string("query", "A URL, or words to search on YouTube")

    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient, bot: hikari.GatewayBot) -> None:
        assert ctx.guild_id is not None
        voice = bot.cache.get_voice_state(ctx.guild_id, ctx.user.id)
        if voice is None or voice.channel_id is None:
            await ctx.respond("Join a voice channel first, then `/play` again.", ephemeral=True)
            return
        current = lavalink.get_player(ctx.guild_id)
        if current is not None and current.track is not None and current.channel_id != voice.channel_id:
            # Never pull the music away from the people listening to it.
            await ctx.respond(f"I'm playing in <#{current.channel_id}>: join it to add songs.", ephemeral=True)
            return
        await ctx.defer()
        try:
            result = await lavalink.load_tracks(to_query(self.query))
        except NodeUnavailable:
            await ctx.respond("The music server is not reachable right now. Try again in a moment.")
            return
        if result.load_type is LoadType.ERROR:
            reason = result.error.message if result.error is not None else None
            await ctx.respond(f"Could not load that: {reason or 'the music server failed to load it'}.")
            return
        tracks = [track.with_user_data(requester=int(ctx.user.id)) for track in result.tracks]
        if not tracks:
            await ctx.respond(f"Nothing found for `{self.query}`.")
            return
        if result.load_type is LoadType.SEARCH:
            tracks = tracks[:1]  # a search gives candidates: take the best match
        player = await lavalink.join(ctx.guild_id, voice.channel_id)
        if player.track is None:
            first, rest = tracks[0], tracks[1:]
            player.queue.extend(rest)
            await player.play(first)
            message = f"▶️ Playing {title(first)} `{duration(length(first))}`"
        else:
            player.queue.extend(tracks)
            message = f"📥 Queued {title(tracks[0])} at position {len(player.queue) - len(tracks) + 1}"
        if len(tracks) > 1:
            playlist = result.playlist
            name = f" from **{playlist.info.name}**" if playlist is not None else ""
            message += f"\n…and {len(tracks) - 1} more{name}."
        await ctx.respond(message)


# -- playback -----------------------------------------------------------------------------------------------------


@loader.command
class Skip(lightbulb.SlashCommand, name="skip", description="Skip the current song", contexts=GUILD_ONLY):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None:
        player = current_player(ctx, lavalink)
        skipped = player.track
        nxt = await player.skip()
        what = f"Skipped {title(skipped)}." if skipped is not None else "Skipped."
        await ctx.respond(f"⏭️ {what} " + (f"Now playing {title(nxt)}." if nxt else "The queue is empty."))


@loader.command
class Pause(lightbulb.SlashCommand, name="pause", description="Pause the music", contexts=GUILD_ONLY):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None:
        player = current_player(ctx, lavalink)
        if player.paused:
            await ctx.respond("Already paused. `/resume` to continue.", ephemeral=True)
            return
        await player.pause()
        await ctx.respond("⏸️ Paused.")


@loader.command
class Resume(lightbulb.SlashCommand, name="resume", description="Resume the music", contexts=GUILD_ONLY):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None:
        player = current_player(ctx, lavalink)
        if not player.paused:
            await ctx.respond("Not paused.", ephemeral=True)
            return
        await player.resume()
        await ctx.respond("▶️ Resumed.")


@loader.command
class Volume(lightbulb.SlashCommand, name="volume", description="Set the volume (100 is normal)", contexts=GUILD_ONLY):
    level = lightbulb.integer("level", "0 to 200", min_value=0, max_value=200)

    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None:
        player = current_player(ctx, lavalink)
        await player.set_volume(self.level)
        await ctx.respond(f"🔊 Volume {self.level}.")


@loader.command
class Leave(lightbulb.SlashCommand, name="leave", description="Stop, clear the queue and leave", contexts=GUILD_ONLY):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None:
        player = current_player(ctx, lavalink)
        await lavalink.leave(player.guild_id)
        await ctx.respond("👋 Left the voice channel.")


# -- the queue ----------------------------------------------------------------------------------------------------


@loader.command
class NowPlaying(lightbulb.SlashCommand, name="nowplaying", description="What is playing", contexts=GUILD_ONLY):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None:
        player = current_player(ctx, lavalink)
        track = player.track
        if track is None:
            await ctx.respond("Nothing is playing. `/play` something!", ephemeral=True)
            return
        total = length(track)
        embed = hikari.Embed(title="Now playing", description=title(track), colour=ACCENT)
        state = "⏸️ paused" if player.paused else "▶️"
        embed.add_field(
            "Progress",
            f"{state} {progress_bar(player.position, total)} {duration(player.position)} / {duration(total)}",
        )
        requester = track.user_data.get("requester")
        if requester:
            embed.add_field("Requested by", f"<@{requester}>", inline=True)
        embed.add_field("Volume", str(player.volume), inline=True)
        embed.add_field("Loop", player.queue.loop.value, inline=True)
        if track.info.artwork_url:
            embed.set_thumbnail(track.info.artwork_url)
        await ctx.respond(embed=embed)


@loader.command
class Queue(lightbulb.SlashCommand, name="queue", description="The songs coming up", contexts=GUILD_ONLY):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None:
        player = current_player(ctx, lavalink)
        upcoming = player.queue.upcoming
        lines = [f"**Now:** {title(player.track)}" if player.track else "**Now:** nothing"]
        lines += [
            f"`{index}.` {title(track)} `{duration(length(track))}`"
            for index, track in enumerate(upcoming[:QUEUE_LINES], 1)
        ]
        if len(upcoming) > QUEUE_LINES:
            lines.append(f"…and {len(upcoming) - QUEUE_LINES} more")
        if not upcoming:
            lines.append("The queue is empty: `/play` adds to it.")
        footer = f"{len(upcoming)} queued · {duration(player.queue.duration)} · loop {player.queue.loop.value}"
        embed = hikari.Embed(title="Queue", description="\n".join(lines)[:4096], colour=ACCENT)
        embed.set_footer(footer)
        await ctx.respond(embed=embed)


@loader.command
class Loop(
    lightbulb.SlashCommand, name="loop", description="Repeat the song, the queue, or nothing", contexts=GUILD_ONLY
):
    mode = lightbulb.string(
        "mode",
        "What to repeat",
        choices=[
            lightbulb.Choice("off", "off"),
            lightbulb.Choice("track", "track"),
            lightbulb.Choice("queue", "queue"),
        ],
    )

    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None:
        player = current_player(ctx, lavalink)
        player.queue.loop = LoopMode(self.mode)
        words = {"off": "Loop off.", "track": "🔂 Repeating this song.", "queue": "🔁 Repeating the queue."}
        await ctx.respond(words[self.mode])


@loader.command
class Shuffle(lightbulb.SlashCommand, name="shuffle", description="Shuffle the queue", contexts=GUILD_ONLY):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None:
        player = current_player(ctx, lavalink)
        if len(player.queue) < 2:
            await ctx.respond("Nothing to shuffle: fewer than two songs are queued.", ephemeral=True)
            return
        player.queue.shuffle()
        await ctx.respond(f"🔀 Shuffled {len(player.queue)} songs.")


@loader.error_handler
async def on_error(exc: lightbulb.exceptions.ExecutionPipelineFailedException) -> bool:
    """No player, or a Lavalink failure, in any command becomes a short answer instead of no reply at all."""
    cause = exc.causes[0] if exc.causes else None
    if isinstance(cause, NothingPlaying):
        await exc.context.respond("Nothing is playing here. Start with `/play`.", ephemeral=True)
        return True
    if not isinstance(cause, LavalinkError):
        return False
    _LOGGER.warning("/%s failed: %s", exc.context.command_data.name, cause)
    text = (
        "The music server did not answer. Try again in a moment." if isinstance(cause, NodeUnavailable) else str(cause)
    )
    await exc.context.respond(f"⚠️ {text}", ephemeral=True)
    return True
