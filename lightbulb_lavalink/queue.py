"""The bot-side queue of a guild: upcoming tracks, a bounded history and the loop mode."""

from __future__ import annotations

import enum
import logging
import random
import typing

import attrs

from lightbulb_lavalink.protocol.tracks import Track
from lightbulb_lavalink.saved_tracks import restore_list, restore_track
from lightbulb_lavalink.snapshot import QueueSnapshot, TrackSnapshot

if typing.TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

__all__ = ["DEFAULT_HISTORY_LIMIT", "GuildQueue", "LoopMode", "QueueMove", "restore_track"]

_LOGGER = logging.getLogger("lightbulb_lavalink.queue")

DEFAULT_HISTORY_LIMIT: typing.Final[int] = 100
"""How many played tracks a queue remembers unless told otherwise."""


class LoopMode(enum.StrEnum):
    """What `GuildQueue.advance` does with a track that finished."""

    OFF = "off"
    """Play the queue once: the finished track goes to the history."""
    TRACK = "track"
    """Play the finished track again, forever (skipping still moves on)."""
    QUEUE = "queue"
    """Put the finished track back at the end of the queue, so the whole queue repeats."""


def _check_track(track: object, what: str = "track") -> Track:
    if not isinstance(track, Track):
        raise TypeError(f"{what} must be a Track, not {type(track).__name__}")
    return track


def _check_int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return value


@attrs.frozen(kw_only=True, weakref_slot=False)
class QueueMove:
    """What a command does to the queue once the node took it (see `GuildQueue.plan_skip` and `GuildQueue.apply`).

    Tracks are found by identity when it is applied, so changes a user made meanwhile stand.
    """

    finished: Track | None = None
    """Goes to the history (and, with a `QUEUE` loop, to the end of the queue)."""
    jumped: tuple[Track, ...] = ()
    """Skipped over: taken out (and, with a `QUEUE` loop, put at the end)."""
    started: Track | None = None
    """Taken out of the queue: it plays now (`None`: nothing plays, or it was not queued)."""
    front: Track | None = None
    """Put at the front of the queue first (a track a command displaced before it could play)."""


class GuildQueue:
    """The tracks a guild will play next, the ones it played (`history`) and its `loop` mode.

    The current track is not part of the queue: the player holds it and hands it back to `advance` (or
    `skip`) when it ends. Indexes behave like list indexes (negative ones count from the end), but an index
    out of range raises `IndexError` instead of being clamped. Every change bumps `version` and calls
    `on_change`, so the player can schedule a snapshot write; `guard` is called before every change, and may
    refuse it by raising (a player's queue refuses changes that could not be kept: see `guard`).
    """

    __slots__ = ("_history", "_history_limit", "_loop", "_tracks", "_version", "guard", "on_change")

    _tracks: list[Track]
    _history: list[Track] | None
    _history_limit: int
    _loop: LoopMode
    _version: int

    on_change: Callable[[], None] | None
    """Called with no argument after every change; must be cheap and must not raise (the player schedules a
    snapshot write from it)."""
    guard: Callable[[], None] | None
    """Called with no argument before every change; what it raises refuses the change (nothing is changed). A
    player's queue raises `NodeUnavailable` once its process has handed its sessions over to a new one (a handoff
    deploy): nothing changed from then on could be kept."""

    def __init__(
        self,
        tracks: Iterable[Track] = (),
        *,
        history: Iterable[Track] = (),
        loop: LoopMode | str = LoopMode.OFF,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._history_limit = self._check_limit(history_limit)
        self._tracks = [_check_track(t, "tracks[]") for t in tracks]
        self._history = None
        kept = [_check_track(t, "history[]") for t in history]
        if kept and self._history_limit:
            self._history = kept[-self._history_limit :]
        self._loop = _parse_loop(loop)
        self._version = 0
        self.on_change = on_change
        self.guard = None

    # ------------------------------------------------------------------ reading

    @property
    def version(self) -> int:
        """A counter bumped by every change; compare two readings to know whether anything changed."""
        return self._version

    @property
    def upcoming(self) -> tuple[Track, ...]:
        """The upcoming tracks, next first (a copy)."""
        return tuple(self._tracks)

    @property
    def history(self) -> tuple[Track, ...]:
        """The tracks that were played, most recent last, at most `history_limit` of them (a copy)."""
        return () if self._history is None else tuple(self._history)

    @property
    def history_limit(self) -> int:
        """How many played tracks `history` keeps; setting a lower limit drops the oldest ones."""
        return self._history_limit

    @history_limit.setter
    def history_limit(self, value: int) -> None:
        self._guarded()
        self._history_limit = self._check_limit(value)
        if self._history is not None and len(self._history) > value:
            self._trim_history()
            self._changed()

    @property
    def loop(self) -> LoopMode:
        """The loop mode; may be set to a `LoopMode` or its value (``"track"``)."""
        return self._loop

    @loop.setter
    def loop(self, value: LoopMode | str) -> None:
        self._guarded()
        mode = _parse_loop(value)
        if mode is not self._loop:
            self._loop = mode
            self._changed()

    def peek(self) -> Track | None:
        """The track that plays next (with the loop off), or `None` when the queue is empty."""
        return self._tracks[0] if self._tracks else None

    def index(self, track: Track) -> int:
        """The index of the first upcoming track equal to `track`.

        Raises:
            ValueError: `track` is not in the queue.
        """
        try:
            return self._tracks.index(track)
        except ValueError:
            raise ValueError(f"track {_title(track)!r} is not in the queue") from None

    @property
    def duration(self) -> int:
        """The total length of the upcoming tracks in milliseconds (streams and unknown lengths count as 0)."""
        return sum(t.info.known_length or 0 for t in self._tracks)

    def __len__(self) -> int:
        return len(self._tracks)

    def __bool__(self) -> bool:
        return bool(self._tracks)

    def __iter__(self) -> Iterator[Track]:
        return iter(self._tracks)

    def __contains__(self, item: object) -> bool:
        return item in self._tracks

    @typing.overload
    def __getitem__(self, index: int) -> Track: ...

    @typing.overload
    def __getitem__(self, index: slice) -> tuple[Track, ...]: ...

    def __getitem__(self, index: int | slice) -> Track | tuple[Track, ...]:
        if isinstance(index, slice):
            return tuple(self._tracks[index])
        return self._tracks[self._position(index, "index")]

    def __repr__(self) -> str:
        return (
            f"GuildQueue(upcoming={len(self._tracks)}, history={len(self.history)}, "
            f"loop={self._loop.value!r}, version={self._version})"
        )

    # ----------------------------------------------------------------- changing

    def add(self, track: Track) -> None:
        """Append `track` to the end of the queue.

        Raises:
            TypeError: `track` is not a `Track`.
            NodeUnavailable: What `guard` raises for a player's queue once its process handed its sessions over
                to a new one (every change of a queue raises it then).
        """
        self._guarded()
        self._tracks.append(_check_track(track))
        self._changed()

    def extend(self, tracks: Iterable[Track]) -> int:
        """Append every track, all or none; return how many.

        Raises:
            TypeError: An item is not a `Track` (nothing was added).
        """
        self._guarded()
        new = [_check_track(t, "tracks[]") for t in tracks]
        if new:
            self._tracks.extend(new)
            self._changed()
        return len(new)

    def insert(self, index: int, track: Track) -> None:
        """Insert `track` before position `index`; ``len(queue)`` appends, ``0`` makes it play next.

        Raises:
            IndexError: `index` is outside ``-len(queue)`` to ``len(queue)``.
            TypeError: `track` is not a `Track`, or `index` not an int.
        """
        self._guarded()
        _check_track(track)
        size = len(self._tracks)
        _check_int(index, "index")
        if not -size <= index <= size:
            raise IndexError(f"cannot insert at index {index}: the queue has {size} track(s)")
        self._tracks.insert(index, track)
        self._changed()

    def remove(self, index: int) -> Track:
        """Remove and return the track at `index`.

        Raises:
            IndexError: `index` is out of range (it is never clamped).
        """
        self._guarded()
        track = self._tracks.pop(self._position(index, "index"))
        self._changed()
        return track

    def remove_track(self, track: Track) -> int:
        """Remove the first upcoming track equal to `track`; return its old index.

        Raises:
            ValueError: `track` is not in the queue.
        """
        self._guarded()
        position = self.index(track)
        del self._tracks[position]
        self._changed()
        return position

    def remove_where(self, predicate: Callable[[Track], bool]) -> int:
        """Remove every upcoming track for which `predicate` is true (e.g. by requester); return how many."""
        self._guarded()
        kept = [t for t in self._tracks if not predicate(t)]
        removed = len(self._tracks) - len(kept)
        if removed:
            self._tracks = kept
            self._changed()
        return removed

    def move(self, source: int, destination: int) -> Track:
        """Move the track at `source` so that it ends up at index `destination`; return it.

        Raises:
            IndexError: `source` or `destination` is out of range.
        """
        self._guarded()
        src = self._position(source, "source")
        dst = self._position(destination, "destination")
        track = self._tracks[src]
        if src != dst:
            del self._tracks[src]
            self._tracks.insert(dst, track)
            self._changed()
        return track

    def shuffle(self, rng: random.Random | None = None) -> None:
        """Shuffle the upcoming tracks in place, with `rng` (a `random.Random`) when given."""
        self._guarded()
        if len(self._tracks) > 1:
            (rng or random).shuffle(self._tracks)
            self._changed()

    def clear(self) -> int:
        """Remove every upcoming track (the history stays); return how many there were."""
        self._guarded()
        removed = len(self._tracks)
        if removed:
            self._tracks = []
            self._changed()
        return removed

    def clear_history(self) -> None:
        """Forget the played tracks."""
        self._guarded()
        if self._history:
            self._history = None
            self._changed()

    # ----------------------------------------------------------------- playback

    def advance(self, finished: Track | None) -> Track | None:
        """Return what plays after `finished` ended on its own (a reason with ``mayStartNext``), or `None`.

        With the loop on `TRACK` the same `finished` track comes back (and is not added to the history).
        Otherwise `finished` goes to the history (and, with `QUEUE`, back to the end of the queue) and the
        next track is taken off the front. `finished` is `None` when nothing was playing: the next track is
        simply taken off the front.
        """
        self._guarded()
        if finished is not None:
            _check_track(finished, "finished")
            if self._loop is LoopMode.TRACK:
                return finished
        return self._next(finished)

    def skip(self, current: Track | None, count: int = 1) -> Track | None:
        """Return what plays when the user skips `current`, ignoring a `TRACK` loop; or `None`.

        `current` goes to the history (with a `QUEUE` loop, also to the end of the queue). With ``count > 1``
        the next ``count - 1`` tracks are jumped over: dropped, or moved to the end with a `QUEUE` loop.

        Raises:
            ValueError: `count` is less than 1.
            IndexError: Fewer than ``count - 1`` tracks are queued.
        """
        self._guarded()
        if _check_int(count, "count") < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        if current is not None:
            _check_track(current, "current")
        upcoming = len(self._tracks) + (1 if current is not None and self._loop is LoopMode.QUEUE else 0)
        if count - 1 > upcoming:
            raise IndexError(f"cannot skip {count} track(s): only {upcoming} queued after the current one")
        nxt = self._next(current)
        for _ in range(count - 1):
            if nxt is None:
                break
            if self._loop is LoopMode.QUEUE:
                self._tracks.append(nxt)
            nxt = self._tracks.pop(0) if self._tracks else None
        return nxt

    def plan_skip(self, current: Track | None, count: int = 1) -> QueueMove:
        """What `skip` would do, without doing it: `started` is what plays next (`None`: the queue ends).

        Raises `ValueError` for a `count` below 1 and `IndexError` when fewer tracks are queued.
        """
        if _check_int(count, "count") < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        if current is not None:
            _check_track(current, "current")
        looped = self._loop is LoopMode.QUEUE
        tracks = list(self._tracks)
        if current is not None and looped:
            tracks.append(current)
        if count - 1 > len(tracks):
            raise IndexError(f"cannot skip {count} track(s): only {len(tracks)} queued after the current one")
        nxt = tracks.pop(0) if tracks else None
        jumped: list[Track] = []
        for _ in range(count - 1):
            if nxt is None:
                break
            jumped.append(nxt)
            if looped:
                tracks.append(nxt)
            nxt = tracks.pop(0) if tracks else None
        return QueueMove(finished=current, jumped=tuple(jumped), started=nxt)

    def plan_next(self, *, front: Track | None = None) -> QueueMove:
        """What taking the next track off the front would do (after putting `front` there), without doing it."""
        started = front if front is not None else self._tracks[0] if self._tracks else None
        return QueueMove(front=front, started=started)

    def apply(self, move: QueueMove) -> None:
        """Make the change `move` describes; a track no longer queued (a user removed it meanwhile) is passed over."""
        self._guarded()
        looped = self._loop is LoopMode.QUEUE
        if move.front is not None:
            self._tracks.insert(0, move.front)
        if move.finished is not None:
            self._remember(move.finished)
            if looped:
                self._tracks.append(move.finished)
        for jumped in move.jumped:
            if self._take(jumped) and looped:
                self._tracks.append(jumped)
        if move.started is not None:
            self._take(move.started)
        self._changed()

    def _take(self, track: Track) -> bool:
        for position, queued in enumerate(self._tracks):
            if queued is track:
                del self._tracks[position]
                return True
        return False

    def move_on(self, finished: Track, index: int | None) -> Track | None:
        """`finished` ended and the track at `index` started (what another process did and had no time to save):
        `finished` goes to the history (and, with a `QUEUE` loop, to the end of the queue), the track at `index`
        is taken out and returned. `index` `None`: nothing is taken out (the track is no longer queued)."""
        self._guarded()
        _check_track(finished, "finished")
        position = None if index is None else self._position(index, "index")
        self._remember(finished)
        if self._loop is LoopMode.QUEUE:
            self._tracks.append(finished)
        started = None if position is None else self._tracks.pop(position)
        self._changed()
        return started

    def back(self, current: Track | None) -> Track | None:
        """Return the most recent track of the history, taking it off; `current` goes back to the front.

        Returns `None` (and changes nothing) when the history is empty.
        """
        self._guarded()
        if not self._history:
            return None
        if current is not None:
            self._tracks.insert(0, _check_track(current, "current"))
        previous = self._history.pop()
        if self._loop is LoopMode.QUEUE:
            # The previous track was re-appended when it finished: take that copy out, not to play it twice.
            for position in range(len(self._tracks) - 1, -1, -1):
                if self._tracks[position] == previous:
                    del self._tracks[position]
                    break
        self._changed()
        return previous

    # ---------------------------------------------------------------- snapshots

    def snapshot(self) -> QueueSnapshot:
        """Return the plain-data form a store keeps (encoded tracks and their user data, history, loop)."""
        return QueueSnapshot(
            tracks=tuple(_track_snapshot(t) for t in self._tracks),
            history=tuple(_track_snapshot(t) for t in self._history or ()),
            loop=self._loop.value,
        )

    @classmethod
    def restore(
        cls,
        snapshot: QueueSnapshot,
        *,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
        on_change: Callable[[], None] | None = None,
        strict: bool = False,
    ) -> GuildQueue:
        """Rebuild a queue from `snapshot`, keeping each track's user data.

        Each blob is checked cheaply (base64 and its declared size) and decoded when its `info` is first read.
        A track that fails the check is skipped with a warning, unless `strict` is true: then the
        `TrackDecodeError` propagates. Only the most recent `history_limit` history entries are kept.

        Raises:
            TrackDecodeError: With `strict`, a track's blob fails the check.
        """
        limit = cls._check_limit(history_limit)
        loop = _parse_loop(snapshot.loop)
        cache: dict[str, Track] = {}
        tracks = restore_list(snapshot.tracks, cache, "tracks", strict)
        history = restore_list(snapshot.history[-limit:], cache, "history", strict) if limit else None
        # Built without `__init__`: every track was just made here, there is nothing to check again.
        queue = cls.__new__(cls)
        queue._fill(tracks, history or None, limit, loop, on_change)  # noqa: SLF001 - its own class
        return queue

    def _fill(
        self,
        tracks: list[Track],
        history: list[Track] | None,
        history_limit: int,
        loop: LoopMode,
        on_change: Callable[[], None] | None,
    ) -> None:
        self._tracks = tracks
        self._history = history
        self._history_limit = history_limit
        self._loop = loop
        self._version = 0
        self.on_change = on_change
        self.guard = None

    # ------------------------------------------------------------------ helpers

    def _next(self, finished: Track | None) -> Track | None:
        if finished is not None:
            self._remember(finished)
            if self._loop is LoopMode.QUEUE:
                self._tracks.append(finished)
        nxt = self._tracks.pop(0) if self._tracks else None
        if finished is not None or nxt is not None:
            self._changed()
        return nxt

    def _remember(self, track: Track) -> None:
        if not self._history_limit:
            return
        if self._history is None:
            self._history = [track]
        else:
            self._history.append(track)
            self._trim_history()

    def _trim_history(self) -> None:
        assert self._history is not None
        excess = len(self._history) - self._history_limit
        if excess > 0:
            del self._history[:excess]
        if not self._history:
            self._history = None

    def _position(self, index: int, what: str) -> int:
        size = len(self._tracks)
        _check_int(index, what)
        if not -size <= index < size:
            if not size:
                raise IndexError(f"{what} {index} is out of range: the queue is empty")
            raise IndexError(f"{what} {index} is out of range: the queue has {size} track(s) (0 to {size - 1})")
        return index % size

    def _guarded(self) -> None:
        if self.guard is not None:
            self.guard()

    def _changed(self) -> None:
        self._version += 1
        if self.on_change is not None:
            self.on_change()

    @staticmethod
    def _check_limit(value: int) -> int:
        if _check_int(value, "history_limit") < 0:
            raise ValueError(f"history_limit must be 0 or more, not {value}")
        return value


def _parse_loop(value: LoopMode | str) -> LoopMode:
    try:
        return LoopMode(value)
    except ValueError:
        choices = ", ".join(repr(m.value) for m in LoopMode)
        raise ValueError(f"unknown loop mode {value!r}, expected one of {choices}") from None


def _title(track: Track) -> str:
    return getattr(getattr(track, "info", None), "title", "<unknown>")


def _track_snapshot(track: Track) -> TrackSnapshot:
    return TrackSnapshot.of(track)
