"""What every part of one emulator instance shares: its clock, version, catalog and timing settings."""

from __future__ import annotations

import typing

import attrs

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.testing.catalog import Catalog
    from lightbulb_lavalink.testing.clock import Clock
    from lightbulb_lavalink.testing.plugins import FakePlugins
    from lightbulb_lavalink.testing.versions import EmulatedVersion

__all__ = ["NodeContext"]


@attrs.define(kw_only=True, weakref_slot=False)
class NodeContext:
    """Settings and services of one `FakeLavalink`, handed to its sessions and players."""

    clock: Clock
    """The emulated time source (scaled real time or a manual clock)."""
    version: EmulatedVersion
    """The Lavalink version being emulated."""
    catalog: Catalog
    """Where identifiers are resolved and playback behaviours looked up."""
    player_update_interval: float
    """Seconds (emulated) between periodic ``playerUpdate`` ops of a player with a track."""
    stats_interval: float
    """Seconds (emulated) between ``stats`` ops of a session."""
    track_stuck_threshold_ms: int
    """``thresholdMs`` of ``TrackStuckEvent``, and how long a stuck track waits before it is reported."""
    nodelink_single_process: bool = False
    """NodeLink without its cluster: the players a session had before a resume send nothing on the new socket."""
    plugins: FakePlugins | None = None
    """The plugins served, ``None`` without any."""
