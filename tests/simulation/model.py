"""The reference model: per guild, what plays, what comes next, what was played, and what the user did.

Small enough to be obviously right. Entries are numbers (entry 7 is the track ``e7``, added once by a user
command). The model changes only through what the client accepted (a command that returned) and through the
track ends the client processed (the `TrackEndEvent` it dispatched), in the order the client did them. The
playback semantics are those of `GuildQueue.advance` and `GuildQueue.skip`.
"""

from __future__ import annotations

import collections
import random
import typing

import attrs

__all__ = ["LOOP_MODES", "GuildModel", "Model", "UnsavedEnd"]

LOOP_MODES: typing.Final = ("off", "track", "queue")


@attrs.define
class GuildModel:
    """One guild as the user should see it."""

    joined: bool = False
    """Whether the bot is in voice there (the user joined it and has not left)."""
    current: int | None = None
    """The entry playing now (paused or not), or `None` when idle."""
    upcoming: list[int] = attrs.field(factory=list)
    """The queue, next first."""
    history: list[int] = attrs.field(factory=list)
    """Played entries, most recent last, at most the history limit."""
    loop: str = "off"
    """``off``, ``track`` or ``queue``."""
    paused: bool = False
    """Whether playback is paused. Lavalink un-pauses whenever a track is started or stopped without saying
    `paused` (protocol: PATCH step 13), and the client's play, skip and stop say nothing."""
    volume: int = 100

    def entries(self) -> collections.Counter[int]:
        """How many times each entry is held: as the current track, in the queue, in the history."""
        held = collections.Counter(self.upcoming)
        held.update(self.history)
        if self.current is not None:
            held[self.current] += 1
        return held


class Model:
    """Every guild's `GuildModel`, and what became of each entry a user added."""

    def __init__(self, guilds: int, history_limit: int) -> None:
        self.guilds = [GuildModel() for _ in range(guilds)]
        self.history_limit = history_limit
        self.fate: dict[int, str] = {}
        """Entry -> how it left the guild (by a user's command), for reports."""
        self.step = 0
        """The step being applied (set by the runner), for `fate`."""

    def _gone(self, entry: int, why: str) -> None:
        self.fate[entry] = f"{why} at step {self.step}"

    # -- user commands (only when the client accepted them) -------------------------------------------------

    def join(self, g: int) -> None:
        guild = self.guilds[g]
        if not guild.joined:
            self.guilds[g] = GuildModel(joined=True)

    def leave(self, g: int) -> None:
        for entry in self.guilds[g].entries():
            self._gone(entry, "dropped by leave")
        self.guilds[g] = GuildModel()

    def play_now(self, g: int, entry: int, *, requeue: bool = False) -> None:
        """Play `entry` now; the current entry is dropped, or (`requeue`: it never started) plays next."""
        guild = self.guilds[g]
        if guild.current is not None and requeue:
            guild.upcoming.insert(0, guild.current)
        elif guild.current is not None:
            self._gone(guild.current, "replaced by play-now")
        guild.current = entry
        guild.paused = False

    def play_queue(self, g: int) -> None:
        """`Player.play()` with no track: the queue's next entry replaces the current one (none left: nothing)."""
        guild = self.guilds[g]
        if guild.upcoming:
            if guild.current is not None:
                self._gone(guild.current, "replaced by play")
            guild.current = guild.upcoming.pop(0)
            guild.paused = False

    def add(self, g: int, entries: list[int]) -> None:
        self.guilds[g].upcoming.extend(entries)

    def insert(self, g: int, index: int, entry: int) -> None:
        self.guilds[g].upcoming.insert(index, entry)

    def remove(self, g: int, index: int) -> int:
        entry = self.guilds[g].upcoming.pop(index)
        self._gone(entry, "removed")
        return entry

    def move(self, g: int, source: int, destination: int) -> None:
        upcoming = self.guilds[g].upcoming
        upcoming.insert(destination, upcoming.pop(source))

    def clear(self, g: int) -> None:
        guild = self.guilds[g]
        for entry in guild.upcoming:
            self._gone(entry, "cleared")
        guild.upcoming.clear()

    def shuffle(self, g: int, seed: int) -> None:
        upcoming = self.guilds[g].upcoming
        if len(upcoming) > 1:  # as GuildQueue.shuffle: the same seed gives the same order for the same length
            random.Random(seed).shuffle(upcoming)

    def set_loop(self, g: int, mode: str) -> None:
        self.guilds[g].loop = mode

    def set_paused(self, g: int, paused: bool) -> None:
        self.guilds[g].paused = paused

    def set_volume(self, g: int, volume: int) -> None:
        self.guilds[g].volume = volume

    def skip(self, g: int) -> None:
        guild = self.guilds[g]
        guild.current = self._next(guild, guild.current)
        guild.paused = False  # the next track is started, or (none left) the player stopped

    def stop(self, g: int) -> None:
        guild = self.guilds[g]
        if guild.current is not None:
            self._gone(guild.current, "stopped")
            guild.current = None
        guild.paused = False

    # -- node events, as the client processed them ----------------------------------------------------------

    def track_ended(self, g: int, entry: int | None) -> bool:
        """The current entry ended on its own (finished, or failed): what comes next. Returns whether it applied
        (the end of an entry that is no longer current changes nothing)."""
        guild = self.guilds[g]
        if entry is None or guild.current != entry:
            return False
        if guild.loop != "track":
            guild.current = self._next(guild, entry)
        if guild.current is not None:
            guild.paused = False  # a track was started
        return True

    def _next(self, guild: GuildModel, finished: int | None) -> int | None:
        if finished is not None:
            if self.history_limit:
                guild.history.append(finished)
                del guild.history[: -self.history_limit]
            if guild.loop == "queue":
                guild.upcoming.append(finished)
        return guild.upcoming.pop(0) if guild.upcoming else None


@attrs.define(eq=False)
class UnsavedEnd:
    """A track end a process handled and died before saving (`CrashAfterEnd`): only the node knows the queue
    moved on. If that session is lost before a later process syncs it, nobody knows: the snapshot wins, and the
    model goes back to what it was before the end (if nothing changed it since)."""

    guild: int
    session: str
    before: GuildModel
    after: GuildModel | None = None
