"""A bot upgraded from an earlier version restarts with the queues that version saved."""

from __future__ import annotations

import asyncio
import json
import sqlite3

from lightbulb_lavalink import events

from .conftest import World
from .test_resume import assert_queue, play_everywhere


def _as_written_before(row: str) -> str:
    """A snapshot as versions up to 0.1.0 wrote it: ``userData`` on every track, empty or not."""
    data = json.loads(row)
    for track in [data["track"], *data["queue"]["tracks"], *data["queue"]["history"]]:
        if track is not None:
            track.setdefault("userData", {})
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


async def test_snapshots_written_by_an_earlier_version_come_back_with_their_queue(world: World) -> None:
    first = await world.boot()
    plan = await play_everywhere(world, first)
    await world.stop(first)
    with sqlite3.connect(world.store_url.removeprefix("sqlite:///")) as db:
        rows = db.execute("SELECT guild_id, data FROM guilds").fetchall()
        assert len(rows) == len(plan)
        assert all('"userData"' not in data for _, data in rows), "empty user data is no longer written"
        db.executemany(
            "UPDATE guilds SET data = ? WHERE guild_id = ?", [(_as_written_before(data), gid) for gid, data in rows]
        )

    second = await world.boot()

    resumed = await asyncio.wait_for(second.expect(events.SessionResumedEvent, seen=True), 5)
    assert sorted(resumed.guild_ids) == sorted(plan)
    for gid, planned in plan.items():
        assert_queue(second.client.get_player(gid), planned[0], planned[1:])
