"""Fixtures for core tests: a never-started GatewayBot fed by a fake Discord, and a fake voice gateway."""

from __future__ import annotations

import typing

import hikari
import pytest

from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeGuild, FakeVoiceGateway, make_bot

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture
def bot() -> hikari.GatewayBot:
    """A real `hikari.GatewayBot`, never started: cache and event manager work, nothing leaves the machine."""
    return make_bot()


@pytest.fixture
def discord() -> FakeDiscord:
    """Discord's side, with no guild and no bot connected yet."""
    return FakeDiscord()


@pytest.fixture
async def guild(bot: hikari.GatewayBot, discord: FakeDiscord) -> FakeGuild:
    """A guild with three voice channels and three members; the bot is connected (READY + GUILD_CREATE)."""
    created = await discord.add_guild(voice_channels=3, members=3)
    await discord.connect(bot)
    return created


@pytest.fixture
async def fake_voice(discord: FakeDiscord) -> AsyncIterator[FakeVoiceGateway]:
    """A `FakeVoiceGateway` answering as Discord does; its pending answers are cancelled afterwards."""
    async with FakeVoiceGateway(discord) as gateway:
        yield gateway
