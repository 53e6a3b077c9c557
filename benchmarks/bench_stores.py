"""Session stores under 1,000 busy guilds: snapshot writes per second for each store.

For every store (memory, JSON file, SQLite, and Redis / PostgreSQL when their servers answer at ``REDIS_URL``
/ ``DATABASE_URL`` or the default local ports), with the store already holding 1,000 guild snapshots
(a current track and a 20-track queue each):

- ``raw_put_guild_per_s``: back-to-back ``await store.put_guild(...)`` calls, one guild at a time;
- ``writer_writes_per_s``: 1,000 guilds each changing ``updates_per_second`` times a second
  (``writer_changes_per_s`` in all), through a `SnapshotWriter` with its default ``min_interval`` of 1 s:
  about one write per guild per second when the store keeps up; ``loop_lag_ms_max`` is the worst
  event-loop stall a bot would have felt meanwhile;
- ``writer_capacity_per_s``: every guild changing 50 times a second with ``min_interval=0``: as many
  snapshots as the writer's batched ``put_guilds`` calls can push into the store.

``python benchmarks/bench_stores.py [--quick]`` prints a table; `run()` returns the numbers as a dict.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
import typing
import uuid

import attrs

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.snapshot import GuildSnapshot, QueueSnapshot, TrackSnapshot
from lightbulb_lavalink.stores import (
    JSONFileStore,
    MemoryStore,
    PostgresStore,
    RedisStore,
    SnapshotWriter,
    SQLiteStore,
    StoreKey,
)

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.stores import SessionStore

__all__ = ["run"]

KINDS = ("memory", "json", "sqlite", "redis", "postgres")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
KEY = StoreKey(123_456_789_012_345_678, "bench")


def _snapshot(guild_id: int) -> GuildSnapshot:
    tracks = tuple(
        TrackSnapshot(
            encoded="QAAAjQIAJVJpY2sgQXN0bGV5IC0gTmV2ZXIgR29ubmEgR2l2ZSBZb3UgVXAADlJpY2tBc3RsZXlWRVZPAAAAAAADPCAA"
            f"C2RRdzR3OVdnWGNRAAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9ZFF3NHc5V2dYY1EAB3lvdXR1YmUAAAAAAAAAAA{i}",
            user_data={"requester": 300_000_000_000_000_000 + i, "title": f"Track {i} ✓"},
        )
        for i in range(20)
    )
    return GuildSnapshot(
        guild_id=guild_id,
        node="bench",
        channel_id=900_000_000_000_000_000 + guild_id,
        track=tracks[0],
        position=0,
        volume=100,
        filters={"timescale": {"speed": 1.1, "pitch": 1.0, "rate": 1.0}},
        queue=QueueSnapshot(tracks=tracks[1:], history=tracks[:3], loop="off"),
    )


class _Site:
    """One store kind: makes the store and removes what the benchmark wrote."""

    def __init__(self, kind: str, folder: str) -> None:
        self.kind = kind
        self.folder = folder
        self.name = f"llbench_{uuid.uuid4().hex[:10]}"

    def make(self) -> SessionStore:
        if self.kind == "memory":
            return MemoryStore()
        if self.kind == "json":
            return JSONFileStore(os.path.join(self.folder, f"{self.name}.json"))
        if self.kind == "sqlite":
            return SQLiteStore(os.path.join(self.folder, f"{self.name}.db"))
        if self.kind == "redis":
            return RedisStore(REDIS_URL, prefix=self.name)
        return PostgresStore(DATABASE_URL, table=self.name)

    async def cleanup(self) -> None:
        if self.kind == "redis":
            import redis.asyncio

            client = redis.asyncio.Redis.from_url(REDIS_URL)
            try:
                keys = [key async for key in client.scan_iter(match=f"{self.name}:*")]
                if keys:
                    await client.delete(*keys)
            finally:
                await client.aclose()
        elif self.kind == "postgres":
            import asyncpg

            conn = await asyncpg.connect(DATABASE_URL)
            try:
                for table in ("sessions", "guilds", "migrations"):
                    await conn.execute(f'DROP TABLE IF EXISTS "{self.name}_{table}"')
            finally:
                await conn.close()


async def _raw_rate(store: SessionStore, bases: list[GuildSnapshot], seconds: float) -> float:
    done = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        base = bases[done % len(bases)]
        await store.put_guild(KEY, attrs.evolve(base, position=done))
        done += 1
    return done / elapsed


async def _writer_rate(
    store: SessionStore, bases: list[GuildSnapshot], seconds: float, updates: float, min_interval: float
) -> dict[str, float]:
    """Drive every guild through a writer, `updates` changes per guild per second; after a warm-up second
    (the first write of every guild is immediate), measure writes, changes and the worst event-loop stall
    for `seconds`."""
    writer = SnapshotWriter(store, min_interval=min_interval)
    scheduled = 0
    lag = 0.0

    async def busy_guilds() -> None:
        nonlocal scheduled
        step = 0
        next_tick = time.perf_counter()
        while True:
            for base in bases:
                writer.schedule(KEY, attrs.evolve(base, position=step * 200))
            scheduled += len(bases)
            step += 1
            next_tick += 1.0 / updates
            await asyncio.sleep(max(0.0, next_tick - time.perf_counter()))

    async def heartbeat() -> None:  # what every other coroutine of the bot would feel
        nonlocal lag
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lag = max(lag, time.perf_counter() - before - 0.01)

    tasks = [asyncio.create_task(busy_guilds()), asyncio.create_task(heartbeat())]
    await asyncio.sleep(1.0)
    written_before, scheduled_before, lag = writer.written, scheduled, 0.0
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - started
    written, changes = writer.written - written_before, scheduled - scheduled_before
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await writer.close()
    return {"writes_per_s": written / elapsed, "changes_per_s": changes / elapsed, "loop_lag_ms_max": lag * 1000}


async def _bench_kind(kind: str, folder: str, guilds: int, seconds: float, updates: float) -> dict[str, typing.Any]:
    site = _Site(kind, folder)
    store = site.make()
    try:
        try:
            await store.open()
        except StoreError as exc:
            return {"skipped": str(exc)}
        bases = [_snapshot(gid) for gid in range(1, guilds + 1)]
        await store.put_guilds(KEY, bases)
        raw = await _raw_rate(store, bases, seconds / 2)
        paced = await _writer_rate(store, bases, seconds, updates, min_interval=1.0)
        capacity = await _writer_rate(store, bases, seconds / 2, 50.0, min_interval=0.0)
        stored = await store.get_guilds(KEY)
        assert len(stored) == guilds, f"{kind}: {len(stored)} guilds read back, expected {guilds}"
        return {
            "raw_put_guild_per_s": round(raw, 1),
            "writer_writes_per_s": round(paced["writes_per_s"], 1),
            "writer_changes_per_s": round(paced["changes_per_s"], 1),
            "loop_lag_ms_max": round(paced["loop_lag_ms_max"], 1),
            "writer_capacity_per_s": round(capacity["writes_per_s"], 1),
        }
    finally:
        await store.close()
        with contextlib.suppress(Exception):
            await site.cleanup()


def run(
    *,
    guilds: int = 1000,
    seconds: float = 3.0,
    updates_per_second: float = 4.0,
    kinds: typing.Sequence[str] = KINDS,
    quick: bool = False,
) -> dict[str, typing.Any]:
    """Measure each store kind; return ``{"workload": {...}, "stores": {kind: {metric: value}}}``.

    A store whose server does not answer is reported as ``{"skipped": reason}``. `quick` shortens everything
    (a smoke run). About 9 s per store by default.
    """
    if quick:
        guilds, seconds = min(guilds, 200), min(seconds, 1.0)

    async def main() -> dict[str, typing.Any]:
        results: dict[str, typing.Any] = {}
        with tempfile.TemporaryDirectory(prefix="llbench-") as folder:
            for kind in kinds:
                results[kind] = await _bench_kind(kind, folder, guilds, seconds, updates_per_second)
        return results

    return {
        "workload": {
            "guilds": guilds,
            "updates_per_guild_per_s": updates_per_second,
            "seconds_per_phase": seconds,
            "queue_tracks": 19,
        },
        "stores": asyncio.run(main()),
    }


def _print(results: dict[str, typing.Any]) -> None:
    workload = results["workload"]
    print(
        f"Session stores, {workload['guilds']:,} guilds each changing {workload['updates_per_guild_per_s']:g}"
        f" times a second (snapshot: current track + {workload['queue_tracks']}-track queue)"
    )
    header = ("store", "raw put_guild/s", "writer writes/s", "changes/s", "loop lag ms", "capacity/s")
    print("  ".join(f"{h:>16}" for h in header))
    for kind, row in results["stores"].items():
        if "skipped" in row:
            print(f"{kind:>16}  skipped: {row['skipped']}")
            continue
        cells = (
            row["raw_put_guild_per_s"],
            row["writer_writes_per_s"],
            row["writer_changes_per_s"],
            row["loop_lag_ms_max"],
            row["writer_capacity_per_s"],
        )
        print(f"{kind:>16}  " + "  ".join(f"{c:>16,.1f}" for c in cells))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--store", action="append", choices=KINDS, help="only this store (repeatable)")
    args = parser.parse_args()
    _print(run(quick=args.quick, kinds=args.store or KINDS))
