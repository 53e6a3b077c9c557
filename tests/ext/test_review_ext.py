"""Review of the lightbulb extension and the example bot: tests for the bugs found there, now fixed.

Each test drives the real lightbulb 3 client on a never-started `hikari.GatewayBot`, with Discord faked on
loopback (`FakeDiscordRest`) and Lavalink faked by `FakeLavalink`, as the rest of tests/ext does.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import hikari
import lightbulb
import pytest
from ext_lightbulb3 import running_bot
from ext_world import BOT_ID, World

from lightbulb_lavalink.settings import LavalinkSettings
from lightbulb_lavalink.voice import VoiceGateway

# -- the README quickstart -------------------------------------------------------------------------------------


async def test_the_readme_quickstart_registers_the_lavalink_commands(world: World) -> None:
    bot = world.new_bot()
    bot.rest.start()
    # What README.md's quickstart does, line for line (plus the offline voice gateway every test registers).
    client = lightbulb.client_from_app(bot)
    client.di.registry_for(lightbulb.di.Contexts.DEFAULT).register_value(VoiceGateway, world.voice)  # type: ignore[type-abstract]

    @bot.listen(hikari.StartingEvent)
    async def load(_: hikari.StartingEvent) -> None:
        client.di.registry_for(lightbulb.di.Contexts.DEFAULT).register_value(LavalinkSettings, world.settings())
        await client.load_extensions("lightbulb_lavalink")

    bot.subscribe(hikari.StartedEvent, client.start)

    try:
        # hikari awaits every StartingEvent listener before it connects, then dispatches StartedEvent.
        await bot.event_manager.dispatch(hikari.StartingEvent(app=bot), return_tasks=True)
        await bot.event_manager.dispatch(hikari.StartedEvent(app=bot), return_tasks=True)
        synced = [command["name"] for command in world.rest.commands.get(f"applications/{BOT_ID}", [])]
        assert "lavalink" in synced
    finally:
        await client.unload_extensions("lightbulb_lavalink")
        await client.stop()
        await bot.rest.close()


# -- passwords -------------------------------------------------------------------------------------------------

STORE_PASSWORD = "st0re-s3cret-do-not-show"


async def test_a_store_password_in_the_query_string_is_never_shown(world: World) -> None:
    table = f"review_ext_{uuid.uuid4().hex[:12]}"  # unique: two runs (or two branches) never share a table
    store = f"postgresql://postgres@127.0.0.1:5432/test?password={STORE_PASSWORD}&table={table}"
    settings = world.settings(store=store)
    async with running_bot(world, settings=settings) as bot:
        await bot.started()
        for subcommand in ("status", "sessions"):
            await bot.invoke(subcommand)
        sent = json.dumps([request.body for request in world.rest.requests])
        assert "Lavalink status" in sent and "Saved sessions" in sent
        assert STORE_PASSWORD not in sent
    assert STORE_PASSWORD not in repr(settings)


# -- answering in time -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("subcommand", "store_call"), [("sessions", "list_keys"), ("resume-info", "get_guilds")])
async def test_commands_reading_the_store_defer_first(
    world: World, monkeypatch: pytest.MonkeyPatch, subcommand: str, store_call: str
) -> None:
    async with running_bot(world) as bot:
        lavalink = await bot.ready_lavalink()
        store = lavalink.store
        reached = asyncio.Event()
        release = asyncio.Event()
        answers_seen_by_then: list[int] = []
        real = getattr(type(store), store_call)

        async def slow(self: object, *args: object, **kwargs: object) -> object:
            # The store is slow to answer (a Redis or PostgreSQL server that does not answer yet).
            if not reached.is_set():
                answers_seen_by_then.append(len(world.rest.answers(interaction_id)))
                reached.set()
            await release.wait()
            return await real(self, *args, **kwargs)

        monkeypatch.setattr(type(store), store_call, slow)
        interaction_id, payload = world.payload(subcommand)
        await world.discord.feed("INTERACTION_CREATE", payload)
        await asyncio.wait_for(reached.wait(), 10)
        release.set()
        final = await world.rest.wait_for_answer(interaction_id)
        assert final.embeds
        # Discord gets a first answer (a deferral) before the store is asked, not after it answers.
        assert answers_seen_by_then == [1]


# -- who may see what ------------------------------------------------------------------------------------------


async def test_a_guild_manager_cannot_read_another_guilds_player(world: World) -> None:
    async with running_bot(world) as bot:
        lavalink = await bot.ready_lavalink()
        other = await world.discord.add_guild(name="Somebody Else's Server")
        player = await lavalink.join(other.id, other.voice_channel_ids[0])
        track = (await lavalink.load_tracks("a private listening session")).tracks[0]
        await player.play(track)
        # A member with Manage Server in *their* guild (world.guild), not an owner of the bot.
        answer = await bot.invoke(
            "resume-info",
            options=[{"type": 3, "name": "guild", "value": str(other.id)}],
            permissions=hikari.Permissions.MANAGE_GUILD,
        )
        seen = answer.text()
        assert track.info.title not in seen
        assert str(other.voice_channel_ids[0]) not in seen


# -- the example bot -------------------------------------------------------------------------------------------

MUSIC = ("lightbulb_lavalink", "example_bot.music")


async def test_example_play_from_another_channel_does_not_steal_the_bot(world: World) -> None:
    async with running_bot(world, extensions=MUSIC) as bot:
        lavalink = await bot.ready_lavalink()
        listening, elsewhere = world.guild.voice_channel_ids[0], world.guild.voice_channel_ids[1]
        await world.discord.voice_state(world.guild.id, world.guild.member_ids[1], listening)
        player = await lavalink.join(world.guild.id, listening)
        await player.play((await lavalink.load_tracks("the song everyone listens to")).tracks[0])
        # The guild's last member (who runs the command) sits in the other voice channel.
        await world.discord.voice_state(world.guild.id, world.guild.member_ids[-1], elsewhere)
        await bot.command("play", query="my own song")
        assert player.channel_id == listening
