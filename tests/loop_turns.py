"""Giving the event loop turns in tests, with no time passing: not a wait for something to happen.

`suspend()` gives one turn (what is ready runs, nothing is waited for); `turns(n)` gives `n`. For work that a
`ManualClock` advance released, a socket's data already written, a waiter to register, or a listener to be made
to suspend on purpose.
"""

from __future__ import annotations

import types
import typing

__all__ = ["suspend", "turns"]


@types.coroutine
def suspend() -> typing.Generator[None, None, None]:
    """Give the loop one turn: a bare yield to the task, which runs again at the loop's next round."""
    yield


async def turns(count: int = 10) -> None:
    """Let the loop run `count` rounds of what is ready now."""
    for _ in range(count):
        await suspend()
