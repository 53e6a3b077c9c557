"""The lightbulb 3 extension through the real lightbulb client and a real, never-started GatewayBot.

Discord is faked on loopback only where the bot would leave the machine: gateway payloads go in through the
event manager, the answers to interactions go out through hikari's REST client to `FakeDiscordRest`, voice
state updates go to `FakeVoiceGateway`. Lavalink is `FakeLavalink`.
"""

from __future__ import annotations

import asyncio
import json

import hikari
import lightbulb
import pytest
from ext_lightbulb3 import EXTENSION, has_lavalink_group, running_bot
from ext_world import (
    NODE_PASSWORD,
    OWNER_ID,
    TEAM_MEMBER_ID,
    World,
    listener_counts,
    open_sockets,
    play_something,
    settle,
)

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.ext import presentation
from lightbulb_lavalink.ext.lightbulb3 import LavalinkExtension, LavalinkLoadable
from lightbulb_lavalink.protocol.filters import ChannelMix, Filters, Timescale

# -- loading ---------------------------------------------------------------------------------------------------


async def test_load_builds_the_client_registers_it_and_starts_it_when_the_bot_starts(world: World) -> None:
    async with running_bot(world) as bot:
        lavalink = await bot.lavalink()
        assert isinstance(lavalink, LavalinkClient)
        assert not lavalink.started
        assert has_lavalink_group(bot.client)
        await bot.started()
        assert lavalink.started
        await lavalink.wait_ready()
        assert lavalink.nodes["main"].connected
        assert len(open_sockets(world.node)) == 1


async def test_loaded_into_a_running_bot_it_starts_at_once(world: World) -> None:
    async with running_bot(world, load=False) as bot:
        await bot.started()
        # A bot that has run commands already has its DI container: lightbulb froze the registry.
        async with bot.client.di.enter_context(lightbulb.di.Contexts.DEFAULT):
            pass
        await bot.client.load_extensions(EXTENSION)
        lavalink = await bot.lavalink()
        assert lavalink is not None and lavalink.started
        await lavalink.wait_ready()
        assert len(open_sockets(world.node)) == 1
        answer = await bot.invoke("status")
        assert "1 of 1 node connected" in answer.text()
        await bot.client.unload_extensions(EXTENSION)
        assert await bot.lavalink() is None
        assert open_sockets(world.node) == []


async def test_the_top_level_package_is_the_extension(world: World) -> None:
    async with running_bot(world, load=False) as bot:
        await bot.client.load_extensions("lightbulb_lavalink")
        assert isinstance(await bot.lavalink(), LavalinkClient)
        assert has_lavalink_group(bot.client)


async def test_stopping_the_bot_closes_the_client_and_keeps_the_session_resumable(world: World) -> None:
    async with running_bot(world) as bot:
        lavalink = await bot.ready_lavalink()
        await play_something(lavalink, world)
        session_id = lavalink.nodes["main"].session_id
        assert session_id is not None
        await bot.bot.event_manager.dispatch(hikari.StoppingEvent(app=bot.bot), return_tasks=True)
        assert not lavalink.started
        assert open_sockets(world.node) == []
        session = world.node.sessions[session_id]
        assert session.paused and not session.destroyed
        assert world.guild.id in world.node.players_of(session_id)


async def test_a_completed_handoff_stops_the_bot(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from lightbulb_lavalink.events import HandoffCompletedEvent

    async with running_bot(world) as bot:
        lavalink = await bot.ready_lavalink()
        closed: list[bool] = []

        async def close(_: object) -> None:
            closed.append(True)

        monkeypatch.setattr(type(bot.bot), "is_alive", property(lambda _: True))
        monkeypatch.setattr(type(bot.bot), "close", close)
        event = HandoffCompletedEvent(app=bot.bot, client=lavalink, nonce="n", successor="host:2", took=0.1)
        await bot.bot.event_manager.dispatch(event, return_tasks=True)
        assert closed == [True]  # the new process holds the cluster: this bot has nothing left to do


async def test_load_and_unload_are_idempotent(world: World) -> None:
    async with running_bot(world) as bot:
        await bot.started()
        first = await bot.lavalink()
        loadable = LavalinkLoadable()
        await loadable.load(bot.client)
        assert await bot.lavalink() is first
        assert len(open_sockets(world.node)) == 1
        await loadable.unload(bot.client)
        await loadable.unload(bot.client)
        assert await bot.lavalink() is None
        assert open_sockets(world.node) == []


async def test_unload_then_load_leaves_nothing_behind_and_resumes_the_session(world: World) -> None:
    async with running_bot(world, load=False) as bot:
        await bot.started()
        listeners_before = listener_counts(bot.bot)
        tasks_before = len(asyncio.all_tasks())

        await bot.client.load_extensions(EXTENSION)
        lavalink = await bot.lavalink()
        assert lavalink is not None
        await play_something(lavalink, world)
        session_id = lavalink.nodes["main"].session_id
        assert listener_counts(bot.bot) != listeners_before

        await bot.client.unload_extensions(EXTENSION)
        await settle()
        assert listener_counts(bot.bot) == listeners_before
        assert len(asyncio.all_tasks()) == tasks_before
        assert open_sockets(world.node) == []
        assert await bot.lavalink() is None
        assert not has_lavalink_group(bot.client)
        assert world.node.sessions[session_id].paused  # resumable, not destroyed

        await bot.client.load_extensions(EXTENSION)
        again = await bot.lavalink()
        assert again is not None and again is not lavalink
        await again.wait_ready()
        node = again.nodes["main"]
        assert node.session_id == session_id
        assert node.last_ready is not None and node.last_ready.resumed
        assert again.get_player(world.guild.id) is not None

        answer = await bot.invoke("status")
        assert "**Resumed**" in answer.text()
        assert "1 player synced" in answer.text()

        await bot.client.unload_extensions(EXTENSION)
        await settle()
        assert listener_counts(bot.bot) == listeners_before
        assert len(asyncio.all_tasks()) == tasks_before
        assert open_sockets(world.node) == []


async def test_two_bots_in_one_process_share_nothing(world: World) -> None:
    async with (
        running_bot(world, settings=world.settings(store="memory://")) as one,
        running_bot(world, settings=world.settings(store="memory://", resume_timeout=30)) as two,
    ):
        first, second = await one.lavalink(), await two.lavalink()
        assert first is not None and second is not None and first is not second
        assert first.app is one.bot and second.app is two.bot
        assert second.settings.resume_timeout == 30
        await two.client.unload_extensions(EXTENSION)
        assert await two.lavalink() is None
        assert await one.lavalink() is first
        assert len(one.bot.event_manager.get_listeners(hikari.StartedEvent)) == 1


# -- settings --------------------------------------------------------------------------------------------------


async def test_without_registered_settings_the_environment_is_used(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAVALINK_NODES", f"envnode=http://{NODE_PASSWORD}@127.0.0.1:{world.node.port}")
    monkeypatch.setenv("LAVALINK_STORE", "memory://")
    async with running_bot(world, default_settings=False) as bot:
        lavalink = await bot.lavalink()
        assert lavalink is not None
        assert list(lavalink.nodes) == ["envnode"]
        await bot.started()
        answer = await bot.invoke("status")
        assert f"127.0.0.1:{world.node.port}" in answer.fields()["🟢 envnode"]
        assert "Settings from environment" in answer.text()


# -- /lavalink -------------------------------------------------------------------------------------------------


async def test_status_shows_each_node_to_a_manager_ephemerally(world: World) -> None:
    async with running_bot(world) as bot:
        lavalink = await bot.ready_lavalink()
        await play_something(lavalink, world)
        answer = await bot.invoke("status")
        assert answer.kind == "callback" and answer.ephemeral
        (embed,) = answer.embeds
        assert embed["title"] == "Lavalink status"
        assert "1 of 1 node connected" in embed["description"]
        value = answer.fields()["🟢 main"]
        session_id = lavalink.nodes["main"].session_id
        assert session_id is not None
        assert f"`{presentation.short_id(session_id)}`" in value
        assert "**Fresh session**" in value
        assert "Players: 1 (1 playing)" in value
        assert f"127.0.0.1:{world.node.port}" in value


async def test_sessions_shows_what_the_store_holds(world: World) -> None:
    async with running_bot(world) as bot:
        lavalink = await bot.ready_lavalink()
        await play_something(lavalink, world)
        await lavalink.close()  # flushes every snapshot to the store
        await lavalink.start()
        answer = await bot.invoke("sessions")
        assert answer.ephemeral
        value = answer.fields()["main"]
        assert "1 guild" in value
        assert "**Music Club**" in value
        assert "2 queued" in value


async def test_sessions_shows_a_manager_only_their_guild_and_an_owner_every_guild(world: World) -> None:
    async with running_bot(world) as bot:
        lavalink = await bot.ready_lavalink()
        await play_something(lavalink, world)
        other = await world.discord.add_guild(name="Somebody Else's Server")
        player = await lavalink.join(other.id, other.voice_channel_ids[0])
        await player.play((await lavalink.load_tracks("a private listening session")).tracks[0])
        await lavalink.close()  # flushes every snapshot to the store
        await lavalink.start()
        manager = (await bot.invoke("sessions")).fields()["main"]
        assert "**Music Club**" in manager
        assert "Somebody Else" not in manager and str(other.id) not in manager
        owner = (await bot.invoke("sessions", user_id=OWNER_ID)).fields()["main"]
        assert "**Music Club**" in owner and "**Somebody Else's Server**" in owner


async def test_resume_info_shows_the_live_player_and_its_snapshot(world: World) -> None:
    async with running_bot(world) as bot:
        lavalink = await bot.ready_lavalink()
        await play_something(lavalink, world)
        player = lavalink.get_player(world.guild.id)
        assert player is not None and player.track is not None
        await player.set_filters(Filters(timescale=Timescale(speed=1.25), channel_mix=ChannelMix()))
        await lavalink.close()
        await lavalink.start()
        await lavalink.wait_ready()
        answer = await bot.invoke("resume-info")
        assert answer.ephemeral
        fields = answer.fields()
        assert "Filters: timescale, channelMix" in fields["Live player"]
        assert "Filters: timescale, channelMix" in fields["Saved snapshot"]
        assert player.track.info.title in fields["Live player"]
        assert f"<#{world.guild.voice_channel_ids[0]}>" in fields["Live player"]
        assert "2 queued" in fields["Saved snapshot"]
        assert answer.embeds[0]["title"] == "Resume info for Music Club"


async def test_resume_info_for_another_guild_by_id(world: World) -> None:
    async with running_bot(world) as bot:
        await bot.started()
        # The bot's owner may look at any guild; a member with Manage Server only at their own.
        answer = await bot.invoke(
            "resume-info", options=[{"type": 3, "name": "guild", "value": "424242"}], user_id=OWNER_ID
        )
        assert answer.embeds[0]["title"] == "Resume info for 424242"
        assert "Nothing here" in answer.embeds[0]["description"]
        bad = await bot.invoke("resume-info", options=[{"type": 3, "name": "guild", "value": "abc"}], user_id=OWNER_ID)
        assert "is not a guild id" in bad.text()
        manager = await bot.invoke("resume-info", options=[{"type": 3, "name": "guild", "value": "424242"}])
        assert "Only the bot's owners" in manager.text()


async def test_nodes_defers_then_shows_the_node_info(world: World) -> None:
    async with running_bot(world) as bot:
        await bot.ready_lavalink()
        answer = await bot.invoke("nodes")
        deferral, final = world.rest.answers(bot.last_id)
        assert deferral.response_type == 5 and deferral.ephemeral
        value = final.fields()["🟢 main"]
        assert f"Lavalink **{world.node.version}**" in value
        assert "Sources: " in value and "youtube" in value
        assert "Filters: " in value and "timescale" in value
        assert answer is final


async def test_a_member_without_manage_server_is_refused(world: World) -> None:
    async with running_bot(world) as bot:
        await bot.started()
        for subcommand in ("status", "sessions", "resume-info", "nodes"):
            answer = await bot.invoke(subcommand, permissions=hikari.Permissions.SEND_MESSAGES)
            assert answer.ephemeral
            assert answer.content == presentation.REFUSAL
            assert answer.embeds == []
        assert any(r.path == "/oauth2/applications/@me" for r in world.rest.requests)


async def test_owners_and_team_members_are_allowed_without_the_permission(world: World) -> None:
    async with running_bot(world) as bot:
        await bot.started()
        for user_id in (OWNER_ID, TEAM_MEMBER_ID):
            answer = await bot.invoke("status", user_id=user_id, permissions=hikari.Permissions.NONE)
            assert answer.content != presentation.REFUSAL
            assert answer.embeds[0]["title"] == "Lavalink status"
        owner_lookups = [r for r in world.rest.requests if r.path == "/oauth2/applications/@me"]
        assert len(owner_lookups) == 1  # fetched once


async def test_manage_server_needs_no_owner_lookup_and_dms_are_for_owners(world: World) -> None:
    async with running_bot(world) as bot:
        await bot.started()
        answer = await bot.invoke("status", permissions=hikari.Permissions.MANAGE_GUILD)
        assert answer.embeds[0]["title"] == "Lavalink status"
        assert not any(r.path == "/oauth2/applications/@me" for r in world.rest.requests)
        refused = await bot.invoke("status", in_guild=False)
        assert refused.content == presentation.REFUSAL
        allowed = await bot.invoke("status", in_guild=False, user_id=OWNER_ID)
        assert allowed.embeds


async def test_the_password_is_never_shown(world: World) -> None:
    async with running_bot(world) as bot:
        lavalink = await bot.ready_lavalink()
        await play_something(lavalink, world)
        for subcommand in ("status", "sessions", "resume-info", "nodes"):
            await bot.invoke(subcommand)
        sent = json.dumps([request.body for request in world.rest.requests])
        assert NODE_PASSWORD not in sent
        assert "Lavalink status" in sent


async def test_the_extension_is_injectable_into_the_bots_own_commands(world: World) -> None:
    async with running_bot(world) as bot:
        seen: list[LavalinkExtension] = []

        @lightbulb.di.with_di
        async def use(extension: LavalinkExtension = lightbulb.di.INJECTED) -> None:
            seen.append(extension)

        async with bot.client.di.enter_context(lightbulb.di.Contexts.DEFAULT):
            await use()
        assert seen[0].client is await bot.lavalink()
        assert seen[0].settings_source == "LavalinkSettings registered in lightbulb's DI"
