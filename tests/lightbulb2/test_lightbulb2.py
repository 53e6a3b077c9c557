"""The lightbulb 2 extension through the real `lightbulb.BotApp` (hikari 2.1), never started.

As for lightbulb 3: gateway payloads go in through the event manager, interaction answers go out through
hikari's REST client to `FakeDiscordRest`, voice to `FakeVoiceGateway`, Lavalink is `FakeLavalink`.
"""

from __future__ import annotations

import asyncio
import json

import hikari
from ext_world import NODE_PASSWORD, OWNER_ID, World, listener_counts, open_sockets, play_something
from lb2_bot import has_lavalink_command, running_bot

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.ext import lightbulb2, presentation


async def test_load_puts_the_client_in_the_datastore_and_starts_it_with_the_bot(world: World) -> None:
    async with running_bot(world) as bot:
        lavalink = bot.lavalink
        assert isinstance(lavalink, LavalinkClient)
        assert bot.bot.get_plugin(lightbulb2.PLUGIN_NAME) is not None
        assert has_lavalink_command(bot.bot)
        assert not lavalink.started
        await bot.started()
        assert lavalink.started
        await lavalink.wait_ready()
        assert len(open_sockets(world.node)) == 1
        # lightbulb 2 declared the /lavalink group to Discord on start
        (declared,) = world.rest.commands.values()
        assert [command["name"] for command in declared] == ["lavalink"]


async def test_loaded_into_a_running_bot_it_starts_at_once(world: World) -> None:
    async with running_bot(world, load=False) as bot:
        await bot.started()
        await bot.load_when_running()
        lavalink = bot.lavalink
        assert lavalink is not None and lavalink.started
        assert len(open_sockets(world.node)) == 1


async def test_settings_from_the_datastore_as_a_mapping(world: World) -> None:
    mapping = {"nodes": [f"http://{NODE_PASSWORD}@127.0.0.1:{world.node.port}"], "store": "memory://"}
    async with running_bot(world, settings=mapping) as bot:
        await bot.started()
        answer = await bot.invoke("status")
        assert "Settings from bot.d.lavalink_settings" in answer.text()
        assert f"127.0.0.1:{world.node.port}" in answer.fields()["🟢 default"]


async def test_unload_then_load_leaves_nothing_behind_and_resumes_the_session(world: World) -> None:
    async with running_bot(world, load=False) as bot:
        await bot.started()
        listeners_before = listener_counts(bot.bot)
        tasks_before = len(asyncio.all_tasks())

        await bot.load_when_running()
        lavalink = bot.lavalink
        assert lavalink is not None
        await play_something(lavalink, world)
        session_id = lavalink.nodes["main"].session_id

        await bot.unload()
        assert listener_counts(bot.bot) == listeners_before
        assert len(asyncio.all_tasks()) == tasks_before
        assert open_sockets(world.node) == []
        assert bot.lavalink is None and not has_lavalink_command(bot.bot)
        assert not lavalink.started
        assert world.node.sessions[session_id].paused

        await bot.load_when_running()
        again = bot.lavalink
        assert again is not None and again is not lavalink
        assert again.nodes["main"].session_id == session_id
        assert again.get_player(world.guild.id) is not None
        answer = await bot.invoke("status")
        assert "**Resumed**" in answer.text() and "1 player synced" in answer.text()

        await bot.unload()
        assert listener_counts(bot.bot) == listeners_before
        assert len(asyncio.all_tasks()) == tasks_before
        assert open_sockets(world.node) == []


async def test_each_subcommand_answers_a_manager_ephemerally(world: World) -> None:
    async with running_bot(world) as bot:
        await bot.started()
        lavalink = bot.lavalink
        assert lavalink is not None
        await play_something(lavalink, world)
        await lavalink.close()  # flush the snapshots
        await lavalink.start()
        await lavalink.wait_ready()

        status = await bot.invoke("status")
        assert status.ephemeral and "Players: 1 (1 playing)" in status.fields()["🟢 main"]

        sessions = await bot.invoke("sessions")
        assert sessions.ephemeral and "**Music Club**" in sessions.fields()["main"]

        info = await bot.invoke("resume-info")
        assert info.ephemeral and set(info.fields()) == {"Live player", "Saved snapshot"}

        nodes = await bot.invoke("nodes")
        deferral, final = world.rest.answers(bot.last_id)
        assert deferral.response_type == 5 and deferral.ephemeral
        assert final is nodes and f"Lavalink **{world.node.version}**" in nodes.fields()["🟢 main"]

        sent = json.dumps([request.body for request in world.rest.requests])
        assert NODE_PASSWORD not in sent


async def test_a_member_without_manage_server_is_refused_and_an_owner_is_not(world: World) -> None:
    async with running_bot(world) as bot:
        await bot.started()
        refused = await bot.invoke("status", permissions=hikari.Permissions.NONE)
        assert refused.ephemeral and refused.content == presentation.REFUSAL and refused.embeds == []
        owner = await bot.invoke("sessions", user_id=OWNER_ID, permissions=hikari.Permissions.NONE)
        assert owner.embeds and owner.embeds[0]["title"] == "Saved sessions"
