"""The resume coordinator: what a node's `ready` leads to, so every guild keeps playing with its queue.

Three sources of truth meet here: Lavalink's players, the saved snapshots and Discord's voice state.

* A **resumed** `ready`: fetch the session's players and rebuild each `Player` and `GuildQueue` (Lavalink is the
  truth for the current track and position, the snapshot for what comes next) before the replayed events are
  read, so those events apply on top of the rebuilt state; then, in the background, rejoin voice for players a
  restarted bot had to rebuild (it has a new Discord gateway session) and recover snapshots Lavalink had no
  player for.
* A **fresh** `ready`: enable resuming at once; if a session was expected (the node restarted or the resume
  timeout passed), recover every known guild: rejoin its channel and recreate its player from the snapshot.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import typing

import attrs

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.player import Player, same_track
from lightbulb_lavalink.protocol.codec import decode_track
from lightbulb_lavalink.queue import GuildQueue

if typing.TYPE_CHECKING:
    from collections.abc import Mapping

    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.clock import Clock
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.protocol.messages import ReadyMessage
    from lightbulb_lavalink.protocol.player import VoiceState
    from lightbulb_lavalink.snapshot import GuildSnapshot, TrackSnapshot
    from lightbulb_lavalink.stores import StoreKey

__all__ = ["ResumeCoordinator", "SyncReport"]

_LOGGER = logging.getLogger("lightbulb_lavalink.resume")


def _utc(clock: Clock) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(clock.time(), datetime.UTC)


@attrs.frozen(kw_only=True, weakref_slot=False)
class SyncReport:
    """What a node's `ready` led to, for status commands and logs."""

    kind: typing.Literal["resumed", "recovered", "fresh"]
    """``resumed``: the session survived; ``recovered``: it was lost and guilds were rebuilt;
    ``fresh``: there was nothing to restore."""
    session_id: str
    """The session id the node gave."""
    previous_session_id: str | None
    """The session id we asked to resume, if any."""
    at: datetime.datetime
    """When the `ready` arrived (UTC)."""
    duration: float
    """Seconds from `ready` to every player and queue rebuilt (for recoveries: every guild rejoined)."""
    players_synced: int = 0
    """Players fetched from Lavalink and rebuilt (resumed sessions)."""
    guilds_recovered: tuple[int, ...] = ()
    """Guilds whose player was recreated from a snapshot."""
    guilds_failed: Mapping[int, str] = attrs.field(factory=dict)
    """Guilds that could not be brought back, with the reason."""
    replayed_events: int = 0
    """Events the node replayed after a resumed `ready`."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class _Stalled:
    """A player the resumed sync found idle that should be playing; dealt with once the replay is over."""

    player: Player
    finished: TrackSnapshot | None  # the track that ended unseen (advance past it), or None: play `_pending`
    version: int  # the queue's version at the sync: a replayed end that moved the queue on settles it


class ResumeCoordinator:
    """Turns each node `ready` into a synced or recovered set of players. Owned by `LavalinkClient`."""

    def __init__(self, client: LavalinkClient) -> None:
        self._client = client
        self._stalled: dict[str, list[_Stalled]] = {}

    async def on_ready(self, node: Node, ready: ReadyMessage) -> None:
        """Handle a node's `ready`; returns once the replayed events can be applied."""
        started = self._client.clock.monotonic()
        client = self._client
        previous = node.expected_session_id
        # Policy: always the latest session id, saved before acting on the ready.
        node.expected_session_id = ready.session_id
        await client._save_session_id(node, ready.session_id)
        if ready.resumed:
            await self._sync(node, ready, previous, started)
        else:
            await self._fresh(node, ready, previous, started)
        orphans = client._take_orphans()
        if orphans:
            client._spawn(self._adopt_orphans(node, orphans), name=f"lavalink-adopt-{node.name}")

    async def _adopt_orphans(self, node: Node, orphans: dict[StoreKey, dict[int, GuildSnapshot]]) -> None:
        """Recover onto `node` the guilds saved under nodes that are no longer configured."""
        client = self._client
        snapshots = [
            snap for guilds in orphans.values() for snap in guilds.values() if snap.guild_id not in client.players
        ]
        if snapshots:
            await self._recover(node, snapshots, None, self._client.clock.monotonic(), merge=True)
        for key, guilds in orphans.items():
            await client._forget_orphans(key, guilds)

    # -- resumed ----------------------------------------------------------------------------------------------

    async def _sync(self, node: Node, ready: ReadyMessage, previous: str | None, started: float) -> None:
        client = self._client
        try:
            infos = await node.rest.get_players(ready.session_id)
        except LavalinkError as exc:
            _LOGGER.warning("node %s: could not fetch players of resumed session: %s", node.name, exc)
            infos = []
        saved = client._take_saved(node.name)
        rebuilt: list[Player] = []
        adopted: list[Player] = []
        revoice: list[Player] = []
        stalled: list[_Stalled] = []
        synced: set[int] = set()
        doomed, node.pending_destroys = node.pending_destroys, set()
        for info in infos:
            gid = info.guild_id
            if gid in doomed:
                # Left (or kicked) while the node was away: destroy it now rather than bring it back.
                await node.discard_player(gid)
                continue
            player = client.players.get(gid)
            snap = saved.pop(gid, None)
            if player is None or player.node is not node:
                queue = (
                    GuildQueue.restore(snap.queue, history_limit=client.settings.history_limit)
                    if snap is not None
                    else GuildQueue(history_limit=client.settings.history_limit)
                )
                player = Player(client, node, gid, queue=queue)
                channel = info.voice.channel_id
                player.channel_id = snap.channel_id if snap is not None else (int(channel) if channel else None)
                client._add_player(player)
                rebuilt.append(player)
                if snap is None:
                    adopted.append(player)
                if snap is not None and info.track is not None and snap.track is not None:
                    # The old process may have started the next track and died before saving: drop it from the
                    # queue rather than play it twice.
                    head = player.queue.peek()
                    if head is not None and same_track(head, info.track) and head.encoded != snap.track.encoded:
                        player.queue.remove(0)
            else:
                # A player we kept through a network cut: Discord may have moved its voice server meanwhile.
                current = client.voice.current(gid)
                if current is not None and current.to_voice_state() != info.voice:
                    revoice.append(player)
            player._apply_info(info)
            if snap is not None:
                player._adopt(snap)  # the blob the user queued; a track that was still waiting to start
            synced.add(gid)
            if info.track is None and player._pending is not None:
                # Its next track could not be started while the node was away: start it after the replay.
                stalled.append(_Stalled(player=player, finished=None, version=player.queue.version))
            elif snap is not None and info.track is None and snap.track is not None and not snap.paused:
                # Idle on Lavalink though the bot believed a track was playing: the track may have ended and
                # its end been delivered to the old process, which died before starting the next one.
                stalled.append(_Stalled(player=player, finished=snap.track, version=player.queue.version))
        # Players we hold that the session no longer has, and snapshots without a player: recover them.
        lost = [p.snapshot() for p in client.players.values() if p.node is node and p.guild_id not in synced]
        to_recover = lost + list(saved.values())
        duration = self._client.clock.monotonic() - started
        report = SyncReport(
            kind="resumed",
            session_id=ready.session_id,
            previous_session_id=previous,
            at=_utc(self._client.clock),
            duration=duration,
            players_synced=len(synced),
        )
        node.last_sync = report
        _LOGGER.info(
            "node %s: resumed session %s, %d players synced in %.1f ms",
            node.name,
            ready.session_id,
            len(synced),
            duration * 1000,
        )
        client.dispatch(
            events.SessionResumedEvent(
                app=client.app,
                client=client,
                node=node,
                session_id=ready.session_id,
                guild_ids=tuple(sorted(synced)),
                players_synced=len(synced),
                replayed_events=0,
                duration=duration,
            )
        )
        self._stalled[node.name] = stalled
        for player in adopted:
            client._schedule_snapshot(player)  # a player Lavalink had and the store did not: save it once
        if rebuilt or revoice or to_recover:
            client._spawn(self._after_sync(node, rebuilt, revoice, to_recover), name=f"lavalink-resync-{node.name}")

    async def after_replay(self, node: Node) -> None:
        """The replayed events were applied: count them in the sync report, and start the next track where the
        replay left a queue stalled."""
        client = self._client
        if node.last_sync is not None and node.last_sync.kind == "resumed":
            node.last_sync = attrs.evolve(node.last_sync, replayed_events=node.replayed_events)
        for stalled in self._stalled.pop(node.name, []):
            player = stalled.player
            if (
                client.players.get(player.guild_id) is not player
                or player.track is not None
                or player.queue.version != stalled.version  # a replayed end already moved the queue on
            ):
                continue
            if stalled.finished is None:
                await player._start_pending()
                continue
            try:
                finished = decode_track(stalled.finished.encoded).with_user_data(stalled.finished.user_data)
            except LavalinkError as exc:
                _LOGGER.warning("guild %s: cannot read the saved current track: %s", player.guild_id, exc)
                continue
            _LOGGER.info("guild %s: its track had ended before the restart; continuing the queue", player.guild_id)
            await player._play_next(player.queue.advance(finished))

    async def _after_sync(
        self, node: Node, rebuilt: list[Player], revoice: list[Player], to_recover: list[GuildSnapshot]
    ) -> None:
        """Rejoin voice for rebuilt players (new Discord session), send voice changes missed during a cut, and
        recover snapshots without a player."""
        client = self._client
        limit = asyncio.Semaphore(client.settings.recovery_concurrency)
        for player in revoice:
            current = client.voice.current(player.guild_id)
            if current is None or player._destroyed:
                continue
            try:
                await player._send_voice(current)
            except LavalinkError as exc:
                _LOGGER.warning("guild %s: could not send the voice update missed meanwhile: %s", player.guild_id, exc)

        async def resync(player: Player) -> None:
            if player.channel_id is None:
                return
            async with limit:
                if not client._should_rejoin(player.guild_id, player.channel_id):
                    _LOGGER.info("guild %s: voice channel has no listeners, not rejoining", player.guild_id)
                    return
                try:
                    await player._send_voice(await client.voice.join(player.guild_id, player.channel_id))
                except (LavalinkError, TimeoutError) as exc:
                    _LOGGER.warning("guild %s: could not re-sync voice after resuming: %s", player.guild_id, exc)

        await asyncio.gather(*(resync(p) for p in rebuilt))
        if to_recover:
            await self._recover(node, to_recover, None, self._client.clock.monotonic(), merge=True)

    # -- fresh ------------------------------------------------------------------------------------------------

    async def _fresh(self, node: Node, ready: ReadyMessage, previous: str | None, started: float) -> None:
        client = self._client
        try:
            await node.rest.update_session(ready.session_id, resuming=True, timeout=client.settings.resume_timeout)
        except LavalinkError as exc:
            _LOGGER.warning("node %s: could not enable resuming on session %s: %s", node.name, ready.session_id, exc)
        if previous is not None:
            _LOGGER.info("node %s: session %s was not resumed (new session %s)", node.name, previous, ready.session_id)
        node.pending_destroys.clear()  # the old session and its players are gone anyway
        # In-memory players (the node restarted under a running bot) first, then snapshots from the store.
        live = [p for p in client.players.values() if p.node is node]
        snapshots: dict[int, GuildSnapshot] = {p.guild_id: p.snapshot() for p in live}
        for gid, snap in client._take_saved(node.name).items():
            snapshots.setdefault(gid, snap)
        if not snapshots:
            node.last_sync = SyncReport(
                kind="fresh",
                session_id=ready.session_id,
                previous_session_id=previous,
                at=_utc(self._client.clock),
                duration=self._client.clock.monotonic() - started,
            )
            return
        keep_voice = {p.guild_id for p in live}
        client._spawn(
            self._recover(node, list(snapshots.values()), previous, started, keep_voice=keep_voice),
            name=f"lavalink-recover-{node.name}",
        )

    async def _recover(
        self,
        node: Node,
        snapshots: list[GuildSnapshot],
        previous: str | None,
        started: float,
        *,
        keep_voice: set[int] | None = None,
        merge: bool = False,
    ) -> None:
        """Recreate a player for each snapshot on `node` and report it (`merge`: into the node's last report)."""
        client = self._client
        session_id = node.session_id or ""
        limit = asyncio.Semaphore(client.settings.recovery_concurrency)
        recovered: list[int] = []
        failed: dict[int, str] = {}
        # Claim every guild before the first rejoin: a user's /join or /play meanwhile finds the guild's player,
        # with its saved queue, and waits for its recovery instead of racing it.
        claimed: dict[int, Player] = {}
        for snap in snapshots:
            player = client.players.get(snap.guild_id)
            if player is None or player.node is not node:
                queue = GuildQueue.restore(snap.queue, history_limit=client.settings.history_limit)
                player = Player(client, node, snap.guild_id, queue=queue)
                player.channel_id = snap.channel_id
                client._add_player(player)
            player._ready.clear()
            claimed[snap.guild_id] = player

        async def one(snap: GuildSnapshot) -> None:
            player = claimed[snap.guild_id]
            async with limit:
                try:
                    reason = await self._recover_guild(node, player, snap, (keep_voice or set()))
                except (LavalinkError, TimeoutError) as exc:
                    reason = str(exc) or type(exc).__name__
                except Exception as exc:  # one guild must never stop the others
                    _LOGGER.exception("guild %s: recovery failed unexpectedly", snap.guild_id)
                    reason = f"unexpected error: {exc!r}"
                finally:
                    player._ready.set()
                if reason is None:
                    recovered.append(snap.guild_id)
                else:
                    failed[snap.guild_id] = reason
                    _LOGGER.warning("guild %s: not recovered: %s", snap.guild_id, reason)

        await asyncio.gather(*(one(s) for s in snapshots))
        duration = self._client.clock.monotonic() - started
        report = SyncReport(
            kind="recovered",
            session_id=session_id,
            previous_session_id=previous,
            at=_utc(self._client.clock),
            duration=duration,
            guilds_recovered=tuple(sorted(recovered)),
            guilds_failed=failed,
        )
        if not merge:
            node.last_sync = report
        elif node.last_sync is not None:
            node.last_sync = attrs.evolve(
                node.last_sync, guilds_recovered=report.guilds_recovered, guilds_failed=report.guilds_failed
            )
        _LOGGER.info(
            "node %s: recovered %d guilds (%d failed) in %.1f ms",
            node.name,
            len(recovered),
            len(failed),
            duration * 1000,
        )
        client.dispatch(
            events.SessionRecoveredEvent(
                app=client.app,
                client=client,
                node=node,
                session_id=session_id,
                previous_session_id=previous,
                guild_ids=tuple(sorted(recovered)),
                failed=dict(failed),
                duration=duration,
            )
        )

    async def _recover_guild(self, node: Node, player: Player, snap: GuildSnapshot, keep_voice: set[int]) -> str | None:
        """Bring one guild back from its snapshot into its claimed `player`; return why not, or `None`."""
        client = self._client
        gid = snap.guild_id
        if player._destroyed:
            return "left during the recovery"
        player.channel_id = snap.channel_id
        if snap.channel_id is None:
            # Not in voice: only the queue comes back.
            player.track = None
            return None
        if not client._should_rejoin(gid, snap.channel_id):
            client._remove_player(gid)
            return "voice channel has no listeners"
        voice: VoiceState | None = None
        if gid in keep_voice:
            current = client.voice.current(gid)
            voice = current.to_voice_state() if current is not None else player.voice
        if voice is None:
            joined = await client.voice.join(gid, snap.channel_id)
            player.channel_id = joined.channel_id
            voice = joined.to_voice_state()
        if player._destroyed:
            return "left during the recovery"
        await player._restore(snap, voice)
        return None
