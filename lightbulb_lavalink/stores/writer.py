"""`SnapshotWriter`: coalesced, retried snapshot writes above any store, so a busy or failing store never
slows or crashes the bot."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import typing

from lightbulb_lavalink.clock import SYSTEM_CLOCK
from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.snapshot import GuildSnapshot
from lightbulb_lavalink.stores.base import snapshot_text

if typing.TYPE_CHECKING:
    import collections.abc
    import types

    from lightbulb_lavalink.clock import Clock
    from lightbulb_lavalink.stores.base import SessionStore, StoreKey

__all__ = ["SnapshotProducer", "SnapshotWriter"]

_LOGGER = logging.getLogger("lightbulb_lavalink.stores.writer")

SnapshotProducer = typing.Callable[[], GuildSnapshot | None]
"""A callable returning a guild's latest snapshot when the write happens (`None`: nothing to write)."""

_Slot = tuple["StoreKey", int]


class _Delete:
    """Marks a pending deletion."""

    __slots__ = ()


_DELETE = _Delete()
_Value = GuildSnapshot | SnapshotProducer | _Delete
_Batch = tuple[dict["StoreKey", str | None], dict[_Slot, _Value]]


class SnapshotWriter:
    """Writes guild snapshots behind the bot's back: at most one write per guild per `min_interval` seconds.

    `schedule()` is cheap and synchronous: it only remembers the latest snapshot (or how to build it).
    The first change of a guild is written at once, later ones are coalesced so a busy guild costs at most
    one write per `min_interval`; guilds that are due together go to the store in one `put_guilds` call.
    When the store fails, nothing is raised to the caller: one warning says why, writes are retried with
    exponential backoff (from `retry_initial` up to `retry_max` seconds), only the latest snapshot of each
    guild is kept, and one info line on recovery says how long writes were delayed and for how many guilds.
    `close()` writes everything pending. The writer owns one task, started on first use.
    """

    __slots__ = (
        "_batch_size",
        "_clock",
        "_close_task",
        "_close_timeout",
        "_closed",
        "_due",
        "_last_write",
        "_min_interval",
        "_outage_failures",
        "_outage_since",
        "_outage_slots",
        "_pending",
        "_planned_wake",
        "_retry_at",
        "_retry_delay",
        "_retry_initial",
        "_retry_max",
        "_sessions",
        "_store",
        "_task",
        "_wake",
        "_warned_closed",
        "_write_lock",
        "last_error",
        "written",
    )

    def __init__(
        self,
        store: SessionStore,
        *,
        min_interval: float = 1.0,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
        close_timeout: float = 10.0,
        batch_size: int = 250,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        """Write to `store` (which the caller opens and closes).

        `close_timeout` bounds how long `close()` keeps retrying a failing store before giving up;
        `batch_size` is the most snapshots handed to one `put_guilds` call (the event loop runs between them).
        """
        if min_interval < 0 or retry_initial <= 0 or retry_max < retry_initial or batch_size < 1:
            raise ValueError("need min_interval >= 0, 0 < retry_initial <= retry_max and batch_size >= 1")
        self._store = store
        self._clock = clock
        self._min_interval = min_interval
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._close_timeout = close_timeout
        self._batch_size = batch_size
        # What to write per guild, and when it may be: kept as they are given, with no object made per entry (one
        # kept until its write would outlive the collector's young generations, which makes its full passes come
        # sooner; the writer sees a change of every busy guild every second).
        self._pending: dict[_Slot, _Value] = {}
        self._due: dict[_Slot, float] = {}
        self._sessions: dict[StoreKey, str | None] = {}
        self._last_write: dict[_Slot, float] = {}
        self._wake = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._planned_wake = -math.inf  # -inf: the loop is awake (or not started) and will look again
        self._retry_at = -math.inf
        self._retry_delay = retry_initial
        self._outage_since: float | None = None
        self._outage_slots: set[_Slot] = set()
        self._outage_failures = 0
        self._closed = False
        self._close_task: asyncio.Future[None] | None = None
        self._warned_closed = False
        self.last_error: str | None = None
        """Why the last write failed, `None` once a write succeeds again."""
        self.written = 0
        """Snapshots written (and deletions made) so far."""

    @property
    def store(self) -> SessionStore:
        """The store written to."""
        return self._store

    @property
    def pending(self) -> int:
        """Guild writes (and session ids) waiting to be written."""
        return len(self._pending) + len(self._sessions)

    @property
    def healthy(self) -> bool:
        """`False` while the store is failing (writes are being retried)."""
        return self._outage_since is None

    @property
    def outage_duration(self) -> float:
        """Seconds since the store started failing, 0.0 when healthy."""
        return 0.0 if self._outage_since is None else self._clock.monotonic() - self._outage_since

    async def __aenter__(self) -> SnapshotWriter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        await self.close()

    # -- scheduling (synchronous, never raises for store trouble) ----------------------------------------

    def schedule(
        self, key: StoreKey, snapshot: GuildSnapshot | SnapshotProducer, *, guild_id: int | None = None
    ) -> None:
        """Remember the guild's latest snapshot, or a callable building it at write time (give `guild_id`)."""
        if isinstance(snapshot, GuildSnapshot):
            gid = snapshot.guild_id
        elif callable(snapshot) and guild_id is not None:
            gid = guild_id
        else:
            raise TypeError("schedule() takes a GuildSnapshot, or a callable and guild_id=")
        self._enqueue((key, gid), snapshot)

    def delete(self, key: StoreKey, guild_id: int) -> None:
        """Forget a guild's snapshot (replacing any write still pending for it)."""
        self._enqueue((key, guild_id), _DELETE)

    def schedule_session(self, key: StoreKey, session_id: str | None) -> None:
        """Save (or with `None` forget) a session id as soon as possible, retried like snapshots."""
        if self._refuse():
            return
        self._sessions[key] = session_id
        self._poke(self._clock.monotonic())

    def _refuse(self) -> bool:
        if not self._closed:
            return False
        if not self._warned_closed:
            self._warned_closed = True
            _LOGGER.warning("snapshot writer for %s is closed: later changes are not saved", self._store.url)
        return True

    def _enqueue(self, slot: _Slot, value: _Value) -> None:
        if self._refuse():
            return
        pending = self._pending
        current = pending.get(slot)
        if current is not None:
            pending[slot] = value  # the latest wins; it is due when the first one was
            return
        now = self._clock.monotonic()
        last = self._last_write.get(slot)
        due = now if last is None else max(now, last + self._min_interval)
        pending[slot] = value
        self._due[slot] = due
        self._poke(due)

    def _poke(self, due: float) -> None:
        if self._task is not None and self._task.done() and not self._closed:
            _LOGGER.warning("the snapshot writer's task had stopped; starting it again")
            self._task = None
        if self._task is None and not self._closed:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop yet: `flush()` or the first call inside a loop starts it
                return
            self._task = loop.create_task(self._run(), name="lightbulb-lavalink snapshot writer")
        if max(due, self._retry_at) < self._planned_wake:
            self._wake.set()

    # -- the owned task ----------------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._closed:
            try:
                now = self._clock.monotonic()
                wake_at = self._next_due()
                if wake_at <= now:
                    async with self._write_lock:
                        await self._write_batch(self._take(now + self._min_interval * 0.1))
                    continue
                self._planned_wake = wake_at
                self._wake.clear()
                timeout = None if wake_at == math.inf else wake_at - now
                with contextlib.suppress(TimeoutError):
                    async with self._clock.timeout(timeout):
                        await self._wake.wait()
                self._planned_wake = -math.inf
            except Exception:  # a bug, not a store failure: keep the writer alive
                _LOGGER.exception("unexpected error in the snapshot writer; it keeps going")
                await self._clock.sleep(self._retry_initial)

    def _next_due(self) -> float:
        if not self._sessions and not self._pending:
            return math.inf
        dues = self._due
        due = -math.inf if self._sessions else min(dues.values())
        return max(due, self._retry_at)

    def _take(self, until: float) -> _Batch:
        sessions, self._sessions = self._sessions, {}
        dues = self._due
        taken = {slot: value for slot, value in self._pending.items() if dues[slot] <= until}
        now = self._clock.monotonic()
        for slot in taken:
            del self._pending[slot]
            del dues[slot]
            # A change arriving while this write is in flight waits a full interval from now.
            self._last_write[slot] = now
        return sessions, taken

    # -- writing -----------------------------------------------------------------------------------------

    async def _write_batch(self, batch: _Batch) -> bool:
        """Write `batch`; on failure put back what was not written and enter (or stay in) the outage."""
        sessions, entries = batch
        if not sessions and not entries:
            return True
        groups: dict[StoreKey, list[_Slot]] = {}
        for slot in entries:
            groups.setdefault(slot[0], []).append(slot)
        done_sessions: list[StoreKey] = []
        done: list[_Slot] = []
        try:
            for key, session_id in sessions.items():
                await self._store.set_session(key, session_id)
                done_sessions.append(key)
            for key, group in groups.items():
                await self._write_group(key, group, entries)
                done.extend(group)
        except BaseException as exc:
            self._requeue(sessions, done_sessions, entries, set(done), outage=isinstance(exc, Exception))
            if not isinstance(exc, Exception):
                raise  # cancelled: what was not written is pending again for `close()`
            self._failed(exc)
            return False
        self._succeeded(entries)
        return True

    async def _write_group(self, key: StoreKey, group: list[_Slot], entries: dict[_Slot, _Value]) -> None:
        deletions = [slot[1] for slot in group if isinstance(entries[slot], _Delete)]
        values = [slot for slot in group if not isinstance(entries[slot], _Delete)]
        written = 0
        for start in range(0, len(values), self._batch_size):
            if start:
                await asyncio.sleep(0)  # let the bot run between chunks: encoding them takes CPU
            # Built chunk by chunk, just before they are written, and dropped before the bot runs again: snapshots
            # kept across that turn would outlive the collector's young generations (see `SnapshotWriter`).
            chunk = _built(values[start : start + self._batch_size], entries)
            try:
                await self._store.put_guilds(key, chunk)
            except StoreError:
                good = [s for s in chunk if _encodable(s)]
                if len(good) == len(chunk):
                    raise
                if good:  # the store is fine; a snapshot was not: save the others
                    await self._store.put_guilds(key, good)
            written += len(chunk)
            del chunk
        for guild_id in deletions:
            await self._store.delete_guild(key, guild_id)
        self.written += written + len(deletions)

    def _requeue(
        self,
        sessions: dict[StoreKey, str | None],
        done_sessions: list[StoreKey],
        entries: dict[_Slot, _Value],
        done: set[_Slot],
        *,
        outage: bool,
    ) -> None:
        for key, session_id in sessions.items():
            if key not in done_sessions:
                self._sessions.setdefault(key, session_id)  # a newer id scheduled meanwhile wins
        now = self._clock.monotonic()
        for slot, value in entries.items():
            if slot not in done:
                if outage:
                    self._outage_slots.add(slot)
                if slot not in self._pending:  # a newer value scheduled meanwhile wins
                    self._pending[slot] = value
                    self._due[slot] = now

    def _failed(self, exc: Exception) -> None:
        reason = str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
        self.last_error = reason
        self._outage_failures += 1
        if self._outage_since is None:
            self._outage_since = self._clock.monotonic()
            self._retry_delay = self._retry_initial
            _LOGGER.warning(
                "session store %s is failing (%s); the bot keeps running, %d write(s) wait and are retried "
                "with backoff",
                self._store.url,
                reason,
                self.pending,
            )
        else:
            self._retry_delay = min(self._retry_delay * 2, self._retry_max)
            _LOGGER.debug("session store %s still failing (%s)", self._store.url, reason)
        self._retry_at = self._clock.monotonic() + self._retry_delay * random.uniform(0.8, 1.0)

    def _succeeded(self, written: collections.abc.Iterable[_Slot]) -> None:
        if self._outage_since is not None:
            self._outage_slots.update(written)  # changed during the outage, saved only now
            _LOGGER.info(
                "session store %s is back: writes were delayed %.1f s (%d failed attempt(s)); %d guild(s) "
                "had unsaved changes in that window and are now saved",
                self._store.url,
                self._clock.monotonic() - self._outage_since,
                self._outage_failures,
                len(self._outage_slots),
            )
            self._outage_since = None
            self._outage_slots.clear()
            self._outage_failures = 0
        self.last_error = None
        self._retry_at = -math.inf
        if len(self._last_write) > 2 * len(self._pending) + 1024:
            horizon = self._clock.monotonic() - self._min_interval
            self._last_write = {slot: t for slot, t in self._last_write.items() if t > horizon}

    # -- flushing and closing ----------------------------------------------------------------------------

    def discard(self) -> None:
        """Forget every write not made yet, session ids included, as a process that dies loses them (a crash in a
        test); `close()` then has nothing of them to write."""
        self._pending.clear()
        self._due.clear()
        self._sessions.clear()

    async def flush(self) -> None:
        """Write everything pending now (ignoring `min_interval` and backoff).

        Raises `StoreError` if the store fails; the writes stay pending and are retried in the background.
        """
        async with self._write_lock:
            ok = await self._write_batch(self._take(math.inf))
        if not ok:
            problem = f"{self.pending} write(s) not saved: {self.last_error}"
            raise StoreError(f"session store {self._store.url}: {problem}")
        if self._pending or self._sessions:  # scheduled while writing
            self._poke(self._clock.monotonic())

    async def close(self) -> None:
        """Write everything pending (retrying up to `close_timeout` seconds), then stop the task. Idempotent.

        Never raises for store trouble: what could not be saved is logged as an error. A cancelled `close()`
        keeps closing in the background, and a second call waits for that same close.
        """
        if self._close_task is None:
            self._close_task = asyncio.ensure_future(self._close())
        await asyncio.shield(self._close_task)

    async def _close(self) -> None:
        self._closed = True
        timeout = self._close_timeout
        deadline = self._clock.monotonic() + timeout
        task, self._task = self._task, None
        if task is not None:
            self._wake.set()
            with contextlib.suppress(TimeoutError):
                async with self._clock.timeout(timeout):
                    await asyncio.wait({task})
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        delay = self._retry_initial
        while self._pending or self._sessions:
            remaining = deadline - self._clock.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                async with self._clock.timeout(remaining):
                    await self.flush()
            except (StoreError, TimeoutError):
                if self._clock.monotonic() + delay > deadline:
                    _LOGGER.error(
                        "closing the snapshot writer: %d write(s) could not be saved to %s within %.1f s: %s",
                        self.pending,
                        self._store.url,
                        timeout,
                        self.last_error or "the store did not answer",
                    )
                    return
                await self._clock.sleep(delay)
                delay = min(delay * 2, self._retry_max)


def _built(slots: list[_Slot], entries: dict[_Slot, _Value]) -> list[GuildSnapshot]:
    """The snapshots of `slots`: given, or built now by their producer (one that fails is logged and skipped)."""
    snapshots: list[GuildSnapshot] = []
    for slot in slots:
        guild_id, value = slot[1], entries[slot]
        assert not isinstance(value, _Delete)  # deletions are made apart (`_write_group`)
        if isinstance(value, GuildSnapshot):
            snapshots.append(value)
            continue
        try:
            built = value()
        except Exception:
            _LOGGER.exception("building guild %s's snapshot failed; change not saved", guild_id)
            continue
        if built is not None:
            snapshots.append(built)
    return snapshots


def _encodable(snapshot: GuildSnapshot) -> bool:
    try:
        snapshot_text(snapshot)  # quietly: the store warns about left-out track data when it writes the guild
    except StoreError as exc:
        _LOGGER.error("%s; this change is not saved", exc)
        return False
    return True

