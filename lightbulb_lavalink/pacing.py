"""Discord's gateway rate limit, respected: the bot's voice commands (OP4) paced per shard, most urgent first.

Discord lets each gateway connection (one per shard) send 120 commands in 60 seconds and disconnects a shard
that sends more (close code 4008, "Rate limited"). hikari paces its own sends with a fixed-window limiter of 120
per 60 s, of which 117 are for ordinary commands (3 stay free for heartbeats), and the IDENTIFY or RESUME that
opens each connection takes one of those. So a bot can send at most 116 voice state updates per shard in the
first minute of a connection and 117 in each minute after. `GatewayPacer` keeps our own OP4s to
`DEFAULT_BUDGET` (116) in any 60 seconds of a shard, so hikari never has to hold one back and Discord never sees
more than it allows, whatever way it aligns its window.

When a shard's budget is spent, requests wait their turn in lanes (`Lane`): a user's command first, then the
rejoins of guilds where someone listens, then the rest; in order of arrival within a lane. A newer request for
a guild replaces one of the same guild still waiting (only the newest can matter), so a waiting request never
moves the bot back where a user no longer wants it. Waiting one's turn costs no timeout: `VoiceManager.join`
starts its voice timeout once the command is sent.
"""

from __future__ import annotations

__all__ = ["DEFAULT_BUDGET", "DISCORD_COMMANDS_PER_WINDOW", "WINDOW", "GatewayPacer", "Lane", "ShardOf"]

import asyncio
import collections
import enum
import heapq
import itertools
import logging
import typing

from lightbulb_lavalink.errors import LavalinkError

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.clock import Clock

_LOGGER = logging.getLogger("lightbulb_lavalink.pacing")

DISCORD_COMMANDS_PER_WINDOW: typing.Final[int] = 120
"""Gateway commands Discord accepts from one connection (one shard) in `WINDOW` seconds."""
WINDOW: typing.Final[float] = 60.0
"""Seconds of Discord's gateway rate limit window."""
DEFAULT_BUDGET: typing.Final[int] = 116
"""Voice commands we send per shard in any `WINDOW`: hikari's 117 for non-heartbeat commands, less the IDENTIFY
or RESUME that opens the connection."""

ShardOf = typing.Callable[[int], int]
"""``shard_of(guild_id) -> shard id``: which gateway connection carries the guild's commands."""


class Lane(enum.IntEnum):
    """How urgent a gateway command is; a lower value is sent first when a shard's budget is spent."""

    COMMAND = 0
    """Someone asked for it now (``/join``, ``/leave``, a command waiting for its guild)."""
    LISTENED = 1
    """A rejoin after a restart, in a channel where someone listens."""
    BACKGROUND = 2
    """A rejoin nobody is known to be waiting for (an empty channel with `rejoin_empty_channels`, or a guild not
    in the cache yet)."""


class _Request:
    __slots__ = ("future", "guild_id", "lane", "seq")

    def __init__(self, guild_id: int, lane: Lane, seq: int, future: asyncio.Future[bool]) -> None:
        self.guild_id = guild_id
        self.lane = lane
        self.seq = seq
        self.future = future

    def __lt__(self, other: _Request) -> bool:
        return (self.lane, self.seq) < (other.lane, other.seq)


class _Shard:
    """One shard's sends in the current window and the requests waiting for room in it."""

    __slots__ = ("queue", "sent", "task", "waiting")

    def __init__(self) -> None:
        self.sent: collections.deque[float] = collections.deque()
        self.queue: list[_Request] = []
        self.waiting: dict[int, _Request] = {}
        self.task: asyncio.Task[None] | None = None


class GatewayPacer:
    """Admits at most `budget` gateway commands per shard in any `window` seconds, most urgent first.

    `await turn(guild_id, lane)` returns `True` when the command may be sent, at once (recorded as sent now: send
    it without awaiting anything else first), or `False` when a newer request for the same guild replaced it
    while it waited. Waiting requests are released by one task per shard, which `close()` cancels and awaits.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        shard_of: ShardOf = lambda guild_id: 0,
        budget: int = DEFAULT_BUDGET,
        window: float = WINDOW,
    ) -> None:
        if budget < 1:
            raise ValueError(f"a gateway pacer needs a budget of at least 1 command, got {budget}")
        self.budget = budget
        """Commands per shard in any `window` seconds."""
        self.window = window
        """The length of the window, in seconds."""
        self.shard_of: ShardOf = shard_of
        """Which shard carries a guild's commands."""
        self._clock = clock
        self._shards: dict[int, _Shard] = {}
        self._seq = itertools.count()

    def waiting(self, shard_id: int | None = None) -> int:
        """How many requests wait for their turn (on `shard_id`, or on every shard)."""
        shards = self._shards.values() if shard_id is None else [self._shards.get(shard_id, _Shard())]
        return sum(len(shard.waiting) for shard in shards)

    def is_waiting(self, guild_id: int) -> bool:
        """Whether a request for `guild_id` waits for its turn."""
        shard = self._shards.get(self.shard_of(guild_id))
        return shard is not None and guild_id in shard.waiting

    def promote(self, guild_id: int, lane: Lane = Lane.COMMAND) -> None:
        """Move the waiting request of `guild_id`, if any, up to `lane` (someone needs that guild now)."""
        shard = self._shards.get(self.shard_of(guild_id))
        request = shard.waiting.get(guild_id) if shard is not None else None
        if shard is None or request is None or request.lane <= lane:
            return
        request.lane = lane
        heapq.heapify(shard.queue)

    async def turn(self, guild_id: int, lane: Lane = Lane.COMMAND) -> bool:
        """Wait until a command for `guild_id` may be sent: `True` (send it now), `False` (replaced meanwhile)."""
        shard_id = self.shard_of(guild_id)
        shard = self._shards.get(shard_id)
        if shard is None:
            shard = self._shards[shard_id] = _Shard()
        previous = shard.waiting.pop(guild_id, None)
        if previous is not None:
            lane = min(lane, previous.lane)
            if not previous.future.done():
                previous.future.set_result(False)
        if not shard.waiting and self._room(shard) > 0:
            shard.sent.append(self._clock.monotonic())
            return True
        request = _Request(guild_id, lane, next(self._seq), asyncio.get_running_loop().create_future())
        shard.waiting[guild_id] = request
        heapq.heappush(shard.queue, request)
        if shard.task is None:
            shard.task = asyncio.get_running_loop().create_task(
                self._release(shard_id, shard), name=f"lavalink-gateway-pacer-{shard_id}"
            )
        try:
            return await request.future
        finally:
            if shard.waiting.get(guild_id) is request:
                del shard.waiting[guild_id]  # cancelled while waiting: its place goes to the next

    async def close(self) -> None:
        """Waiting requests fail with `LavalinkError` and the release tasks end (the pacer can be used again)."""
        tasks = [shard.task for shard in self._shards.values() if shard.task is not None]
        for shard in self._shards.values():
            for request in shard.waiting.values():
                if not request.future.done():
                    request.future.set_exception(LavalinkError("the gateway pacer closed before its turn came"))
            shard.waiting.clear()
            shard.queue.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- internals --

    def _room(self, shard: _Shard) -> int:
        horizon = self._clock.monotonic() - self.window
        sent = shard.sent
        while sent and sent[0] <= horizon:
            sent.popleft()
        return self.budget - len(sent)

    async def _release(self, shard_id: int, shard: _Shard) -> None:
        """Hand out the shard's turns as its window makes room, most urgent request first."""
        try:
            while shard.waiting:
                room = self._room(shard)
                if room <= 0:
                    wait = shard.sent[0] + self.window - self._clock.monotonic()
                    _LOGGER.debug(
                        "shard %s: %d gateway commands wait for Discord's rate limit (%.1f s)",
                        shard_id,
                        len(shard.waiting),
                        wait,
                    )
                    await self._clock.sleep(max(wait, 0.0))
                    continue
                while room > 0 and shard.queue:
                    request = heapq.heappop(shard.queue)
                    if shard.waiting.get(request.guild_id) is not request or request.future.done():
                        continue  # replaced or cancelled while it waited
                    del shard.waiting[request.guild_id]
                    shard.sent.append(self._clock.monotonic())
                    request.future.set_result(True)
                    room -= 1
                # Let the granted requests send before the next round: they are recorded as sent now.
                await asyncio.sleep(0)
            shard.queue.clear()  # only replaced or cancelled requests are left in it
        finally:
            shard.task = None
