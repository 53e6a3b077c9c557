"""Choosing a node for a new player: the usual Lavalink penalty formula, replaceable by the user."""

from __future__ import annotations

import typing

if typing.TYPE_CHECKING:
    from collections.abc import Iterable

    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.protocol.stats import Stats

__all__ = ["LoadBalancer", "PenaltyBalancer", "stats_penalty"]


def stats_penalty(stats: Stats | None, pending_players: int = 0) -> float:
    """The penalty of a node from its stats: playing players, CPU load, frame deficit and nulled frames.

    This is the formula Lavalink's own clients use. `pending_players` counts players assigned to the node and
    not yet confirmed by a stats op, so that a burst of joins does not all land on the same node.
    """
    if stats is None:
        return float(pending_players)
    playing = stats.playing_players + pending_players
    cpu: float = 1.05 ** (100 * (stats.cpu.system_load or 0.0)) * 10 - 10  # an unknown load counts as none
    deficit: float = 0.0
    nulled: float = 0.0
    frames = stats.frame_stats
    if frames is not None:
        deficit = 1.03 ** (500 * ((frames.deficit or 0) / 3000)) * 600 - 600
        nulled = (1.03 ** (500 * ((frames.nulled or 0) / 3000)) * 300 - 300) * 2
    return playing + cpu + deficit + nulled


class LoadBalancer(typing.Protocol):
    """Picks the node for a new player among the nodes that can take one."""

    def choose(self, candidates: Iterable[Node], *, region: str | None = None) -> Node | None:
        """Return the best candidate, or `None` if there is none."""
        ...


class PenaltyBalancer:
    """The default balancer: the lowest penalty wins, nodes in the requested region first."""

    __slots__ = ()

    def choose(self, candidates: Iterable[Node], *, region: str | None = None) -> Node | None:
        """Return the candidate with the lowest penalty, preferring `region` when any node is in it."""
        nodes = list(candidates)
        if region is not None:
            local = [n for n in nodes if n.settings.region == region]
            nodes = local or nodes
        if not nodes:
            return None
        return min(nodes, key=lambda n: (n.penalty, n.name))
