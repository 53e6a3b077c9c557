"""Node statistics: the `stats` op and ``GET /v4/stats`` (players, memory, CPU, audio frames)."""

from __future__ import annotations

import typing

import attrs

from lightbulb_lavalink.protocol._parse import (
    as_float,
    at,
    get_int,
    loose_float,
    loose_int,
    loose_object,
    make_twin,
    require_object,
    unreadable,
)
from lightbulb_lavalink.protocol.deviations import note

__all__ = ["Cpu", "FrameStats", "Memory", "Stats"]


@attrs.frozen(kw_only=True, weakref_slot=False)
class Memory:
    """The node's memory, in bytes; a value the node did not send readably is ``None``."""

    free: int | None
    """Free memory."""
    used: int | None
    """Used memory."""
    allocated: int | None
    """Memory allocated by the JVM."""
    reservable: int | None
    """The most the JVM may allocate."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "memory") -> typing.Self:
        """Parse the wire Memory; a field that is missing or of the wrong type reads as ``None``."""
        d = data if type(data) is dict else {}
        return cls(
            free=loose_int(d, "free", where),
            used=loose_int(d, "used", where),
            allocated=loose_int(d, "allocated", where),
            reservable=loose_int(d, "reservable", where),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Memory."""
        return {
            "free": self.free,
            "used": self.used,
            "allocated": self.allocated,
            "reservable": self.reservable,
        }


@attrs.frozen(kw_only=True, weakref_slot=False)
class Cpu:
    """The node's CPU usage; a value the node did not send readably is ``None``."""

    cores: int | None
    """Logical CPU cores."""
    system_load: float | None
    """Load of the whole machine, 0.0 to 1.0."""
    lavalink_load: float | None
    """Load caused by the server process, 0.0 to 1.0 (NodeLink names it ``nodelinkLoad``)."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "cpu") -> typing.Self:
        """Parse the wire Cpu (loads may be integers or exponent-form floats; ``nodelinkLoad`` is read too)."""
        d = data if type(data) is dict else {}
        key = "lavalinkLoad"
        if d.get(key) is None and d.get("nodelinkLoad") is not None:
            note(at(where, key), "sent as nodelinkLoad (NodeLink)")
            key = "nodelinkLoad"
        return cls(
            cores=loose_int(d, "cores", where),
            system_load=loose_float(d, "systemLoad", where),
            lavalink_load=loose_float(d, key, where),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Cpu."""
        return {"cores": self.cores, "systemLoad": self.system_load, "lavalinkLoad": self.lavalink_load}


@attrs.frozen(kw_only=True, weakref_slot=False)
class FrameStats:
    """Audio frames per playing player over the last full minute (3000 expected); ``None``: not sent readably."""

    sent: int | None
    """Frames sent to Discord."""
    nulled: int | None
    """Frames that were nulled (no audio ready in time)."""
    deficit: int | None
    """Frames missing: ``3000 - (sent + nulled)``; negative when too many were sent."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "frameStats") -> typing.Self:
        """Parse the wire FrameStats (NodeLink's extra ``expected`` is ignored)."""
        d = require_object(data, where)
        return cls(
            sent=loose_int(d, "sent", where),
            nulled=loose_int(d, "nulled", where),
            deficit=loose_int(d, "deficit", where),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire FrameStats."""
        return {"sent": self.sent, "nulled": self.nulled, "deficit": self.deficit}


@attrs.frozen(kw_only=True, weakref_slot=False)
class Stats:
    """A node's statistics: sent as the `stats` op every minute, and by ``GET /v4/stats``."""

    players: int
    """Players on the node (connected sessions only)."""
    playing_players: int
    """Players with a track that are not paused."""
    uptime: int | None
    """Milliseconds since the node started (``None``: not sent readably)."""
    memory: Memory
    """Memory."""
    cpu: Cpu
    """CPU usage."""
    frame_stats: FrameStats | None = None
    """Frame statistics of this session's players; ``None`` when the node has no usable data (and in REST)."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the wire Stats (an `op` key is ignored; `frameStats` may be missing or ``null``).

        Only the player counts are needed (load balancing counts on them); any other field that is missing or of
        the wrong type reads as ``None`` and is noted (`deviations`), and the stats are kept.
        """
        if cls is Stats:
            stats = fast_stats(data)
            if stats is not None:
                return typing.cast("typing.Self", stats)
        d = require_object(data, where)
        memory = loose_object(d, "memory", where)
        cpu = loose_object(d, "cpu", where)
        frames = d.get("frameStats")
        frame_stats = None
        if type(frames) is dict:
            frame_stats = FrameStats.from_payload(frames, at(where, "frameStats"))
        elif frames is not None:
            unreadable(at(where, "frameStats"), "an object", frames)
        return cls(
            players=get_int(d, "players", where),
            playing_players=get_int(d, "playingPlayers", where),
            uptime=loose_int(d, "uptime", where),
            memory=_UNKNOWN_MEMORY if memory is None else Memory.from_payload(memory, at(where, "memory")),
            cpu=_UNKNOWN_CPU if cpu is None else Cpu.from_payload(cpu, at(where, "cpu")),
            frame_stats=frame_stats,
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Stats in the `stats` op's key order (``frameStats`` always, ``null`` when none)."""
        return {
            "frameStats": None if self.frame_stats is None else self.frame_stats.to_payload(),
            "players": self.players,
            "playingPlayers": self.playing_players,
            "uptime": self.uptime,
            "memory": self.memory.to_payload(),
            "cpu": self.cpu.to_payload(),
        }


_UNKNOWN_MEMORY: typing.Final = Memory(free=None, used=None, allocated=None, reservable=None)
_UNKNOWN_CPU: typing.Final = Cpu(cores=None, system_load=None, lavalink_load=None)
_object_new = object.__new__
_MemoryTwin = make_twin(Memory)
_CpuTwin = make_twin(Cpu)
_FrameStatsTwin = make_twin(FrameStats)
_StatsTwin = make_twin(Stats)


def fast_stats(data: typing.Any) -> Stats | None:
    """Build `Stats` from a well-formed payload, or return ``None`` for `Stats.from_payload` to explain.

    Objects are built as slot-identical twins and then given their class (see `track.new_track_info`).
    """
    try:
        players = data["players"]
        playing_players = data["playingPlayers"]
        uptime = data["uptime"]
        memory = data["memory"]
        free = memory["free"]
        used = memory["used"]
        allocated = memory["allocated"]
        reservable = memory["reservable"]
        cpu = data["cpu"]
        cores = cpu["cores"]
        system_load = cpu["systemLoad"]
        lavalink_load = cpu["lavalinkLoad"]
        frames = data.get("frameStats")
    except (KeyError, TypeError, IndexError, AttributeError):
        return None
    if (
        type(data) is not dict
        or type(players) is not int
        or type(playing_players) is not int
        or type(uptime) is not int
        or type(free) is not int
        or type(used) is not int
        or type(allocated) is not int
        or type(reservable) is not int
        or type(cores) is not int
    ):
        return None
    if type(system_load) is not float:
        if type(system_load) is not int:
            return None
        system_load = as_float(system_load)
    if type(lavalink_load) is not float:
        if type(lavalink_load) is not int:
            return None
        lavalink_load = as_float(lavalink_load)
    frame_stats = None
    if frames is not None:
        try:
            sent = frames["sent"]
            nulled = frames["nulled"]
            deficit = frames["deficit"]
        except (KeyError, TypeError, IndexError):
            return None
        if type(sent) is not int or type(nulled) is not int or type(deficit) is not int:
            return None
        frame_stats = _object_new(_FrameStatsTwin)
        frame_stats.sent = sent
        frame_stats.nulled = nulled
        frame_stats.deficit = deficit
        frame_stats.__class__ = FrameStats
    mem = _object_new(_MemoryTwin)
    mem.free = free
    mem.used = used
    mem.allocated = allocated
    mem.reservable = reservable
    mem.__class__ = Memory
    load = _object_new(_CpuTwin)
    load.cores = cores
    load.system_load = system_load
    load.lavalink_load = lavalink_load
    load.__class__ = Cpu
    stats = _object_new(_StatsTwin)
    stats.players = players
    stats.playing_players = playing_players
    stats.uptime = uptime
    stats.memory = mem
    stats.cpu = load
    stats.frame_stats = frame_stats
    stats.__class__ = Stats
    return stats  # type: ignore[no-any-return]
