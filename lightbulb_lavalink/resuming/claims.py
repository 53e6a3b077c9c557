"""Claims: the guilds a node's `ready` concerns, taken before its first await so no command can race them."""

from __future__ import annotations

import typing

import attrs

from lightbulb_lavalink.player import GuildState, Player
from lightbulb_lavalink.queue import GuildQueue

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.snapshot import GuildSnapshot

__all__ = ["Claim", "claim_guilds", "claim_snapshots"]


@attrs.define(kw_only=True, weakref_slot=False)
class Claim:
    """One guild being brought back by a `ready`: its player (created from the store if the bot restarted) and
    the snapshot that stays the truth until the node confirms otherwise."""

    player: Player
    """The guild's player, in `RESTORING` or `RECOVERING` until it is back."""
    saved: GuildSnapshot
    """What the guild was: from the store, or the live player's own snapshot."""
    from_store: bool
    """Whether the player was rebuilt from the store (a restarted bot: its voice must be re-synced)."""


def claim_guilds(hub: Hub, node: Node, phase: GuildState) -> dict[int, Claim]:
    """Claim every guild of `node`: its live players and the guilds the store saved under it.

    Synchronous on purpose: once it returns, a user's `/play` or `/join` finds the guild's player with its saved
    queue and waits for it, and a `/leave` marks it left, which the sync and the recovery respect.
    """
    client = hub.client
    claims: dict[int, Claim] = {}
    for player in hub.players_on(node):
        if player.left:
            continue
        saved = player.saved if player.saved is not None else player.snapshot()
        player.begin_restore(phase, saved)
        claims[player.guild_id] = Claim(player=player, saved=saved, from_store=False)
    for guild_id, snap in hub.book.take(node.name).items():
        if snap.left:
            node.pending_destroys.add(guild_id)  # a tombstone: destroy it on the node, bring nothing back
            continue
        if guild_id in claims:
            continue
        if guild_id in hub.players:
            # The guild already lives elsewhere (moved, or joined anew on another node): the store is stale.
            hub.forget(node.name, guild_id)
            continue
        queue = GuildQueue.restore(snap.queue, history_limit=client.settings.history_limit)
        player = Player(hub, node, guild_id, queue=queue)
        player.channel_id = snap.channel_id
        player.begin_restore(phase, snap)
        hub.add_player(player)
        claims[guild_id] = Claim(player=player, saved=snap, from_store=True)
    return claims


def claim_snapshots(hub: Hub, node: Node, snapshots: typing.Iterable[GuildSnapshot]) -> dict[int, Claim]:
    """Claim guilds saved under nodes no longer configured, to recover them on `node` (guilds with a player
    already are left alone)."""
    client = hub.client
    claims: dict[int, Claim] = {}
    for snap in snapshots:
        if snap.guild_id in hub.players or snap.left:
            continue
        queue = GuildQueue.restore(snap.queue, history_limit=client.settings.history_limit)
        player = Player(hub, node, snap.guild_id, queue=queue)
        player.channel_id = snap.channel_id
        player.begin_restore(GuildState.RECOVERING, attrs.evolve(snap, node=node.name))
        hub.add_player(player)
        claims[snap.guild_id] = Claim(player=player, saved=snap, from_store=True)
    return claims
