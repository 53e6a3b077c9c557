"""`Hub`: what a `LavalinkClient` shares with its nodes, players and resume coordinator, behind named hooks.

`Node` reaches it through `NodeHooks` (ready, replay done, lost) and `Player` through `PlayerHooks` (save, forget,
spawn); neither touches the client's private members. The hub holds the player registry, the session book, the
snapshot writer and every background task the client owns.
"""

from __future__ import annotations

import asyncio
import logging
import typing

from lightbulb_lavalink import failover
from lightbulb_lavalink.collector import CollectorPause
from lightbulb_lavalink.errors import NodeUnavailable, StoreError
from lightbulb_lavalink.resuming import ResumeCoordinator, SessionBook
from lightbulb_lavalink.resuming.ownership import Ownership
from lightbulb_lavalink.snapshot import GuildSnapshot

if typing.TYPE_CHECKING:
    from collections.abc import Coroutine

    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.player.base import LeftRequest
    from lightbulb_lavalink.protocol.messages import ReadyMessage
    from lightbulb_lavalink.stores import SnapshotWriter, StoreKey

__all__ = ["Hub"]

_LOGGER = logging.getLogger("lightbulb_lavalink.hub")


class Hub:
    """The client's shared machinery; implements `NodeHooks` and `PlayerHooks`. Owned by `LavalinkClient`."""

    def __init__(self, client: LavalinkClient) -> None:
        self.client: LavalinkClient = client
        """The client this hub serves (for events and public state)."""
        self.players: dict[int, Player] = {}
        """The players by guild id."""
        self.left_requests: dict[int, LeftRequest] = {}
        """Per guild, the track request of a left player still on its way to the node (see `LeftRequest`)."""
        self.book = SessionBook()
        """What the store held at start: session ids and saved guilds, handed out as they are brought back."""
        self.writer: SnapshotWriter | None = None
        """Writes snapshots behind every change; `None` before `start()` and after `close()`."""
        self.coordinator = ResumeCoordinator(self)
        """Turns each node `ready` into synced or recovered players."""
        self.ownership = Ownership(self)
        """Which guilds are this process's when the bot runs several (claims, take-overs, releases)."""
        self.closing = False
        """Set by `LavalinkClient.close()`: nothing new is started, a sync in progress stops where it is."""
        self.collector = CollectorPause()
        """Holds Python's garbage collector off from `start()` until the first node is synced (see `collector`)."""
        self.changed: set[int] | None = None
        """While a handoff is prepared: the guilds whose snapshot was scheduled or deleted since (the new process
        reads them again); `None` otherwise."""
        self.refusing: str | None = None
        """Set while a handoff lets this process's sessions go, and once it did: why a command is refused
        (`check_commands`); `None` otherwise."""
        self.frozen = False
        """Set once a handoff wrote this process's last snapshots: no change can reach the new process any more, so
        every change is refused (`check_changes`), with `refusing` as the reason."""
        self._tasks: set[asyncio.Task[None]] = set()
        # Each guild's player's bound `snapshot`, made once.
        self._producers: dict[int, typing.Callable[[], GuildSnapshot]] = {}

    # -- NodeHooks --------------------------------------------------------------------------------------------

    async def on_ready(self, node: Node, ready: ReadyMessage) -> None:
        """A node sent `ready`: sync or recover its guilds before the next op is read."""
        try:
            await self.coordinator.on_ready(node, ready)
        finally:
            # The burst of a restart is over once a node is synced. The collector's catch-up (its first pass walks
            # what the burst built) comes after what that ready dispatched has run, not in front of it.
            asyncio.get_running_loop().call_soon(self.collector.release)

    async def on_replay_done(self, node: Node) -> None:
        """The events a resumed session replayed were all applied."""
        await self.coordinator.on_replay_done(node)

    def on_lost(self, node: Node, *, session_gone: bool = False) -> None:
        """A node with a live session went away: move its players if it stays away `failover_after` seconds, or
        at once when it shut down (its session cannot be resumed: waiting only keeps the guilds silent)."""
        client = self.client
        delay = client.settings.failover_after
        if delay > 0 and len(client.nodes) > 1 and client.started:
            self.spawn(
                failover.failover(client, self, node, delay, first=0.0 if session_gone else None),
                name=f"lavalink-failover-{node.name}",
            )

    def on_destroy_deferred(self, node: Node, guild_id: int) -> None:
        """Save a tombstone for the guild: the next process destroys its player on the node, and never brings
        the guild back from the session (it would otherwise adopt the player, having no snapshot)."""
        if self.writer is None or self.client.bot_id is None or guild_id in self.players:
            return
        tombstone = GuildSnapshot(
            guild_id=guild_id, node=node.name, channel_id=None, left=True, updated_at=self.client.clock.time()
        )
        self._changed(guild_id)
        self.writer.schedule(self.client.store_key(node.name), tombstone, guild_id=guild_id)

    def destroyed(self, node: Node, guild_id: int) -> None:
        """A deferred destroy is done (or moot: the session is gone): drop the tombstone, unless the guild has a
        player again."""
        if guild_id not in self.players:
            self.forget(node.name, guild_id)

    # -- PlayerHooks ------------------------------------------------------------------------------------------

    def check_commands(self) -> None:
        """Refuse a command (a request to a node, a join or a leave) while a handoff lets the sessions go.

        Raises:
            NodeUnavailable: The sessions are being handed over to a new process, or were (`refusing` says which).
        """
        if self.refusing is not None:
            raise NodeUnavailable(self.refusing)

    def check_changes(self) -> None:
        """Refuse any change of a guild (its queue's included) once a handoff wrote the last snapshots.

        Raises:
            NodeUnavailable: The change could not be kept: the new process already read what this one holds.
        """
        if self.frozen:
            raise NodeUnavailable(self.refusing or "this process handed its Lavalink sessions over")

    def save(self, player: Player) -> None:
        """Schedule a write of the player's snapshot (coalesced by the writer)."""
        if self.writer is not None and self.client.bot_id is not None and not player.left:
            self._changed(player.guild_id)
            # One bound `snapshot` per player, given again and again: the writer keeps the pending one as it is, and
            # no new object outlives the wait for the write (see `SnapshotWriter`).
            producer = self._producers.get(player.guild_id)
            if producer is None or getattr(producer, "__self__", None) is not player:
                producer = self._producers[player.guild_id] = player.snapshot
            self.writer.schedule(self.client.store_key(player.node.name), producer, guild_id=player.guild_id)

    def forget(self, node: str, guild_id: int) -> None:
        """Delete the guild's snapshot saved under `node`."""
        if self.writer is not None and self.client.bot_id is not None:
            self._changed(guild_id)
            self.writer.delete(self.client.store_key(node), guild_id)

    def spawn(self, coro: Coroutine[typing.Any, typing.Any, None], *, name: str) -> asyncio.Task[None]:
        """Run `coro` in a task the client owns: cancelled and awaited on `close()`; errors are logged.

        Once the client is closing nothing new starts: `coro` is closed and a finished task returned.
        """
        if self.closing:
            coro.close()
            return asyncio.create_task(_nothing(), name=f"{name} (not started: closing)")
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _changed(self, guild_id: int) -> None:
        if self.changed is not None:
            self.changed.add(guild_id)

    # -- the registry -----------------------------------------------------------------------------------------

    def add_player(self, player: Player) -> None:
        """Register `player` as its guild's player."""
        self.players[player.guild_id] = player

    def remove_player(self, guild_id: int) -> Player | None:
        """Unregister the guild's player (marking it left) and delete its snapshot. A guild still only in the
        session book (its node not back yet) is forgotten there, and its player on that node is destroyed
        when the session is back (a tombstone keeps that across a restart)."""
        player = self.players.pop(guild_id, None)
        self._producers.pop(guild_id, None)
        if player is not None:
            in_flight = player.request_in_flight
            player.mark_left()
            self.forget(player.node.name, guild_id)
            if in_flight:
                # A request of the guild may reach the node after its destroy and create its player again: the
                # node's next sync destroys whatever is there (a tombstone keeps that across a restart).
                self.defer_destroy(player.node, guild_id)
        if not self.book.loaded:
            # The store has not been read yet: wherever the guild was saved, a tombstone will say it left (written
            # as soon as the store answers, or by close()), and the book drops it once read.
            self.book.forget(guild_id)
            for each in self.client.nodes.values():
                if player is None or player.node is not each:
                    self.defer_destroy(each, guild_id)
            return player
        for name in self.book.forget(guild_id):
            node = self.client.nodes.get(name)
            if node is not None and (player is None or player.node is not node):
                self.defer_destroy(node, guild_id)
        return player

    def release_player(self, guild_id: int) -> bool:
        """Another process claimed the guild: drop its player here without destroying it on Lavalink, leaving
        voice or deleting its snapshot (the new owner takes all three over). Whether there was one."""
        player = self.players.pop(guild_id, None)
        self._producers.pop(guild_id, None)
        if player is None:
            return False
        player.mark_left()
        return True

    def defer_destroy(self, node: Node, guild_id: int) -> None:
        """Destroy the guild's player on `node` once its session is back (a tombstone keeps that across a
        restart)."""
        node.pending_destroys.add(guild_id)
        self.on_destroy_deferred(node, guild_id)

    def players_on(self, node: Node) -> list[Player]:
        """The players that live on `node`."""
        return [p for p in self.players.values() if p.node is node]

    async def save_session_id(self, node: Node, session_id: str | None) -> None:
        """Save (or forget) a node's session id now. Every session write goes through the writer, so a retried
        older id can never land over a newer one; if the store is down the writer keeps retrying."""
        if self.writer is None or self.client.bot_id is None:
            return
        self.writer.schedule_session(self.client.store_key(node.name), session_id)
        try:
            await self.writer.flush()
        except StoreError as exc:
            _LOGGER.warning("node %s: could not save session id %s now (%s); retrying", node.name, session_id, exc)

    def forget_orphans(self, key: StoreKey, guild_ids: typing.Iterable[int]) -> None:
        """Drop what was moved off a node that is no longer configured."""
        if self.writer is not None:
            for guild_id in guild_ids:
                self._changed(guild_id)
                self.writer.delete(key, guild_id)
            self.writer.schedule_session(key, None)

    def should_rejoin(self, guild_id: int, channel_id: int) -> bool:
        """Whether a restored guild should rejoin its channel (not when nobody but bots is left in it)."""
        client = self.client
        if client.settings.rejoin_empty_channels:
            return True
        cache = client.app.cache
        if not cache.get_guild(guild_id):
            return True  # the guild is not cached yet: we cannot tell, assume listeners
        states = cache.get_voice_states_view_for_channel(guild_id, channel_id)
        for state in states.values():
            member = state.member
            if state.user_id != client.bot_id and not (member is not None and member.is_bot):
                return True
        return False

    async def cancel_tasks(self) -> None:
        """Cancel and await every task the hub started."""
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _finished(self, task: asyncio.Task[None]) -> None:
        """A task the hub owns ended: forget it, and log how it failed if it did (it is never awaited otherwise)."""
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("background task %s failed", task.get_name(), exc_info=task.exception())


async def _nothing() -> None:
    """What a task spawned while closing runs."""
