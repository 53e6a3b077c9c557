"""The clock seam: `SystemClock` for real time, and `ManualClock` driving sleeps and timeouts of async code."""

from __future__ import annotations

import asyncio

import pytest

from lightbulb_lavalink.clock import SYSTEM_CLOCK, Clock
from lightbulb_lavalink.testing import ManualClock


def test_both_clocks_are_library_clocks() -> None:
    clocks: list[Clock] = [SYSTEM_CLOCK, ManualClock(start_epoch_ms=1_000_000)]
    assert all(isinstance(c.monotonic(), float) for c in clocks)
    assert ManualClock(start_epoch_ms=1_000_000).time() == 1_000.0


async def test_manual_sleep_returns_only_when_advanced_far_enough() -> None:
    clock = ManualClock()
    woke: list[float] = []

    async def sleeper() -> None:
        await clock.sleep(5)
        woke.append(clock.monotonic())

    task = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    assert clock.next_deadline == 5
    clock.advance(4.9)
    await asyncio.sleep(0)
    assert woke == []
    clock.advance(0.1)
    await task
    assert woke == [5.0]
    assert clock.next_deadline is None


async def test_manual_timeout_raises_timeout_error_and_cancelled_sleeps_leave_no_timer() -> None:
    clock = ManualClock()
    never = asyncio.Event()

    async def waiter() -> str:
        try:
            async with clock.timeout(2):
                await never.wait()
        except TimeoutError:
            return "timed out"
        return "woke"

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    clock.advance(2)
    assert await task == "timed out"

    sleeper = asyncio.create_task(clock.sleep(10))
    await asyncio.sleep(0)
    sleeper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeper
    assert clock.pending == 0


async def test_manual_timeout_that_does_not_fire_changes_nothing() -> None:
    clock = ManualClock()
    async with clock.timeout(1):
        await asyncio.sleep(0)
    async with clock.timeout(None):
        pass
    assert clock.pending == 0


async def test_outer_cancel_is_not_turned_into_a_timeout() -> None:
    clock = ManualClock()
    never = asyncio.Event()

    async def waiter() -> None:
        async with clock.timeout(5):
            await never.wait()

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
