"""Recovery: recreate claimed guilds on a node from their snapshots (a session that could not be resumed).

A guild that cannot be brought back yet (the node went away again, Discord did not answer the voice join) keeps
its saved snapshot as the truth and stays `RECOVERING`: it is retried with backoff while the node is up, and
claimed again by the node's next `ready`. Nothing it had is dropped or overwritten meanwhile.

Guilds that must rejoin voice do so listeners first, paced per shard (`rejoin.py`); `recovery_concurrency`
bounds the work on the node, not the wait for a turn under Discord's rate limit.
"""

from __future__ import annotations

import asyncio
import logging
import typing

from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.pacing import Lane
from lightbulb_lavalink.player import GuildState
from lightbulb_lavalink.resuming.rejoin import lane_for

if typing.TYPE_CHECKING:
    from collections.abc import Callable

    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.protocol.player import VoiceState
    from lightbulb_lavalink.resuming.claims import Claim

__all__ = ["RecoveryOutcome", "recover", "retry_failed"]

_LOGGER = logging.getLogger("lightbulb_lavalink.resuming.recovery")

_RETRY_INITIAL = 1.0
_RETRY_MAX = 30.0


class RecoveryOutcome(typing.NamedTuple):
    """Which guilds came back, which were let go (with why), and which wait for a retry (with why)."""

    recovered: list[int]
    released: dict[int, str]
    waiting: dict[int, str]


async def recover(hub: Hub, node: Node, claims: typing.Iterable[Claim], *, keep_voice: bool) -> RecoveryOutcome:
    """Recreate each claimed guild on `node` (`keep_voice`: live players reuse their Discord voice connection)."""
    limit = asyncio.Semaphore(hub.client.settings.recovery_concurrency)
    outcome = RecoveryOutcome([], {}, {})

    async def one(claim: Claim, lane: Lane | None) -> None:
        player = claim.player
        gid = player.guild_id
        try:
            released = await _recover_guild(
                hub, node, claim, lane, limit, keep_voice=keep_voice and not claim.from_store
            )
        except (LavalinkError, TimeoutError) as exc:
            outcome.waiting[gid] = str(exc) or type(exc).__name__
            return
        except Exception as exc:  # one guild must never stop the others
            _LOGGER.exception("guild %s: recovery failed unexpectedly", gid)
            outcome.waiting[gid] = f"unexpected error: {exc!r}"
            return
        if released is None:
            outcome.recovered.append(gid)
        else:
            outcome.released[gid] = released

    lanes = [(_lane(hub, c), c) for c in claims if _still_claimed(hub, node, c)]
    lanes.sort(key=lambda entry: Lane.COMMAND if entry[0] is None else entry[0])  # listeners first
    await asyncio.gather(*(one(claim, lane) for lane, claim in lanes))
    for gid, reason in outcome.waiting.items():
        _LOGGER.warning("guild %s: not recovered yet (%s); its queue is kept and it will be retried", gid, reason)
    return outcome


async def retry_failed(
    hub: Hub, node: Node, claims: list[Claim], *, on_round: Callable[[RecoveryOutcome], None] | None = None
) -> None:
    """Retry the recovery of `claims` with backoff while `node` stays up; a disconnect hands them to its next
    `ready`, which claims them again with their saved snapshots. `on_round` is told what each round did."""
    delay = _RETRY_INITIAL
    session_id = node.session_id
    while claims:
        await hub.client.clock.sleep(delay)
        delay = min(delay * 2, _RETRY_MAX)
        if not node.connected or node.session_id != session_id:
            return
        claims = [c for c in claims if _still_claimed(hub, node, c)]
        outcome = await recover(hub, node, claims, keep_voice=True)
        if on_round is not None:
            on_round(outcome)
        claims = [c for c in claims if c.player.guild_id in outcome.waiting]


def _lane(hub: Hub, claim: Claim) -> Lane | None:
    """The lane of the guild's voice rejoin (`None`: it is not rejoined, or has no channel)."""
    channel_id = claim.saved.channel_id
    return None if channel_id is None else lane_for(hub, claim.player.guild_id, channel_id)


def _still_claimed(hub: Hub, node: Node, claim: Claim) -> bool:
    player = claim.player
    return (
        hub.players.get(player.guild_id) is player
        and player.node is node
        and player.guild_state is GuildState.RECOVERING
    )


async def _recover_guild(
    hub: Hub, node: Node, claim: Claim, lane: Lane | None, limit: asyncio.Semaphore, *, keep_voice: bool
) -> str | None:
    """Bring one guild back into its claimed player; return why it was let go, or `None` once it is back.

    Raises `LavalinkError`/`TimeoutError` when it could not be done now (it stays claimed and is retried).
    """
    client = hub.client
    player, snap = claim.player, claim.saved
    gid = player.guild_id
    if snap.channel_id is None:
        # Not in voice: only the queue comes back; a track it had waits for the next /join.
        player.restore_idle(snap)
        return None
    if lane is None:
        hub.remove_player(gid)
        return "voice channel has no listeners"
    voice: VoiceState | None = None
    if keep_voice:
        current = client.voice.current(gid)
        voice = current.to_voice_state() if current is not None else player.voice
    if voice is None:
        joined = await client.voice.join(gid, snap.channel_id, lane=lane)  # its turn on the shard: no timeout
        player.channel_id = joined.channel_id
        voice = joined.to_voice_state()
    if player.left:
        return "left during the recovery"
    async with limit:
        await player.restore(snap, voice)
    return None
