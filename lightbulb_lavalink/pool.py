"""Choosing a node for a new player: the usual Lavalink penalty formula, replaceable by the user."""

from __future__ import annotations

import typing

if typing.TYPE_CHECKING:
    from collections.abc import Iterable

    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.protocol.stats import Stats

__all__ = ["MAX_PENALTY", "LoadBalancer", "PenaltyBalancer", "stats_penalty"]


_MAX_PLAYERS: typing.Final = 100_000
"""More playing players than any node holds: a count beyond it (or below 0) is absurd and counts as this."""
_FRAMES_PER_MINUTE: typing.Final = 3000


def _load(value: float) -> float:
    """A CPU load as the formula takes it: 0 to 1; anything else (negative, NaN, infinite, 1000) counts as 1."""
    return value if 0.0 <= value <= 1.0 else 1.0


def _nulled(value: int) -> int:
    """Nulled frames per player and minute: 0 to 3000; anything else counts as 3000."""
    return value if 0 <= value <= _FRAMES_PER_MINUTE else _FRAMES_PER_MINUTE


def _deficit(value: int) -> int:
    """Missing frames per player and minute: up to 3000. A small negative deficit (frames sent in excess) is no
    bonus: it counts as 0; one beyond -3000 is absurd and counts as 3000, like anything above 3000."""
    if -_FRAMES_PER_MINUTE <= value <= _FRAMES_PER_MINUTE:
        return max(value, 0)
    return _FRAMES_PER_MINUTE


def _penalty(playing: int, load: float, deficit: int, nulled: int) -> float:
    cpu: float = 1.05 ** (100 * load) * 10 - 10
    missing: float = 1.03 ** (500 * (deficit / _FRAMES_PER_MINUTE)) * 600 - 600
    silent: float = (1.03 ** (500 * (nulled / _FRAMES_PER_MINUTE)) * 300 - 300) * 2
    return playing + cpu + missing + silent


MAX_PENALTY: typing.Final[float] = _penalty(_MAX_PLAYERS, 1.0, _FRAMES_PER_MINUTE, _FRAMES_PER_MINUTE)
"""The largest penalty stats can give (plus the pending players): what a node reporting absurd stats scores."""


def stats_penalty(stats: Stats | None, pending_players: int = 0) -> float:
    """The penalty of a node from its stats: playing players, CPU load, frame deficit and nulled frames.

    This is the formula Lavalink's own clients use. `pending_players` counts players assigned to the node and
    not yet confirmed by a stats op, so that a burst of joins does not all land on the same node.

    Stats come from the node and are not trusted: each value outside what a real node can report (a load
    outside 0 to 1 or not a number, a negative or impossibly large player count, frame counts beyond 3000)
    counts as the worst value in range, so the penalty is always a number from 0 to `MAX_PENALTY` (plus the
    pending players) and a node saying absurd things scores badly instead of breaking the choice.
    """
    if stats is None:
        return float(pending_players)
    playing = stats.playing_players
    if not 0 <= playing <= _MAX_PLAYERS:
        playing = _MAX_PLAYERS
    frames = stats.frame_stats
    deficit = nulled = 0
    if frames is not None:
        deficit = _deficit(0 if frames.deficit is None else frames.deficit)
        nulled = _nulled(0 if frames.nulled is None else frames.nulled)
    load = stats.cpu.system_load  # an unknown load counts as none
    return _penalty(playing, _load(0.0 if load is None else load), deficit, nulled) + pending_players


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
