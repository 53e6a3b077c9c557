"""Node statistics and info as the emulator reports them (``stats`` op, ``/v4/stats``, ``/v4/info``)."""

from __future__ import annotations

import os
import typing

from lightbulb_lavalink.testing.filters import FILTER_NAMES

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.testing.clock import Clock
    from lightbulb_lavalink.testing.session import FakeSession
    from lightbulb_lavalink.testing.versions import EmulatedVersion

__all__ = ["frame_stats_json", "info_json", "stats_json"]

_MEMORY = {"free": 228_139_904, "used": 103_210_112, "allocated": 331_350_016, "reservable": 8_396_996_608}
_FRAMES_PER_MINUTE = 3000


def stats_json(
    connected: typing.Iterable[FakeSession],
    *,
    session: FakeSession | None,
    uptime_ms: int,
    version: EmulatedVersion,
    clock: Clock,
    frame_stats_null: bool,
) -> dict[str, typing.Any]:
    """A ``stats`` op for `session` (``frameStats`` always present) or, with ``None``, the ``/v4/stats`` body.

    ``players``/``playingPlayers`` count the players of the `connected` sessions (paused ones excluded).
    """
    sessions = list(connected)
    out: dict[str, typing.Any] = {}
    if version.nodelink:
        return _nodelink_stats(sessions, session=session, uptime_ms=uptime_ms, clock=clock)
    if session is not None:
        out["op"] = "stats"
        out["frameStats"] = frame_stats_json(session, clock)
    elif frame_stats_null:
        out["frameStats"] = None
    out["players"] = sum(len(s.players) for s in sessions)
    out["playingPlayers"] = sum(1 for s in sessions for p in s.players.values() if p.playing)
    out["uptime"] = uptime_ms
    out["memory"] = dict(_MEMORY)
    warm = not version.cached_cpu_stats or uptime_ms >= 30_000  # 4.1+: first samples are 0.0
    out["cpu"] = {
        "cores": os.cpu_count() or 1,
        "systemLoad": 0.05597997834786306 if warm else 0.0,
        "lavalinkLoad": 3.497090420769919e-05 if warm else 0.0,
    }
    return out


def _nodelink_stats(
    sessions: list[FakeSession], *, session: FakeSession | None, uptime_ms: int, clock: Clock
) -> dict[str, typing.Any]:
    """NodeLink's stats (transcripts 01, 02): ``cpu.nodelinkLoad``, ``frameStats`` last with an extra ``expected``
    (an object whenever players exist); ``GET /v4/stats`` has ``frameStats: null`` and ``detailedStats``."""
    players = [p for s in sessions for p in s.players.values()]
    out: dict[str, typing.Any] = {"op": "stats"} if session is not None else {}
    out["players"] = len(players)
    out["playingPlayers"] = sum(1 for p in players if p.playing)
    out["uptime"] = uptime_ms
    out["memory"] = dict(_MEMORY)
    out["cpu"] = {"cores": os.cpu_count() or 1, "systemLoad": 0, "nodelinkLoad": 0.02}
    if session is None:
        out["frameStats"] = None
        out["detailedStats"] = {"api": {"requests": {}, "errors": {}}, "sources": {}, "playback": {"events": {}}}
    elif session.players:
        sent = sum(0 if p.stuck else _FRAMES_PER_MINUTE for p in session.players.values())
        out["frameStats"] = {"sent": sent, "nulled": 0, "deficit": 0, "expected": sent}
    else:
        out["frameStats"] = None
    return out


def frame_stats_json(session: FakeSession, clock: Clock) -> dict[str, int] | None:
    """Per-player frame averages over the previous full minute, ``None`` unless a player covered all of it.

    A stuck player's frames count as nulled; everything else as sent (the emulator never drops audio).
    """
    now, now_ms = clock.now(), clock.time_ms()
    previous_minute = (now_ms // 60_000 - 1) * 60_000
    usable = [
        p
        for p in session.players.values()
        if p.playing_since is not None and now_ms - (now - p.playing_since) * 1000 <= previous_minute
    ]
    if not usable:
        return None
    sent = sum(0 if p.stuck else _FRAMES_PER_MINUTE for p in usable) // len(usable)
    nulled = sum(_FRAMES_PER_MINUTE if p.stuck else 0 for p in usable) // len(usable)
    return {"sent": sent, "nulled": nulled, "deficit": _FRAMES_PER_MINUTE - (sent + nulled)}


_NODELINK_FILTERS = (
    "tremolo", "vibrato", "lowpass", "highpass", "rotation", "karaoke", "distortion", "channelMix", "equalizer",
    "chorus", "compressor", "echo", "phaser", "timescale",
)  # fmt: skip


def info_json(
    version: EmulatedVersion, sources: typing.Iterable[str], disabled_filters: typing.Container[str]
) -> dict[str, typing.Any]:
    """The ``/v4/info`` body (``preRelease`` ``""`` for releases, no ``build`` key, no plugins).

    NodeLink's (transcript 02): its own version with array ``prerelease``/``build``, ``buildTime`` -1, git
    "unknown", no ``jvm``/``lavaplayer``, extra ``node``, ``voice``, ``isNodelink``, its own filter names.
    """
    if version.nodelink:
        return {
            "version": {
                "semver": version.semver,
                "major": version.major,
                "minor": version.minor,
                "patch": version.patch,
                "prerelease": [version.pre_release] if version.pre_release else [],
                "build": [],
            },
            "buildTime": -1,
            "git": {"branch": "unknown", "commit": "unknown", "commitTime": -1},
            "node": "v24.22.3",
            "voice": {"name": "@performanc/voice", "version": "github:PerformanC/voice"},
            "isNodelink": True,
            "sourceManagers": list(sources),
            "filters": [name for name in _NODELINK_FILTERS if name not in disabled_filters],
            "plugins": [],
        }
    return {
        "version": {
            "semver": version.semver,
            "major": version.major,
            "minor": version.minor,
            "patch": version.patch,
            "preRelease": version.pre_release,
        },
        "buildTime": 1_720_476_857_034,
        "git": {"branch": "HEAD", "commit": "d7d5a54", "commitTime": 1_720_475_342_000},
        "jvm": "21.0.6",
        "lavaplayer": "2.2.3",
        "sourceManagers": list(sources),
        "filters": [name for name in FILTER_NAMES if name not in disabled_filters],
        "plugins": [],
    }
