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

import gc
import logging
import threading
import typing

__all__ = ["LIMIT", "CollectorPause"]

_LOGGER = logging.getLogger("lightbulb_lavalink.collector")

LIMIT: typing.Final[float] = 30.0
"""The longest a pause lasts, in seconds, whatever happens (an unreachable node, a store that hangs)."""


class CollectorPause:
    """One client's hold on the collector: `hold()` at most once at a time, `release()` as often as convenient."""

    __slots__ = ("_held", "_limit", "_lock", "_resume")

    def __init__(self) -> None:
        self._held = False
        self._resume = False  # whether the collector was on when the hold began (it is turned back on then)
        self._limit: threading.Timer | None = None
        self._lock = threading.Lock()  # the limit fires on a thread of its own

    @property
    def held(self) -> bool:
        """Whether this pause holds the collector off now."""
        return self._held

    def hold(self) -> None:
        """Hold the collector off until `release()`, or `LIMIT` seconds of real time (no-op while held).

        The limit is a safety net on a timer thread of its own, not on the client's clock nor its event loop: it
        changes no behaviour, a test's `ManualClock` must not see it, and a loop closed with the client still
        started (a test that forgot `close()`) must not leave the collector off for the rest of the process.
        """
        with self._lock:
            if self._held:
                return
            self._held = True
            self._resume = gc.isenabled()
            gc.disable()
            limit = self._limit = threading.Timer(LIMIT, self.release)
            limit.daemon = True
            limit.name = "lightbulb-lavalink-collector-limit"
        limit.start()
        _LOGGER.debug("garbage collector paused while the guilds are rebuilt")

    def release(self) -> None:
        """Let the collector run again if it was on when `hold()` was called (no-op when not held)."""
        with self._lock:
            if not self._held:
                return
            self._held = False
            limit, self._limit = self._limit, None
            if self._resume:
                gc.enable()
        if limit is not None and limit is not threading.current_thread():
            limit.cancel()
        _LOGGER.debug("garbage collector running again")
