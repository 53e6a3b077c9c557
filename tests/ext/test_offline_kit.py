"""The public offline kit, `lightbulb_lavalink.testing.OfflineBot`, used as a bot author uses it."""

from __future__ import annotations

import pytest
from kit_user_bot import build, eager_build

from lightbulb_lavalink.errors import MusicUnavailableError
from lightbulb_lavalink.stores import MemoryStore, RedisStore, StoreKey
from lightbulb_lavalink.testing import NoReplyError, OfflineBot


async def test_options_embeds_followups_and_the_ephemeral_flag() -> None:
    async with OfflineBot(build) as world:
        nodes = await world.invoke("nodes")
        assert (nodes.content, nodes.ephemeral, nodes.deferred) == ("1 node(s)", True, False)
        echo = await world.invoke("echo", text="hello", times=3, loud=True)
        assert not echo.ephemeral
        assert echo.embeds[0]["title"] == "Echo" and echo.embeds[0]["description"] == "HELLO"
        assert echo.fields() == {"times": "3"}
        assert [f.content for f in echo.followups] == ["HELLO", "HELLO"]
        assert "Echo\nHELLO" in echo.text


async def test_discord_takes_one_initial_response_per_interaction() -> None:
    async with OfflineBot(build) as world:
        reply = await world.invoke("twice")
        assert reply.content == "one"
        refused = [r for r in world.rest.requests if r.path.endswith("/callback")]
        assert len(refused) == 2  # the second was refused (400, 40060), and so never shown


async def test_a_command_that_never_answers_is_reported() -> None:
    async with OfflineBot(build) as world:
        with pytest.raises(NoReplyError, match="did not respond"):
            await world.invoke("silent")


async def test_the_extensions_commands_by_subcommand_and_permissions() -> None:
    async with OfflineBot(build) as world:
        refused = await world.invoke("lavalink status")
        assert refused.ephemeral and "Manage Server" in refused.text
        import hikari

        status = await world.invoke("lavalink status", permissions=hikari.Permissions.MANAGE_GUILD)
        assert "🟢 main" in status.fields()


async def test_a_bad_setting_gives_the_degraded_bot_users_see() -> None:
    unreachable = RedisStore("redis://:hunter2@127.0.0.1:9/0")
    async with OfflineBot(build, store=unreachable, settings={"request_timeout": 1.0}) as world:
        with pytest.raises(MusicUnavailableError):
            await world.lavalink()
        reply = await world.invoke("nodes")
        assert reply.ephemeral
        assert reply.content.startswith("⚠️ Music is unavailable: the session store redis://***@127.0.0.1:9/0")


async def test_a_store_of_the_bots_own_is_used_and_survives_restarts() -> None:
    store = MemoryStore()
    async with OfflineBot(build, store=store) as world:
        await world.join_voice()
        lavalink = await world.lavalink()
        player = await lavalink.join(world.guild.id, world.guild.voice_channel_ids[0])
        await player.play((await lavalink.load_tracks("ytsearch:song")).tracks[0])
        await world.discord.settle()
        key = StoreKey(bot_id=world.discord.bot_id, node="main")
        assert world.guild.id in await store.get_guilds(key)
        assert await store.get_session(key) == lavalink.nodes["main"].session_id


async def test_a_crash_loses_the_writes_still_pending() -> None:
    async with OfflineBot(build, settings={"snapshot_interval": 30.0}) as world:
        await world.join_voice()
        lavalink = await world.lavalink()
        player = await lavalink.join(world.guild.id, world.guild.voice_channel_ids[0])
        tracks = (await lavalink.load_tracks("ytsearch:song")).tracks
        await player.play(tracks[0])
        await world.discord.settle()
        player.queue.extend(tracks[1:3])  # coalesced: written within 30 s, unless the process dies first
        await world.restart(crash=True)
        back = (await world.lavalink()).get_player(world.guild.id)
        assert back is not None and back.track is not None and back.track.info.title == tracks[0].info.title
        assert list(back.queue.upcoming) == []


async def test_extensions_loaded_inside_build_are_refused_with_what_to_do() -> None:
    with pytest.raises(RuntimeError, match="StartingEvent"):
        async with OfflineBot(eager_build):
            pass
