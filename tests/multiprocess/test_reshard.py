"""Resharding with real processes: 2 → 3 processes (4 → 6 shards) and back, on Redis and PostgreSQL.

Every process is a real Python process with its own hikari bot and `LavalinkClient`; they share one store and
one `FakeLavalink` (in this test's process). 300 guilds play with queues. After every reshard each guild plays
under exactly one process, with the track and queue it had. A process killed between its claim and filing the
guilds under its own keys loses nothing: the next one finds them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pathlib
import sys
import tempfile
import time
import typing

import attrs
import pytest

from lightbulb_lavalink.testing import FakeLavalink
from tests.stores.conftest import drop_server_data, require_server
from tests.stores.helpers import DATABASE_URL, REDIS_URL, unique

from .worker import TRACKS_PER_GUILD, identifier

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator

ROOT = pathlib.Path(__file__).resolve().parents[2]
GUILDS = [1_200_000_000_000_000_000 + (i << 22) for i in range(300)]
_LOGGER = logging.getLogger(__name__)
START_TIMEOUT = float(os.environ.get("MP_START_TIMEOUT", "90"))
TRACK_LENGTH = 3_600_000
"""Every queued track lasts an hour. The checks expect each guild on its first track, so none may end by itself
while a test runs: the catalogue's own lengths (1 to 6 minutes) are shorter than a slow run on a busy machine
(its Lavalink keeps playing a stopped process's guilds, and a guild whose track ended meanwhile rightly moves on)."""


@attrs.define
class Worker:
    cluster: str
    process: asyncio.subprocess.Process
    log: pathlib.Path
    """The process's stderr, in a file: a pipe nobody reads fills up and blocks a process that logs much."""
    report: dict[str, typing.Any] = attrs.field(factory=dict)

    def errors(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    async def ready(self) -> dict[str, typing.Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), START_TIMEOUT)
        if not line:
            raise AssertionError(f"process {self.cluster} exited ({await self.process.wait()}): {self.errors()}")
        self.report = json.loads(line)
        return self.report

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"stop\n")
        await self.process.stdin.drain()
        code = await asyncio.wait_for(self.process.wait(), 30)
        if code != 0:
            raise AssertionError(f"process {self.cluster} did not stop cleanly ({code}): {self.errors()}")
        self.log.unlink(missing_ok=True)


@attrs.define
class Deployment:
    lavalink: FakeLavalink
    store: str
    workers: list[Worker] = attrs.field(factory=list)

    async def spawn(self, cluster: str, shard_ids: list[int], shard_count: int, **flags: bool) -> Worker:
        config = {
            "store": self.store,
            "cluster": cluster,
            "shard_ids": shard_ids,
            "shard_count": shard_count,
            "port": self.lavalink.port,
            "guilds": GUILDS,
            **flags,
        }
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        fd, name = tempfile.mkstemp(prefix=f"worker-{cluster}-", suffix=".log")
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.multiprocess.worker", json.dumps(config),
                cwd=ROOT, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=fd,
            )  # fmt: skip
        finally:
            os.close(fd)
        worker = Worker(cluster, process, pathlib.Path(name))
        self.workers.append(worker)
        return worker

    async def run(self, shard_count: int, processes: int, **flags: bool) -> list[Worker]:
        """Start `processes` processes splitting `shard_count` shards, and wait until each holds its guilds."""
        shards = [list(range(shard_count))[i::processes] for i in range(processes)]
        workers = [await self.spawn(f"p{i}", ids, shard_count, **flags) for i, ids in enumerate(shards)]
        await asyncio.gather(*(w.ready() for w in workers))
        took = ", ".join(f"{w.cluster} {w.report['seconds']:.2f} s" for w in workers)
        _LOGGER.info("%d processes of %d shards: start to every guild back: %s", processes, shard_count, took)
        return workers

    async def stop(self, workers: list[Worker]) -> None:
        await asyncio.gather(*(w.stop() for w in workers))

    async def kill_all(self) -> None:
        for worker in self.workers:
            if worker.process.returncode is None:
                worker.process.kill()
                await worker.process.wait()


@pytest.fixture(params=("redis", "postgres"))
async def deployment(
    request: pytest.FixtureRequest, server_status: dict[str, str | None]
) -> AsyncIterator[Deployment]:
    kind: str = request.param
    await require_server(kind, server_status)
    name = unique("llmp")
    store = f"{REDIS_URL}?prefix={name}" if kind == "redis" else f"{DATABASE_URL}?table={name}"
    async with FakeLavalink() as lavalink:
        for guild_id in GUILDS:
            for index in range(TRACKS_PER_GUILD):
                name = identifier(guild_id, index)
                lavalink.add_track(title=name, identifier=name, length=TRACK_LENGTH, source_name="youtube")
        deployment = Deployment(lavalink, store)
        try:
            yield deployment
        finally:
            await deployment.kill_all()
            await drop_server_data(kind, name)


def check_one_owner(deployment: Deployment, workers: list[Worker]) -> None:
    """Every guild is held by exactly one process, with the track and queue it was given."""
    owner: dict[int, Worker] = {}
    for worker in workers:
        assert worker.report["extra"] == []
        for key, state in worker.report["ready"].items():
            guild_id = int(key)
            assert guild_id not in owner, f"guild {guild_id} held by {owner[guild_id].cluster} and {worker.cluster}"
            owner[guild_id] = worker
            assert state["track"] == identifier(guild_id, 0), guild_id
            assert state["queue"] == [identifier(guild_id, i) for i in range(1, TRACKS_PER_GUILD)], guild_id
    assert sorted(owner) == GUILDS


async def plays_once(deployment: Deployment, workers: list[Worker], timeout: float = 20.0) -> None:
    """Wait until Lavalink plays every guild exactly once among the connected sessions, on its owner's session."""
    session_of = {int(g): w.report["session"] for w in workers for g in w.report["ready"]}
    deadline = time.monotonic() + timeout
    while True:
        playing: dict[int, list[str]] = {}
        for session in deployment.lavalink.sessions.values():
            if session.paused:
                continue  # a stopped process's session: Lavalink keeps it until its timeout, nobody controls it
            for guild_id, player in session.players.items():
                if player.has_track:
                    playing.setdefault(guild_id, []).append(session.id)
        wrong = {g: playing.get(g) for g in GUILDS if playing.get(g) != [session_of[g]]}
        if not wrong:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(wrong)} guilds not played once by their owner: {list(wrong.items())[:5]}")
        await asyncio.sleep(0.05)


# Shard counts keep every shard within Discord's gateway rate limit for a restart's voice joins (116 in a shard's
# first minute: 300 guilds over 4 shards is 75 each, over 6 is 50), as a bot of that size is sharded.
async def test_reshard_2_to_3_processes_and_back_keeps_every_queue(deployment: Deployment) -> None:
    first = await deployment.run(shard_count=4, processes=2, seed=True)
    check_one_owner(deployment, first)
    await plays_once(deployment, first)
    await deployment.stop(first)

    three = await deployment.run(shard_count=6, processes=3)  # another shard count, another process count
    check_one_owner(deployment, three)
    await plays_once(deployment, three)
    moved = sum(w.report["taken_over"] for w in three)
    assert moved > 0  # guilds of p0 and p1 went to other processes, taken from their live sessions
    await deployment.stop(three)

    back = await deployment.run(shard_count=4, processes=2)
    check_one_owner(deployment, back)
    await plays_once(deployment, back)
    await deployment.stop(back)


async def test_a_process_killed_mid_claim_loses_nothing(deployment: Deployment) -> None:
    first = await deployment.run(shard_count=4, processes=2, seed=True)
    await deployment.stop(first)

    doomed = await deployment.spawn("p2", [4, 5], 6, crash_after_claim=True)
    assert await asyncio.wait_for(doomed.process.wait(), START_TIMEOUT) == 3  # died right after claiming

    three = await deployment.run(shard_count=6, processes=3)
    check_one_owner(deployment, three)
    await plays_once(deployment, three)
    await deployment.stop(three)
