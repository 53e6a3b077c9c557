"""A bad setting or a store that cannot be opened never leaves a lightbulb 2 bot that silently cannot play.

As with lightbulb 3 (tests/ext/test_startup_failures.py), through the real `lightbulb.BotApp` fed real payloads:
the extension loads degraded and says why, once in the log (no traceback) and to every person who runs a music
command, its own or the bot's; ``fail_fast`` makes the failure fatal.
"""

from __future__ import annotations

import logging
import pathlib
import typing

import hikari
import lightbulb
import pytest
from ext_world import BAD_PORT, World, fail_fast_settings, failures, listener_counts
from lb2_bot import EXTENSION, Running, has_lavalink_command, running_bot

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import MusicUnavailableError, StartupAborted
from lightbulb_lavalink.ext import lightbulb2
from tests.loop_turns import turns

UNAVAILABLE_PORT = "⚠️ Music is unavailable: invalid setting 'nodes[0].port'"


def add_music_commands(bot: Running) -> None:
    """The bot's own commands: ``/queue`` needs the Lavalink client, ``/broken`` fails on its own."""

    @bot.bot.command
    @lightbulb.command("queue", "What is queued here")
    @lightbulb.implements(lightbulb.SlashCommand)
    async def queue(ctx: typing.Any) -> None:
        lavalink: LavalinkClient = ctx.bot.d.lavalink
        player = lavalink.get_player(ctx.guild_id)
        await ctx.respond(f"{len(player.queue) if player else 0} queued")

    @bot.bot.command
    @lightbulb.command("broken", "Fails, music or not")
    @lightbulb.implements(lightbulb.SlashCommand)
    async def broken(ctx: typing.Any) -> None:
        raise ValueError("the bot's own bug")


async def test_bad_settings_load_degraded_and_every_music_command_says_why(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(world, settings=BAD_PORT, load=False) as bot:
        add_music_commands(bot)
        with caplog.at_level(logging.INFO):
            bot.bot.load_extensions(EXTENSION)
            await bot.started()
        (logged,) = failures(caplog)  # once, by us, with no traceback
        assert logged.name.startswith("lightbulb_lavalink") and logged.exc_info is None
        assert "nodes[0].port" in logged.getMessage()
        assert EXTENSION in bot.bot.extensions and has_lavalink_command(bot.bot)

        status = await bot.invoke("status")  # the extension's own command
        assert status.ephemeral and status.content.startswith(UNAVAILABLE_PORT)
        queue = await bot.invoke(None, command="queue", permissions=hikari.Permissions.NONE)  # the bot's own
        assert queue.ephemeral and queue.content.startswith(UNAVAILABLE_PORT)
        assert len(failures(caplog)) == 1  # the commands answered; nothing more was logged as an error
        with pytest.raises(MusicUnavailableError, match="nodes"):
            bot.bot.d.lavalink.nodes  # noqa: B018 - what a command touching the client meets
        assert not hasattr(bot.bot.d.lavalink, "__wrapped__"), "a protocol probe is not a command"


async def test_the_bots_own_errors_are_not_swallowed_while_degraded(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(world, settings=BAD_PORT, load=False) as bot:
        add_music_commands(bot)
        bot.bot.load_extensions(EXTENSION)
        await bot.started()
        with caplog.at_level(logging.ERROR):
            interaction_id, payload = world.payload(None, command="broken")
            await world.discord.feed("INTERACTION_CREATE", payload)
            await turns(50)
        raised = [r.exc_info[1] for r in failures(caplog) if r.exc_info is not None]
        assert any(
            isinstance(exc, lightbulb.CommandInvocationError) and "the bot's own bug" in str(exc.original)
            for exc in raised
        ), "an error of the bot's own is logged with its traceback, as without the extension"
        assert world.rest.answers(interaction_id) == [], "and nobody was told music is unavailable"


def unopenable_store(tmp_path: pathlib.Path) -> str:
    """A SQLite store whose folder is a file: it cannot be opened (the Redis extra is not installed here)."""
    (tmp_path / "not-a-folder").write_text("")
    return f"sqlite:///{tmp_path / 'not-a-folder' / 'sessions.db'}"


async def test_a_store_that_cannot_be_opened_is_said_when_the_bot_starts(
    world: World, tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = world.settings(store=unopenable_store(tmp_path))
    async with running_bot(world, settings=settings, load=False) as bot:
        add_music_commands(bot)
        bot.bot.load_extensions(EXTENSION)
        with caplog.at_level(logging.INFO):
            await bot.started()
        (logged,) = failures(caplog)
        assert "cannot be opened" in logged.getMessage() and logged.exc_info is None
        answer = await bot.invoke("status")
        assert answer.ephemeral
        assert answer.content.startswith("⚠️ Music is unavailable: the session store sqlite:")
        assert "not-a-folder does not exist" in answer.content
        queue = await bot.invoke(None, command="queue", permissions=hikari.Permissions.NONE)
        assert queue.ephemeral and queue.content == answer.content
        assert world.node.sessions == {}, "no node was connected without a store"


async def test_unloading_a_degraded_extension_takes_everything_back_and_a_fixed_load_plays(world: World) -> None:
    async with running_bot(world, load=False) as bot:
        await bot.started()
        before = listener_counts(bot.bot)
        bot.bot.d.lavalink_settings = BAD_PORT
        bot.bot.load_extensions(EXTENSION)
        await bot.unload()
        assert not has_lavalink_command(bot.bot) and bot.lavalink is None
        assert bot.bot.get_plugin(lightbulb2.PLUGIN_NAME) is None
        assert listener_counts(bot.bot) == before
        bot.bot.d.lavalink_settings = world.settings()
        await bot.load_when_running()
        lavalink = bot.lavalink
        assert isinstance(lavalink, LavalinkClient)
        await lavalink.wait_ready()
        assert "🟢 main" in (await bot.invoke("status")).fields()


@pytest.mark.parametrize("how", ["settings", "environment"])
async def test_fail_fast_makes_bad_settings_fatal(world: World, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    settings, default = fail_fast_settings(how, monkeypatch)
    async with running_bot(world, settings=settings, default_settings=default, load=False) as bot:
        before = listener_counts(bot.bot)
        with pytest.raises(StartupAborted) as caught:
            bot.bot.load_extensions(EXTENSION)
        assert "lightbulb-lavalink cannot start: invalid setting" in str(caught.value)
        assert EXTENSION not in bot.bot.extensions and bot.lavalink is None
        assert bot.bot.get_plugin(lightbulb2.PLUGIN_NAME) is None
        assert listener_counts(bot.bot) == before


async def test_fail_fast_makes_a_store_that_cannot_be_opened_fatal_when_the_bot_starts(
    world: World, tmp_path: pathlib.Path
) -> None:
    settings = world.settings(store=unopenable_store(tmp_path), fail_fast=True)
    async with running_bot(world, settings=settings) as bot:
        await bot.world.discord.connect(bot.bot)
        started = hikari.StartedEvent(app=bot.bot)
        with pytest.raises(StartupAborted, match=r"the session store sqlite:.* cannot be opened"):
            for listener in bot.bot.event_manager.get_listeners(hikari.StartedEvent):
                await listener(started)  # as the bot runs them when it starts: the SystemExit ends bot.run()
