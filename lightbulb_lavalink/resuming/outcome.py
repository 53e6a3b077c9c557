"""`ResumeReport`: everything one node `ready` set off, once it has all settled; `ResumeCollector` gathers it.

A `ready` sets off several things that end at different times: the resumed sync (before the next op is read), the
replayed events (until the first ``playerUpdate``, or `node.REPLAY_QUIET` seconds without an event), the voice
re-sync of rebuilt players, and recoveries with their retries. The coordinator opens one `ResumeCollector` per
`ready`; each of those holds a part of it while it runs. When the last part is released the report is built and
handed on (`ResumeCompletedEvent`, `Node.last_resume`, the metrics).
"""

from __future__ import annotations

import typing

import attrs

if typing.TYPE_CHECKING:
    import datetime
    from collections.abc import Callable, Iterable, Mapping

    from lightbulb_lavalink.clock import Clock
    from lightbulb_lavalink.resuming.claims import Claim
    from lightbulb_lavalink.resuming.recovery import RecoveryOutcome
    from lightbulb_lavalink.snapshot import GuildSnapshot

__all__ = [
    "PHASES",
    "GuildOutcome",
    "Part",
    "PositionJump",
    "ResumeCollector",
    "ResumePhases",
    "ResumeReport",
    "expected_position",
    "note_recovery",
    "note_synced",
]

GuildOutcome = typing.Literal["resumed", "recovered", "failed", "left_alone"]
"""Where a guild a `ready` concerned ended up (each guild in exactly one)."""

Phase = typing.Literal["store_read", "handshake", "sync", "replay", "voice", "recovery"]
PHASES: typing.Final[tuple[Phase, ...]] = ("store_read", "handshake", "sync", "replay", "voice", "recovery")
"""The phases of a `ready`, in the order they start."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class ResumePhases:
    """Seconds spent in each phase of a `ready` (on the client's clock); `None` for a phase that did not happen.

    Phases may overlap (a recovery of lost guilds runs beside the voice re-sync), so they need not add up.
    """

    store_read: float | None = None
    """Reading the saved sessions and guilds at start (only the first `ready` of each node after a start)."""
    handshake: float | None = None
    """From the start of the connection attempt that succeeded to its `ready` (TCP, HTTP upgrade, the `ready` op)."""
    sync: float | None = None
    """Resumed sessions: from the `ready` to every claimed guild rebuilt from the session's players (the
    ``GET players`` included)."""
    replay: float | None = None
    """Resumed sessions: from the end of the sync to the end of the replayed events (the first ``playerUpdate``,
    or `REPLAY_QUIET` seconds without an event)."""
    voice: float | None = None
    """Rebuilt players rejoining their voice channel (a restarted bot has a new Discord session), and voice changes
    missed during a cut sent to the node."""
    recovery: float | None = None
    """Guilds recreated from their snapshots (a lost session, or guilds a resumed one no longer had), retries
    included until the report settles."""

    def items(self) -> list[tuple[Phase, float]]:
        """The phases that happened, with their seconds, in `PHASES` order."""
        out: list[tuple[Phase, float]] = []
        for phase in PHASES:
            seconds = getattr(self, phase)
            if seconds is not None:
                out.append((phase, seconds))
        return out


@attrs.frozen(kw_only=True, weakref_slot=False)
class PositionJump:
    """How far one guild's track moved, as a listener hears it, between before the bot went away and after."""

    guild_id: int
    """The guild."""
    before: int
    """Milliseconds: where the track would be had nothing stopped (its saved position, plus the time since it was
    saved when it was playing and not paused)."""
    after: int
    """Milliseconds: where the track plays once the guild is back (Lavalink's position for a resumed session,
    the position it was recreated at for a recovered one)."""

    @property
    def jump(self) -> int:
        """``after - before`` in milliseconds: negative, the listener hears a part again (or, for a recovery, the
        silence while the node was away); positive, a part is skipped."""
        return self.after - self.before


@attrs.frozen(kw_only=True, weakref_slot=False)
class ResumeReport:
    """What one node `ready` led to, once everything it set off has settled."""

    node: str
    """The node's name."""
    kind: typing.Literal["resumed", "recovered", "fresh"]
    """``resumed``: the node kept the session; ``recovered``: it did not, and guilds were rebuilt from their
    snapshots; ``fresh``: a new session with nothing to bring back."""
    session_id: str
    """The session id of this `ready`."""
    previous_session_id: str | None
    """The session id we asked to resume, if any."""
    at: datetime.datetime
    """When the `ready` arrived (UTC)."""
    duration: float
    """Seconds from the `ready` to the report (everything settled)."""
    complete: bool = True
    """`False` when the node's next `ready` came before everything this one set off had settled: the figures are
    what was known then."""
    resumed: tuple[int, ...] = ()
    """Guilds whose player the resumed session still had (synced, queue kept, voice re-synced), or adopted."""
    recovered: tuple[int, ...] = ()
    """Guilds recreated from their snapshots."""
    failed: Mapping[int, str] = attrs.field(factory=dict)
    """Guilds that could not be brought back (yet), with why. Their queue is kept; a recovery goes on retrying
    in the background while the node is up, and the node's next `ready` claims them again."""
    left_alone: Mapping[int, str] = attrs.field(factory=dict)
    """Guilds deliberately not brought back, with why (nobody but bots in their voice channel, left meanwhile)."""
    events_replayed: int = 0
    """Events the node replayed after a resumed `ready` (those it queued while the bot was away)."""
    events_applied: int = 0
    """Replayed events applied to a player."""
    events_dropped: int = 0
    """Replayed events dropped as duplicates (a track end a node queued twice across two cuts)."""
    largest_jump: PositionJump | None = None
    """The guild whose track moved the most (by absolute jump) among those brought back playing the track they
    had; `None` when none was."""
    phases: ResumePhases = attrs.field(factory=ResumePhases)
    """Seconds spent in each phase."""

    @property
    def guild_count(self) -> int:
        """How many guilds the `ready` concerned."""
        return len(self.resumed) + len(self.recovered) + len(self.failed) + len(self.left_alone)


def expected_position(saved: GuildSnapshot, now: float) -> int:
    """Where the saved track would be at wall time `now` had nothing stopped (milliseconds)."""
    if saved.paused or saved.pending:
        return saved.position
    return saved.position + max(0, round((now - saved.updated_at) * 1000))


class Part:
    """One thing a `ready` set off, held until it ends; `release()` is idempotent."""

    __slots__ = ("_collector", "_phase", "_released")

    def __init__(self, collector: ResumeCollector, phase: Phase | None) -> None:
        self._collector = collector
        self._phase = phase
        self._released = False

    def release(self) -> None:
        """The part ended (or gave up): its phase's time runs to now."""
        if not self._released:
            self._released = True
            self._collector.part_ended(self._phase)

    @property
    def collector(self) -> ResumeCollector:
        """The report this part belongs to."""
        return self._collector


class ResumeCollector:
    """Gathers one `ready`'s report while its parts run; owned by the `ResumeCoordinator`.

    `on_done` receives the report once, when the last part is released (or `finish()` cuts it short).
    """

    def __init__(
        self,
        *,
        node: str,
        session_id: str,
        previous_session_id: str | None,
        resumed: bool,
        at: datetime.datetime,
        clock: Clock,
        on_done: Callable[[ResumeReport], None],
    ) -> None:
        self.node = node
        self.session_id = session_id
        self.previous_session_id = previous_session_id
        self.resumed = resumed
        self.at = at
        self._clock = clock
        self._started = clock.monotonic()
        self._on_done = on_done
        self._open = 0
        self._done = False
        self._outcomes: dict[int, tuple[GuildOutcome, str | None]] = {}
        self._spans: dict[Phase, list[float]] = {}
        self._given: dict[Phase, float] = {}
        self._jump: PositionJump | None = None
        self.events_replayed = 0
        self.events_applied = 0
        self.events_dropped = 0

    @property
    def done(self) -> bool:
        """Whether the report was handed on."""
        return self._done

    # -- parts ------------------------------------------------------------------------------------------------

    def hold(self, phase: Phase | None = None) -> Part:
        """A part starts now (timed as `phase` when given); the report waits for its `release()`."""
        self._open += 1
        if phase is not None:
            now = self._clock.monotonic()
            span = self._spans.setdefault(phase, [now, now])
            span[0] = min(span[0], now)
        return Part(self, phase)

    def part_ended(self, phase: Phase | None) -> None:
        """Called by `Part.release()`."""
        if phase is not None:
            span = self._spans[phase]
            span[1] = max(span[1], self._clock.monotonic())
        self._open -= 1
        if self._open == 0:
            self.finish()

    def took(self, phase: Phase, seconds: float) -> None:
        """A phase measured elsewhere (the store read, the handshake)."""
        self._given[phase] = seconds

    # -- guilds -----------------------------------------------------------------------------------------------

    def outcome(self, guild_id: int, outcome: GuildOutcome, reason: str | None = None) -> None:
        """Where a guild ended up so far (a later call wins: a retried guild that comes back is recovered)."""
        self._outcomes[guild_id] = (outcome, reason)

    def outcome_of(self, guild_id: int) -> GuildOutcome | None:
        """Where the guild stands in this report, if anywhere."""
        entry = self._outcomes.get(guild_id)
        return entry[0] if entry is not None else None

    def position(self, guild_id: int, before: int, after: int) -> None:
        """A guild came back playing the track it had: keep the largest jump."""
        jump = PositionJump(guild_id=guild_id, before=before, after=after)
        if self._jump is None or abs(jump.jump) > abs(self._jump.jump):
            self._jump = jump

    # -- the end ----------------------------------------------------------------------------------------------

    def finish(self, *, complete: bool = True) -> None:
        """Build the report and hand it on (once)."""
        if self._done:
            return
        self._done = True
        now = self._clock.monotonic()
        times: dict[Phase, float] = dict(self._given)
        for phase, (start, end) in self._spans.items():
            times[phase] = max(0.0, (end if complete or end > start else now) - start)
        by: dict[GuildOutcome, dict[int, str]] = {"resumed": {}, "recovered": {}, "failed": {}, "left_alone": {}}
        for guild_id, (outcome, reason) in self._outcomes.items():
            by[outcome][guild_id] = reason or ""
        kind: typing.Literal["resumed", "recovered", "fresh"]
        kind = "resumed" if self.resumed else ("recovered" if self._outcomes else "fresh")
        self._on_done(
            ResumeReport(
                node=self.node,
                kind=kind,
                session_id=self.session_id,
                previous_session_id=self.previous_session_id,
                at=self.at,
                duration=now - self._started,
                complete=complete,
                resumed=tuple(sorted(by["resumed"])),
                recovered=tuple(sorted(by["recovered"])),
                failed=dict(sorted(by["failed"].items())),
                left_alone=dict(sorted(by["left_alone"].items())),
                events_replayed=self.events_replayed,
                events_applied=self.events_applied,
                events_dropped=self.events_dropped,
                largest_jump=self._jump,
                phases=ResumePhases(**times),
            )
        )


def note_synced(collector: ResumeCollector, claims: Mapping[int, Claim], synced: Iterable[int], now: float) -> None:
    """The resumed sync brought `synced` back: each is resumed; one playing the track it had tells its jump."""
    for guild_id in synced:
        collector.outcome(guild_id, "resumed")
        claim = claims.get(guild_id)
        if claim is not None:
            _note_position(collector, claim, now)


def note_recovery(
    collector: ResumeCollector, claims: Mapping[int, Claim], outcome: RecoveryOutcome, now: float
) -> None:
    """A recovery pass (or retry round): recovered guilds, guilds let go (left alone), guilds still waiting (failed)."""
    for guild_id in outcome.recovered:
        collector.outcome(guild_id, "recovered")
        claim = claims.get(guild_id)
        if claim is not None:
            _note_position(collector, claim, now)
    for guild_id, reason in outcome.released.items():
        collector.outcome(guild_id, "left_alone", reason)
    for guild_id, reason in outcome.waiting.items():
        collector.outcome(guild_id, "failed", reason)


def _note_position(collector: ResumeCollector, claim: Claim, now: float) -> None:
    player, saved = claim.player, claim.saved
    track = player.track
    if track is None or saved.track is None or track.encoded != saved.track.encoded:
        return  # not the track it had (its blob is kept when it is): no jump to tell
    # What the node last reported, not `player.position`: that one is kept within the track's length, which decodes
    # the track's blob (10,000 decodes in a big resume, for a figure the node's word gives as well).
    state = player.state
    collector.position(player.guild_id, expected_position(saved, now), 0 if state is None else state.position)
