"""GatewayPacer: Discord's per-shard command budget, spent most urgent first, on a manual clock."""

from __future__ import annotations

import asyncio
import typing

import pytest

from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.pacing import DEFAULT_BUDGET, GatewayPacer, Lane
from lightbulb_lavalink.testing import ManualClock
from tests.loop_turns import step, turns

if typing.TYPE_CHECKING:
    from collections.abc import Coroutine


class Sender:
    """Asks the pacer for turns and records when each was granted (`None`: replaced)."""

    def __init__(self, pacer: GatewayPacer, clock: ManualClock) -> None:
        self.pacer, self.clock = pacer, clock
        self.sent: list[tuple[int, float]] = []
        self.replaced: list[int] = []
        self.tasks: list[asyncio.Task[None]] = []

    def ask(self, guild_id: int, lane: Lane = Lane.COMMAND) -> None:
        async def go() -> None:
            if await self.pacer.turn(guild_id, lane):
                self.sent.append((guild_id, self.clock.now()))
            else:
                self.replaced.append(guild_id)

        self.tasks.append(asyncio.get_running_loop().create_task(go()))

    def spawn(self, coro: Coroutine[typing.Any, typing.Any, None]) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(coro))


@pytest.fixture
async def clock() -> ManualClock:
    return ManualClock()


async def test_a_shard_sends_its_budget_at_once_then_one_more_as_each_send_leaves_the_window(
    clock: ManualClock,
) -> None:
    pacer = GatewayPacer(clock=clock)
    sender = Sender(pacer, clock)
    for gid in range(300):
        sender.ask(gid)
    await turns(10)
    assert len(sender.sent) == DEFAULT_BUDGET
    await step(clock, 59.9)
    assert len(sender.sent) == DEFAULT_BUDGET
    await step(clock, 0.1)
    assert len(sender.sent) == 2 * DEFAULT_BUDGET
    await step(clock, 60)
    assert len(sender.sent) == 300
    # In any 60 s, never more than the budget.
    times = [t for _, t in sender.sent]
    assert all(sum(1 for u in times if t - 60 < u <= t) <= DEFAULT_BUDGET for t in times)
    await pacer.close()


async def test_the_window_rolls_a_send_at_30_s_frees_its_place_at_90_s(clock: ManualClock) -> None:
    pacer = GatewayPacer(clock=clock, budget=2)
    sender = Sender(pacer, clock)
    sender.ask(1)
    await turns(10)
    await step(clock, 30)
    sender.ask(2)
    sender.ask(3)
    await turns(10)
    assert [g for g, _ in sender.sent] == [1, 2]
    await step(clock, 30)  # t=60: the send at 0 left the window
    assert sender.sent[-1] == (3, 60.0)
    sender.ask(4)
    await step(clock, 29)
    assert len(sender.sent) == 3
    await step(clock, 1)  # t=90: the send at 30 left
    assert sender.sent[-1] == (4, 90.0)
    await pacer.close()


async def test_a_user_command_goes_before_rejoins_and_listened_rejoins_before_the_rest(clock: ManualClock) -> None:
    pacer = GatewayPacer(clock=clock, budget=2)
    sender = Sender(pacer, clock)
    sender.ask(1, Lane.BACKGROUND)
    sender.ask(2, Lane.BACKGROUND)
    await turns(10)
    for gid in (10, 11):
        sender.ask(gid, Lane.BACKGROUND)
    for gid in (20, 21):
        sender.ask(gid, Lane.LISTENED)
    sender.ask(30, Lane.COMMAND)
    await turns(10)
    await step(clock, 60)
    await step(clock, 60)
    await step(clock, 60)
    assert [g for g, _ in sender.sent] == [1, 2, 30, 20, 21, 10, 11]
    await pacer.close()


async def test_a_newer_request_for_a_guild_replaces_the_waiting_one_and_keeps_the_more_urgent_lane(
    clock: ManualClock,
) -> None:
    pacer = GatewayPacer(clock=clock, budget=1)
    sender = Sender(pacer, clock)
    sender.ask(1)
    await turns(10)
    sender.ask(5, Lane.BACKGROUND)
    sender.ask(6, Lane.LISTENED)
    sender.ask(7, Lane.COMMAND)
    await turns(10)
    sender.ask(7, Lane.BACKGROUND)  # the same guild again: replaces its waiting request, stays a command
    await turns(10)
    assert sender.replaced == [7]
    await step(clock, 60)
    assert [g for g, _ in sender.sent] == [1, 7]
    await pacer.close()


async def test_promote_moves_a_waiting_guild_to_the_front(clock: ManualClock) -> None:
    pacer = GatewayPacer(clock=clock, budget=1)
    sender = Sender(pacer, clock)
    sender.ask(1)
    await turns(10)
    for gid in (2, 3, 4):
        sender.ask(gid, Lane.BACKGROUND)
    await turns(10)
    assert pacer.is_waiting(4)
    pacer.promote(4)
    await step(clock, 60)
    assert [g for g, _ in sender.sent] == [1, 4]
    await pacer.close()


async def test_shards_are_paced_independently(clock: ManualClock) -> None:
    pacer = GatewayPacer(clock=clock, shard_of=lambda gid: gid % 2, budget=3)
    sender = Sender(pacer, clock)
    for gid in range(12):
        sender.ask(gid)
    await turns(10)
    assert sorted(g for g, _ in sender.sent) == [0, 1, 2, 3, 4, 5]
    assert pacer.waiting(0) == pacer.waiting(1) == 3
    await step(clock, 60)
    assert len(sender.sent) == 12
    await pacer.close()


async def test_close_fails_the_waiting_requests_and_ends_its_tasks(clock: ManualClock) -> None:
    pacer = GatewayPacer(clock=clock, budget=1)
    results: list[object] = []

    async def ask(gid: int) -> None:
        try:
            results.append(await pacer.turn(gid))
        except LavalinkError as exc:
            results.append(exc)

    tasks = [asyncio.get_running_loop().create_task(ask(gid)) for gid in (1, 2)]
    await turns(10)
    await pacer.close()
    await asyncio.gather(*tasks)
    assert results[0] is True
    assert isinstance(results[1], LavalinkError)
    assert clock.pending == 0
    assert pacer.waiting() == 0


async def test_a_cancelled_waiter_gives_its_place_to_the_next(clock: ManualClock) -> None:
    pacer = GatewayPacer(clock=clock, budget=1)
    sender = Sender(pacer, clock)
    sender.ask(1)
    await turns(10)
    sender.ask(2)
    sender.ask(3)
    await turns(10)
    sender.tasks[1].cancel()
    await turns(10)
    await step(clock, 60)
    assert [g for g, _ in sender.sent] == [1, 3]
    await pacer.close()
