"""A process writing in a loop is killed with SIGKILL at a random moment: the file still opens and holds a
complete, valid state (every guild of the last committed batch, never half of one)."""

from __future__ import annotations

import asyncio
import os
import pathlib
import random
import signal
import sys
import textwrap

import pytest

from lightbulb_lavalink.stores import JSONFileStore, SQLiteStore, StoreKey

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

GUILDS = 40
KEY = StoreKey(1, "main")

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from lightbulb_lavalink.snapshot import GuildSnapshot, QueueSnapshot, TrackSnapshot
    from lightbulb_lavalink.stores import JSONFileStore, SQLiteStore, StoreKey

    async def main(kind, path):
        store = SQLiteStore(path) if kind == "sqlite" else JSONFileStore(path)
        await store.open()
        key = StoreKey(1, "main")
        tracks = tuple(TrackSnapshot(encoded="QAAA" * 50, user_data={{"n": n}}) for n in range(60))
        i = 0
        while True:
            i += 1
            queue = QueueSnapshot(tracks=tracks)
            batch = [
                GuildSnapshot(guild_id=g, node="main", channel_id=5, position=i, queue=queue)
                for g in range({guilds})
            ]
            await store.put_guilds(key, batch)
            await store.set_session(key, f"s{{i}}")
            print(i, flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
).format(guilds=GUILDS)


async def _run_and_kill(kind: str, path: pathlib.Path, after: int) -> int:
    """Start a writer process, SIGKILL it once it reported `after` committed batches; return the last seen."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, kind, str(path), stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    last = 0
    try:
        async with asyncio.timeout(60):  # a hang guard only
            while last < after:
                line = await process.stdout.readline()
                if not line:
                    pytest.fail(f"the writer process exited early with {await process.wait()}")
                last = int(line)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    assert process.returncode == -signal.SIGKILL
    return last


@pytest.mark.parametrize("kind", ["sqlite", "json"])
async def test_killed_writer_leaves_a_complete_valid_store(kind: str, tmp_path: pathlib.Path) -> None:
    path = tmp_path / ("sessions.db" if kind == "sqlite" else "sessions.json")
    rng = random.Random(kind)
    for _ in range(3):
        last = await _run_and_kill(kind, path, after=rng.randint(2, 25))
        store = SQLiteStore(path) if kind == "sqlite" else JSONFileStore(path)
        await store.open()
        try:
            assert store.problems == ()  # nothing was found corrupt
            leftovers = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
            assert not leftovers  # a temporary file the kill left behind is swept
            guilds = await store.get_guilds(KEY)
            assert sorted(guilds) == list(range(GUILDS))
            positions = {snapshot.position for snapshot in guilds.values()}
            assert len(positions) == 1  # one batch, all of it: never a mix of two
            [position] = positions
            assert position >= last  # everything reported as written is there
            assert await store.get_session(KEY) in {f"s{position}", f"s{position - 1}"}
            assert all(len(snapshot.queue.tracks) == 60 for snapshot in guilds.values())
        finally:
            await store.close()
