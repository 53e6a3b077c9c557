"""The replay window of a resumed session closes even when no ``playerUpdate`` comes (issue 9).

The first ``playerUpdate`` after a resumed ``ready`` is what says the replayed events are over; only then does a
guild the sync found idle (its track ended while the bot was away) continue its queue. NodeLink in single-process
mode sends nothing at all for the players it had before the resume: the window stayed open and the guild idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import typing

import pytest

from lightbulb_lavalink.events import NodeDisconnectedEvent, ResumeCompletedEvent
from lightbulb_lavalink.testing import FakeLavalink, ManualClock
from lightbulb_lavalink.testing.gateway import FakeDiscord

from .conftest import HeldGetPlayers, World, joined, make_tracks, turns
from .test_resume import lavalink_players

if typing.TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterator


@pytest.fixture
async def world(tmp_path: pathlib.Path) -> AsyncIterator[World]:
    clock = ManualClock()
    async with FakeLavalink(
        clock=clock, player_update_interval=1.0, flavour="nodelink", nodelink_single_process=True
    ) as lavalink:
        discord = FakeDiscord()
        w = World(
            lavalink=lavalink,
            discord=discord,
            store_url=f"sqlite:///{tmp_path / 'sessions.db'}",
            guilds=[await discord.add_guild(members=3)],
            clock=clock,
        )
        try:
            yield w
        finally:
            await w.close()


async def test_a_guild_found_idle_after_a_silent_resume_continues_its_queue(world: World) -> None:
    clock = world.clock
    assert isinstance(clock, ManualClock)
    first = await world.boot()
    player = await joined(world, first)
    e1, e2 = make_tracks(world.lavalink, "e", 2)
    player.queue.add(e2)
    await player.play(e1)
    on_node = lavalink_players(world, first)[player.guild_id]
    await world.stop(first)

    # While the bot is away the track ends (NodeLink drops the event); the new process finds the guild idle.
    on_node.finish()
    second = await world.boot()
    resumed = second.client.get_player(player.guild_id)
    assert resumed is not None and resumed.pending is not None and resumed.pending.info.identifier == "e-1"

    fake = lavalink_players(world, second)[player.guild_id]
    for _ in range(50):  # nothing comes from the node: only time passing can end the replay (5 s at most)
        if fake.track is not None:
            break
        clock.advance(0.1)
        await turns()
    assert fake.track is not None and fake.track.info.identifier == "e-1", "the queue never continued"
    assert resumed.track is not None and resumed.track.info.identifier == "e-1"


async def test_a_guild_found_idle_after_a_quick_second_resume_continues_its_queue(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resumed session is cut again before its quiet replay ended, and the next resume's sync is slow: the first
    resume's quiet watch must not close the second's window in the middle of its sync (it did: the guild the
    second sync found idle then waited for a replay end that had already happened, for ever)."""
    clock = world.clock
    assert isinstance(clock, ManualClock)
    first = await world.boot()
    player = await joined(world, first)
    e1, e2 = make_tracks(world.lavalink, "e", 2)
    player.queue.add(e2)
    await player.play(e1)
    await world.stop(first)

    second = await world.boot()  # resumed: its replay window is open, nothing comes, a quiet watch waits 1 s
    node = second.client.nodes["main"]
    assert node.replay.is_open
    resumed = second.client.get_player(player.guild_id)
    assert resumed is not None and resumed.track is not None

    # A network cut before that second passed; while the bot is cut off the track ends (NodeLink drops the event),
    # and the next resume's players fetch is slow.
    held = HeldGetPlayers(monkeypatch)
    lavalink_players(world, second)[player.guild_id].finish()
    disconnected = second.expect(NodeDisconnectedEvent)
    await world.lavalink.drop_connections()
    async with asyncio.timeout(5):
        await disconnected
        clock.advance(0.3)  # past the reconnect delay (0.2 s at most), well within the first watch's second
        await held.held.wait()
    clock.advance(2.0)  # the first resume's watch wakes up while the second is still syncing
    await turns()
    held.release()

    fake = lavalink_players(world, second)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(3):
            while fake[player.guild_id].track is None:
                clock.advance(0.1)
                await turns()
    assert fake[player.guild_id].track is not None, "the queue never continued"
    assert fake[player.guild_id].track.info.identifier == "e-1"
    assert len(second.of_type(ResumeCompletedEvent)) == 2, "the second resume never settled"
