"""Runs one schedule: the world, the model, user commands as tasks, the journal a failure prints.

`run_schedule(steps, ...)` is the whole example: boot a bot process, apply each step and settle, check the cheap
invariants after every step, then heal everything (node up, bot up, time past every timer) and check the
client against the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import json
import logging
import math
import random
import typing

import attrs

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.player import GuildState
from lightbulb_lavalink.protocol.codec import decode_track

from . import checks
from .harness import HEAL_SECONDS, HISTORY_LIMIT, TRACK_LENGTH, World, entry_of
from .model import Model, UnsavedEnd

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator, Sequence

    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.protocol.tracks import Track
    from lightbulb_lavalink.testing.session import Connection

    from .commands import Step

__all__ = ["Rejected", "Simulation", "run_schedule"]


class Rejected(Exception):
    """A command the harness did not send: nothing to act on (no player, an empty queue)."""


@attrs.define(eq=False)
class NodeEnd:
    """A track the node ended (a `Finish` or `Fail` step) that no client has handled yet."""

    guild: int
    entry: int | None
    session: str
    """The node session whose player ended it."""
    connection: Connection | None = None
    """The websocket its `TrackEndEvent` went out on (at once, or in the replay of a resume); `None` while
    queued in the paused session."""


@attrs.define(eq=False)
class Command:
    """A user command in flight."""

    step: int
    guild: int
    label: str
    task: asyncio.Task[None] | None = None


class Simulation:
    """One example: the world, the model, and the bookkeeping that ties them."""

    def __init__(self, *, seed: int, guilds: int) -> None:
        self.world = World(seed=seed, guilds=guilds, on_event=self._on_event)
        self.world.traffic.on_frame = self._frame_sent
        self.model = Model(guilds, HISTORY_LIMIT)
        self.step = -1
        self.entries = 0
        self.commands: list[Command] = []
        self.locks = [asyncio.Lock() for _ in range(guilds)]
        self.journal: list[str] = []
        self.problems: list[str] = []
        self.first_divergence: str | None = None
        self.node_ends: list[NodeEnd] = []
        self.unsaved_ends: list[UnsavedEnd] = []
        self.overtaken: dict[int, int] = {}
        """Guild -> its current entry, whose end came while a command replacing it was on its way (`_run`)."""
        self.logs: list[logging.LogRecord] = []
        """The library's warnings and errors during this example."""

    @property
    def guild_count(self) -> int:
        return self.world.guild_count

    def guild_id(self, g: int) -> int:
        return self.world.guilds[g].id

    def guild_index(self, guild_id: int) -> int | None:
        for g, guild in enumerate(self.world.guilds):
            if guild.id == guild_id:
                return g
        return None

    def log(self, line: str) -> None:
        self.journal.append(line)

    # -- entries --------------------------------------------------------------------------------------------

    def new_entry(self) -> tuple[int, Track]:
        """A new track for one queue entry: its own identifier and user data naming the entry."""
        self.entries += 1
        n = self.entries
        track = self.world.lavalink.add_track(title=f"entry {n}", identifier=f"e{n}", length=TRACK_LENGTH)
        user_data: dict[str, typing.Any] = {"entry": n}
        if n % 5 == 0 and self.step >= 0:  # not in the warm-up: replayed schedules start from e1-e6 as they are
            # What bots really put there and JSON cannot hold (issue 9 item 6): it must never stop a guild's save.
            user_data.update(when=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), tags={n}, ratio=math.nan)
        return n, track.with_user_data(user_data)

    # -- what the client dispatches -------------------------------------------------------------------------

    def _on_event(self, event: events.LavalinkEvent) -> None:
        if isinstance(event, events.TrackEndEvent):
            g = self.guild_index(event.player.guild_id)
            entry = entry_of(event.track)
            if g is None:
                return
            replayed = " (replayed)" if event.replayed else ""
            recovering = event.player.guild_state is GuildState.RECOVERING
            for end in self.node_ends:
                if (end.guild, end.entry) == (g, entry) and not (recovering and event.may_start_next):
                    # (An end ignored while recovering stays followed: if the recovery never replaces the track
                    # and a later process resumes the session, that process must infer it; see `_resumed`.)
                    self.node_ends.remove(end)
                    break
            told_again = next(
                (
                    u
                    for u in self.unsaved_ends
                    if event.replayed
                    and u.guild == g
                    and u.before.current == entry
                    and u.after is not None
                    and u.after != u.before  # the model did move on when the crashed process told the end
                    and self.model.guilds[g] == u.after
                ),
                None,
            )
            if told_again is not None and event.may_start_next:
                # The end a crashed process handled and did not save, inferred again by the process that synced
                # its session (the node is idle): one end, told once by each. (Only a looped queue of one entry
                # comes back to the same current entry, where the model would otherwise move on twice.)
                self.unsaved_ends.remove(told_again)
                self.log(f"client: guild {g}: end of e{entry} ({event.reason.value}){replayed}; told again: no change")
            elif event.may_start_next and recovering:
                # By design a recovering guild's track end never advances its queue: the recovery decides.
                self.log(f"client: guild {g}: end of e{entry} ({event.reason.value}) while recovering: no change")
            elif event.may_start_next and self._overtakes_a_command(g, entry, event):
                self.log(
                    f"client: guild {g}: end of e{entry} ({event.reason.value}){replayed} while a command replacing "
                    "it is on its way: the command's outcome decides"
                )
            elif event.may_start_next:
                applied = self.model.track_ended(g, entry)
                effect = "the model moves on" if applied else "not the model's current entry: no change"
                self.log(f"client: guild {g}: end of e{entry} ({event.reason.value}){replayed}; {effect}")
        elif isinstance(event, events.SessionResumedEvent):
            self.log(f"client: resumed session, {event.players_synced} player(s) synced")
            self._resumed(event.session_id)
        elif isinstance(event, events.SessionRecoveredEvent):
            failed = f", failed {dict(event.failed)}" if event.failed else ""
            self.log(f"client: recovered guilds {[self.guild_index(g) for g in event.guild_ids]}{failed}")
        elif isinstance(event, events.NodeReadyEvent) and not event.resumed:
            self.log("client: new session (not resumed)")
            lost = [e for e in self.node_ends if e.session != event.session_id]
            for end in lost:
                self.node_ends.remove(end)
                self.log(f"  the end of e{end.entry} (guild {end.guild}) died with its session: the snapshot wins")
            for unsaved in [u for u in self.unsaved_ends if u.session != event.session_id]:
                self.unsaved_ends.remove(unsaved)
                if unsaved.after is not None and self.model.guilds[unsaved.guild] == unsaved.after:
                    self.model.guilds[unsaved.guild] = copy.deepcopy(unsaved.before)
                    self.log(
                        f"  guild {unsaved.guild}: the crashed process's unsaved advance died with its session: "
                        "the snapshot wins"
                    )

    def _overtakes_a_command(self, g: int, entry: int | None, event: events.TrackEndEvent) -> bool:
        """Whether this end of the model's current entry came while a command of the guild that replaces or stops
        it was on its way to the node (its frame was held in transit, so the `NodeEvent` rule that events wait for
        no command could not hold). The node ended the track before it took the command; the user asked to
        replace or stop the track they saw: if the command is accepted, that is what happened (the end changes
        nothing), and if it is rejected, the end moves the queue on then (`_run`)."""
        flight = getattr(event.player, "_in_flight", None)  # the client's own: the command's request is out
        if flight is None or not self.busy(g) or entry is None or self.model.guilds[g].current != entry:
            return False
        # Listeners hear the end a turn or more after the client handled it: a command sent meanwhile replaces
        # what the end already moved on to, not the track that ended (the command's own snapshot says which).
        replaced = flight.before.track
        if replaced is None or entry_of(decode_track(replaced.encoded)) != entry:
            return False
        self.overtaken[g] = entry
        return True

    def _settle_overtaken(self, g: int, *, accepted: bool) -> None:
        entry = self.overtaken.pop(g, None)
        if entry is None:
            return
        if accepted:
            self.log(f"  the end of e{entry} came before the command reached the node: the command stands")
        elif self.model.track_ended(g, entry):
            self.log(f"  the command failed: the end of e{entry}, which came meanwhile, moves the model on")

    # -- track ends and bot processes ------------------------------------------------------------------------

    def node_ends_track(self, g: int, entry: int | None) -> None:
        """The node is about to end guild `g`'s track: follow its `TrackEndEvent` until a client dispatches it
        (then the model moves on, in `_on_event`)."""
        self.node_ends.append(NodeEnd(guild=g, entry=entry, session=self.world.session_id or ""))

    def _frame_sent(self, connection: Connection, text: str) -> None:
        if '"TrackEndEvent"' not in text:
            return
        message = json.loads(text)
        g = self.guild_index(int(message["guildId"]))
        entry = entry_of(decode_track(message["track"]["encoded"]))
        for end in self.node_ends:
            if (end.guild, end.entry, end.connection) == (g, entry, None):
                end.connection = connection
                return

    def _resumed(self, session_id: str) -> None:
        """A client resumed `session_id` and synced its players with Lavalink's. An end the node sent on an
        earlier websocket that no client handled (its process died, or it ignored the end while recovering)
        will never come again: Lavalink shows the player idle, and the sync must infer the end. The model takes
        it as done now (once: a late dispatch of the same end finds another current entry and changes nothing).
        Ends sent on this resume's websocket (the replay) are still to be dispatched."""
        for unsaved in [u for u in self.unsaved_ends if u.session == session_id]:
            self.unsaved_ends.remove(unsaved)  # a later process syncs its session: the node tells what moved on
            guild = self.model.guilds[unsaved.guild]
            same = guild.current is not None and guild.current == unsaved.before.current
            if unsaved.after is not None and guild == unsaved.after and same:
                # A looped queue came round to the very track that ended: the node plays the same track, so no
                # process can tell that a turn passed. The model forgets that turn (its history entry).
                self.model.guilds[unsaved.guild] = copy.deepcopy(unsaved.before)
                self.log(f"  guild {unsaved.guild}: a loop onto the same track is invisible after a crash")
        session = self.world.lavalink.sessions.get(session_id)
        current = session.connection if session is not None else None
        players = self.world.lavalink.players_of(session_id) if session is not None else {}
        for end in [e for e in self.node_ends if e.session == session_id]:
            if end.connection is None or end.connection is current:
                continue
            self.node_ends.remove(end)
            fake = players.get(self.guild_id(end.guild))
            if fake is not None and fake.track is not None and entry_of(fake.track) == end.entry:
                continue  # a recovery played the track again: that end is moot
            mine = self.world.process.client.get_player(self.guild_id(end.guild)) if self.world.process else None
            if mine is not None and mine.pending is not None and entry_of(mine.pending) == end.entry:
                continue  # a recovery that could not run yet is to play it again (from the snapshot): moot
            if self.model.track_ended(end.guild, end.entry):
                self.log(f"  the end of e{end.entry} (guild {end.guild}) was never handled: the sync must infer it")

    async def stop_process(self, *, crash: bool) -> None:
        """Stop the running bot process (what it did not handle is settled by the next `ready`: `_resumed`)."""
        await self.world.stop(crash=crash)

    # -- user commands --------------------------------------------------------------------------------------

    def busy(self, g: int) -> bool:
        """Whether a command of guild `g` is still in flight (node events on it wait: see `steps`)."""
        return any(c.guild == g and c.task is not None and not c.task.done() for c in self.commands)

    def in_flight(self) -> list[Command]:
        return [c for c in self.commands if c.task is not None and not c.task.done()]

    def issue(self, g: int, label: str, perform: Callable[[LavalinkClient], Awaitable[str]]) -> None:
        """Run a user command of guild `g` as a task. Commands of one guild run one after the other, as one user
        waiting for each answer; `perform` acts on the client and, once the client accepted, on the model."""
        command = Command(step=self.step, guild=g, label=label)
        command.task = asyncio.get_running_loop().create_task(self._run(command, perform), name=f"sim {label}")
        self.commands.append(command)

    async def _run(self, command: Command, perform: Callable[[LavalinkClient], Awaitable[str]]) -> None:
        async with self.locks[command.guild]:
            process = self.world.process
            origin = f"{command.label} (step {command.step})"
            if process is None:
                self.log(f"{origin}: refused, the bot is not running")
                return
            self.model.step = command.step
            try:
                await self._see_the_restored_guild(process.client, command.guild)
                result = await perform(process.client)
            except Rejected as exc:
                self.log(f"{origin}: not sent, {exc}")
                self._settle_overtaken(command.guild, accepted=False)
            except (LavalinkError, TimeoutError) as exc:
                self.log(f"{origin}: rejected by the client, {type(exc).__name__}: {exc}")
                self._settle_overtaken(command.guild, accepted=False)
            except Exception as exc:
                self.problems.append(f"{origin} raised {type(exc).__name__}: {exc}")
                self.log(f"{origin}: UNEXPECTED {type(exc).__name__}: {exc}")
            else:
                self.log(f"{origin}: {result}")
                self._settle_overtaken(command.guild, accepted=True)

    async def _see_the_restored_guild(self, client: LavalinkClient, g: int) -> None:
        """A limit of the model, not of the client: while a guild whose last advance a crash left unsaved is
        being restored, the client shows the saved (older) queue and acts on it, while the model has moved on
        already; a user's queue index then means another entry in each. So this user looks again once the guild
        is restored (the sync reconciles the queue with what the node plays), as the model assumes."""
        player = client.get_player(self.guild_id(g))
        if player is not None and any(u.guild == g for u in self.unsaved_ends):
            with contextlib.suppress(LavalinkError):
                await player.wait_restored()
            if player.guild_state in (GuildState.RESTORING, GuildState.RECOVERING):
                raise Rejected("the guild is still being restored: the user tries again later")

    def player(self, client: LavalinkClient, g: int) -> Player:
        player = client.get_player(self.guild_id(g))
        if player is None:
            raise Rejected("the guild has no player")
        return player

    # -- running --------------------------------------------------------------------------------------------

    async def run(self, steps: Sequence[Step], note: Callable[[str], None], *, warm: int = 0) -> None:
        world = self.world
        async with world.running():
            await world.boot()
            await self.warm_up(warm, note)
            for index, step in enumerate(steps):
                self.step = index
                self.journal = []
                outcome = await step.run(self)
                await world.settle()
                diverged = checks.divergence(self)
                if diverged and self.first_divergence is None:
                    self.first_divergence = f"after step {index} ({step!r}): {diverged}"
                marker = "   [client != model]" if diverged else ""
                note(f"{index:>3} t={world.clock.now():7.2f}  {step!r}: {outcome}{marker}")
                for line in self.journal:
                    note(f"        {line}")
                checks.always(self)
            self.step = len(steps)
            self.journal = []
            await self.heal()
            note(f"  heal t={world.clock.now():7.2f}: store and node up, a bot running, {HEAL_SECONDS:g} s passed")
            for line in self.journal:
                note(f"        {line}")
            checks.final(self)

    async def warm_up(self, guilds: int, note: Callable[[str], None]) -> None:
        """Before the schedule: the first `guilds` guilds join, queue two entries and play the first."""
        from .commands import Add, Join, Play

        for g in range(guilds):
            for step in (Join(g), Add(g, count=3), Play(g)):
                await step.run(self)
                await self.world.settle()
        if guilds:
            note(f"  setup: guilds 0 to {guilds - 1} joined, queued three entries and play the first")
        for line in self.journal:
            if "UNEXPECTED" in line or "rejected" in line:
                note(f"        {line}")
        self.journal = []

    async def heal(self) -> None:
        """Everything comes back: held traffic goes on, store and node up, a bot running, and time passes past
        every timer (commands still in flight after that are stuck)."""
        world = self.world
        world.traffic.disarm()
        world.traffic.release()
        world.lavalink.faults.clear()
        world.store.down = False
        if world.node_down:
            await world.node_up()
        if world.process is None:
            await world.boot()
        await world.advance(HEAL_SECONDS)
        deadline = world.clock.now() + HEAL_SECONDS
        left = len(self.in_flight())
        while self.in_flight() and world.clock.now() < deadline and world.clock.next_deadline is not None:
            # What a command waits for may be held only now: a start held before the node and again once it acted
            # is held a second time after the first release.
            world.traffic.release()
            await world.advance_to_next()
            if len(self.in_flight()) < left:  # each command has its own budget (see `steps._drain_commands`)
                left, deadline = len(self.in_flight()), world.clock.now() + HEAL_SECONDS
        await world.flush_writes()
        await world.settle()


@contextlib.contextmanager
def _captured_logs() -> Iterator[list[logging.LogRecord]]:
    """Keep the library's warnings and errors for this example (and out of pytest's report)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.WARNING)
    loggers = [logging.getLogger(name) for name in ("lightbulb_lavalink", "asyncio", "aiohttp")]
    saved = [(logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False
    try:
        yield records
    finally:
        for logger, (level, propagate) in zip(loggers, saved, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate


def run_schedule(
    steps: Sequence[Step], *, seed: int, guilds: int, warm: int = 0, note: Callable[[str], None] = print
) -> None:
    """Run one schedule on a fresh event loop; raises an `AssertionError` subclass naming what went wrong."""
    random.seed(seed)  # reconnect backoff and store retry jitter use the random module

    async def main() -> None:
        simulation = Simulation(seed=seed, guilds=guilds)
        with _captured_logs() as records:
            simulation.logs = records
            await simulation.run(steps, note, warm=warm)

    asyncio.run(main())
