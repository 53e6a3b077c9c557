"""Invariants: the cheap ones after every step, and the client against the model once everything healed.

Each kind of failure is its own exception type raised from its own line, so that Hypothesis tells distinct
bugs apart (it reports one shrunk schedule per distinct failure).
"""

from __future__ import annotations

import collections
import typing

import attrs

from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.protocol.codec import decode_track

from .harness import NODE, entry_of

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.snapshot import GuildSnapshot, TrackSnapshot

    from .model import GuildModel
    from .runner import Simulation

__all__ = [
    "DoublePlaybackError",
    "DuplicateEntryError",
    "ExtraEntriesError",
    "LeftGuildPlaysError",
    "LoggedTracebackError",
    "LostEntriesError",
    "StaleSnapshotError",
    "StuckCommandError",
    "UnexpectedError",
    "Violation",
    "WrongPlaybackError",
    "always",
    "divergence",
    "final",
]


class Violation(AssertionError):
    """The client broke a promise the model keeps."""


class StuckCommandError(Violation):
    """A user command never finished, even after everything healed and time passed past every timer."""


class UnexpectedError(Violation):
    """A user command raised something other than a `LavalinkError` (a rejection) or `TimeoutError`."""


class DuplicateEntryError(Violation):
    """An entry is twice in a guild's current track and queue, or in two guilds."""


class LeftGuildPlaysError(Violation):
    """A guild the user left has a player again (in the client, on the node or in the store)."""


class LostEntriesError(Violation):
    """Entries the user added and did not remove are nowhere (not current, not queued, not in the history)."""


class ExtraEntriesError(Violation):
    """Entries are held more often than the model says (duplicated, or back after the user removed them)."""


class WrongPlaybackError(Violation):
    """The guild does not play what the model says (current track, order, loop, pause, volume)."""


class StaleSnapshotError(Violation):
    """After everything healed, the store does not hold what the guild plays: the next restart would lose it."""


class DoublePlaybackError(Violation):
    """Two sessions of the node play in the same guild."""


class LoggedTracebackError(Violation):
    """The library logged an exception with a traceback (a background task failed)."""


@attrs.frozen
class View:
    """A guild as the client (or the store) holds it, in entry numbers (`None`: a track of no entry)."""

    current: int | None
    upcoming: tuple[int | None, ...]
    history: tuple[int | None, ...]
    loop: str
    paused: bool
    volume: int

    def entries(self) -> collections.Counter[int | None]:
        held = collections.Counter(self.upcoming)
        held.update(self.history)
        if self.current is not None:
            held[self.current] += 1
        return held

    def __str__(self) -> str:
        return (
            f"current {_e(self.current)}, upcoming {_es(self.upcoming)}, history {_es(self.history)}, "
            f"loop {self.loop}, paused {self.paused}, volume {self.volume}"
        )


def _e(entry: int | None) -> str:
    return "-" if entry is None else f"e{entry}"


def _es(entries: typing.Iterable[int | None]) -> str:
    return "[" + ", ".join("?" if e is None else f"e{e}" for e in entries) + "]"


def _model_view(guild: GuildModel) -> View:
    return View(
        current=guild.current,
        upcoming=tuple(guild.upcoming),
        history=tuple(guild.history),
        loop=guild.loop,
        paused=guild.paused,
        volume=guild.volume,
    )


def client_view(sim: Simulation, g: int) -> View | None:
    process = sim.world.process
    player = process.client.get_player(sim.guild_id(g)) if process is not None else None
    if player is None:
        return None
    return View(
        current=entry_of(player.track if player.track is not None else player.pending),
        upcoming=tuple(entry_of(t) for t in player.queue),
        history=tuple(entry_of(t) for t in player.queue.history),
        loop=player.queue.loop.value,
        paused=player.paused,
        volume=player.volume,
    )


def _snapshot_entry(track: TrackSnapshot | None) -> int | None:
    if track is None:
        return None
    try:
        return entry_of(decode_track(track.encoded))
    except LavalinkError:
        return None


def snapshot_view(snapshot: GuildSnapshot) -> View:
    queue = snapshot.queue
    return View(
        current=_snapshot_entry(snapshot.track),
        upcoming=tuple(_snapshot_entry(t) for t in queue.tracks),
        history=tuple(_snapshot_entry(t) for t in queue.history),
        loop=queue.loop,
        paused=snapshot.paused,
        volume=snapshot.volume,
    )


def node_players(sim: Simulation, g: int) -> dict[str, str]:
    """Session id -> what the node's player of guild `g` plays there, for every live session."""
    lavalink = sim.world.lavalink
    found: dict[str, str] = {}
    for session_id, session in lavalink.sessions.items():
        player = session.players.get(sim.guild_id(g))
        if player is not None:
            state = "paused session" if session.paused else "connected"
            track = player.track
            found[session_id] = (
                f"{_e(entry_of(track)) if track is not None else 'idle'} "
                f"(paused {player.paused}, volume {player.volume}, {state})"
            )
    return found


def _client_session(sim: Simulation) -> str | None:
    process = sim.world.process
    return process.client.nodes[NODE].session_id if process is not None else None


def describe(sim: Simulation) -> str:
    """Every guild as the model, the client, the node and the store see it; then what is held and logged."""
    lines: list[str] = []
    saved = sim.world.store.saved(sim.world.store_key())
    for g, guild in enumerate(sim.model.guilds):
        lines.append(f"guild {g}:")
        lines.append(f"  model   {'joined' if guild.joined else 'not joined'}: {_model_view(guild)}")
        view = client_view(sim, g)
        lines.append(f"  client  {view if view is not None else 'no player'}")
        players = node_players(sim, g)
        client_session = _client_session(sim)
        for session_id, what in players.items():
            mark = " (the client's session)" if session_id == client_session else ""
            lines.append(f"  node    session {session_id}{mark}: {what}")
        if not players:
            lines.append("  node    no player")
        snap = saved.get(sim.guild_id(g))
        lines.append(f"  store   {snapshot_view(snap)}" if snap is not None else "  store   no snapshot")
    if sim.first_divergence:
        lines.append(f"client and model first differed {sim.first_divergence}")
    held = sim.world.traffic.describe()
    if held:
        lines.append(f"held in transit: {held}")
    for command in sim.in_flight():
        lines.append(f"in flight: {command.label} (step {command.step})")
    warnings = [f"{r.levelname} {r.name}: {r.getMessage()}" for r in sim.logs[-12:]]
    if warnings:
        lines.append("last library log lines:")
        lines.extend(f"  {w}" for w in warnings)
    return "\n".join(lines)


# -- after every step ---------------------------------------------------------------------------------------


def divergence(sim: Simulation) -> str:
    """Guilds where the running client differs from the model now (not a failure: the client may lag)."""
    if sim.world.process is None:
        return ""
    differ = []
    for g, guild in enumerate(sim.model.guilds):
        view = client_view(sim, g)
        if guild.joined != (view is not None) or (view is not None and view != _model_view(guild)):
            differ.append(f"guild {g}")
    return ", ".join(differ)


def always(sim: Simulation) -> None:
    """What must hold at every moment: no entry twice in play, no player for a guild the user left."""
    seen: dict[int, int] = {}
    for g, guild in enumerate(sim.model.guilds):
        view = client_view(sim, g)
        if view is not None:
            live = [e for e in (view.current, *view.upcoming) if e is not None]
            twice = sorted(e for e, n in collections.Counter(live).items() if n > 1)
            if twice:
                raise DuplicateEntryError(f"guild {g} holds {_es(twice)} twice (current + queue)\n{describe(sim)}")
            for entry in set(live) | {e for e in view.history if e is not None}:
                other = seen.setdefault(entry, g)
                if other != g:
                    raise DuplicateEntryError(f"e{entry} is in guilds {other} and {g}\n{describe(sim)}")
        if not guild.joined and not sim.busy(g) and view is not None:
            raise LeftGuildPlaysError(f"guild {g} was left (or never joined) but has a player\n{describe(sim)}")


# -- once everything healed ---------------------------------------------------------------------------------


def final(sim: Simulation) -> None:
    """The client against the model after the heal: nothing lost, nothing back, everything where it should be."""
    stuck = sim.in_flight()
    if stuck:
        names = ", ".join(f"{c.label} (step {c.step})" for c in stuck)
        raise StuckCommandError(f"commands never finished: {names}\n{describe(sim)}")
    if sim.problems:
        raise UnexpectedError("; ".join(sim.problems) + "\n" + describe(sim))
    process = sim.world.process
    assert process is not None
    saved = sim.world.store.saved(sim.world.store_key())
    for g, guild in enumerate(sim.model.guilds):
        if guild.joined:
            continue
        back = [
            where
            for where, found in (
                ("the client has a player", client_view(sim, g) is not None),
                ("the node has a player", bool(node_players(sim, g))),
                (
                    "the store has a snapshot (the next boot brings it back)",
                    sim.guild_id(g) in saved and not saved[sim.guild_id(g)].left,  # a tombstone brings nothing back
                ),
            )
            if found
        ]
        if back:
            raise LeftGuildPlaysError(f"guild {g} was left (or never joined) but {', '.join(back)}\n{describe(sim)}")
    lost: list[str] = []
    extra: list[str] = []
    for g, guild in enumerate(sim.model.guilds):
        view = client_view(sim, g)
        have = view.entries() if view is not None else collections.Counter[int | None]()
        want = collections.Counter[int | None](guild.entries())
        for entry, count in sorted((want - have).items(), key=lambda item: item[0] or 0):
            lost.append(f"guild {g}: {_e(entry)} x{count} ({_where(guild, entry)})")
        for entry, count in sorted((have - want).items(), key=lambda item: item[0] or 0):
            if entry is None:
                fate = "not an entry"
            elif want[entry]:
                fate = f"holds it {want[entry]} time(s): {_where(guild, entry).removeprefix('the model: ')}"
            else:
                fate = sim.model.fate.get(entry, "never added there")
            extra.append(f"guild {g}: {_e(entry)} x{count} too many (the model {fate})")
    if lost:
        raise LostEntriesError("entries lost: " + "; ".join(lost) + "\n" + describe(sim))
    if extra:
        raise ExtraEntriesError("entries held too often: " + "; ".join(extra) + "\n" + describe(sim))
    session_id = _client_session(sim)
    for g, guild in enumerate(sim.model.guilds):
        if not guild.joined:
            continue
        want_view = _model_view(guild)
        view = client_view(sim, g)
        player = sim.world.lavalink.players_of(session_id).get(sim.guild_id(g)) if session_id else None
        node_entry = entry_of(player.track) if player is not None else None
        wrong = []
        if view != want_view:
            wrong.append("the client's player differs")
        if player is None:
            wrong.append("the node has no player")
        elif (node_entry, player.paused, player.volume) != (guild.current, guild.paused, guild.volume):
            wrong.append(f"the node plays {_e(node_entry)} (paused {player.paused}, volume {player.volume})")
        if wrong:
            raise WrongPlaybackError(f"guild {g}: " + "; ".join(wrong) + "\n" + describe(sim))
        snap = saved.get(sim.guild_id(g))
        if snap is None or snapshot_view(snap) != want_view:
            raise StaleSnapshotError(f"guild {g}: the store does not hold what plays\n{describe(sim)}")
    for g in range(sim.guild_count):
        playing = [s for s, what in node_players(sim, g).items() if not what.startswith("idle")]
        if len(playing) > 1:
            raise DoublePlaybackError(f"guild {g} plays in sessions {playing}\n{describe(sim)}")
    tracebacks = [r for r in sim.logs if r.exc_info]
    if tracebacks:
        first = tracebacks[0]
        error = first.exc_info[1] if first.exc_info else None
        raise LoggedTracebackError(
            f"{len(tracebacks)} traceback(s) logged; first: {first.name}: {first.getMessage()}: {error!r}\n"
            f"{describe(sim)}"
        )


def _where(guild: GuildModel, entry: int | None) -> str:
    places = ["current"] if entry is not None and guild.current == entry else []
    places += [f"upcoming #{i}" for i, e in enumerate(guild.upcoming) if e == entry]
    places += ["history" for e in guild.history if e == entry]
    return "the model: " + ", ".join(places)
