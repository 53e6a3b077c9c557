"""Test without Discord or Lavalink: `FakeLavalink`, a faithful Lavalink v4 node emulator, and its controls.

``async with FakeLavalink(time_scale=1000) as node:`` serves REST and the websocket on ``node.url``;
``python -m lightbulb_lavalink.testing --port 2333`` runs one on its own.
"""

from __future__ import annotations

from lightbulb_lavalink.testing.catalog import Catalog, LoadOutcome, Playback
from lightbulb_lavalink.testing.clock import Clock, ManualClock, ScaledClock, Timer
from lightbulb_lavalink.testing.faults import NGINX_502_PAGE, NODELINK_SESSION_NOT_FOUND, Fault, FaultHit, Faults
from lightbulb_lavalink.testing.filters import FilterSet
from lightbulb_lavalink.testing.planner import FakeRoutePlanner
from lightbulb_lavalink.testing.player import FakePlayer, FakeVoice
from lightbulb_lavalink.testing.server import FakeLavalink
from lightbulb_lavalink.testing.session import FakeSession
from lightbulb_lavalink.testing.traffic import HandshakeRecord, RequestRecord, TrafficLog

__all__ = [
    "NGINX_502_PAGE",
    "NODELINK_SESSION_NOT_FOUND",
    "Catalog",
    "Clock",
    "FakeLavalink",
    "FakePlayer",
    "FakeRoutePlanner",
    "FakeSession",
    "FakeVoice",
    "Fault",
    "FaultHit",
    "Faults",
    "FilterSet",
    "HandshakeRecord",
    "LoadOutcome",
    "ManualClock",
    "Playback",
    "RequestRecord",
    "ScaledClock",
    "Timer",
    "TrafficLog",
]
