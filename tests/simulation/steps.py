"""The steps a schedule is made of besides user commands (`commands`): node events, faults and time; and the
strategy of every step type (`STRATEGIES`).

A step is a small frozen value whose ``repr`` is the Python that builds it, so a shrunk schedule printed by
Hypothesis can be pasted into `test_schedules.py` as it is. Guild numbers are taken modulo the number of
guilds, so every step means something in every state.

Adding a step is one class with a `run` (for a user command, `perform`, in `commands`) and one line in
`STRATEGIES`; a REST fault is one more entry in `_FAULTS`.
"""

from __future__ import annotations

import copy
import typing

import attrs
from hypothesis import strategies as st

from lightbulb_lavalink.testing import NGINX_502_PAGE, NODELINK_SESSION_NOT_FOUND

from .commands import (
    Add,
    Clear,
    Insert,
    Join,
    Leave,
    Move,
    Pause,
    Play,
    PlayNow,
    Remove,
    Seek,
    SetLoop,
    Shuffle,
    Skip,
    Step,
    Stop,
    Volume,
)
from .harness import HEAL_SECONDS, RESUME_TIMEOUT, TRACK_LENGTH, entry_of
from .model import LOOP_MODES, UnsavedEnd
from .traffic import Hold

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.testing import FakePlayer

    from .runner import Simulation

__all__ = [
    "STRATEGIES",
    "Advance",
    "AdvanceToNext",
    "BootBot",
    "CrashAfterEnd",
    "Cut",
    "CutAsNextStarts",
    "Fail",
    "FailNextStart",
    "Finish",
    "HoldNext",
    "NodeDown",
    "NodeEvent",
    "NodeUp",
    "Release",
    "RestFault",
    "RestFaultApplied",
    "RestartBot",
    "RestartNode",
    "Stick",
    "StopBot",
    "StoreDown",
    "StoreUp",
    "steps",
]


# -- node events ----------------------------------------------------------------------------------------------


@attrs.frozen
class NodeEvent(Step):
    """Something the node does to a guild's current track on its own (while the bot is away too: queued).

    It waits for no command: if one of the guild's commands is in flight, the event is left out, so that the
    model never has to guess whether a command or the track's end came first.
    """

    guild: int

    async def run(self, sim: Simulation) -> str:
        g = self.guild % sim.guild_count
        if sim.busy(g):
            return "left out: a command of the guild is in flight"
        player = sim.world.fake_player(sim.guild_id(g))
        if player is None or player.track is None:
            return "left out: nothing plays on the node"
        return self.act(sim, g, player, entry_of(player.track))

    def act(self, sim: Simulation, g: int, player: FakePlayer, entry: int | None) -> str:
        raise NotImplementedError


@attrs.frozen
class Finish(NodeEvent):
    """The current track plays to its end."""

    def act(self, sim: Simulation, g: int, player: FakePlayer, entry: int | None) -> str:
        if player.paused or player.stuck:
            return "left out: a paused or stuck track does not end"
        sim.node_ends_track(g, entry)
        player.finish()
        return f"e{entry} finished on the node"


@attrs.frozen
class Fail(NodeEvent):
    """The current track fails: an exception, then its end (``loadFailed`` or ``finished``)."""

    def act(self, sim: Simulation, g: int, player: FakePlayer, entry: int | None) -> str:
        if player.paused:
            return "left out: a paused track does not fail"
        sim.node_ends_track(g, entry)
        player.fail("simulated failure")
        return f"e{entry} failed on the node"


@attrs.frozen
class Stick(NodeEvent):
    """The current track gets stuck (reported after the stuck threshold)."""

    def act(self, sim: Simulation, g: int, player: FakePlayer, entry: int | None) -> str:
        player.stick()
        return f"e{entry} stuck on the node"


# -- faults ---------------------------------------------------------------------------------------------------


@attrs.frozen
class Cut(Step):
    """The network drops every websocket; the client reconnects after its backoff (when time passes)."""

    async def run(self, sim: Simulation) -> str:
        await sim.world.cut(refuse=False)
        return "websockets cut"


@attrs.frozen
class NodeDown(Step):
    """The node becomes unreachable (websockets cut, connections refused) until `NodeUp`."""

    async def run(self, sim: Simulation) -> str:
        if sim.world.node_down:
            return "already down"
        await sim.world.cut(refuse=True)
        return "node unreachable"


@attrs.frozen
class NodeUp(Step):
    async def run(self, sim: Simulation) -> str:
        if not sim.world.node_down:
            return "already up"
        await sim.world.node_up()
        return "node reachable again"


@attrs.frozen
class RestartNode(Step):
    """The node dies and comes back: every session and player lost."""

    async def run(self, sim: Simulation) -> str:
        await sim.world.restart_node()
        return "node restarted, sessions lost"


async def _drain_commands(sim: Simulation) -> None:
    """Let every command in flight finish (held traffic goes on, time passes if needed), so the model knows
    its outcome before the process that runs it goes away."""
    world = sim.world
    if not sim.in_flight():
        return
    world.traffic.release()
    await world.settle()
    # Each command has its own budget: a guild's commands run one after the other, and each may wait its full
    # timeout for a guild that cannot be restored yet (the node down), so a queue of them takes that many times.
    deadline = world.clock.now() + HEAL_SECONDS
    left = len(sim.in_flight())
    while sim.in_flight():
        world.traffic.release()  # what the commands wait for may be held only now
        if len(sim.in_flight()) < left:
            left, deadline = len(sim.in_flight()), world.clock.now() + HEAL_SECONDS
        if world.clock.next_deadline is None or world.clock.now() > deadline:
            from .checks import StuckCommandError

            names = ", ".join(f"{c.label} (step {c.step})" for c in sim.in_flight())
            raise StuckCommandError(f"commands never finished before the bot stopped: {names}")
        await world.advance_to_next()


@attrs.frozen
class StopBot(Step):
    """The bot process goes away: a clean stop (`close()`), or a crash that loses the writes not made yet.

    Before either, commands in flight finish and the store is up. A crash first lets every change be written
    (held websocket frames arrive first: a hold is latency, so they came before the crash), so the model stays
    exact: what a crash can lose is only what the system does after that (`CrashAfterEnd`).
    """

    crash: bool = False

    async def run(self, sim: Simulation) -> str:
        world = sim.world
        if world.process is None:
            return "not running"
        await _drain_commands(sim)
        if not self.crash:
            world.store.down = False
            await sim.stop_process(crash=False)
            return "stopped cleanly"
        await world.deliver_frames()
        await world.flush_writes()
        await sim.stop_process(crash=True)
        return "crashed"


@attrs.frozen
class BootBot(Step):
    """A new bot process starts, if none runs (after `StoreDown`: while the store is unreachable)."""

    async def run(self, sim: Simulation) -> str:
        world = sim.world
        if world.process is not None:
            return "already running"
        process = await world.boot()
        return f"process {process.number} booted" + (" while the store is down" if world.store.down else "")


@attrs.frozen
class RestartBot(Step):
    """`StopBot` then `BootBot`: a deploy (clean) or a crash and restart."""

    crash: bool = False

    async def run(self, sim: Simulation) -> str:
        stopped = await StopBot(crash=self.crash).run(sim)
        booted = await BootBot().run(sim)
        return f"{stopped}; {booted}"


@attrs.frozen
class CrashAfterEnd(Step):
    """A crash right after a system-driven change: every change is written, then the guild's track ends (or
    fails), the client starts the next one while the store cannot save it, the process dies and a new one boots.
    Lavalink's truth (the next track plays) must be reconciled with the saved snapshot (the previous one)."""

    guild: int = 0
    fail: bool = False

    async def run(self, sim: Simulation) -> str:
        world = sim.world
        if world.process is None:
            return "not running"
        await _drain_commands(sim)
        await world.deliver_frames()
        await world.flush_writes()
        g = self.guild % sim.guild_count
        player = world.fake_player(sim.guild_id(g))
        what = f"nothing plays in guild {g}: crashed"
        unsaved: UnsavedEnd | None = None
        if player is not None and player.track is not None and not player.paused and not player.stuck:
            world.store.down = True
            entry = entry_of(player.track)
            unsaved = UnsavedEnd(guild=g, session=world.session_id or "", before=copy.deepcopy(sim.model.guilds[g]))
            sim.unsaved_ends.append(unsaved)
            sim.node_ends_track(g, entry)
            if self.fail:
                player.fail("simulated failure")
            else:
                player.finish()
            await world.settle()
            what = f"e{entry} {'failed' if self.fail else 'finished'} in guild {g}, then a crash before the save"
        await sim.stop_process(crash=True)
        if unsaved is not None:
            unsaved.after = copy.deepcopy(sim.model.guilds[g])
        world.store.down = False
        booted = await BootBot().run(sim)
        return f"{what}; {booted}"


@attrs.frozen
class StoreDown(Step):
    async def run(self, sim: Simulation) -> str:
        sim.world.store.down = True
        return "store unreachable"


@attrs.frozen
class StoreUp(Step):
    async def run(self, sim: Simulation) -> str:
        sim.world.store.down = False
        return "store reachable"


@attrs.frozen
class HoldNext(Step):
    """Hold the next call (or websocket frames) of this kind in transit until `Release`."""

    hold: Hold

    async def run(self, sim: Simulation) -> str:
        sim.world.traffic.arm(self.hold)
        return f"will hold the next {self.hold.value}"

    def __repr__(self) -> str:
        return f"HoldNext(Hold.{self.hold.name})"


@attrs.frozen
class Release(Step):
    async def run(self, sim: Simulation) -> str:
        count = sim.world.traffic.release()
        return f"released {count} held" if count else "nothing held"


@attrs.frozen
class CutAsNextStarts(Step):
    """Guild `guild`'s track ends, and every websocket drops just as the client's start of the next track is on its
    way to the node (issue 9 item 7): the start lands while the client is cut off, its events go to the resume."""

    guild: int = 0

    async def run(self, sim: Simulation) -> str:
        traffic = sim.world.traffic
        traffic.arm(Hold.START_REQUEST)
        finished = await Finish(self.guild).run(sim)
        await sim.world.settle()  # the end reaches the client, whose start of the next track is then held
        if not traffic.held:
            if Hold.START_REQUEST in traffic.armed:
                traffic.armed.remove(Hold.START_REQUEST)
            return f"{finished}; no start of a next track: no cut"
        await sim.world.cut(refuse=False)
        released = traffic.release()
        return f"{finished}; websockets cut as the next start goes out ({released} released)"


_FAULTS: dict[str, dict[str, typing.Any]] = {
    # What a real deployment answers instead of the node (see `lightbulb_lavalink.testing.faults`). None of them
    # is the node's verdict on a track, so none may cost a queue entry.
    "502": {"status": 502, "body": NGINX_502_PAGE, "content_type": "text/html"},
    "503": {"status": 503},
    "429": {"status": 429, "message": "Too Many Requests"},
    "404": {"status": 404, "message": "Session not found"},
    "timeout": {"status": 504, "hang": True},  # held unanswered: the client's own timeout fires
    "malformed": {"status": 200, "body": '{"foo": 1}', "content_type": "application/json"},
}


@attrs.frozen
class RestFault(Step):
    """The next request of this kind fails as a proxy, a rate limit or a broken node make it fail: the PATCH of
    guild `guild`'s player (a command, the start of a next track, a restore), or ``GET players`` (a resumed
    sync). The node never sees the request: the model expects no change from it."""

    kind: str = "502"
    target: typing.Literal["patch", "players"] = "patch"
    guild: int = 0

    applied: typing.ClassVar[bool] = False

    async def run(self, sim: Simulation) -> str:
        faults = sim.world.lavalink.faults
        spec = dict(_FAULTS[self.kind])
        if self.kind == "404" and sim.world.seed % 2:
            spec["message"] = NODELINK_SESSION_NOT_FOUND  # odd seeds: NodeLink's wording (its own verdict checks)
        if self.target == "patch":
            g = self.guild % sim.guild_count
            faults.add("PATCH", "/v4/sessions/*/players/*", guild_id=sim.guild_id(g), apply=self.applied, **spec)
            what = f"guild {g}'s next player PATCH"
        else:
            faults.add("GET", "/v4/sessions/*/players", apply=self.applied, **spec)
            what = "the next GET players"
        return f"{what} will fail: {self.kind}" + (" after the node acted" if self.applied else "")


@attrs.frozen
class FailNextStart(Step):
    """Guild `guild`'s track ends and the request that starts the next one fails as `RestFault` makes it fail
    (issue 9 items 3 and 4: a failed request is not a refused track). One step, so that runs reach it often."""

    kind: str = "502"
    guild: int = 0

    async def run(self, sim: Simulation) -> str:
        g = self.guild % sim.guild_count
        player = sim.world.fake_player(sim.guild_id(g))
        if sim.busy(g) or player is None or player.track is None or player.paused or player.stuck:
            return "left out: nothing that can end plays, or a command of the guild is in flight"
        armed = await RestFault(self.kind, "patch", g).run(sim)
        finished = await Finish(g).run(sim)
        return f"{armed}; {finished}"


@attrs.frozen
class RestFaultApplied(RestFault):
    """`RestFault` after the node acted on the request (a proxy that gave up on the answer): the command fails
    but the node did it."""

    applied: typing.ClassVar[bool] = True


# -- time -----------------------------------------------------------------------------------------------------


@attrs.frozen
class Advance(Step):
    """Let time pass, timer by timer."""

    seconds: float

    async def run(self, sim: Simulation) -> str:
        await sim.world.advance(self.seconds)
        return f"{self.seconds:g} s passed"


@attrs.frozen
class AdvanceToNext(Step):
    """Move the clock to the next timer (a reconnect, a retry, a timeout, a periodic update...)."""

    async def run(self, sim: Simulation) -> str:
        passed = await sim.world.advance_to_next()
        return f"{passed:g} s passed"


# -- strategies -----------------------------------------------------------------------------------------------

_guild = st.one_of(st.just(0), st.integers(0, 3))  # half the steps on guild 0, so that steps meet
_index = st.integers(0, 7)

STRATEGIES: dict[type[Step], tuple[int, st.SearchStrategy[Step]]] = {
    # type: (weight, strategy). Earlier entries are what Hypothesis shrinks towards.
    AdvanceToNext: (4, st.just(AdvanceToNext())),
    Advance: (2, st.builds(Advance, st.sampled_from([0.5, 1.0, 2.0, 5.0, 10.0, RESUME_TIMEOUT + 1.0, 61.0]))),
    Join: (2, st.builds(Join, _guild)),
    Add: (4, st.builds(Add, _guild, count=st.integers(1, 3))),
    PlayNow: (3, st.builds(PlayNow, _guild)),
    Play: (2, st.builds(Play, _guild)),
    Skip: (3, st.builds(Skip, _guild)),
    Insert: (2, st.builds(Insert, _guild, index=_index)),
    Remove: (2, st.builds(Remove, _guild, index=_index)),
    Move: (1, st.builds(Move, _guild, source=_index, destination=_index)),
    Clear: (1, st.builds(Clear, _guild)),
    Shuffle: (1, st.builds(Shuffle, _guild, seed=st.integers(0, 3))),
    SetLoop: (2, st.builds(SetLoop, _guild, mode=st.sampled_from(LOOP_MODES))),
    Stop: (1, st.builds(Stop, _guild)),
    Seek: (1, st.builds(Seek, _guild, position=st.integers(0, TRACK_LENGTH // 2))),
    Pause: (1, st.builds(Pause, _guild, paused=st.booleans())),
    Volume: (1, st.builds(Volume, _guild, volume=st.sampled_from([0, 50, 150]))),
    Leave: (2, st.builds(Leave, _guild)),
    Finish: (5, st.builds(Finish, _guild)),
    Fail: (1, st.builds(Fail, _guild)),
    Stick: (1, st.builds(Stick, _guild)),
    Cut: (3, st.just(Cut())),
    FailNextStart: (2, st.builds(FailNextStart, st.sampled_from(list(_FAULTS)), _guild)),
    CutAsNextStarts: (1, st.builds(CutAsNextStarts, _guild)),
    NodeDown: (1, st.just(NodeDown())),
    NodeUp: (1, st.just(NodeUp())),
    RestartNode: (2, st.just(RestartNode())),
    RestartBot: (3, st.builds(RestartBot, crash=st.booleans())),
    CrashAfterEnd: (2, st.builds(CrashAfterEnd, _guild, fail=st.booleans())),
    StopBot: (1, st.builds(StopBot, crash=st.booleans())),
    BootBot: (1, st.just(BootBot())),
    StoreDown: (1, st.just(StoreDown())),
    StoreUp: (1, st.just(StoreUp())),
    HoldNext: (4, st.builds(HoldNext, st.sampled_from(Hold))),
    RestFault: (
        3,
        st.builds(RestFault, st.sampled_from(list(_FAULTS)), st.sampled_from(["patch", "players"]), _guild),
    ),
    RestFaultApplied: (
        1,
        st.builds(RestFaultApplied, st.sampled_from(list(_FAULTS)), st.sampled_from(["patch", "players"]), _guild),
    ),
    Release: (3, st.just(Release())),
}


def steps(disabled: typing.Collection[str] = ()) -> st.SearchStrategy[Step]:
    """One step, weighted as `STRATEGIES` says, leaving out the step types named in `disabled` (and the holds
    named there as ``Hold.START_REQUEST``)."""
    weighted: list[st.SearchStrategy[Step]] = []
    for kind, (weight, strategy) in STRATEGIES.items():
        if kind.__name__ in disabled:
            continue
        if kind is HoldNext:
            holds = [hold for hold in Hold if f"Hold.{hold.name}" not in disabled]
            if not holds:
                continue
            strategy = st.builds(HoldNext, st.sampled_from(holds))
        weighted.extend([strategy] * weight)
    return st.one_of(weighted)
