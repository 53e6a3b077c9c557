"""`Handoff`: this process's part in handoff deploys, as the one that hands over and as the one that takes over."""

from __future__ import annotations

import typing

from lightbulb_lavalink.resuming.handoff.channel import HandoffChannel
from lightbulb_lavalink.resuming.handoff.releasing import HandoffState, Releaser
from lightbulb_lavalink.resuming.handoff.taking_over import TakeOver
from lightbulb_lavalink.stores.handoff import supports_handoff

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.node import Node

__all__ = ["Handoff"]


class Handoff:
    """Both sides of handoff deploys as the client owns them: `listen` (the running process hands over) and
    `take_over` (a new process takes over). `reconnect` (re)starts a node asking to resume a session."""

    def __init__(self, hub: Hub, *, reconnect: Callable[[Node, str | None], Awaitable[None]]) -> None:
        self._hub = hub
        channel = HandoffChannel(hub)
        self._channel = channel
        self._take_over = TakeOver(hub, channel)
        self._releaser = Releaser(hub, channel, reconnect=reconnect, taking_over=lambda: self._take_over.running)

    @property
    def state(self) -> HandoffState:
        """Where this process stands."""
        return self._releaser.state

    @property
    def available(self) -> bool:
        """Whether the store carries handoffs (Redis, PostgreSQL)."""
        client = self._hub.client
        return client.bot_id is not None and supports_handoff(client.store)

    def check_commands(self) -> None:
        """Fail a command that would change what this process plays once it lets its sessions go (the client's
        join, leave and move; a player's commands and changes ask the hub themselves).

        Raises:
            NodeUnavailable: The sessions are being handed over (try again in a moment: the new process answers
                then), or were (this process is exiting).
        """
        self._hub.check_commands()

    def reset(self) -> None:
        """The client starts (again): running, not handed off."""
        self._releaser.reset()

    async def wait_handed_off(self) -> None:
        """Until a new process took this one's sessions over."""
        await self._releaser.wait_handed_off()

    async def listen(self) -> None:
        """Listen for handoff requests for as long as the client runs (a task the hub owns)."""
        await self._releaser.listen()

    async def take_over(
        self,
        prepare: Callable[[], Awaitable[None]],
        start: Callable[[tuple[int, ...] | None, float], Awaitable[None]],
        stop: Callable[[], Awaitable[None]],
    ) -> bool:
        """Take the cluster over from its running process (see `TakeOver.take_over`); `False`: start normally.

        Raises:
            HandoffError: The handoff failed (the old process, if any, keeps its sessions).
        """
        return await self._take_over.take_over(prepare, start, stop)

    async def close(self) -> None:
        """The client closes: a writer parked by a handoff in progress is closed without writing anything more."""
        await self._releaser.close()

    async def closed(self) -> None:
        """The client closed and wrote everything: a new process this one was getting ready for is told."""
        await self._releaser.closed()
