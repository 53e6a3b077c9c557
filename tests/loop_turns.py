"""Giving the event loop turns in tests, with no time passing: not a wait for something to happen.

`suspend()` gives one turn (what is ready runs, nothing is waited for); `turns(n)` gives `n`. For work that a
`ManualClock` advance released, a socket's data already written, a waiter to register, or a listener to be made
to suspend on purpose. `step(clock, seconds)` moves a `ManualClock` timer by timer, giving turns after each.
"""

from __future__ import annotations

import types
import typing

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.testing import ManualClock

__all__ = ["step", "suspend", "turns"]


@types.coroutine
def suspend() -> typing.Generator[None, None, None]:
    """Give the loop one turn: a bare yield to the task, which runs again at the loop's next round."""
    yield


async def turns(count: int = 10) -> None:
    """Let the loop run `count` rounds of what is ready now."""
    for _ in range(count):
        await suspend()


async def step(clock: ManualClock, seconds: float, *, rounds: int = 20) -> None:
    """Move `clock` on by `seconds`, one timer at a time, giving the loop `rounds` turns after each (what a timer
    woke runs before the next one fires, as it would in real time)."""
    target = clock.now() + seconds
    while (deadline := clock.next_deadline) is not None and deadline <= target:
        clock.advance(deadline - clock.now())
        await turns(rounds)
    clock.advance(target - clock.now())
    await turns(rounds)
