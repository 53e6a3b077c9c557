"""A bad setting or a store that cannot be opened never leaves a bot that silently cannot play (issue 12).

Through the real lightbulb 3 client fed real payloads: the extension loads degraded and says why, once in the
log (no traceback) and to every person who runs a music command; ``fail_fast`` makes the failure fatal.
"""

from __future__ import annotations

import logging

import hikari
import pytest
from ext_lightbulb3 import EXTENSION, has_lavalink_group, running_bot
from ext_world import BAD_PORT, NODE_PASSWORD, World, fail_fast_settings, failures

from lightbulb_lavalink.errors import StartupAborted
from lightbulb_lavalink.settings import LavalinkSettings


async def test_bad_settings_load_degraded_and_every_music_command_says_why(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    extensions = (EXTENSION, "example_bot.music")
    async with running_bot(world, settings=BAD_PORT, load=False, extensions=extensions) as bot:
        with caplog.at_level(logging.INFO):
            await bot.client.load_extensions(*extensions)
            await bot.started()
        (logged,) = failures(caplog)  # once, by us, and lightbulb did not log "error loading extension"
        assert logged.name.startswith("lightbulb_lavalink") and logged.exc_info is None
        assert "nodes[0].port" in logged.getMessage()
        assert has_lavalink_group(bot.client)

        status = await bot.invoke("status")  # the extension's own command
        assert status.ephemeral
        assert status.content.startswith("⚠️ Music is unavailable: invalid setting 'nodes[0].port'")
        queue = await bot.command("queue")  # the bot's own command asking for `lavalink: LavalinkClient`
        assert queue.startswith("⚠️ Music is unavailable: invalid setting 'nodes[0].port'")
        assert world.rest.answers(bot.last_id)[-1].ephemeral
        assert len(failures(caplog)) == 1  # the commands answered; nothing more was logged as an error


async def test_a_store_that_cannot_be_opened_is_said_without_its_password(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "db-pa55word-do-not-show"
    store = f"redis://:{secret}@127.0.0.1:9/0"  # the discard port: nothing answers
    async with running_bot(world, settings=world.settings(store=store, request_timeout=2.0)) as bot:
        await bot.started()
        answer = await bot.invoke("status")
        assert "Music is unavailable: the session store redis://***@127.0.0.1:9/0 cannot be opened" in answer.content
        assert answer.ephemeral
        assert secret not in answer.content and secret not in caplog.text


async def test_unloading_a_degraded_extension_takes_everything_back_and_a_fixed_load_plays(
    world: World,
) -> None:
    async with running_bot(world, settings=BAD_PORT) as bot:
        await bot.started()
        await bot.client.unload_extensions(EXTENSION)
        assert not has_lavalink_group(bot.client)
        assert await bot.lavalink() is None
        container = bot.client.di.default_container  # the started client froze the registry: fix it live
        assert container is not None
        container.add_value(LavalinkSettings, world.settings())
        await bot.client.load_extensions(EXTENSION)
        lavalink = await bot.lavalink()
        assert lavalink is not None
        await lavalink.wait_ready()
        assert "🟢 main" in (await bot.invoke("status")).fields()


@pytest.mark.parametrize("how", ["settings", "environment"])
async def test_fail_fast_makes_the_failure_fatal(world: World, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    settings, default = fail_fast_settings(how, monkeypatch)
    async with running_bot(world, settings=settings, default_settings=default, load=False) as bot:
        with pytest.raises(StartupAborted) as caught:
            await bot.client.load_extensions(EXTENSION)
        assert "lightbulb-lavalink cannot start: invalid setting" in str(caught.value)
        assert await bot.lavalink() is None


async def test_unknown_lavalink_variables_are_warned_about_with_the_nearest_name(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LAVALINK_NODES", f"main=http://{NODE_PASSWORD}@127.0.0.1:{world.node.port}")
    monkeypatch.setenv("LAVALINK_PASWORD", "typo-secret")
    monkeypatch.setenv("LAVALINK_WHATEVER", "1")
    with caplog.at_level(logging.WARNING):
        async with running_bot(world, default_settings=False) as bot:
            await bot.ready_lavalink()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("LAVALINK_PASWORD" in w and "did you mean LAVALINK_PASSWORD?" in w for w in warnings)
    assert any("LAVALINK_WHATEVER" in w for w in warnings)
    assert "typo-secret" not in caplog.text


async def test_the_ephemeral_reason_goes_to_users_without_any_permission(world: World) -> None:
    async with running_bot(world, settings=BAD_PORT) as bot:
        await bot.started()
        answer = await bot.invoke("status", permissions=hikari.Permissions.NONE)
        assert answer.ephemeral and "Music is unavailable" in answer.content


async def test_a_failed_handoff_leaves_the_extension_degraded_saying_why(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A new process deployed with ``LAVALINK_HANDOFF=true`` whose handoff fails (here: a store that serves one
    process) does not run on as if nothing happened without a Lavalink client: every music command says music
    is unavailable and why, as a failed load does; the old process keeps playing."""
    extensions = (EXTENSION, "example_bot.music")
    async with running_bot(world, settings=world.settings(handoff=True), extensions=extensions) as bot:
        with caplog.at_level(logging.INFO):
            await bot.started()
        (logged,) = failures(caplog)
        assert logged.exc_info is None and "handoff failed" in logged.getMessage()

        status = await bot.invoke("status")
        assert status.ephemeral
        assert status.content.startswith("⚠️ Music is unavailable: the handoff failed")
        assert "processes share" in status.content and "stop this one and deploy again" in status.content
        queue = await bot.command("queue")  # the bot's own command asking for `lavalink: LavalinkClient`
        assert queue.startswith("⚠️ Music is unavailable: the handoff failed")

        await bot.client.unload_extensions(*extensions)  # takes back what the load set up, the listeners too
        assert not has_lavalink_group(bot.client)
        assert await bot.lavalink() is None


async def test_with_fail_fast_a_failed_handoff_stops_the_bot(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``fail_fast`` makes a failed start fatal, as a failed load is: the bot stops (its ``run()`` returns), rather
    than run on degraded beside the old process."""
    closed: list[bool] = []

    async def close(_: hikari.GatewayBot) -> None:  # what a running bot's close leads to, in a bot never started
        closed.append(True)

    monkeypatch.setattr(hikari.GatewayBot, "is_alive", property(lambda _: not closed))
    monkeypatch.setattr(hikari.GatewayBot, "close", close)
    async with running_bot(world, settings=world.settings(handoff=True, fail_fast=True)) as bot:
        with caplog.at_level(logging.INFO):
            await bot.started()
        assert closed == [True]
        (logged,) = failures(caplog)
        assert "fail_fast is set: stopping the bot" in logged.getMessage()
