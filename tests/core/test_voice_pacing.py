"""VoiceManager under Discord's gateway rate limit: joins wait their turn per shard, without timing out."""

from __future__ import annotations

import asyncio
import typing

import hikari
import pytest

from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.pacing import Lane
from lightbulb_lavalink.testing import ManualClock
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeGuild, FakeVoiceGateway, make_bot
from lightbulb_lavalink.voice import VoiceConnectionInfo, VoiceManager
from tests.loop_turns import step, turns

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator


class World:
    def __init__(self, clock: ManualClock, discord: FakeDiscord, guilds: list[FakeGuild], voice: FakeVoiceGateway,
                 manager: VoiceManager) -> None:  # fmt: skip
        self.clock, self.discord, self.guilds, self.voice, self.manager = clock, discord, guilds, voice, manager
        self.tasks: list[asyncio.Task[VoiceConnectionInfo]] = []

    def join(
        self, guild: FakeGuild, lane: Lane = Lane.BACKGROUND, channel: int = 0
    ) -> asyncio.Task[VoiceConnectionInfo]:
        task = asyncio.get_running_loop().create_task(
            self.manager.join(guild.id, guild.voice_channel_ids[channel], lane=lane)
        )
        self.tasks.append(task)
        return task

    def op4(self) -> list[int]:
        return [call.guild_id for call in self.voice.calls]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    clock = ManualClock()
    discord = FakeDiscord(clock=clock, shard_count=2)
    guilds = [await discord.add_guild(guild_id=(1 << 40) + (i << 22), voice_channels=2, members=1) for i in range(400)]
    bot: hikari.GatewayBot = make_bot()
    await discord.connect(bot)
    async with FakeVoiceGateway(discord) as voice:
        manager = VoiceManager(bot, voice, timeout=5.0, clock=clock)
        await manager.start(discord.bot_id)
        w = World(clock, discord, guilds, voice, manager)
        try:
            yield w
        finally:
            for task in w.tasks:
                task.cancel()
            await asyncio.gather(*w.tasks, return_exceptions=True)
            await manager.close()


def on_shard(world: World, shard: int) -> list[FakeGuild]:
    return [g for g in world.guilds if world.discord.shard_of(g.id) == shard]


async def test_a_join_queued_behind_hundreds_does_not_time_out(world: World) -> None:
    guilds = on_shard(world, 0)[:200]
    tasks = [world.join(g) for g in guilds]
    await turns(20)
    assert sum(t.done() for t in tasks) == 116
    await step(world.clock, 60)  # far beyond the 5 s voice timeout
    assert all(t.done() for t in tasks)
    assert [t.result().guild_id for t in tasks] == [g.id for g in guilds]
    assert world.discord.closes == []


async def test_shards_wait_for_their_own_turns_only(world: World) -> None:
    zero, one = on_shard(world, 0)[:150], on_shard(world, 1)[:100]
    tasks = [world.join(g) for g in zero + one]
    await turns(20)
    assert sum(t.done() for t in tasks[150:]) == 100  # shard 1 is not held back by shard 0's queue
    assert sum(t.done() for t in tasks[:150]) == 116
    await step(world.clock, 60)
    assert all(t.done() and not t.exception() for t in tasks)


async def test_a_user_join_goes_before_the_rejoins_waiting_on_its_shard(world: World) -> None:
    guilds = on_shard(world, 0)
    background = [world.join(g) for g in guilds[:150]]
    listened = [world.join(g, Lane.LISTENED) for g in guilds[150:160]]
    await turns(20)
    user = world.join(guilds[190], Lane.COMMAND)
    await turns(20)
    await step(world.clock, 60)
    assert all(t.done() for t in [*background, *listened, user])
    sent = world.op4()
    assert sent[116] == guilds[190].id  # the user's first
    assert sent[117:127] == [g.id for g in guilds[150:160]]  # then the guilds with listeners


async def test_a_newer_join_replaces_a_waiting_one_and_both_callers_get_it(world: World) -> None:
    guilds = on_shard(world, 0)
    for g in guilds[:116]:
        world.join(g)
    await turns(20)
    target = guilds[150]
    first = world.join(target, channel=0)
    await turns(20)
    second = world.join(target, Lane.COMMAND, channel=1)
    await turns(20)
    await step(world.clock, 60)
    assert first.result() == second.result()
    assert second.result().channel_id == target.voice_channel_ids[1]
    assert world.op4().count(target.id) == 1  # the bot never went to the first channel


async def test_leave_ends_a_join_that_waits_its_turn_without_sending_it(world: World) -> None:
    guilds = on_shard(world, 0)
    for g in guilds[:116]:
        world.join(g)
    await turns(20)
    target = guilds[150]
    waiting = world.join(target)
    await turns(20)
    assert world.manager.is_queued(target.id)
    leave = asyncio.get_running_loop().create_task(world.manager.leave(target.id))
    await turns(20)
    with pytest.raises(LavalinkError):
        await waiting
    await step(world.clock, 60)
    await leave
    assert [c.channel_id for c in world.voice.calls if c.guild_id == target.id] == [None]


def test_a_running_bot_paces_each_guild_on_the_shard_discord_maps_it_to() -> None:
    from lightbulb_lavalink.voice import HikariVoiceGateway

    class ShardedApp:
        shard_count = 8

    gateway = HikariVoiceGateway(typing.cast("hikari.GatewayBot", ShardedApp()))
    assert [gateway.shard_of((k << 22) + 12345) for k in (0, 1, 7, 8, 13)] == [0, 1, 7, 0, 5]
    # A bot whose shards are not started yet reports 0 shards: everything on shard 0 rather than a crash.
    assert HikariVoiceGateway(make_bot()).shard_of(1 << 30) == 0
