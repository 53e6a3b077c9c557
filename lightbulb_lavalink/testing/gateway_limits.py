"""Discord's gateway rate limit as the fake Discord applies it, and hikari's own pacing in front of it.

What really happens to a gateway command (OP4 included) a hikari bot sends, modelled on the injected clock:

1. **hikari paces it** (`hikari/impl/shard.py`, ``_send_json``): a fixed-window limiter allows 117 ordinary
   commands per 60 s (3 more are kept for heartbeats); the window opens with the first command after the last
   one closed, and the IDENTIFY or RESUME of a connection is its first command. A command over the limit waits
   in hikari's queue, and ``update_voice_state`` does not return until it is sent.
2. **Discord counts it**: 120 commands per connection in 60 s, heartbeats, IDENTIFY and RESUME included
   (hikari's first heartbeat goes out as the connection opens, then one every `HEARTBEAT_INTERVAL`). Discord
   does not say where its window starts; the fake counts every 60 s span (the strictest reading, so a bot that
   passes it passes any alignment). The command that goes over is not processed: Discord closes the connection
   with **4008 "Rate limited."** (`GatewayClose`).
3. **hikari reconnects and resumes** (4008 does not invalidate the session): for `reconnect_delay` seconds the
   shard is down and ``update_voice_state`` raises `hikari.ComponentStateConflictError`; commands waiting in
   hikari's queue are cancelled (hikari closes its limiters on each new connection); the new connection opens
   with a RESUME and a fresh count.
"""

from __future__ import annotations

__all__ = [
    "DISCORD_LIMIT",
    "HEARTBEAT_INTERVAL",
    "HIKARI_LIMIT",
    "RATE_LIMITED",
    "WINDOW",
    "GatewayClose",
    "ShardGateway",
]

import asyncio
import collections
import logging
import math
import typing

import attrs
import hikari

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.clock import Clock

_LOGGER = logging.getLogger("lightbulb_lavalink.testing.gateway_limits")

DISCORD_LIMIT: typing.Final[int] = 120
"""Commands Discord accepts from one gateway connection in `WINDOW` seconds."""
HIKARI_LIMIT: typing.Final[int] = 117
"""Ordinary (non-heartbeat) commands hikari sends per shard in one of its windows."""
WINDOW: typing.Final[float] = 60.0
"""Seconds of the window, Discord's and hikari's."""
HEARTBEAT_INTERVAL: typing.Final[float] = 41.25
"""Seconds between heartbeats, as Discord's HELLO sets it."""
RATE_LIMITED: typing.Final[int] = 4008
"""The close code Discord sends to a connection that exceeded the limit."""


@attrs.define(frozen=True, kw_only=True, weakref_slot=False)
class GatewayClose:
    """Discord closed a shard's gateway connection."""

    shard_id: int
    """The shard."""
    code: int
    """The close code (`RATE_LIMITED`, 4008, for too many commands)."""
    reason: str
    """The close reason Discord sends."""
    at: float
    """When, on the fake's clock."""
    commands: int
    """Commands Discord had counted in the last 60 s, the one that went over included."""


class ShardGateway:
    """One shard's gateway as a hikari bot and Discord see it: hikari's limiter, then Discord's count."""

    def __init__(
        self, shard_id: int, clock: Clock, *, reconnect_delay: float = 1.0, closes: list[GatewayClose] | None = None
    ) -> None:
        self.shard_id = shard_id
        """The shard."""
        self.reconnect_delay = reconnect_delay
        """Seconds hikari takes to reconnect (and resume) after Discord closed the connection."""
        self.closes: list[GatewayClose] = closes if closes is not None else []
        """Every close by Discord, oldest first (a list shared with the `FakeDiscord` that made it)."""
        self.sent = 0
        """Commands Discord received on this shard (every connection), heartbeats not counted."""
        self._clock = clock
        self._opened = 0.0
        self._counted: collections.deque[float] = collections.deque()
        self._down_until: float | None = None
        # hikari's non-priority limiter: its window's end, what is left in it, and who waits.
        self._hikari_ends = -math.inf
        self._hikari_left = 0
        self._hikari_queue: collections.deque[asyncio.Future[None]] = collections.deque()
        self._hikari_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self.open("IDENTIFY")

    # -- connections --

    def open(self, first: str) -> None:
        """A new connection opens now with `first` (IDENTIFY or RESUME): a fresh count and heartbeats."""
        now = self._clock.monotonic()
        self._opened = now
        self._counted.clear()
        self._down_until = None
        for future in self._hikari_queue:  # hikari closes its limiters on every new connection
            if not future.done():
                future.cancel()
        self._hikari_queue.clear()
        self._hikari_acquire_now()
        self._count(now, first)

    @property
    def connected(self) -> bool:
        """Whether the shard is connected now (not reconnecting after a close)."""
        self._resume_if_due()
        return self._down_until is None

    def commands_in_window(self) -> int:
        """What Discord counts for this connection in the last 60 s: commands and heartbeats."""
        now = self._clock.monotonic()
        self._expire(now)
        return len(self._counted) + self._heartbeats(now - WINDOW, now)

    # -- sending --

    async def send(self, what: str, *, paced: bool = True) -> bool:
        """Send one command as a hikari shard does: `True` if Discord processed it, `False` if it went over the
        limit (the connection is then closed with 4008 and the command lost).

        `paced`: through hikari's limiter (what ``update_voice_state`` on a real shard does); `False` for a sender
        that bypasses it. Raises `hikari.ComponentStateConflictError` while the shard reconnects.
        """
        self._check_connected()
        if paced:
            await self._hikari_acquire()
            self._check_connected()
        return self._count(self._clock.monotonic(), what)

    # -- internals --

    def _check_connected(self) -> None:
        if not self.connected:
            raise hikari.ComponentStateConflictError(
                f"shard {self.shard_id} is not connected so it cannot be interacted with"
            )

    def _resume_if_due(self) -> None:
        if self._down_until is not None and self._clock.monotonic() >= self._down_until:
            self.open("RESUME")

    def _expire(self, now: float) -> None:
        while self._counted and self._counted[0] <= now - WINDOW:
            self._counted.popleft()

    def _heartbeats(self, start: float, end: float) -> int:
        """hikari's heartbeats on this connection in (start, end]: one as it opens, then every interval."""
        first = max(0, math.floor((start - self._opened) / HEARTBEAT_INTERVAL) + 1)
        last = math.floor((end - self._opened) / HEARTBEAT_INTERVAL)
        return max(0, last - first + 1)

    def _count(self, now: float, what: str) -> bool:
        self._expire(now)
        self._counted.append(now)
        self.sent += 1
        total = len(self._counted) + self._heartbeats(now - WINDOW, now)
        if total <= DISCORD_LIMIT:
            return True
        close = GatewayClose(shard_id=self.shard_id, code=RATE_LIMITED, reason="Rate limited.", at=now, commands=total)
        self.closes.append(close)
        _LOGGER.warning("shard %s: %s was command %d in 60 s: closed with 4008", self.shard_id, what, total)
        self._down_until = now + self.reconnect_delay
        if self._reconnect_task is None:
            self._reconnect_task = asyncio.get_running_loop().create_task(
                self._reconnect(), name=f"fake hikari reconnect shard {self.shard_id}"
            )
        return False

    async def _reconnect(self) -> None:
        try:
            await self._clock.sleep(self.reconnect_delay)
            self._resume_if_due()
        finally:
            self._reconnect_task = None

    def _hikari_acquire_now(self) -> bool:
        now = self._clock.monotonic()
        if now >= self._hikari_ends:
            self._hikari_ends, self._hikari_left = now + WINDOW, HIKARI_LIMIT
        if self._hikari_left <= 0:
            return False
        self._hikari_left -= 1
        return True

    async def _hikari_acquire(self) -> None:
        if self._hikari_task is None and self._hikari_acquire_now():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._hikari_queue.append(future)
        if self._hikari_task is None:
            self._hikari_task = asyncio.get_running_loop().create_task(
                self._hikari_throttle(), name=f"fake hikari limiter shard {self.shard_id}"
            )
        await future

    async def _hikari_throttle(self) -> None:
        try:
            while self._hikari_queue:
                wait = self._hikari_ends - self._clock.monotonic()
                if self._hikari_left <= 0 and wait > 0:
                    await self._clock.sleep(wait)
                if self._clock.monotonic() >= self._hikari_ends:
                    self._hikari_ends, self._hikari_left = self._clock.monotonic() + WINDOW, HIKARI_LIMIT
                while self._hikari_left > 0 and self._hikari_queue:
                    future = self._hikari_queue.popleft()
                    if not future.done():
                        self._hikari_left -= 1
                        future.set_result(None)
                await asyncio.sleep(0)
        finally:
            self._hikari_task = None

    async def close(self) -> None:
        """Cancel hikari's queue and its tasks (the bot process that sends through this shard is going away)."""
        for future in self._hikari_queue:
            future.cancel()
        self._hikari_queue.clear()
        tasks = [task for task in (self._hikari_task, self._reconnect_task) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
