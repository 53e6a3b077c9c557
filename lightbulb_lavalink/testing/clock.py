"""Clocks for the Lavalink emulator: real time sped up by a factor, or a manual clock tests move by hand."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
import typing

from lightbulb_lavalink.errors import SettingsError

__all__ = ["Clock", "ManualClock", "ScaledClock", "Timer"]


class Timer:
    """A scheduled callback; `cancel()` stops it from running (idempotent)."""

    __slots__ = ("_cancel", "_cancelled", "deadline")

    def __init__(self, deadline: float, cancel: typing.Callable[[], None]) -> None:
        self.deadline = deadline
        """Emulated time (seconds since the clock started) at which the callback runs."""
        self._cancel = cancel
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        """Whether the timer was cancelled (on a `ManualClock`, also once it has run)."""
        return self._cancelled

    def cancel(self) -> None:
        """Prevent the callback from running if it has not run yet."""
        if not self._cancelled:
            self._cancelled = True
            self._cancel()


class Clock(typing.Protocol):
    """Emulated time as the emulator sees it: a monotonic reading, a wall clock, and timers on it."""

    def now(self) -> float:
        """Emulated seconds since the clock started (monotonic)."""
        ...

    def time_ms(self) -> int:
        """Emulated wall-clock time in epoch milliseconds (what Lavalink puts in ``state.time``)."""
        ...

    def call_at(self, deadline: float, callback: typing.Callable[[], None]) -> Timer:
        """Run the synchronous `callback` once emulated time reaches `deadline` (seconds, like `now()`)."""
        ...


class ScaledClock:
    """Real time multiplied by `time_scale`: with 1000, a 3-minute track ends in 180 ms of real time.

    Uses the running event loop's clock, so it must be created inside a running loop.
    """

    def __init__(self, time_scale: float = 1.0) -> None:
        if not time_scale > 0:
            raise SettingsError("time_scale", f"must be a positive number, got {time_scale!r}")
        self.time_scale = time_scale
        """How many emulated seconds pass per real second."""
        self._loop = asyncio.get_running_loop()
        self._origin = self._loop.time()
        self._epoch_ms = time.time() * 1000.0

    def now(self) -> float:
        """Emulated seconds since the clock was created."""
        return (self._loop.time() - self._origin) * self.time_scale

    def time_ms(self) -> int:
        """Real epoch milliseconds at creation plus the emulated time elapsed since."""
        return int(self._epoch_ms + self.now() * 1000.0)

    def call_at(self, deadline: float, callback: typing.Callable[[], None]) -> Timer:
        """Schedule `callback` on the event loop for emulated time `deadline`."""
        handle = self._loop.call_at(self._origin + deadline / self.time_scale, callback)
        return Timer(deadline, handle.cancel)


class ManualClock:
    """A clock that only moves when `advance()` is called: fully deterministic tests.

    Timers whose deadline has been reached run inside `advance()`, in deadline order (ties in scheduling
    order), with `now()` set to their deadline while they run. A timer scheduled at or before the current time
    runs on the next `advance()` (``advance(0)`` included).
    """

    def __init__(self, *, start_epoch_ms: int | None = None) -> None:
        self._now = 0.0
        self._epoch_ms = float(time.time() * 1000.0 if start_epoch_ms is None else start_epoch_ms)
        self._heap: list[tuple[float, int, Timer, typing.Callable[[], None]]] = []
        self._counter = itertools.count()

    def now(self) -> float:
        """Emulated seconds since the clock was created."""
        return self._now

    def time_ms(self) -> int:
        """The start epoch (milliseconds) plus the emulated time elapsed since."""
        return int(self._epoch_ms + self._now * 1000.0)

    def call_at(self, deadline: float, callback: typing.Callable[[], None]) -> Timer:
        """Schedule `callback` for when `advance()` reaches `deadline`."""
        timer = Timer(deadline, lambda: None)
        heapq.heappush(self._heap, (deadline, next(self._counter), timer, callback))
        return timer

    @property
    def next_deadline(self) -> float | None:
        """The deadline of the earliest timer still scheduled, or `None` when there is none."""
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    # -- the library's `lightbulb_lavalink.clock.Clock`, so one ManualClock can drive the client as well --

    def monotonic(self) -> float:
        """The same as `now()`: emulated seconds since the clock was created."""
        return self._now

    def time(self) -> float:
        """Emulated wall-clock time in epoch seconds."""
        return (self._epoch_ms + self._now * 1000.0) / 1000.0

    async def sleep(self, seconds: float) -> None:
        """Return once `advance()` has moved the clock `seconds` forward (at once for ``seconds <= 0``)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_at(self._now + seconds, wake)
        try:
            await future
        finally:
            timer.cancel()

    @contextlib.asynccontextmanager
    async def timeout(self, seconds: float | None) -> typing.AsyncIterator[None]:
        """Raise `TimeoutError` in the block once `advance()` has moved the clock `seconds` forward."""
        if seconds is None:
            yield
            return
        task = asyncio.current_task()
        assert task is not None, "ManualClock.timeout must be used inside a task"
        fired = False

        def fire() -> None:
            nonlocal fired
            fired = True
            task.cancel()

        timer = self.call_at(self._now + max(0.0, seconds), fire)
        try:
            yield
        except asyncio.CancelledError:
            if fired and task.uncancel() == 0:
                raise TimeoutError(f"timed out after {seconds:g} emulated seconds") from None
            raise
        finally:
            timer.cancel()

    @property
    def pending(self) -> int:
        """How many timers are scheduled and not cancelled."""
        return sum(1 for entry in self._heap if not entry[2].cancelled)

    def advance(self, seconds: float) -> None:
        """Move emulated time forward by `seconds`, running every timer that falls due on the way."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        target = self._now + seconds
        while self._heap and self._heap[0][0] <= target:
            deadline, _, timer, callback = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            self._now = max(self._now, deadline)
            timer.cancel()
            callback()
        self._now = target
