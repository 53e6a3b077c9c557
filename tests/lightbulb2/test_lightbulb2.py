"""The lightbulb 2 extension through the real `lightbulb.BotApp` (hikari 2.1), never started.

As for lightbulb 3: gateway payloads go in through the event manager, interaction answers go out through
hikari's REST client to `FakeDiscordRest`, voice to `FakeVoiceGateway`, Lavalink is `FakeLavalink`.
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import json
import typing

import attrs
import hikari
import lightbulb
import pytest
from ext_world import BOT_ID, NODE_PASSWORD, OWNER_ID, World, listener_counts, open_sockets, play_something, settle

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import SettingsError
from lightbulb_lavalink.events import NodeReadyEvent
from lightbulb_lavalink.ext import lightbulb2, presentation
from lightbulb_lavalink.testing.discord_rest import offline_bot

EXTENSION = "lightbulb_lavalink"


@attrs.define(kw_only=True)
class Running:
    bot: typing.Any  # lightbulb.BotApp
    world: World
    last_id: int = 0

    @property
    def lavalink(self) -> LavalinkClient | None:
        client: LavalinkClient | None = self.bot.d.get("lavalink")
        return client

    async def started(self) -> None:
        """The bot connected: READY and the guilds, then StartedEvent (lightbulb syncs its commands then)."""
        await self.world.discord.connect(self.bot)
        await self.bot.dispatch(hikari.StartedEvent(app=self.bot))
        await settle()

    async def invoke(self, subcommand: str, **kwargs: typing.Any) -> typing.Any:
        interaction_id, payload = self.world.payload(subcommand, **kwargs)
        self.last_id = interaction_id
        await self.world.discord.feed("INTERACTION_CREATE", payload)
        return await self.world.rest.wait_for_answer(interaction_id)

    async def load_when_running(self) -> None:
        """Load into a running bot and wait for the node's ready (the client starts in the background)."""
        ready = asyncio.ensure_future(self.bot.event_manager.wait_for(NodeReadyEvent, timeout=10))
        await asyncio.sleep(0)  # the waiter is registered
        self.bot.load_extensions(EXTENSION)
        await ready

    async def unload(self) -> None:
        self.bot.unload_extensions(EXTENSION)
        await lightbulb2.wait_closed(self.bot)
        await settle()


@contextlib.asynccontextmanager
async def running_bot(
    world: World, *, settings: typing.Any = None, default_settings: bool = True, load: bool = True
) -> collections.abc.AsyncIterator[Running]:
    bot = offline_bot(world.rest, BOT_ID, bot_class=lightbulb.BotApp)
    bot.rest.start()
    if settings is not None or default_settings:
        bot.d.lavalink_settings = settings if settings is not None else world.settings()
    bot.d.lavalink_voice_gateway = world.voice
    running = Running(bot=bot, world=world)
    try:
        if load:
            bot.load_extensions(EXTENSION)
        yield running
    finally:
        if EXTENSION in bot.extensions:
            await running.unload()
        await bot.rest.close()


def has_lavalink_command(bot: typing.Any) -> bool:
    return bot.get_slash_command("lavalink") is not None


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


async def test_bad_settings_stop_the_load_naming_the_field(world: World) -> None:
    async with running_bot(world, settings={"resume_timeout": -5}, load=False) as bot:
        before = listener_counts(bot.bot)
        with pytest.raises(SettingsError) as caught:
            bot.bot.load_extensions(EXTENSION)
        assert caught.value.field == "resume_timeout"
        assert EXTENSION not in bot.bot.extensions
        assert bot.lavalink is None
        assert bot.bot.get_plugin(lightbulb2.PLUGIN_NAME) is None
        assert listener_counts(bot.bot) == before


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
