"""Sync: reconcile a resumed session's players (Lavalink's truth for what plays now) with the claimed guilds (the
store's truth for what comes next), before the events the node replays are read."""

from __future__ import annotations

import logging
import typing

import attrs

from lightbulb_lavalink.errors import (
    AuthenticationError,
    LavalinkError,
    NodeUnavailable,
)
from lightbulb_lavalink.player import Player
from lightbulb_lavalink.queue import GuildQueue

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.protocol.player import PlayerInfo, PlayerList
    from lightbulb_lavalink.resuming.claims import Claim

__all__ = ["Stalled", "SyncOutcome", "channel_of", "fetch_players", "reconcile"]

_LOGGER = logging.getLogger("lightbulb_lavalink.resuming.sync")

_FETCH_ATTEMPTS = 4
_FETCH_DELAY = 0.5


@attrs.frozen(kw_only=True, weakref_slot=False)
class Stalled:
    """A player the sync found idle with a track pending: started once the replay is over."""

    player: Player
    """The guild's player."""


@attrs.define(kw_only=True, weakref_slot=False)
class SyncOutcome:
    """What the sync did."""

    synced: list[int] = attrs.field(factory=list)
    """Guilds whose player the session still had."""
    rejoin: list[Player] = attrs.field(factory=list)
    """Players rebuilt from the store: a restarted bot has a new Discord session, so voice must be re-synced."""
    revoice: list[Player] = attrs.field(factory=list)
    """Players kept through a cut whose Discord voice server changed meanwhile."""
    lost: list[Claim] = attrs.field(factory=list)
    """Claimed guilds the session no longer has: to recover."""
    stalled: list[Stalled] = attrs.field(factory=list)
    """Players to start once the replay is over."""
    adopted: list[Player] = attrs.field(factory=list)
    """Players the session had and the store did not know (saved once)."""


async def fetch_players(hub: Hub, node: Node, session_id: str) -> PlayerList:
    """``GET`` the session's players (those that could be read, and the entries that could not), retrying a few
    times on the clock when the answer is a passing failure (a 5xx from a proxy, a timeout, a malformed body, even
    a 404: the node has just said the session resumed). Raises the last error when it does not pass, or at once
    when the node is unreachable or refused us."""
    delay = _FETCH_DELAY
    for attempt in range(1, _FETCH_ATTEMPTS + 1):
        try:
            return await node.rest.get_player_list(session_id)
        except (NodeUnavailable, AuthenticationError):
            raise
        except LavalinkError as exc:
            if attempt == _FETCH_ATTEMPTS or hub.closing:
                raise
            _LOGGER.info("node %s: fetching the resumed players failed (%s); retrying in %g s", node.name, exc, delay)
            await hub.client.clock.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def channel_of(info: PlayerInfo) -> int | None:
    """The voice channel a player is in, as Lavalink 4.2+ reports it (``None`` before 4.2, or not a snowflake)."""
    channel = info.voice.channel_id
    return int(channel) if channel and channel.isascii() and channel.isdigit() else None


def reconcile(hub: Hub, node: Node, claims: dict[int, Claim], listing: PlayerList) -> SyncOutcome:
    """Rebuild every claimed guild from the session's players; hand back what must happen next.

    A player the list has but that could not be read is unknown: a claimed guild of it is recovered from its
    snapshot (on this session, which replaces that player), a left one is still destroyed, any other is left alone.
    """
    client = hub.client
    outcome = SyncOutcome()
    infos = listing.players
    for entry in listing.unreadable:
        _LOGGER.warning(
            "node %s: the resumed session's player %s cannot be read (%s); %s",
            node.name,
            f"of guild {entry.guild_id}" if entry.guild_id is not None else f"#{entry.index} (guild unknown)",
            entry.reason,
            "recovering it from its snapshot" if entry.guild_id in claims else "leaving it alone",
        )
    doomed, node.pending_destroys = node.pending_destroys, set()
    present = {info.guild_id for info in infos} | listing.unreadable_guilds
    for gid in doomed - present:
        hub.destroyed(node, gid)  # its player is gone already: drop the tombstone
    for gid in listing.unreadable_guilds:
        claim = claims.get(gid)
        if gid in doomed or (claim is not None and claim.player.left):
            hub.spawn(_discard(hub, node, gid), name=f"lavalink-discard-{gid}")
    seen: set[int] = set()
    foreign: list[int] = []
    for info in infos:
        gid = info.guild_id
        claim = claims.get(gid)
        if gid in doomed or (claim is not None and claim.player.left):
            # Left (or kicked) while the node was away: destroy it now rather than bring it back.
            hub.spawn(_discard(hub, node, gid), name=f"lavalink-discard-{gid}")
            continue
        if claim is None:
            if not hub.ownership.owns(gid):
                foreign.append(gid)  # another process's guild (a reshard): its owner takes it over
                continue
            if gid in hub.players:
                # The guild lives on another node now: this one is a stale copy.
                hub.spawn(node.discard_player(gid), name=f"lavalink-discard-{gid}")
                continue
            player = Player(hub, node, gid, queue=GuildQueue(history_limit=client.settings.history_limit))
            player.channel_id = channel_of(info)
            hub.add_player(player)
            player.sync_from(info, None)
            outcome.adopted.append(player)
            outcome.rejoin.append(player)
            outcome.synced.append(gid)
            continue
        player = claim.player
        try:
            stalled_end = player.sync_from(info, claim.saved)
        except Exception:  # one guild must never stop the others: this one is recovered from its snapshot
            _LOGGER.exception("guild %s: syncing its player failed unexpectedly; recovering it instead", gid)
            continue
        seen.add(gid)
        if player.channel_id is None:
            # Its snapshot did not have the channel (saved before the voice state came): Lavalink 4.2 says it.
            player.channel_id = channel_of(info)
        if claim.from_store:
            outcome.rejoin.append(player)
        else:
            current = client.voice.current(gid)
            if current is not None and current.to_voice_state() != info.voice:
                outcome.revoice.append(player)
        if stalled_end:
            # Idle on Lavalink though the bot believed a track was playing: it ended, and its end may have gone to
            # the old process, which died before starting the next one. The queue moves on now.
            player.advance_unseen(claim.saved)
        if player.pending is not None and info.track is None:
            # What should play now is not on the node: start it after the replay.
            outcome.stalled.append(Stalled(player=player))
        outcome.synced.append(gid)
    for gid, claim in claims.items():
        if gid not in seen and not claim.player.left and hub.players.get(gid) is claim.player:
            outcome.lost.append(claim)
    hub.ownership.on_foreign_players(node, foreign)
    return outcome


async def _discard(hub: Hub, node: Node, guild_id: int) -> None:
    """Destroy a left guild's player on the node; once done, its tombstone goes."""
    await node.discard_player(guild_id)
    if guild_id not in node.pending_destroys:
        hub.destroyed(node, guild_id)
