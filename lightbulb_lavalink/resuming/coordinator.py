"""The resume coordinator: what a node's `ready` leads to, so every guild keeps playing with its queue.

1. **Claim** (`claims.py`): before the first await, every guild of the node (its live players and the guilds the
   store saved under it) is claimed: `RESTORING` for a resumed session, `RECOVERING` for a new one. Commands
   wait for their guild; a `/leave` marks it left, which everything below respects. (On the first `ready` after
   `start()` the saved guilds may still be being read: a resumed session's players are asked for first, then the
   claims wait for the read; the node is `SYNCING` meanwhile and a guild left then is dropped from the read.)
2. **Save the session id** of this `ready` (always the latest), and tell the node to keep the session resumable
   with our timeout (after every `ready`: a deploy may have changed it).
3. A **resumed** session (`sync.py`): fetch its players and reconcile them with the claims, before the replayed
   events are read; claimed guilds the session no longer has are recovered. If the players cannot be fetched,
   every claimed guild is recovered from its snapshot instead.
4. A **new** session (`recovery.py`): recreate every claimed guild from its snapshot, in the background.
5. **After the replay** (the first `playerUpdate`): start what the replay left stalled.
6. **Report** (`outcome.py`): once everything the `ready` set off has settled, a `ResumeReport` goes to
   `ResumeCompletedEvent`, `Node.last_resume` and the metrics.
"""

from __future__ import annotations

import asyncio
import logging
import typing

import attrs

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import LavalinkError, ProtocolError
from lightbulb_lavalink.player import GuildState
from lightbulb_lavalink.resuming import recovery, rejoin, sync
from lightbulb_lavalink.resuming.claims import claim_guilds, claim_snapshots
from lightbulb_lavalink.resuming.outcome import note_recovery, note_synced
from lightbulb_lavalink.resuming.report import SyncReport, utc
from lightbulb_lavalink.resuming.reporting import ReportBook

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.protocol.messages import ReadyMessage
    from lightbulb_lavalink.protocol.player import PlayerList
    from lightbulb_lavalink.resuming.claims import Claim
    from lightbulb_lavalink.resuming.outcome import Part, ResumeCollector

__all__ = ["ResumeCoordinator"]

_LOGGER = logging.getLogger("lightbulb_lavalink.resuming")

REPORT_RETRY_ROUNDS: typing.Final = 3
"""Recovery retry rounds (after 1, 2 and 4 s) a report waits for; guilds still failing then are reported failed
(and go on being retried)."""


class ResumeCoordinator:
    """Turns each node `ready` into a synced or recovered set of players. Owned by the client's `Hub`."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._stalled: dict[str, list[sync.Stalled]] = {}
        self._replays: dict[str, Part] = {}
        self.reports = ReportBook(hub)
        """The resume report being gathered for each node's latest `ready`."""

    def store_read(self, seconds: float) -> None:
        """The client read the saved sessions in `seconds`: the first report of each node says so."""
        self.reports.store_read(seconds)

    def report_of(self, node: Node) -> ResumeCollector | None:
        """The report being gathered for `node`'s latest `ready`, until it settles."""
        return self.reports.of(node)

    async def on_ready(self, node: Node, ready: ReadyMessage) -> None:
        """Handle a node's `ready`; returns once the replayed events can be applied."""
        hub = self._hub
        clock = hub.client.clock
        started = clock.monotonic()
        previous = node.expected_session_id
        resumed = ready.resumed and previous is not None and previous == ready.session_id
        players: asyncio.Task[PlayerList] | None = None
        if not hub.book.loaded:
            # The client connected on the saved session ids while it still reads the saved guilds: ask for the
            # session's players now, so the node builds its answer meanwhile, and claim nothing before the guilds
            # are read (no command runs on them: the node is syncing, and a guild left meanwhile is dropped).
            if resumed:
                players = asyncio.ensure_future(sync.fetch_players(hub, node, ready.session_id))
                players.add_done_callback(_retrieved)  # its error is handled where it is awaited, or moot
            try:
                loaded = await hub.book.wait_loaded()
            except BaseException:
                if players is not None:
                    players.cancel()
                raise
            if not loaded:  # the client closed meanwhile: every saved guild keeps its snapshot
                if players is not None:
                    players.cancel()
                return
        self._replays.pop(node.name, None)
        report = self.reports.open(node, ready, previous, resumed=resumed)
        holding = report.hold()
        try:
            await self._on_ready(node, ready, previous, report, resumed=resumed, started=started, players=players)
        finally:
            holding.release()
            if players is not None and not players.done():
                players.cancel()

    async def _on_ready(
        self,
        node: Node,
        ready: ReadyMessage,
        previous: str | None,
        report: ResumeCollector,
        *,
        resumed: bool,
        started: float,
        players: asyncio.Task[PlayerList] | None,
    ) -> None:
        hub = self._hub
        clock = hub.client.clock
        if ready.resumed and not resumed:
            _LOGGER.warning(
                "node %s: session %s says it was resumed, but we asked to resume %s: treating it as new",
                node.name,
                ready.session_id,
                previous,
            )
        claims = claim_guilds(hub, node, GuildState.RESTORING if resumed else GuildState.RECOVERING)
        # Policy: always the latest session id, saved before acting on the ready.
        node.expected_session_id = ready.session_id
        self._stalled.pop(node.name, None)
        if resumed:
            node.replay.open()
        syncing = report.hold("sync") if resumed else None
        await hub.save_session_id(node, ready.session_id)
        if syncing is not None:
            try:
                await self._resumed(node, ready, previous, claims, started, report, players)
            finally:
                syncing.release()
        else:
            await self._enable_resuming(node, ready.session_id)
            await self._fresh(node, ready, previous, claims, started, report)
        orphans = hub.book.take_orphans()
        if orphans:
            snapshots = [snap for guilds in orphans.values() for snap in guilds.values()]
            adopted = claim_snapshots(hub, node, snapshots)
            hub.spawn(
                self._recover(node, adopted, None, clock.monotonic(), report.hold("recovery"), merge=True),
                name=f"lavalink-adopt-{node.name}",
            )
            for key, guilds in orphans.items():
                hub.forget_orphans(key, guilds)

    async def on_replay_done(self, node: Node) -> None:
        """The replayed events were applied: count them in the sync report, and start the next track where the
        replay left a queue stalled."""
        hub = self._hub
        if node.last_sync is not None and node.last_sync.kind == "resumed":
            node.last_sync = attrs.evolve(node.last_sync, replayed_events=node.replayed_events)
        replaying = self._replays.pop(node.name, None)
        try:
            for stalled in self._stalled.pop(node.name, []):
                player = stalled.player
                if hub.players.get(player.guild_id) is player and player.node is node:
                    await player.start_pending()  # unless a replayed event or a command settled it meanwhile
        finally:
            report = self.reports.of(node)
            if report is not None:
                report.events_replayed = node.replay.count
                report.events_applied = node.replay.applied
                report.events_dropped = node.replay.dropped
            if replaying is not None:
                replaying.release()

    # -- resumed ----------------------------------------------------------------------------------------------

    async def _resumed(
        self,
        node: Node,
        ready: ReadyMessage,
        previous: str | None,
        claims: dict[int, Claim],
        started: float,
        report: ResumeCollector,
        players: asyncio.Task[PlayerList] | None,
    ) -> None:
        hub = self._hub
        client = hub.client
        try:
            infos = await (players if players is not None else sync.fetch_players(hub, node, ready.session_id))
            if hub.closing:
                return  # the client closed meanwhile: the claimed guilds keep their saved snapshots
        except LavalinkError as exc:
            if hub.closing:
                return  # the client closed meanwhile: the claimed guilds keep their saved snapshots
            # We cannot tell what the session still plays: rebuild every claimed guild from its snapshot on it
            # (a guild that cannot be rebuilt now keeps its snapshot and waits for a retry or the next ready).
            _LOGGER.warning(
                "node %s: could not fetch the players of resumed session %s (%s); recovering its guilds from the store",
                node.name,
                ready.session_id,
                exc,
            )
            node.replay.close()
            self._begin_recovery(claims.values())
            hub.spawn(
                self._recover(node, claims, previous, started, report.hold("recovery"), keep_voice=True),
                name=f"lavalink-recover-{node.name}",
            )
            hub.spawn(self._enable_resuming(node, ready.session_id), name=f"lavalink-resuming-{node.name}")
            return
        outcome = sync.reconcile(hub, node, claims, infos)
        note_synced(report, claims, outcome.synced, client.clock.time())
        self._replays[node.name] = report.hold("replay")
        lost = {c.player.guild_id: c for c in outcome.lost}
        self._begin_recovery(lost.values())
        duration = client.clock.monotonic() - started
        node.last_sync = SyncReport(
            kind="resumed",
            session_id=ready.session_id,
            previous_session_id=previous,
            at=utc(client.clock),
            duration=duration,
            players_synced=len(outcome.synced),
        )
        _LOGGER.info(
            "node %s: resumed session %s, %d players synced in %.1f ms",
            node.name,
            ready.session_id,
            len(outcome.synced),
            duration * 1000,
        )
        client.dispatch(
            events.SessionResumedEvent(
                app=client.app,
                client=client,
                node=node,
                session_id=ready.session_id,
                guild_ids=tuple(sorted(outcome.synced)),
                players_synced=len(outcome.synced),
                duration=duration,
            )
        )
        self._stalled[node.name] = outcome.stalled
        for player in outcome.adopted:
            hub.save(player)  # a player Lavalink had and the store did not: save it once
        hub.spawn(self._enable_resuming(node, ready.session_id), name=f"lavalink-resuming-{node.name}")
        if outcome.rejoin or outcome.revoice or lost:
            hub.spawn(
                self._after_sync(node, outcome.rejoin, outcome.revoice, lost, report, report.hold("voice")),
                name=f"lavalink-resync-{node.name}",
            )

    async def _after_sync(
        self,
        node: Node,
        rejoin_players: list[Player],
        revoice: list[Player],
        lost: dict[int, Claim],
        report: ResumeCollector,
        resyncing: Part,
    ) -> None:
        """Rejoin voice for rebuilt players (new Discord session: `rejoin.py`, paced per shard, listeners first),
        send voice changes missed during a cut, and recover the guilds the session no longer had."""
        client = self._hub.client
        limit = asyncio.Semaphore(client.settings.recovery_concurrency)
        recovering = report.hold("recovery") if lost else None

        async def voice() -> None:
            try:
                await self._resync_voice(rejoin_players, revoice, report, limit)
            finally:
                resyncing.release()

        # Side by side: both share each shard's turns, listeners first, so a lost guild does not wait for them all.
        jobs = [voice()]
        if recovering is not None:
            started = client.clock.monotonic()
            jobs.append(self._recover(node, lost, None, started, recovering, merge=True, keep_voice=True))
        await asyncio.gather(*jobs)

    async def _resync_voice(
        self, rejoin_players: list[Player], revoice: list[Player], report: ResumeCollector, limit: asyncio.Semaphore
    ) -> None:
        hub = self._hub
        client = hub.client
        for player in revoice:
            current = client.voice.current(player.guild_id)
            if current is None or player.left:
                continue
            try:
                await player.send_voice(current)
            except LavalinkError as exc:
                _LOGGER.warning("guild %s: could not send the voice update missed meanwhile: %s", player.guild_id, exc)
        await rejoin.rejoin(hub, rejoin_players, limit, outcome=report.outcome)

    # -- fresh ------------------------------------------------------------------------------------------------

    async def _fresh(
        self,
        node: Node,
        ready: ReadyMessage,
        previous: str | None,
        claims: dict[int, Claim],
        started: float,
        report: ResumeCollector,
    ) -> None:
        hub = self._hub
        if previous is not None:
            _LOGGER.info("node %s: session %s was not resumed (new session %s)", node.name, previous, ready.session_id)
        for guild_id in node.pending_destroys:
            hub.destroyed(node, guild_id)  # the old session and its players are gone anyway
        node.pending_destroys.clear()
        if not claims:
            node.last_sync = SyncReport(
                kind="fresh",
                session_id=ready.session_id,
                previous_session_id=previous,
                at=utc(hub.client.clock),
                duration=hub.client.clock.monotonic() - started,
            )
            return
        hub.spawn(
            self._recover(node, claims, previous, started, report.hold("recovery"), keep_voice=True),
            name=f"lavalink-recover-{node.name}",
        )

    async def _enable_resuming(self, node: Node, session_id: str) -> None:
        """Ask the node to keep the session resumable with our timeout (after every ready: it may have changed).

        If it cannot be done, a restart loses every player of the session: an ERROR, and `node.last_error`
        (which `/lavalink status` shows) says so until the next `ready`.
        """
        timeout = self._hub.client.settings.resume_timeout
        try:
            info = await node.rest.update_session(session_id, resuming=True, timeout=timeout)
        except ProtocolError as exc:  # a success answer we cannot read: the node most likely did it
            _LOGGER.warning("node %s: odd answer to enabling resuming on session %s: %s", node.name, session_id, exc)
            return
        except LavalinkError as exc:
            problem = f"the node did not accept resuming with a {timeout} s timeout: {exc}"
        else:
            if info.resuming:
                if info.timeout != timeout:
                    _LOGGER.warning(
                        "node %s: session %s is kept %d s after a disconnect, not the %d s asked",
                        node.name,
                        session_id,
                        info.timeout,
                        timeout,
                    )
                return
            problem = "the node answered that it will not keep it"
        _LOGGER.error(
            "node %s: session %s is not resumable, a restart of the bot will lose its players: %s",
            node.name,
            session_id,
            problem,
        )
        if node.session_id == session_id:
            node.last_error = f"sessions are not resumable: {problem}"

    # -- recovery ---------------------------------------------------------------------------------------------

    @staticmethod
    def _begin_recovery(claims: typing.Iterable[Claim]) -> None:
        for claim in claims:
            if not claim.player.left:
                claim.player.begin_restore(GuildState.RECOVERING, claim.saved)

    async def _recover(
        self,
        node: Node,
        claims: dict[int, Claim],
        previous: str | None,
        started: float,
        recovering: Part,
        *,
        keep_voice: bool = False,
        merge: bool = False,
    ) -> None:
        """Recreate each claimed guild on `node`, report it (`merge`: into the node's last report), and retry
        the guilds that could not be brought back yet. `recovering` (held by the caller before this is spawned,
        so the report cannot settle first) is released after `REPORT_RETRY_ROUNDS` retry rounds at most."""
        try:
            await self._recover_held(node, claims, previous, started, recovering, keep_voice, merge)
        finally:
            recovering.release()

    async def _recover_held(
        self,
        node: Node,
        claims: dict[int, Claim],
        previous: str | None,
        started: float,
        recovering: Part,
        keep_voice: bool,
        merge: bool,
    ) -> None:
        hub = self._hub
        client = hub.client
        session_id = node.session_id or ""
        await hub.ownership.take_over(node, claims)  # guilds claimed from another process's live session
        outcome = await recovery.recover(hub, node, claims.values(), keep_voice=keep_voice)
        report = recovering.collector
        note_recovery(report, claims, outcome, client.clock.time())
        failed = {**outcome.released, **outcome.waiting}
        duration = client.clock.monotonic() - started
        sync_report = SyncReport(
            kind="recovered",
            session_id=session_id,
            previous_session_id=previous,
            at=utc(client.clock),
            duration=duration,
            guilds_recovered=tuple(sorted(outcome.recovered)),
            guilds_failed=failed,
        )
        if not merge:
            node.last_sync = sync_report
        elif node.last_sync is not None:
            node.last_sync = attrs.evolve(
                node.last_sync, guilds_recovered=sync_report.guilds_recovered, guilds_failed=sync_report.guilds_failed
            )
        _LOGGER.info(
            "node %s: recovered %d guilds (%d not yet) in %.1f ms",
            node.name,
            len(outcome.recovered),
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
                guild_ids=tuple(sorted(outcome.recovered)),
                failed=dict(failed),
                duration=duration,
            )
        )
        waiting = [claims[gid] for gid in outcome.waiting]
        if not waiting:
            return
        rounds = 0

        def retried(again: recovery.RecoveryOutcome) -> None:
            nonlocal rounds
            rounds += 1
            note_recovery(report, claims, again, client.clock.time())
            if rounds >= REPORT_RETRY_ROUNDS or not again.waiting:
                recovering.release()

        await recovery.retry_failed(hub, node, waiting, on_round=retried)


def _retrieved(task: asyncio.Task[typing.Any]) -> None:
    """Mark a task's outcome as seen (asyncio logs an error nobody retrieved)."""
    if not task.cancelled():
        task.exception()
