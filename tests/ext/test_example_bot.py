"""The example music bot: its start-up checks, and every command through the real lightbulb 3 client."""

from __future__ import annotations

import hikari
import lightbulb
import pytest

from example_bot.bot import ConfigError, main, read_config, setup_client
from lightbulb_lavalink.settings import LavalinkSettings
from lightbulb_lavalink.testing.offline import OfflineBot

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


# -- the commands, through the public offline kit, exactly as a user tests their bot -----------------------


def build(bot: hikari.GatewayBot) -> lightbulb.Client:
    return setup_client(bot, LavalinkSettings())  # production settings: the kit points them at its fakes


async def test_play_needs_the_user_in_a_voice_channel() -> None:
    async with OfflineBot(build) as world:
        reply = await world.invoke("play", query="anything")
        assert "Join a voice channel first" in reply.text and reply.ephemeral
        assert (await world.lavalink()).get_player(world.guild.id) is None


async def test_a_session_of_music() -> None:
    async with OfflineBot(build) as world:
        lavalink = await world.lavalink()
        channel = world.guild.voice_channel_ids[1]
        await world.join_voice(world.member, channel)

        playing = await world.invoke("play", query="never gonna give you up")
        assert "Playing" in playing.text and playing.deferred and not playing.ephemeral
        player = lavalink.get_player(world.guild.id)
        assert player is not None and player.track is not None and player.channel_id == channel
        assert world.bot_channel() == channel
        first = player.track.info.title
        assert first in playing.text

        for query in ("second song", "third song", "fourth song"):
            assert "Queued" in (await world.invoke("play", query=query)).text
        assert len(player.queue) == 3

        queue = await world.invoke("queue")
        (embed,) = queue.embeds
        assert f"**Now:** [{first}](" in embed["description"]  # linked to the track's page
        assert "3 queued" in embed["footer"]["text"]

        now = await world.invoke("nowplaying")
        assert "Now playing" in now.text and first in now.text
        assert now.fields()["Requested by"] == f"<@{world.member}>"

        assert "Paused" in (await world.invoke("pause")).text
        assert player.paused
        session_id = lavalink.nodes["main"].session_id
        assert session_id is not None
        fake = world.node.players_of(session_id)[world.guild.id]
        assert fake.paused
        again = await world.invoke("pause")
        assert "Already paused" in again.text and again.ephemeral
        assert "Resumed" in (await world.invoke("resume")).text
        assert not fake.paused

        assert "Volume 60" in (await world.invoke("volume", level=60)).text
        assert fake.volume == 60
        patch = world.node.traffic.requests_to("PATCH", f"/v4/sessions/{session_id}/players/")[-1]
        assert (patch.path, patch.body, patch.status) == (
            f"/v4/sessions/{session_id}/players/{world.guild.id}",
            {"volume": 60},
            200,
        )
        assert patch.headers["Authorization"] == "***"

        assert "Repeating the queue" in (await world.invoke("loop", mode="queue")).text
        assert player.queue.loop.value == "queue"

        before = list(player.queue.upcoming)
        assert "Shuffled 3 songs" in (await world.invoke("shuffle")).text
        assert sorted(t.info.identifier for t in player.queue.upcoming) == sorted(t.info.identifier for t in before)

        nxt = player.queue.upcoming[0]
        skipped = await world.invoke("skip")
        assert f"Skipped [{first}](" in skipped.text and f"Now playing [{nxt.info.title}](" in skipped.text
        assert player.track is not None and player.track.info.title == nxt.info.title

        assert "Left the voice channel" in (await world.invoke("leave")).text
        assert lavalink.get_player(world.guild.id) is None
        assert world.guild.id not in world.node.players_of(session_id)
        assert "Nothing is playing here" in (await world.invoke("queue")).text


@pytest.mark.parametrize("crash", [False, True], ids=["deploy", "crash"])
async def test_the_music_and_the_queue_survive_a_restart(crash: bool) -> None:
    async with OfflineBot(build) as world:
        await world.join_voice()
        await world.invoke("play", query="never gonna give you up")
        await world.invoke("play", query="second song")
        before = await world.lavalink()
        player = before.get_player(world.guild.id)
        assert player is not None and player.track is not None
        playing, queued = player.track.info.title, [t.info.title for t in player.queue.upcoming]

        await world.restart(crash=crash)

        after = await world.lavalink()
        assert after is not before and world.processes == 2
        back = after.get_player(world.guild.id)
        assert back is not None and back.track is not None
        assert back.track.info.title == playing
        assert [t.info.title for t in back.queue.upcoming] == queued
        resumed = [h for h in world.node.handshakes if h.session_id is not None]
        assert resumed and resumed[-1].resumed  # the new process resumed the old session
        assert "Now playing" in (await world.invoke("nowplaying")).text


async def test_a_lavalink_restart_brings_the_guild_back() -> None:
    async with OfflineBot(build) as world:
        await world.join_voice()
        await world.invoke("play", query="never gonna give you up")
        lavalink = await world.lavalink()
        old_session = lavalink.nodes["main"].session_id
        await world.restart_node()
        assert lavalink.nodes["main"].session_id != old_session
        player = lavalink.get_player(world.guild.id)
        assert player is not None
        await player.wait_restored()
        assert player.track is not None
