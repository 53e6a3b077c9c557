"""Test without Discord or Lavalink: your own bot offline (`OfflineBot`), and the fakes it is made of.

``async with OfflineBot(build) as world:`` starts your bot against `FakeLavalink` (a faithful Lavalink v4 node
emulator) and a fake Discord, and drives it as users would (`OfflineBot.invoke`, `OfflineBot.join_voice`,
`OfflineBot.restart`). ``async with FakeLavalink(time_scale=1000) as node:`` serves REST and the websocket on
``node.url``; ``python -m lightbulb_lavalink.testing --port 2333`` runs one on its own.
`lightbulb_lavalink.testing.store_contract` checks a session store of your own.
"""

from __future__ import annotations

from lightbulb_lavalink.testing.catalog import Catalog, LoadOutcome, Playback
from lightbulb_lavalink.testing.clock import Clock, ManualClock, ScaledClock, Timer
from lightbulb_lavalink.testing.discord_rest import Answer, FakeDiscordRest, RecordedRequest
from lightbulb_lavalink.testing.fake_discord import FakeDiscord, FakeGuild
from lightbulb_lavalink.testing.faults import NGINX_502_PAGE, NODELINK_SESSION_NOT_FOUND, Fault, FaultHit, Faults
from lightbulb_lavalink.testing.filters import FilterSet
from lightbulb_lavalink.testing.offline import OfflineBot
from lightbulb_lavalink.testing.planner import FakeRoutePlanner
from lightbulb_lavalink.testing.player import FakePlayer, FakeVoice
from lightbulb_lavalink.testing.process_store import ProcessStore
from lightbulb_lavalink.testing.replies import NoReplyError, Option, Reply
from lightbulb_lavalink.testing.server import FakeLavalink
from lightbulb_lavalink.testing.session import FakeSession
from lightbulb_lavalink.testing.traffic import HandshakeRecord, RequestRecord, TrafficLog
from lightbulb_lavalink.testing.voice_gateway import FakeVoiceGateway

__all__ = [
    "NGINX_502_PAGE",
    "NODELINK_SESSION_NOT_FOUND",
    "Answer",
    "Catalog",
    "Clock",
    "FakeDiscord",
    "FakeDiscordRest",
    "FakeGuild",
    "FakeLavalink",
    "FakePlayer",
    "FakeRoutePlanner",
    "FakeSession",
    "FakeVoice",
    "FakeVoiceGateway",
    "Fault",
    "FaultHit",
    "Faults",
    "FilterSet",
    "HandshakeRecord",
    "LoadOutcome",
    "ManualClock",
    "NoReplyError",
    "OfflineBot",
    "Option",
    "Playback",
    "ProcessStore",
    "RecordedRequest",
    "Reply",
    "RequestRecord",
    "ScaledClock",
    "Timer",
    "TrafficLog",
]
