"""Voice rejoins after a restart: every guild back in its channel, listeners first, within Discord's rate limit.

A restarted bot has a new Discord gateway session, so every guild it brings back sends one voice state update
(OP4) to rejoin its channel, and Discord takes at most 120 commands a minute per shard. The voice manager's
`GatewayPacer` spends each shard's budget in lanes: the guilds where someone listens (`Lane.LISTENED`) go
before those where nobody is known to (`Lane.BACKGROUND`: an empty channel kept by `rejoin_empty_channels`, or
a guild not in the cache yet), and a user's own command before both. Shards are paced independently, and
waiting for a turn costs no timeout: the voice timeout starts once the update is sent. Only the work on the node
that follows a rejoin is bounded by `recovery_concurrency`, never the wait for a turn (a guild waiting on a busy
shard must not hold back the guilds of the others).
"""

from __future__ import annotations

__all__ = ["has_listeners", "lane_for", "rejoin"]

import asyncio
import logging
import typing

from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.pacing import Lane

if typing.TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.resuming.outcome import GuildOutcome

_LOGGER = logging.getLogger("lightbulb_lavalink.resuming.rejoin")


def has_listeners(hub: Hub, guild_id: int, channel_id: int) -> bool | None:
    """Whether someone other than bots is in the channel, as hikari's cache says (`None`: not cached yet)."""
    client = hub.client
    cache = client.app.cache
    if not cache.get_guild(guild_id):
        return None
    for state in cache.get_voice_states_view_for_channel(guild_id, channel_id).values():
        member = state.member
        if state.user_id != client.bot_id and not (member is not None and member.is_bot):
            return True
    return False


def lane_for(hub: Hub, guild_id: int, channel_id: int) -> Lane | None:
    """The lane of a guild's rejoin: `LISTENED` with listeners, `BACKGROUND` without known ones, `None` when it is
    not rejoined at all (nobody listens and `rejoin_empty_channels` is off)."""
    if not hub.should_rejoin(guild_id, channel_id):
        return None
    return Lane.LISTENED if has_listeners(hub, guild_id, channel_id) else Lane.BACKGROUND


async def rejoin(
    hub: Hub,
    players: Sequence[Player],
    limit: asyncio.Semaphore,
    *,
    outcome: Callable[[int, GuildOutcome, str], None] | None = None,
) -> None:
    """Rejoin each player's channel and send the new voice connection to its node; listeners first.

    A guild that cannot be rejoined now is logged and left as it is (its queue is untouched); one guild never
    stops the others. `outcome(guild_id, kind, reason)` hears of each guild left alone (``"left_alone"``) or whose
    rejoin failed (``"failed"``), for the resume report.
    """

    def tell(guild_id: int, kind: GuildOutcome, reason: str) -> None:
        if outcome is not None:
            outcome(guild_id, kind, reason)

    client = hub.client
    lanes: list[tuple[Lane, int, Player, int]] = []
    for index, player in enumerate(players):
        channel_id = player.channel_id
        if channel_id is None or player.left:
            continue
        lane = lane_for(hub, player.guild_id, channel_id)
        if lane is None:
            _LOGGER.info("guild %s: voice channel has no listeners, not rejoining", player.guild_id)
            tell(player.guild_id, "left_alone", "voice channel has no listeners")
            continue
        lanes.append((lane, index, player, channel_id))
    lanes.sort(key=lambda entry: entry[:2])
    if lanes:
        listened = sum(1 for entry in lanes if entry[0] is Lane.LISTENED)
        _LOGGER.info(
            "rejoining voice in %d guilds (%d with listeners first), paced per shard by Discord's rate limit",
            len(lanes),
            listened,
        )

    async def one(player: Player, channel_id: int, lane: Lane) -> None:
        try:
            joined = await client.voice.join(player.guild_id, channel_id, lane=lane)
            if player.left:
                return
            async with limit:
                await player.send_voice(joined)
        except (LavalinkError, TimeoutError) as exc:
            _LOGGER.warning("guild %s: could not re-sync voice after resuming: %s", player.guild_id, exc)
            tell(player.guild_id, "failed", f"voice re-sync: {exc or type(exc).__name__}")
        except Exception as exc:  # one guild must never stop the others, nor the recovery after them
            _LOGGER.exception("guild %s: re-syncing voice failed unexpectedly", player.guild_id)
            tell(player.guild_id, "failed", f"voice re-sync: unexpected error: {exc!r}")

    await asyncio.gather(*(one(player, channel_id, lane) for lane, _, player, channel_id in lanes))
