"""`CollectorPause`: Python's cyclic garbage collector held off while a restart rebuilds its guilds.

A restart builds every saved guild at once: the store's snapshots, a `Player` and a `GuildQueue` per guild, the
node's answer for each player. That is millions of objects in a second, none of them garbage, and the collector,
which runs every few hundred allocations and now and then walks every object alive, spent about as long as the
rebuild itself (10,000 guilds: 1.5 s from `start()` to resumed with it, 0.9 s without). So the client holds it off
from reading the store until its first node is synced, and never for longer than `LIMIT` seconds.

Nothing is lost by it: reference counting still frees what is not in a cycle, and the collector catches up when it
is back. The collector is the process's, not the client's: a pause never turns it on if it was off when the pause
began, so a bot that disabled it keeps it disabled.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import typing

__all__ = ["LIMIT", "CollectorPause"]

_LOGGER = logging.getLogger("lightbulb_lavalink.collector")

LIMIT: typing.Final[float] = 30.0
"""The longest a pause lasts, in seconds, whatever happens (an unreachable node, a store that hangs)."""


class CollectorPause:
    """One client's hold on the collector: `hold()` at most once at a time, `release()` as often as convenient."""

    __slots__ = ("_held", "_limit", "_resume")

    def __init__(self) -> None:
        self._held = False
        self._resume = False  # whether the collector was on when the hold began (it is turned back on then)
        self._limit: asyncio.TimerHandle | None = None

    @property
    def held(self) -> bool:
        """Whether this pause holds the collector off now."""
        return self._held

    def hold(self) -> None:
        """Hold the collector off until `release()`, or `LIMIT` seconds of real time (no-op while held).

        The limit is a safety net on the event loop's own timer, not on the client's clock: it changes no
        behaviour, and a test's `ManualClock` must not see it.
        """
        if self._held:
            return
        self._held = True
        self._resume = gc.isenabled()
        gc.disable()
        self._limit = asyncio.get_running_loop().call_later(LIMIT, self.release)
        _LOGGER.debug("garbage collector paused while the guilds are rebuilt")

    def release(self) -> None:
        """Let the collector run again if it was on when `hold()` was called (no-op when not held)."""
        if not self._held:
            return
        self._held = False
        if self._limit is not None:
            self._limit.cancel()
            self._limit = None
        if self._resume:
            gc.enable()
            _LOGGER.debug("garbage collector running again")
