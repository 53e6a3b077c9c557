"""A command's queue change stands only once the node took the command (issue 9): while its request is in flight the
queue and the store say what the node still plays, and a user's edits meanwhile survive its failure."""

from __future__ import annotations

import asyncio
import typing

import pytest

from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.queue import LoopMode

from .conftest import HeldPatch, World, joined, make_tracks
from .test_resume import ids

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.protocol.tracks import Track


def identifier(track: Track | None) -> str | None:
    return None if track is None else track.info.identifier


def snapshot_ids(snapshot: typing.Any) -> tuple[str | None, list[str]]:
    """The snapshot's current track and upcoming tracks, by identifier."""
    from lightbulb_lavalink.queue import restore_track

    current = None if snapshot.track is None else restore_track(snapshot.track).info.identifier
    return current, [restore_track(t).info.identifier for t in snapshot.queue.tracks]


async def test_a_skip_in_flight_changes_nothing_a_crash_could_save(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A looped queue, a skip whose request is slow: the snapshot taken meanwhile still says e1 plays, e2 is next
    (never e1 twice and e2 nowhere, which is what a crash at that moment used to save)."""
    process = await world.boot()
    player = await joined(world, process)
    e1, e2, e3 = make_tracks(world.lavalink, "e", 3)
    player.queue.extend([e2, e3])
    await player.play(e1)
    player.queue.loop = LoopMode.QUEUE

    patch = HeldPatch(monkeypatch, answer=False)
    patch.arm()
    skip = asyncio.create_task(player.skip())
    await asyncio.wait_for(patch.reached.wait(), 5)
    assert not skip.done()
    assert snapshot_ids(player.snapshot()) == ("e-0", ["e-1", "e-2"])
    assert identifier(player.track) == "e-0" and ids(player.queue) == ["e-1", "e-2"]

    patch.release()
    assert identifier(await asyncio.wait_for(skip, 5)) == "e-1"
    assert identifier(player.track) == "e-1"
    assert ids(player.queue) == ["e-2", "e-0"] and ids(player.queue.history) == ["e-0"]


async def test_an_entry_added_while_a_skip_is_in_flight_survives_the_skip_failing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = await world.boot()
    player = await joined(world, process)
    e1, e2, added = make_tracks(world.lavalink, "e", 3)
    player.queue.add(e2)
    await player.play(e1)

    patch = HeldPatch(monkeypatch, answer=False)
    patch.arm()
    world.lavalink.faults.add("PATCH", "/v4/sessions/*/players/*", status=500, message="boom")
    skip = asyncio.create_task(player.skip())
    await asyncio.wait_for(patch.reached.wait(), 5)
    player.queue.add(added)  # the user queues a track while the skip is on its way
    patch.release()
    with pytest.raises(LavalinkError):
        await asyncio.wait_for(skip, 5)

    assert identifier(player.track) == "e-0"
    assert ids(player.queue) == ["e-1", "e-2"], "the track queued during the failed skip is gone"
    assert snapshot_ids(player.snapshot()) == ("e-0", ["e-1", "e-2"])


async def test_an_entry_added_while_a_play_now_is_in_flight_survives_it_failing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = await world.boot()
    player = await joined(world, process)
    e1, e2, added = make_tracks(world.lavalink, "e", 3)
    player.queue.add(e2)
    await player.play(e1)

    patch = HeldPatch(monkeypatch, answer=False)
    patch.arm()
    world.lavalink.faults.add("PATCH", "/v4/sessions/*/players/*", status=500, message="boom")
    play = asyncio.create_task(player.play())  # the next one from the queue, now
    await asyncio.wait_for(patch.reached.wait(), 5)
    player.queue.add(added)
    patch.release()
    with pytest.raises(LavalinkError):
        await asyncio.wait_for(play, 5)
    assert ids(player.queue) == ["e-1", "e-2"]
