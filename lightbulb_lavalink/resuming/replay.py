"""`ReplayWindow`: the events a resumed session replays, from its `ready` to the first `playerUpdate`.

While the bot was away the node queued its events; after a resumed `ready` it sends them in order, then its
periodic player updates resume. Inside the window a track end is applied once per guild, track and reason (a
node may queue the same end twice across two cuts), and the events are counted for the sync report.
"""

from __future__ import annotations

import typing

from lightbulb_lavalink.protocol.messages import TrackEndMessage

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.protocol.messages import EventMessage

__all__ = ["ReplayWindow"]


class ReplayWindow:
    """One node's replay window; owned by the `Node`, opened on a resumed `ready`, closed by a `playerUpdate`."""

    __slots__ = ("_applied", "_count", "_dropped", "_seen", "is_open")

    def __init__(self) -> None:
        self.is_open = False
        """Whether events read now are replayed ones (read for every message: a field, not a property)."""
        self._seen: set[tuple[int, str, str, str]] = set()
        self._count = 0
        self._dropped = 0
        self._applied = 0

    def __repr__(self) -> str:
        return f"ReplayWindow(open={self.is_open}, count={self._count}, dropped={self._dropped})"

    @property
    def count(self) -> int:
        """How many events the last window replayed so far."""
        return self._count

    @property
    def dropped(self) -> int:
        """How many replayed events the last window dropped as duplicates."""
        return self._dropped

    @property
    def applied(self) -> int:
        """How many replayed events the last window handed to a player."""
        return self._applied

    def note_applied(self) -> None:
        """A replayed event was handed to its guild's player."""
        self._applied += 1

    def open(self) -> None:
        """A resumed `ready`: what follows is the replay."""
        self.is_open = True
        self._seen.clear()
        self._count = self._dropped = self._applied = 0

    def reset(self) -> None:
        """A fresh `ready`: nothing is replayed."""
        self.is_open = False
        self._seen.clear()
        self._count = self._dropped = self._applied = 0

    def close(self) -> bool:
        """The replay is over; returns whether a window was open."""
        was_open, self.is_open = self.is_open, False
        self._seen.clear()
        return was_open

    def admit(self, message: EventMessage) -> bool:
        """Count a replayed event; `False` for a duplicate track end, which must not be applied twice."""
        self._count += 1
        if isinstance(message, TrackEndMessage):
            info = message.track.info
            key = (message.guild_id, info.source_name, info.identifier, message.reason.value)
            if key in self._seen:
                self._dropped += 1
                return False
            self._seen.add(key)
        return True
