"""Tests of the tutorial bot (docs/tutorial.md), written with the public offline kit as its author would."""

from __future__ import annotations

from docs_tutorial_bot.bot import build
from lightbulb_lavalink.testing import OfflineBot


async def test_play_asks_to_join_a_voice_channel_first() -> None:
    async with OfflineBot(build) as world:
        reply = await world.invoke("play", query="never gonna give you up")
        assert reply.content == "Join a voice channel first."
        assert reply.ephemeral


async def test_play_queue_skip_and_stop() -> None:
    async with OfflineBot(build) as world:
        await world.join_voice()  # world.member, who commands come from, joins the first voice channel

        first = await world.invoke("play", query="never gonna give you up")
        assert first.content.startswith("Playing **")
        second = await world.invoke("play", query="take on me")
        assert "(1 in the queue)" in second.content

        queue = await world.invoke("queue")
        assert queue.embeds[0]["title"] == "Queue"
        assert list(queue.fields()) == ["1."]

        skipped = await world.invoke("skip")
        assert skipped.content.startswith("Now playing **")

        assert (await world.invoke("stop")).content == "Bye!"
        assert world.bot_channel() is None  # the bot left the voice channel


async def test_the_song_keeps_playing_across_a_restart() -> None:
    async with OfflineBot(build) as world:
        await world.join_voice()
        await world.invoke("play", query="never gonna give you up")
        await world.invoke("play", query="take on me")

        await world.restart()  # a deploy: the new bot process resumes the Lavalink session

        queue = await world.invoke("queue")
        assert "Now: **" in queue.embeds[0]["description"]
        assert list(queue.fields()) == ["1."]
