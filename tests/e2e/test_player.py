"""Players driven through the public API against FakeLavalink and FakeDiscord: what a bot author sees."""

from __future__ import annotations

import typing

import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import NodeUnavailable, VoiceTimeoutError
from lightbulb_lavalink.protocol.filters import Filters, Timescale
from lightbulb_lavalink.queue import LoopMode
from lightbulb_lavalink.snapshot import GuildSnapshot
from lightbulb_lavalink.stores import StoreKey, open_store
from lightbulb_lavalink.testing import Playback
from tests.polling import eventually

from .conftest import World, clock_of, joined, make_tracks
from .test_resume import ids, lavalink_players

if typing.TYPE_CHECKING:
    pass


async def test_join_sends_the_discord_voice_state_to_lavalink(world: World) -> None:
    process = await world.boot()
    player = await joined(world, process)
    guild = world.guilds[0]
    fake = lavalink_players(world, process)[guild.id]
    assert player.channel_id == guild.voice_channel_ids[0]
    assert fake.voice is not None
    assert fake.voice.session_id == world.discord.session_id
    assert fake.voice.token == process.voice.tokens[guild.id]
    assert fake.voice.channel_id == str(guild.voice_channel_ids[0])
    assert fake.connected


async def test_play_pause_resume_seek_volume_filters_stop(manual_world: World) -> None:
    world = manual_world
    process = await world.boot()
    player = await joined(world, process)
    fake = lambda: lavalink_players(world, process)[player.guild_id]  # noqa: E731
    track = make_tracks(world.lavalink, "cmd", 1)[0]

    await player.play(track)
    start = await process.wait_for(events.TrackStartEvent)
    assert start.track.info.identifier == track.info.identifier and not start.replayed
    assert fake().track.info.identifier == track.info.identifier

    await player.pause()
    assert player.paused and fake().paused
    frozen = player.position
    clock_of(world).advance(0.5)
    assert player.position == frozen  # no interpolation while paused

    await player.resume()
    assert not player.paused and not fake().paused

    await player.seek(100_000)
    assert 100_000 <= fake().position < 110_000
    assert 100_000 <= player.position < 110_000

    await player.set_volume(250)
    assert player.volume == 250 and fake().volume == 250
    with pytest.raises(ValueError, match="volume"):
        await player.set_volume(1001)

    await player.set_filters(Filters(timescale=Timescale(speed=1.25)))
    assert player.filters.timescale is not None and player.filters.timescale.speed == 1.25

    await player.stop()
    assert player.track is None and fake().track is None
    end = await process.wait_for(events.TrackEndEvent)
    assert end.reason.value == "stopped" and not end.may_start_next


async def test_position_is_interpolated_between_player_updates(manual_world: World) -> None:
    world = manual_world
    process = await world.boot()
    player = await joined(world, process)
    await player.play(make_tracks(world.lavalink, "interp", 1)[0])
    first = player.position
    clock_of(world).advance(0.5)  # half the node's update interval: no player update came
    assert player.position == first + 500


async def test_the_queue_advances_on_its_own_and_ends(world: World) -> None:
    process = await world.boot()
    player = await joined(world, process)
    tracks = make_tracks(world.lavalink, "auto", 3, length=4_000)  # 0.1 s each
    player.queue.extend(tracks[1:])
    await player.play(tracks[0])

    end = await process.wait_for(events.QueueEndEvent, timeout=5)
    assert end.player is player
    assert ids(player.queue.history) == ids(tracks)
    assert player.track is None
    started = [e.track.info.identifier for e in process.of_type(events.TrackStartEvent)]
    assert started == ids(tracks)


async def test_loop_track_repeats_and_skip_moves_on(world: World) -> None:
    process = await world.boot()
    player = await joined(world, process)
    tracks = make_tracks(world.lavalink, "loop", 2, length=4_000)
    player.queue.loop = LoopMode.TRACK
    player.queue.add(tracks[1])
    await player.play(tracks[0])
    await eventually(lambda: len(process.of_type(events.TrackStartEvent)) >= 3, what="the track repeating")
    assert {e.track.info.identifier for e in process.of_type(events.TrackStartEvent)} == {tracks[0].info.identifier}

    nxt = await player.skip()
    assert nxt is not None and nxt.info.identifier == tracks[1].info.identifier
    assert ids(player.queue) == []


async def test_a_failing_track_is_reported_and_the_queue_moves_on(world: World) -> None:
    process = await world.boot()
    player = await joined(world, process)
    bad = world.lavalink.add_track(title="Broken", identifier="unplayable-1", length=60_000, playback=Playback.FAIL)
    good = make_tracks(world.lavalink, "after-bad", 1)[0]
    player.queue.add(good)
    await player.play(bad)
    failure = await process.wait_for(events.TrackExceptionEvent)
    assert failure.track.info.identifier == "unplayable-1"
    end = await process.wait_for(events.TrackEndEvent, lambda e: e.reason.value == "loadFailed")
    assert end.may_start_next
    await eventually(lambda: player.track is not None and player.track.info.identifier == good.info.identifier)


async def test_queue_changes_reach_the_store(world: World) -> None:
    process = await world.boot()
    player = await joined(world, process)
    tracks = make_tracks(world.lavalink, "saved", 3)
    await player.play(tracks[0])
    player.queue.extend(tracks[1:])
    player.queue.move(1, 0)
    store = open_store(world.store_url)
    await store.open()
    try:
        key = StoreKey(bot_id=world.discord.bot_id, node="main")

        async def saved() -> GuildSnapshot | None:
            return (await store.get_guilds(key)).get(player.guild_id)

        async def both_queued_saved() -> bool:
            snap = await saved()
            return snap is not None and len(snap.queue.tracks) == 2

        await eventually(both_queued_saved, "the two queued tracks in the store")
        snap = await saved()
        assert snap is not None
        assert snap.track is not None and snap.channel_id == world.guilds[0].voice_channel_ids[0]
        restored = [t.encoded for t in snap.queue.tracks]
        assert restored == [t.encoded for t in player.queue]
        assert await store.get_session(key) == process.client.nodes["main"].session_id
    finally:
        await store.close()


async def test_kick_cleans_the_player_up(world: World) -> None:
    process = await world.boot()
    player = await joined(world, process)
    await player.play(make_tracks(world.lavalink, "kick", 1)[0])
    session_id = process.client.nodes["main"].session_id
    assert session_id is not None

    await process.voice.kick(player.guild_id)

    await eventually(lambda: process.client.get_player(player.guild_id) is None, what="player removed")
    await eventually(lambda: player.guild_id not in world.lavalink.players_of(session_id), what="destroyed on node")


async def test_a_move_forwards_the_new_channel_and_server_to_lavalink(world: World) -> None:
    process = await world.boot()
    player = await joined(world, process)
    guild = world.guilds[0]
    target = guild.voice_channel_ids[1]
    await process.voice.move(guild.id, target)

    def moved() -> bool:
        fake = lavalink_players(world, process)[guild.id]
        return fake.voice is not None and fake.voice.channel_id == str(target)

    await eventually(moved, what="voice update forwarded")
    assert player.channel_id == target
    await process.voice.region_change(guild.id, endpoint="c-fra01-1234.discord.media:443")
    await eventually(
        lambda: lavalink_players(world, process)[guild.id].voice.endpoint == "c-fra01-1234.discord.media:443",
        what="region change forwarded",
    )


async def test_leave_destroys_the_player_and_forgets_the_guild(world: World) -> None:
    process = await world.boot()
    player = await joined(world, process)
    await player.play(make_tracks(world.lavalink, "leave", 1)[0])
    await process.client.leave(player.guild_id)
    assert process.client.get_player(player.guild_id) is None
    assert player.guild_id not in lavalink_players(world, process)
    assert process.voice.calls[-1].channel_id is None


async def test_join_timeout_is_a_clear_error_and_leaves_no_player(world: World) -> None:
    world.voice_timeout = 0.2
    process = await world.boot()
    process.voice.respond = False
    guild = world.guilds[0]
    with pytest.raises(VoiceTimeoutError, match=str(guild.id)):
        await process.client.join(guild.id, guild.voice_channel_ids[0])
    assert process.client.get_player(guild.id) is None


async def test_no_ready_node_is_a_clear_error(world: World) -> None:
    process = await world.boot()
    await world.lavalink.close()
    await eventually(lambda: not process.client.nodes["main"].connected, what="node down")
    guild = world.guilds[0]
    with pytest.raises(NodeUnavailable, match="main"):
        await process.client.join(guild.id, guild.voice_channel_ids[0])


async def test_an_empty_channel_is_not_rejoined_after_recovery(manual_world: World) -> None:
    world = manual_world
    world.resume_timeout = 1
    first = await world.boot()
    lonely, busy = world.guilds[0], world.guilds[1]
    for guild in (lonely, busy):
        player = await joined(world, first, world.guilds.index(guild))
        await player.play(make_tracks(world.lavalink, f"empty-{guild.id}", 1)[0])
    await world.stop(first)
    await world.discord.voice_state(lonely.id, world.listener_in(lonely), None)  # the listener leaves
    clock_of(world).advance(2)  # the session expires on the node: the next boot recovers from the snapshots

    second = await world.boot()
    recovered = await second.wait_for(events.SessionRecoveredEvent)
    assert recovered.guild_ids == (busy.id,)
    assert "no listeners" in recovered.failed[lonely.id]
    assert second.client.get_player(lonely.id) is None


async def test_a_queued_track_the_node_refuses_is_skipped_not_stalling_the_queue(world: World) -> None:
    from lightbulb_lavalink.protocol.codec import decode_track, encode_track
    from lightbulb_lavalink.protocol.tracks import TrackInfo

    process = await world.boot()
    player = await joined(world, process)
    first, good = make_tracks(world.lavalink, "refused", 2, length=4_000)
    alien = decode_track(
        encode_track(
            TrackInfo(
                identifier="x1",
                author="?",
                length=60_000,
                is_stream=False,
                position=0,
                title="Alien",
                uri=None,
                source_name="no-such-source",
                artwork_url=None,
                isrc=None,
            )
        )
    )
    player.queue.extend([alien, good])
    await player.play(first)
    await eventually(
        lambda: player.track is not None and player.track.info.identifier == good.info.identifier,
        what="the good track playing after the refused one",
    )
    assert ids(player.queue.history) == [first.info.identifier]
    assert ids(player.queue) == []


async def test_the_state_says_the_voice_connection_closed_as_soon_as_the_node_says_so(manual_world: World) -> None:
    """A `WebSocketClosedEvent` is the node reporting the voice connection down: `player.state` says so at once, not
    only at the next `playerUpdate`."""
    world = manual_world
    process = await world.boot()
    player = await joined(world, process)
    await player.play(make_tracks(world.lavalink, "closing", 1)[0])
    assert player.state is not None and player.state.connected
    closed = process.expect(events.VoiceClosedEvent)
    fake = lavalink_players(world, process)[player.guild_id]
    fake.notify("WebSocketClosedEvent", code=4014, reason="", byRemote=True)  # no playerUpdate after it yet
    await closed
    assert not player.connected
    assert player.state is not None and not player.state.connected
