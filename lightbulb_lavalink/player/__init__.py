"""One guild's player: what plays now on which node, its bot-side queue, and the commands that drive it.

`Player` is built in layers, one module each: `base` (its fields and guild states), `transport` (requests to the
node), `advancing` (node events, the queue moving on), `restoring` (snapshots, restores, the resumed sync) and
`commands` (what users call).
"""

from __future__ import annotations

from lightbulb_lavalink.player.base import GuildState, PlayerHooks
from lightbulb_lavalink.player.commands import Player
from lightbulb_lavalink.player.identity import same_track

__all__ = ["GuildState", "Player", "PlayerHooks", "same_track"]
