"""The resume flow end to end: a real GatewayBot fed gateway payloads, FakeLavalink, a real SQLite store.

The six cases of DESIGN.md "The resume flow": restart within the timeout, a track ending while the bot is
away, restart after the timeout, a Lavalink restart, a network cut, and a clean shutdown.
"""

from __future__ import annotations

import asyncio
import typing

import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.stores import StoreKey, open_store
from lightbulb_lavalink.testing import FakeLavalink
from tests.polling import eventually

from .conftest import TIME_SCALE, BotProcess, World, make_tracks

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.protocol.tracks import Track


def ids(tracks: typing.Iterable[Track]) -> list[str]:
    return [t.info.identifier for t in tracks]


async def play_everywhere(world: World, process: BotProcess, *, length: int = 200_000) -> dict[int, list[str]]:
    """Each guild: a listener in voice, the bot joins, plays one track and queues three more."""
    plan: dict[int, list[str]] = {}
    for n, guild in enumerate(world.guilds):
        tracks = make_tracks(world.lavalink, f"g{n}", 4, length=length)
        await world.seat_listener(guild)
        player = await process.client.join(guild.id, guild.voice_channel_ids[0])
        player.queue.extend(tracks[1:])
        await player.play(tracks[0])
        plan[guild.id] = ids(tracks)
    return plan


def lavalink_players(world: World, process: BotProcess) -> dict[int, typing.Any]:
    node = process.client.nodes["main"]
    assert node.session_id is not None
    return dict(world.lavalink.players_of(node.session_id))


def assert_queue(player: Player | None, current: str | None, upcoming: list[str]) -> None:
    assert player is not None
    assert (player.track.info.identifier if player.track else None) == current
    assert ids(player.queue) == upcoming


@pytest.mark.parametrize("how", ["clean stop", "crash"])
async def test_restart_within_timeout_resumes_every_guild_with_its_queue(world: World, how: str) -> None:
    first = await world.boot()
    plan = await play_everywhere(world, first)
    await asyncio.sleep(0.25)  # ten emulated seconds of playback
    session_before = first.client.nodes["main"].session_id
    positions_before = {gid: p.position for gid, p in lavalink_players(world, first).items()}
    assert all(pos >= 5_000 for pos in positions_before.values())
    await (world.stop(first) if how == "clean stop" else world.crash(first))

    second = await world.boot()  # a new process: new GatewayBot, new Discord gateway session

    resumed = await second.wait_for(events.SessionResumedEvent)
    assert resumed.session_id == session_before
    assert resumed.players_synced == 3
    assert sorted(resumed.guild_ids) == sorted(plan)
    node = second.client.nodes["main"]
    assert node.last_sync is not None and node.last_sync.kind == "resumed"
    for gid, planned in plan.items():
        player = second.client.get_player(gid)
        assert_queue(player, planned[0], planned[1:])
        assert player is not None
        assert player.position >= positions_before[gid]  # kept playing: never restarted from zero
    # Voice re-synced: every Lavalink player now holds the new Discord gateway session's voice state.
    new_session = world.discord.session_id
    await eventually(
        lambda: all(
            p.voice is not None and p.voice.session_id == new_session for p in lavalink_players(world, second).values()
        ),
        what="voice re-sync with the new Discord session",
    )
    assert {c.guild_id for c in second.voice.calls} == set(plan)
    assert not second.of_type(events.TrackStartEvent)  # nothing was started again


async def test_a_track_ending_while_away_advances_the_queue_after_the_sync(world: World) -> None:
    first = await world.boot()
    plan = await play_everywhere(world, first, length=12_000)  # ends 0.3 s after it starts
    await world.stop(first)
    await asyncio.sleep(12_000 / 1000 / TIME_SCALE + 0.2)  # the first tracks end while the bot is away

    second = await world.boot()

    for gid, planned in plan.items():
        end = await second.wait_for(events.TrackEndEvent, lambda e, gid=gid: e.guild_id == gid)
        assert end.replayed and end.track.info.identifier == planned[0]
    # The queue advanced exactly once, after the sync: the second track plays, the first is history.
    for gid, planned in plan.items():
        await eventually(
            lambda gid=gid, planned=planned: (
                lambda p: p is not None and p.track is not None and p.track.info.identifier == planned[1]
            )(second.client.get_player(gid)),
            what=f"guild {gid} playing its second track",
        )
        player = second.client.get_player(gid)
        assert_queue(player, planned[1], planned[2:])
        assert player is not None
        assert ids(player.queue.history) == planned[:1]
    fake = lavalink_players(world, second)
    assert {gid: p.track.info.identifier for gid, p in fake.items()} == {g: p[1] for g, p in plan.items()}
    report = second.client.nodes["main"].last_sync
    assert report is not None and report.kind == "resumed"
    assert report.replayed_events == len(plan)  # one TrackEndEvent per guild, replayed after the sync


async def test_restart_after_the_timeout_recovers_every_saved_guild(world: World) -> None:
    world.resume_timeout = 1
    first = await world.boot()
    plan = await play_everywhere(world, first)
    await asyncio.sleep(0.2)
    old_session = first.client.nodes["main"].session_id
    await world.stop(first)
    saved = {gid: p.snapshot() for gid, p in first.client.players.items()}
    await asyncio.sleep(1 / TIME_SCALE + 0.2)  # the paused session expires on the node
    assert old_session not in world.lavalink.sessions or world.lavalink.sessions[old_session].destroyed

    second = await world.boot()

    recovered = await second.wait_for(events.SessionRecoveredEvent)
    assert recovered.previous_session_id == old_session
    assert recovered.session_id != old_session
    assert sorted(recovered.guild_ids) == sorted(plan)
    assert recovered.failed == {}
    fake = lavalink_players(world, second)
    for gid, planned in plan.items():
        player = second.client.get_player(gid)
        assert_queue(player, planned[0], planned[1:])
        # Replayed from its saved position, not from zero.
        assert fake[gid].track.info.identifier == planned[0]
        assert fake[gid].position >= saved[gid].position
        assert fake[gid].voice is not None and fake[gid].voice.session_id == world.discord.session_id
    node = second.client.nodes["main"]
    assert node.last_sync is not None and node.last_sync.kind == "recovered"


async def test_lavalink_restart_recovers_players_under_a_running_bot(world: World) -> None:
    process = await world.boot()
    plan = await play_everywhere(world, process)
    await asyncio.sleep(0.2)
    old_session = process.client.nodes["main"].session_id
    await process.client.players[world.guilds[0].id].pause()

    await world.lavalink.restart()  # every session and player lost

    recovered = await process.wait_for(events.SessionRecoveredEvent)
    assert recovered.previous_session_id == old_session
    assert sorted(recovered.guild_ids) == sorted(plan)
    fake = lavalink_players(world, process)
    for gid, planned in plan.items():
        assert_queue(process.client.get_player(gid), planned[0], planned[1:])
        assert fake[gid].track.info.identifier == planned[0]
        assert fake[gid].position > 0
    assert fake[world.guilds[0].id].paused
    assert not any(fake[g.id].paused for g in world.guilds[1:])
    # Discord voice did not change: no new OP4 was needed.
    assert len(process.voice.calls) == len(plan)


async def test_network_cut_resumes_the_same_session_without_loss_or_duplicates(world: World) -> None:
    process = await world.boot()
    plan = await play_everywhere(world, process, length=12_000)
    session = process.client.nodes["main"].session_id

    await world.lavalink.drop_connections()  # the tracks end while the socket is down
    await asyncio.sleep(12_000 / 1000 / TIME_SCALE + 0.1)

    resumed = await process.wait_for(events.SessionResumedEvent)
    assert resumed.session_id == session
    for gid, planned in plan.items():
        await eventually(
            lambda gid=gid, planned=planned: ids(process.client.players[gid].queue.history)[:1] == planned[:1],
            what=f"guild {gid} advanced",
        )
    for gid, planned in plan.items():
        player = process.client.get_player(gid)
        assert player is not None
        # Nothing lost, nothing played twice: history, current track and queue are the plan, in order.
        current = [player.track.info.identifier] if player.track is not None else []
        assert ids(player.queue.history) + current + ids(player.queue) == planned
        finished = [e for e in process.of_type(events.TrackEndEvent) if e.guild_id == gid and e.may_start_next]
        assert ids(e.track for e in finished) == planned[: len(finished)]


async def test_close_keeps_the_session_resumable_and_destroys_nothing(world: World) -> None:
    process = await world.boot()
    plan = await play_everywhere(world, process)
    session_id = process.client.nodes["main"].session_id
    assert session_id is not None

    await world.stop(process)

    session = world.lavalink.sessions[session_id]
    assert session.paused and session.resuming and not session.destroyed
    assert session.timeout == world.resume_timeout
    playing = {gid: p.track.info.identifier for gid, p in session.players.items() if p.track is not None}
    assert playing == {g: p[0] for g, p in plan.items()}
    assert all(not p.paused for p in session.players.values())
    # Voice untouched: no leave was sent to Discord.
    assert all(call.channel_id is not None for call in process.voice.calls)


async def test_two_clients_in_one_process_do_not_share_state(world: World) -> None:
    from lightbulb_lavalink.testing.gateway import FakeDiscord

    async with FakeLavalink(time_scale=TIME_SCALE) as other_node:
        first = await world.boot()
        other_discord = FakeDiscord(bot_id=world.discord.bot_id + 1)
        other = World(
            lavalink=other_node,
            discord=other_discord,
            store_url="memory://",
            guilds=[await other_discord.add_guild(members=3)],
        )
        second = await other.boot()
        try:
            guild = world.guilds[0]
            await world.seat_listener(guild)
            await first.client.join(guild.id, guild.voice_channel_ids[0])
            assert first.client.get_player(guild.id) is not None
            assert second.client.get_player(guild.id) is None
            assert not second.client.players
            assert second.client.nodes["main"].session_id != first.client.nodes["main"].session_id
            assert all(not s.players for s in other_node.sessions.values())
            assert second.voice.calls == []
        finally:
            await other.stop(second)


async def test_a_queue_left_stalled_by_a_crash_between_end_and_next_track_continues(world: World) -> None:
    first = await world.boot()
    plan = await play_everywhere(world, first, length=12_000)  # ends 0.3 s after it starts
    await asyncio.sleep(0.1)  # the snapshots (current track and queue) reach the store
    session_id = first.client.nodes["main"].session_id
    assert session_id is not None
    await world.crash(first)
    await asyncio.sleep(12_000 / 1000 / TIME_SCALE + 0.1)  # the first tracks end on the node
    # As if each TrackEndEvent had reached the old process, which died before starting the next track:
    # nothing is left to replay, and Lavalink's players are idle.
    world.lavalink.sessions[session_id]._queue.clear()
    assert all(p.track is None for p in world.lavalink.sessions[session_id].players.values())

    second = await world.boot()

    await second.wait_for(events.SessionResumedEvent)
    for gid, planned in plan.items():
        await eventually(
            lambda gid=gid, planned=planned: (
                (p := second.client.get_player(gid)) is not None
                and p.track is not None
                and p.track.info.identifier == planned[1]
            ),
            what=f"guild {gid} continuing with its second track",
        )
        player = second.client.get_player(gid)
        assert player is not None
        assert ids(player.queue.history) == planned[:1]
        assert ids(player.queue) == planned[2:]


async def test_guilds_saved_under_a_renamed_node_are_recovered_on_the_configured_one(world: World) -> None:
    first = await world.boot()
    plan = await play_everywhere(world, first)
    await world.stop(first)
    world.node_name = "renamed"  # the operator renamed the node in the settings

    second = await world.boot()

    recovered = await second.wait_for(events.SessionRecoveredEvent)
    assert sorted(recovered.guild_ids) == sorted(plan)
    for gid, planned in plan.items():
        player = second.client.get_player(gid)
        assert player is not None and player.node.name == "renamed"
        assert_queue(player, planned[0], planned[1:])
    await second.client.close()
    store = open_store(world.store_url)
    await store.open()
    try:
        old = StoreKey(bot_id=world.discord.bot_id, node="main")
        new = StoreKey(bot_id=world.discord.bot_id, node="renamed")
        assert await store.get_guilds(old) == {}
        assert await store.get_session(old) is None
        assert sorted(await store.get_guilds(new)) == sorted(plan)
    finally:
        await store.close()


async def test_a_clip_keeps_its_end_across_a_recovery(world: World) -> None:
    world.resume_timeout = 1
    first = await world.boot()
    guild = world.guilds[0]
    await world.seat_listener(guild)
    player = await first.client.join(guild.id, guild.voice_channel_ids[0])
    clip = make_tracks(world.lavalink, "clip", 1)[0]
    await player.play(clip, start=10_000, end=150_000)
    await world.stop(first)
    await asyncio.sleep(1 / TIME_SCALE + 0.2)  # the session expires

    second = await world.boot()

    await second.wait_for(events.SessionRecoveredEvent)
    fake = lavalink_players(world, second)[guild.id]
    assert fake.track is not None and fake.track.info.identifier == clip.info.identifier
    assert fake.end_time == 150_000
    assert fake.position >= 10_000
