"""`SyncReport`: what a node's `ready` led to (a resumed sync, a recovery or a fresh session), for status and logs."""

from __future__ import annotations

import datetime
import typing

import attrs

if typing.TYPE_CHECKING:
    from collections.abc import Mapping

    from lightbulb_lavalink.clock import Clock

__all__ = ["SyncReport", "utc"]


def utc(clock: Clock) -> datetime.datetime:
    """The clock's wall time as an aware UTC datetime."""
    return datetime.datetime.fromtimestamp(clock.time(), datetime.UTC)


@attrs.frozen(kw_only=True, weakref_slot=False)
class SyncReport:
    """What a node's `ready` led to, for status commands and logs."""

    kind: typing.Literal["resumed", "recovered", "fresh"]
    """``resumed``: the session survived; ``recovered``: it was lost and guilds were rebuilt;
    ``fresh``: there was nothing to restore."""
    session_id: str
    """The session id the node gave."""
    previous_session_id: str | None
    """The session id we asked to resume, if any."""
    at: datetime.datetime
    """When the `ready` arrived (UTC)."""
    duration: float
    """Seconds from `ready` to every player and queue rebuilt (for recoveries: every guild rejoined)."""
    players_synced: int = 0
    """Players fetched from Lavalink and rebuilt (resumed sessions)."""
    guilds_recovered: tuple[int, ...] = ()
    """Guilds whose player was recreated from a snapshot."""
    guilds_failed: Mapping[int, str] = attrs.field(factory=dict)
    """Guilds that could not be brought back yet, with the reason (their queue is kept; they retry)."""
    replayed_events: int = 0
    """Events the node replayed after a resumed `ready` (final once the replay is over)."""
