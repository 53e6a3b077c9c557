"""The resume machinery: what a node's `ready` leads to, so every guild keeps playing with its whole queue.

Read in this order: `book` (what the store held at start), `claims` (the guilds a `ready` concerns, taken before
anything awaits), `coordinator` (the flow), `sync` (a resumed session), `recovery` (a lost one), `replay` (the
events a resumed session replays), `report` (what it all led to).
"""

from __future__ import annotations

from lightbulb_lavalink.resuming.book import SessionBook
from lightbulb_lavalink.resuming.coordinator import ResumeCoordinator
from lightbulb_lavalink.resuming.replay import ReplayWindow
from lightbulb_lavalink.resuming.report import SyncReport

__all__ = ["ReplayWindow", "ResumeCoordinator", "SessionBook", "SyncReport"]
