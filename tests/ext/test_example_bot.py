"""The example music bot: its start-up checks, and every command through the real lightbulb 3 client."""

from __future__ import annotations

import pytest
from ext_lightbulb3 import running_bot
from ext_world import NODE_PASSWORD, World

from example_bot.bot import ConfigError, check_nodes, main, read_config
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings

EXTENSIONS = ("lightbulb_lavalink", "example_bot.music")

# -- start-up -------------------------------------------------------------------------------------------------


def test_a_missing_token_is_named_with_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main({}) == 2
    err = capsys.readouterr().err
    assert "DISCORD_TOKEN is not set" in err
    assert "discord.com/developers" in err


def test_every_config_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        read_config({"LAVALINK_PORT": "lots", "DISCORD_GUILD_IDS": "123,abc"})
    message = str(caught.value)
    assert "DISCORD_TOKEN" in message
    assert "LAVALINK_PORT" in message
    assert "'abc'" in message


def test_a_good_config_is_read() -> None:
    token, settings, guilds = read_config(
        {"DISCORD_TOKEN": "t", "LAVALINK_NODES": "main=http://pw@lava:2444", "DISCORD_GUILD_IDS": "1, 2"}
    )
    assert token == "t" and guilds == [1, 2]
    assert [(n.name, n.host, n.port) for n in settings.nodes] == [("main", "lava", 2444)]


async def test_the_node_check_says_what_is_wrong(world: World) -> None:
    def settings(password: str, port: int) -> LavalinkSettings:
        return LavalinkSettings(nodes=(NodeSettings(name="main", host="127.0.0.1", port=port, password=password),))

    assert await check_nodes(settings(NODE_PASSWORD, world.node.port)) == []
    (wrong,) = await check_nodes(settings("guess", world.node.port))
    assert "refused the password" in wrong and "LAVALINK_PASSWORD" in wrong
    (closed,) = await check_nodes(settings(NODE_PASSWORD, 9))
    assert "cannot be reached" in closed and "is Lavalink running" in closed


# -- the commands ---------------------------------------------------------------------------------------------


async def test_play_needs_the_user_in_a_voice_channel(world: World) -> None:
    async with running_bot(world, extensions=EXTENSIONS) as bot:
        lavalink = await bot.ready_lavalink()
        text = await bot.command("play", query="anything")
        assert "Join a voice channel first" in text
        assert lavalink.get_player(world.guild.id) is None


async def test_a_session_of_music(world: World) -> None:
    async with running_bot(world, extensions=EXTENSIONS) as bot:
        lavalink = await bot.ready_lavalink()
        listener = world.guild.member_ids[-1]
        channel = world.guild.voice_channel_ids[1]
        await world.discord.voice_state(world.guild.id, listener, channel)

        text = await bot.command("play", query="never gonna give you up")
        assert "Playing" in text
        player = lavalink.get_player(world.guild.id)
        assert player is not None and player.track is not None and player.channel_id == channel
        first = player.track.info.title
        assert first in text

        for query in ("second song", "third song", "fourth song"):
            assert "Queued" in await bot.command("play", query=query)
        assert len(player.queue) == 3

        queue = await bot.command("queue")
        assert f"**Now:** [{first}](" in queue  # linked to the track's page
        assert "3 queued" in queue

        now = await bot.command("nowplaying")
        assert "Now playing" in now and first in now and f"<@{listener}>" in now

        assert "Paused" in await bot.command("pause")
        assert player.paused
        session_id = lavalink.nodes["main"].session_id
        assert session_id is not None
        fake = world.node.players_of(session_id)[world.guild.id]
        assert fake.paused
        assert "Already paused" in await bot.command("pause")
        assert "Resumed" in await bot.command("resume")
        assert not fake.paused

        assert "Volume 60" in await bot.command("volume", level=60)
        assert fake.volume == 60

        assert "Repeating the queue" in await bot.command("loop", mode="queue")
        assert player.queue.loop.value == "queue"

        before = list(player.queue.upcoming)
        assert "Shuffled 3 songs" in await bot.command("shuffle")
        assert sorted(t.info.identifier for t in player.queue.upcoming) == sorted(t.info.identifier for t in before)

        nxt = player.queue.upcoming[0]
        skipped = await bot.command("skip")
        assert f"Skipped [{first}](" in skipped and f"Now playing [{nxt.info.title}](" in skipped
        assert player.track is not None and player.track.info.title == nxt.info.title

        assert "Left the voice channel" in await bot.command("leave")
        assert lavalink.get_player(world.guild.id) is None
        assert world.guild.id not in world.node.players_of(session_id)
        assert "Nothing is playing here" in await bot.command("queue")
