"""SnapshotWriter: coalescing per guild, batching, flush and close, and riding out a failing store."""

from __future__ import annotations

import asyncio
import logging
import typing

import pytest

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.snapshot import GuildSnapshot
from lightbulb_lavalink.stores import MemoryStore, SnapshotWriter, StoreKey
from lightbulb_lavalink.testing import ManualClock
from tests.loop_turns import step

from .helpers import CountingStore, eventually, snapshot

if typing.TYPE_CHECKING:
    import collections.abc

    from .conftest import Backend

KEY = StoreKey(7, "main")
WRITER_LOG = "lightbulb_lavalink.stores.writer"


class FlakyStore(MemoryStore):
    """A real MemoryStore whose writes fail while `down` is set, as a store whose server went away."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.attempts = 0

    def _check(self) -> None:
        self.attempts += 1
        if self.down:
            raise StoreError("memory://: connection refused (test outage)")

    async def set_session(self, key: StoreKey, session_id: str | None) -> None:
        self._check()
        await super().set_session(key, session_id)

    async def put_guilds(self, key: StoreKey, snapshots: collections.abc.Iterable[GuildSnapshot]) -> None:
        self._check()
        await super().put_guilds(key, snapshots)

    async def delete_guild(self, key: StoreKey, guild_id: int) -> None:
        self._check()
        await super().delete_guild(key, guild_id)


async def _stored_position(store: CountingStore | MemoryStore, guild_id: int) -> int | None:
    guild = (await store.get_guilds(KEY)).get(guild_id)
    return None if guild is None else guild.position


async def test_first_write_is_immediate_then_changes_coalesce(backend: Backend) -> None:
    store = CountingStore(await backend.opened())
    writer = SnapshotWriter(store, min_interval=3600)
    writer.schedule(KEY, snapshot(1, position=0))

    async def first_written() -> bool:
        return writer.written == 1 and await _stored_position(store, 1) == 0

    await eventually(first_written, "the first snapshot written without waiting for min_interval")
    for position in range(1, 200):
        writer.schedule(KEY, snapshot(1, position=position))
        await asyncio.sleep(0)
    assert store.writes == {1: 1}  # 199 changes inside the interval: nothing more written yet
    assert writer.pending == 1
    await writer.flush()
    assert store.writes == {1: 2}
    assert await _stored_position(store, 1) == 199  # the latest, not any in between
    await writer.close()


async def test_busy_guild_costs_one_write_per_interval() -> None:
    store = CountingStore(MemoryStore())
    clock = ManualClock()
    writer = SnapshotWriter(store, min_interval=1.0, clock=clock)
    for position in range(300):  # a guild changing every 10 ms, for 3 s
        writer.schedule(KEY, snapshot(1, position=position))
        await step(clock, 0.01)
    assert store.writes == {1: 3}  # at 0 s, 1 s and 2 s: one per interval, however busy the guild
    await writer.close()
    assert store.writes == {1: 4}  # and close() writes the last change
    assert await _stored_position(store, 1) == 299


async def test_guilds_due_together_share_one_store_call(backend: Backend) -> None:
    store = CountingStore(await backend.opened())
    writer = SnapshotWriter(store, min_interval=3600)
    for gid in range(1, 101):
        writer.schedule(KEY, snapshot(gid))

    async def all_written() -> bool:
        return writer.written == 100

    await eventually(all_written, "100 guilds written")
    assert len(await store.get_guilds(KEY)) == 100
    assert store.put_calls == 1
    await writer.close()


async def test_large_batches_are_split_into_chunks(backend: Backend) -> None:
    store = CountingStore(await backend.opened())
    writer = SnapshotWriter(store, min_interval=3600, batch_size=30)
    for gid in range(1, 101):
        writer.schedule(KEY, snapshot(gid))
    await writer.flush()
    assert store.put_calls == 4  # 30 + 30 + 30 + 10
    assert len(await store.get_guilds(KEY)) == 100
    await writer.close()


async def test_a_change_during_an_in_flight_write_waits_a_full_interval() -> None:
    entered, gate = asyncio.Event(), asyncio.Event()

    class SlowStore(MemoryStore):
        async def put_guilds(self, key: StoreKey, snapshots: collections.abc.Iterable[GuildSnapshot]) -> None:
            entered.set()
            await gate.wait()
            await super().put_guilds(key, snapshots)

    store = CountingStore(SlowStore())
    clock = ManualClock()
    writer = SnapshotWriter(store, min_interval=3600, clock=clock)
    writer.schedule(KEY, snapshot(1, position=1))
    await entered.wait()  # the first write is in flight, held by the gate
    writer.schedule(KEY, snapshot(1, position=2))
    gate.set()

    async def first_done() -> bool:
        return writer.written >= 1

    await eventually(first_done, "the in-flight write finishing")
    await step(clock, 3599)  # just short of a full interval after that write began
    assert store.writes == {1: 1}  # the second change is held back by min_interval, not written at once
    assert writer.pending == 1
    await writer.close()
    assert store.writes == {1: 2} and await _stored_position(store, 1) == 2


async def test_producer_is_called_at_write_time(backend: Backend) -> None:
    store = await backend.opened()
    writer = SnapshotWriter(store, min_interval=3600)
    state = {"position": 0}
    calls = []

    def produce() -> GuildSnapshot:
        calls.append(state["position"])
        return snapshot(5, position=state["position"])

    writer.schedule(KEY, snapshot(5, position=1))
    await writer.flush()
    for position in range(10, 60, 10):
        state["position"] = position
        writer.schedule(KEY, produce, guild_id=5)
    state["position"] = 777
    await writer.flush()
    assert calls == [777]  # built once, when written, with the latest state
    assert (await store.get_guilds(KEY))[5].position == 777
    await writer.close()


async def test_producer_returning_none_or_failing_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryStore()
    writer = SnapshotWriter(store)

    def broken() -> GuildSnapshot:
        raise RuntimeError("player vanished")

    writer.schedule(KEY, lambda: None, guild_id=1)
    writer.schedule(KEY, broken, guild_id=2)
    writer.schedule(KEY, snapshot(3))
    bad = GuildSnapshot(guild_id=4, node="main", channel_id=None, filters={"x": object()})
    writer.schedule(KEY, bad)
    with caplog.at_level(logging.ERROR, WRITER_LOG):
        await writer.flush()
    assert list(await store.get_guilds(KEY)) == [3]
    assert writer.healthy  # a bad snapshot is not a store outage
    assert "player vanished" in caplog.text
    assert "guild 4" in caplog.text
    with pytest.raises(TypeError):
        writer.schedule(KEY, broken)  # a callable needs guild_id
    await writer.close()


async def test_delete_replaces_a_pending_write_and_removes_a_stored_one(backend: Backend) -> None:
    store = CountingStore(await backend.opened())
    writer = SnapshotWriter(store, min_interval=3600)
    writer.schedule(KEY, snapshot(1))
    writer.schedule(KEY, snapshot(2))
    await writer.flush()
    writer.schedule(KEY, snapshot(1, position=5))
    writer.delete(KEY, 1)  # the guild left before its write happened
    writer.schedule(KEY, snapshot(3))
    writer.delete(KEY, 3)
    await writer.flush()
    assert list(await store.get_guilds(KEY)) == [2]
    assert store.writes == {1: 1, 2: 1}
    await writer.close()


async def test_close_flushes_everything_and_stops_its_task(backend: Backend) -> None:
    store = await backend.opened()
    writer = SnapshotWriter(store, min_interval=3600)
    writer.schedule_session(KEY, "session-1")
    for gid in range(1, 21):
        writer.schedule(KEY, snapshot(gid))
    await asyncio.sleep(0)
    for gid in range(1, 21):
        writer.schedule(KEY, snapshot(gid, position=gid * 10))  # pending behind min_interval
    writer.schedule(StoreKey(7, "backup"), snapshot(99))
    await writer.close()
    assert writer.pending == 0
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "lightbulb-lavalink snapshot writer"]
    reader = await backend.opened()
    assert {gid: s.position for gid, s in (await reader.get_guilds(KEY)).items()} == {
        gid: gid * 10 for gid in range(1, 21)
    }
    assert list(await reader.get_guilds(StoreKey(7, "backup"))) == [99]
    assert await reader.get_session(KEY) == "session-1"


async def test_schedule_after_close_is_dropped_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    store = MemoryStore()
    writer = SnapshotWriter(store)
    await writer.close()
    with caplog.at_level(logging.WARNING, WRITER_LOG):
        writer.schedule(KEY, snapshot(1))
        writer.schedule(KEY, snapshot(2))
        writer.delete(KEY, 1)
    await writer.close()
    assert await store.get_guilds(KEY) == {}
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


async def test_schedule_before_any_loop_runs_is_written_by_flush() -> None:
    store = MemoryStore()
    writer = SnapshotWriter(store)
    await asyncio.to_thread(writer.schedule, KEY, snapshot(1))  # no running loop in that thread
    await writer.flush()
    assert list(await store.get_guilds(KEY)) == [1]
    await writer.close()


async def test_outage_is_retried_logged_once_and_the_latest_snapshot_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FlakyStore()
    store.down = True
    writer = SnapshotWriter(store, min_interval=0.01, retry_initial=0.01, retry_max=0.05)
    heartbeats = 0
    with caplog.at_level(logging.DEBUG, WRITER_LOG):
        writer.schedule_session(KEY, "s-1")
        writer.schedule(KEY, snapshot(1, position=1))
        writer.schedule(KEY, snapshot(2, position=1))

        async def several_failures() -> bool:
            nonlocal heartbeats
            heartbeats += 1  # the event loop keeps serving everything else
            return store.attempts >= 5

        await eventually(several_failures, "several failed write attempts")
        assert not writer.healthy
        assert writer.last_error is not None and "test outage" in writer.last_error
        for position in range(2, 50):  # the bot keeps changing state during the outage
            writer.schedule(KEY, snapshot(1, position=position))
        writer.schedule_session(KEY, "s-2")
        store.down = False

        async def recovered() -> bool:
            return writer.healthy and await _stored_position(store, 1) == 49

        await eventually(recovered, "the latest snapshot written once the store is back")
    assert await _stored_position(store, 2) == 1
    assert await store.get_session(KEY) == "s-2"
    assert heartbeats > 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(warnings) == 1 and "test outage" in warnings[0].getMessage()
    assert len(infos) == 1
    assert "delayed" in infos[0].getMessage() and "2 guild(s)" in infos[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]  # no traceback for an outage
    await writer.close()


async def test_flush_during_outage_raises_and_keeps_the_writes(caplog: pytest.LogCaptureFixture) -> None:
    store = FlakyStore()
    writer = SnapshotWriter(store, min_interval=3600, retry_initial=3600, retry_max=3600)
    store.down = True
    writer.schedule(KEY, snapshot(1))
    with caplog.at_level(logging.WARNING, WRITER_LOG), pytest.raises(StoreError, match="1 write"):
        await writer.flush()
    assert writer.pending == 1
    store.down = False
    await writer.flush()  # an explicit flush ignores the backoff
    assert list(await store.get_guilds(KEY)) == [1]
    assert writer.healthy
    await writer.close()


async def test_close_while_the_store_is_down_gives_up_after_close_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FlakyStore()
    store.down = True
    writer = SnapshotWriter(store, retry_initial=0.01, retry_max=0.02, close_timeout=0.2)
    writer.schedule(KEY, snapshot(1))
    writer.schedule(KEY, snapshot(2))
    with caplog.at_level(logging.ERROR, WRITER_LOG):
        await writer.close()  # returns, never raises
    assert "2 write(s) could not be saved" in caplog.text


async def test_close_cancels_a_hung_write_and_keeps_it_pending(caplog: pytest.LogCaptureFixture) -> None:
    entered = asyncio.Event()

    class HangingStore(MemoryStore):
        async def put_guilds(self, key: StoreKey, snapshots: collections.abc.Iterable[GuildSnapshot]) -> None:
            entered.set()
            await asyncio.Event().wait()

    writer = SnapshotWriter(HangingStore(), close_timeout=0.1)
    writer.schedule(KEY, snapshot(1))
    await entered.wait()  # the write hangs in the store
    with caplog.at_level(logging.ERROR, WRITER_LOG):
        await asyncio.wait_for(writer.close(), 5)
    assert writer.pending == 1
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "lightbulb-lavalink snapshot writer"]


async def test_writer_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="retry_initial"):
        SnapshotWriter(MemoryStore(), retry_initial=0)
