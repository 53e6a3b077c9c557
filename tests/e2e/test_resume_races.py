"""Commands and faults that race a resume (issue 9): nothing a user queued is lost, nothing a user left comes back."""

from __future__ import annotations

import asyncio
import typing

import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.player import GuildState
from lightbulb_lavalink.queue import LoopMode
from lightbulb_lavalink.stores import StoreKey, open_store
from tests.polling import eventually

from .conftest import HeldGetPlayers, HeldPatch, World, make_tracks
from .test_resume import ids, lavalink_players, play_everywhere

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.player import Player


def current(player: Player | None) -> str | None:
    assert player is not None
    return player.track.info.identifier if player.track is not None else None


async def test_commands_issued_while_a_resumed_session_syncs_wait_for_it_and_lose_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 1: /play and /leave the moment the node reports ready(resumed), while the players are being fetched."""
    first = await world.boot()
    plan = await play_everywhere(world, first)
    await world.stop(first)
    g_play, g_join, g_leave = (g.id for g in world.guilds)
    extra = make_tracks(world.lavalink, "extra", 2)

    hold = HeldGetPlayers(monkeypatch)
    second = await world.boot(wait=False)
    await asyncio.wait_for(hold.held.wait(), 5)
    client = second.client
    assert client.nodes["main"].state.value == "syncing"

    # The saved guilds are claimed while the players are fetched (once the store is read, which may end after the
    # fetch was sent): their players exist with their saved queues.
    await eventually(lambda: client.get_player(g_play) is not None, what="the saved guilds claimed")
    playing = client.get_player(g_play)
    assert playing is not None and playing.guild_state is GuildState.RESTORING
    assert ids(playing.queue) == plan[g_play][1:]
    playing.queue.add(extra[1])  # a queue change acts on the restored queue
    play = asyncio.create_task(playing.play(extra[0]))
    join = asyncio.create_task(client.join(g_join, world.guilds[1].voice_channel_ids[0]))
    leave = asyncio.create_task(client.leave(g_leave))
    await asyncio.sleep(0)
    assert not play.done() and not join.done()  # they wait for the sync
    hold.release()
    await asyncio.wait_for(asyncio.gather(play, join, leave), 10)

    assert current(client.get_player(g_play)) == "extra-0"
    assert ids(client.get_player(g_play).queue) == [*plan[g_play][1:], "extra-1"]  # type: ignore[union-attr]
    joined = client.get_player(g_join)
    assert current(joined) == plan[g_join][0] and ids(joined.queue) == plan[g_join][1:]  # type: ignore[union-attr]
    assert client.get_player(g_leave) is None
    await eventually(lambda: g_leave not in lavalink_players(world, second), what="the left guild's player destroyed")
    await world.stop(second)
    store = open_store(world.store_url)
    await store.open()
    try:
        saved = await store.get_guilds(StoreKey(bot_id=world.discord.bot_id, node="main"))
    finally:
        await store.close()
    assert g_leave not in saved  # it never comes back
    assert saved[g_play].track is not None and len(saved[g_play].queue.tracks) == 4


async def test_a_node_restart_while_the_resumed_players_are_fetched_recovers_every_guild(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 2: every guild lost its current track and sat idle, and the store kept that."""
    first = await world.boot()
    plan = await play_everywhere(world, first)
    await world.stop(first)

    hold = HeldGetPlayers(monkeypatch)
    second = await world.boot(wait=False)
    await asyncio.wait_for(hold.held.wait(), 5)
    client = second.client
    await eventually(lambda: all(client.get_player(gid) for gid in plan), what="the saved guilds claimed")
    await world.lavalink.restart()  # every session and player lost, mid-sync
    hold.release()

    for gid, planned in plan.items():
        await eventually(
            lambda gid=gid: current(client.get_player(gid)) == plan[gid][0],  # type: ignore[misc]
            what=f"guild {gid} playing again",
        )
        player = client.get_player(gid)
        assert ids(player.queue) == planned[1:]  # type: ignore[union-attr]
    node = client.nodes["main"]
    await eventually(lambda: set(lavalink_players(world, second)) == set(plan), what="every player on the node")
    for gid, fake in lavalink_players(world, second).items():
        assert fake.track is not None and fake.position > 0, f"guild {gid} restarted from zero"
    assert node.last_sync is not None and node.last_sync.kind == "recovered"


async def test_a_cut_as_the_next_track_starts_plays_it_after_the_resume_despite_queue_changes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 7: the guild stayed idle for good, and the next /skip dropped the track that should have played."""
    process = await world.boot()
    guild = world.guilds[0]
    await world.seat_listener(guild)
    player = await process.client.join(guild.id, guild.voice_channel_ids[0])
    a, b, c = make_tracks(world.lavalink, "cut", 3, length=200_000)
    short = world.lavalink.add_track(title="short", author="T", length=2_000, identifier="cut-short")
    player.queue.extend([b, c])
    held = HeldPatch(monkeypatch, answer=False)
    await player.play(short)
    held.arm()  # the PATCH that starts the next track is held on its way...
    await eventually(lambda: player.track is None, what="the short track ending")
    await world.lavalink.drop_connections()  # ...and the connection is cut exactly then
    held.release()
    await eventually(lambda: player.pending is not None, what="the next track waiting for the node")
    assert player.pending is not None and player.pending.info.identifier == "cut-1"
    player.queue.add(a)  # the user changes the queue while the node is away
    await eventually(lambda: current(player) == "cut-1", timeout=10, what="the waiting track starting after the resume")
    assert [t.info.identifier for t in player.queue.history] == ["cut-short"]
    assert await player.skip() is not None
    assert current(player) == "cut-2"
    assert [t.info.identifier for t in player.queue.history] == ["cut-short", "cut-1"]
    assert ids(player.queue) == ["cut-0"]


async def test_a_crash_after_the_next_track_started_and_before_the_save_keeps_the_loop_and_history(
    world: World,
) -> None:
    """Item 8: in loop-queue mode the finished track dropped out of the loop and out of the history."""
    first = await world.boot()
    guild = world.guilds[0]
    await world.seat_listener(guild)
    player = await first.client.join(guild.id, guild.voice_channel_ids[0])
    a = world.lavalink.add_track(title="A", author="T", length=3_000, identifier="loop-a")
    b, c = make_tracks(world.lavalink, "loop", 2, length=600_000)
    player.queue.loop = LoopMode.QUEUE
    player.queue.extend([b, c])
    await player.play(a)
    await first.client.nodes["main"].wait_ready(1)
    before = player.snapshot()  # what the store holds: A playing, B and C next
    starts = len(first.of_type(events.TrackStartEvent))
    await eventually(lambda: current(player) == "loop-0", what="B starting after A")
    assert len(first.of_type(events.TrackStartEvent)) > starts
    await world.crash(first)
    store = open_store(world.store_url)
    await store.open()
    try:  # the crash came before the advance was saved
        await store.put_guild(StoreKey(bot_id=world.discord.bot_id, node="main"), before)
    finally:
        await store.close()

    second = await world.boot()
    await second.wait_for(events.SessionResumedEvent)
    back = second.client.get_player(guild.id)
    await eventually(lambda: back is not None and back.guild_state is GuildState.PLAYING, what="the guild back")
    assert current(back) == "loop-0"
    assert ids(back.queue) == ["loop-1", "loop-a"]  # type: ignore[union-attr]
    assert [t.info.identifier for t in back.queue.history] == ["loop-a"]  # type: ignore[union-attr]


async def test_a_player_kept_after_leave_refuses_commands_instead_of_recreating_the_guild(world: World) -> None:
    """A LEFT guild stays left: a stale `Player` reference must not create a player on the node again."""
    process = await world.boot()
    guild = world.guilds[0]
    await world.seat_listener(guild)
    player = await process.client.join(guild.id, guild.voice_channel_ids[0])
    (track,) = make_tracks(world.lavalink, "stale", 1)
    await process.client.leave(guild.id)
    assert player.guild_state is GuildState.LEFT
    with pytest.raises(LavalinkError, match="left"):
        await player.play(track)
    assert guild.id not in lavalink_players(world, process)


async def test_a_guild_left_while_the_node_was_away_stays_left_after_a_restart(world: World) -> None:
    """Found by the simulation: the pending destroy lived only in memory, so the next process adopted the
    resumed session's player (and saved it again)."""
    first = await world.boot()
    plan = await play_everywhere(world, first)
    gone = world.guilds[0].id
    await world.lavalink.drop_connections(refuse_new=True)  # the node is away...
    await first.client.leave(gone)  # ...when the guild leaves: its player cannot be destroyed yet
    await world.stop(first)
    await world.lavalink.accept_connections()

    second = await world.boot()
    await second.wait_for(events.SessionResumedEvent)
    assert second.client.get_player(gone) is None
    await eventually(lambda: gone not in lavalink_players(world, second), what="the left guild's player destroyed")
    for gid in plan:
        if gid != gone:
            assert current(second.client.get_player(gid)) == plan[gid][0]
    await world.stop(second)
    store = open_store(world.store_url)
    await store.open()
    try:
        saved = await store.get_guilds(StoreKey(bot_id=world.discord.bot_id, node="main"))
    finally:
        await store.close()
    assert gone not in saved  # the tombstone went once the player was destroyed


async def test_closing_while_a_resumed_session_syncs_leaves_every_guild_as_saved(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the simulation: a clean stop during the sync let the sync run on inside the closed client."""
    first = await world.boot()
    plan = await play_everywhere(world, first)
    await world.stop(first)
    hold = HeldGetPlayers(monkeypatch)
    second = await world.boot(wait=False)
    await asyncio.wait_for(hold.held.wait(), 5)
    closing = asyncio.create_task(world.stop(second))
    await asyncio.sleep(0)
    hold.release()
    await asyncio.wait_for(closing, 10)
    assert not second.client._hub._tasks  # nothing left running

    third = await world.boot()
    await third.wait_for(events.SessionResumedEvent)
    for gid, planned in plan.items():
        assert current(third.client.get_player(gid)) == planned[0]
        assert ids(third.client.get_player(gid).queue) == planned[1:]  # type: ignore[union-attr]
