"""Time as the library reads it: one `Clock` injected wherever the core, the websocket or the REST client waits.

`SystemClock` is real time. Tests pass `lightbulb_lavalink.testing.ManualClock`, which only moves when told, so
a whole bot (client, `FakeLavalink`, fake Discord) runs on one deterministic clock.
"""

from __future__ import annotations

import asyncio
import time
import typing

if typing.TYPE_CHECKING:
    import contextlib

__all__ = ["SYSTEM_CLOCK", "Clock", "SystemClock"]


class Clock(typing.Protocol):
    """What the library needs of time: a monotonic reading, the wall clock, sleeping and timeouts."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (only differences mean anything)."""
        ...

    def time(self) -> float:
        """Wall-clock time, seconds since the epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return after `seconds` have passed on this clock."""
        ...

    def timeout(self, seconds: float | None) -> contextlib.AbstractAsyncContextManager[object]:
        """An ``async with`` block that raises `TimeoutError` once `seconds` pass on this clock (`None`: never)."""
        ...


class SystemClock:
    """Real time: `time.monotonic`, `time.time`, `asyncio.sleep` and `asyncio.timeout`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "SystemClock()"

    # The functions themselves, not methods wrapping them: `monotonic` is read for every message of a playing
    # guild, and a Python frame around a C call would double what it costs.
    monotonic = staticmethod(time.monotonic)
    """`time.monotonic()`."""
    time = staticmethod(time.time)
    """`time.time()`."""

    async def sleep(self, seconds: float) -> None:
        """`asyncio.sleep(seconds)`."""
        await asyncio.sleep(seconds)

    def timeout(self, seconds: float | None) -> contextlib.AbstractAsyncContextManager[object]:
        """`asyncio.timeout(seconds)`."""
        return asyncio.timeout(seconds)


SYSTEM_CLOCK: typing.Final[Clock] = SystemClock()
"""The real clock, used wherever none is given (it holds no state, so sharing it is safe)."""
