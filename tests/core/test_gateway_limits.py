"""The fake Discord's gateway rate limit: hikari's pacing in front, Discord's 120 a minute behind, 4008 over it."""

from __future__ import annotations

import asyncio
import typing

import hikari
import pytest

from lightbulb_lavalink.testing import ManualClock
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeGuild, FakeVoiceGateway, make_bot
from tests.loop_turns import step, turns

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def world(clock: ManualClock) -> tuple[FakeDiscord, list[FakeGuild]]:
    discord = FakeDiscord(clock=clock)
    guilds = [await discord.add_guild(voice_channels=1, members=1) for _ in range(300)]
    await discord.connect(make_bot())
    return discord, guilds


@pytest.fixture
async def unpaced(world: tuple[FakeDiscord, list[FakeGuild]]) -> AsyncIterator[FakeVoiceGateway]:
    async with FakeVoiceGateway(world[0], hikari_pacing=False) as voice:
        yield voice


@pytest.fixture
async def paced(world: tuple[FakeDiscord, list[FakeGuild]]) -> AsyncIterator[FakeVoiceGateway]:
    async with FakeVoiceGateway(world[0]) as voice:
        yield voice


async def join(voice: FakeVoiceGateway, guild: FakeGuild) -> None:
    await voice.update_voice_state(guild.id, guild.voice_channel_ids[0], self_deaf=True)


async def test_the_command_over_120_a_minute_closes_the_shard_with_4008_and_is_not_answered(
    world: tuple[FakeDiscord, list[FakeGuild]], unpaced: FakeVoiceGateway, clock: ManualClock
) -> None:
    discord, guilds = world
    # The connection opened with an IDENTIFY and hikari's first heartbeat: 118 more fit in the minute.
    for guild in guilds[:118]:
        await join(unpaced, guild)
    await unpaced.wait_idle()
    assert discord.closes == []
    assert discord.gateway(0).commands_in_window() == 120
    await join(unpaced, guilds[118])
    await unpaced.wait_idle()
    assert [(c.code, c.reason) for c in discord.closes] == [(4008, "Rate limited.")]
    assert discord.bot_voice(guilds[118].id) is None  # Discord never processed it
    # While hikari reconnects, the shard refuses commands, as hikari's does.
    with pytest.raises(hikari.ComponentStateConflictError):
        await join(unpaced, guilds[119])
    await step(clock, discord.reconnect_delay)
    # A new connection (RESUME) with a fresh count.
    await join(unpaced, guilds[119])
    await unpaced.wait_idle()
    assert discord.bot_voice(guilds[119].id) is not None
    assert len(discord.closes) == 1


async def test_heartbeats_count_every_41_25_s(world: tuple[FakeDiscord, list[FakeGuild]], clock: ManualClock) -> None:
    discord, _ = world
    gateway = discord.gateway(0)
    assert gateway.commands_in_window() == 2  # IDENTIFY + the heartbeat hikari sends as it connects
    await step(clock, 41.25)
    assert gateway.commands_in_window() == 3
    await step(clock, 20)  # t=61.25: IDENTIFY and the first heartbeat left the window
    assert gateway.commands_in_window() == 1


async def test_hikari_holds_what_its_window_cannot_take_and_discord_sees_no_excess(
    world: tuple[FakeDiscord, list[FakeGuild]], paced: FakeVoiceGateway, clock: ManualClock
) -> None:
    discord, guilds = world
    tasks = [asyncio.get_running_loop().create_task(join(paced, guild)) for guild in guilds]
    await turns(20)
    # hikari's window opened with the IDENTIFY: 116 of its 117 ordinary commands are left for OP4s.
    assert sum(t.done() for t in tasks) == 116
    await step(clock, 60)
    assert sum(t.done() for t in tasks) == 116 + 117
    await step(clock, 60)
    assert all(t.done() for t in tasks)
    await paced.wait_idle()
    assert discord.closes == []
    assert all(discord.bot_voice(g.id) is not None for g in guilds)


async def test_hikari_alone_can_go_over_when_its_window_and_a_burst_do_not_line_up(
    world: tuple[FakeDiscord, list[FakeGuild]], paced: FakeVoiceGateway, clock: ManualClock
) -> None:
    """hikari's fixed window opens with the IDENTIFY; a burst sent 10 s later fills it, and hikari sends the next
    117 as its window turns at 60 s, 50 s after the burst: Discord counts both in one minute."""
    discord, guilds = world
    await step(clock, 10)
    tasks = [asyncio.get_running_loop().create_task(join(paced, guild)) for guild in guilds[:250]]
    await turns(20)
    await step(clock, 50)
    assert [c.code for c in discord.closes] == [4008]
    # hikari reconnects: what still waited in its queue is cancelled, as hikari closes its limiters.
    await step(clock, discord.reconnect_delay)
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert any(isinstance(o, asyncio.CancelledError) for o in outcomes)
    assert discord.gateway(0).connected
