"""Moving players off a node: by hand (`LavalinkClient.move_player`) or when their node stays away too long."""

from __future__ import annotations

import asyncio
import logging
import typing

from lightbulb_lavalink.errors import LavalinkError, NodeUnavailable
from lightbulb_lavalink.node import NodeState

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.player import Player

__all__ = ["failover", "move"]

_LOGGER = logging.getLogger("lightbulb_lavalink.failover")


def _ready_others(client: LavalinkClient, node: Node) -> list[Node]:
    return [n for n in client.nodes.values() if n is not node and n.state is NodeState.READY]


async def move(client: LavalinkClient, player: Player, target: Node | None = None) -> None:
    """Move `player` to `target` (by default the best other ready node); raise `NodeUnavailable` if none."""
    if target is None:
        target = client.balancer.choose(_ready_others(client, player.node))
        if target is None:
            raise NodeUnavailable(f"no other Lavalink node is ready to take guild {player.guild_id}")
    if target is player.node:
        return
    if not target.connected:
        raise NodeUnavailable(f"node {target.name!r} is not ready ({target.state.value})")
    await player.move_to(target)


async def failover(client: LavalinkClient, hub: Hub, node: Node, delay: float, *, first: float | None = None) -> None:
    """After `delay` seconds (`first` the first time), if `node` is still away, move its players to the other
    ready nodes.

    While no other node is ready it keeps waiting, `delay` seconds at a time; it ends once the node is back, or its
    players have moved.
    """
    wait = delay if first is None else first
    while True:
        await client.clock.sleep(wait)
        wait = delay
        if node.state is NodeState.READY or not client.started:
            return
        players = [p for p in hub.players_on(node) if not p.left]
        if not players:
            return
        if not _ready_others(client, node):
            _LOGGER.warning("node %s is still away and no other node is ready: its players wait", node.name)
            continue
        _LOGGER.warning("node %s is away: moving its %d players to other nodes", node.name, len(players))
        limit = asyncio.Semaphore(client.settings.recovery_concurrency)
        await asyncio.gather(*(_move_off(client, p, node, limit) for p in players))
        return


async def _move_off(client: LavalinkClient, player: Player, node: Node, limit: asyncio.Semaphore) -> None:
    async with limit:
        target = client.balancer.choose(_ready_others(client, node))
        if target is None or player.node is not node or player.left:
            return
        target.pending_players += 1
        try:
            await player.move_to(target)
        except LavalinkError as exc:
            _LOGGER.warning("guild %s: could not move to node %s: %s", player.guild_id, target.name, exc)
