"""Races and outages a bot author would notice: commands while the node is away, REST answers overtaken by
websocket events, user commands during a recovery. Each test was a bug found in review, now fixed."""

from __future__ import annotations

import asyncio
import typing

import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import NodeUnavailable
from lightbulb_lavalink.player import Player
from lightbulb_lavalink.plugins.access import Plugins
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.snapshot import PluginSnapshot
from tests.loop_turns import turns
from tests.polling import eventually

from .conftest import BotProcess, HeldPatch, World, clock_of, joined, make_tracks
from .test_resume import ids, lavalink_players

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.protocol.tracks import Track


async def node_down(world: World, process: BotProcess) -> None:
    """Cut the network to the node and keep it cut until `world.lavalink.accept_connections()`."""
    node = process.client.nodes["main"]
    await world.lavalink.drop_connections(refuse_new=True)
    await eventually(lambda: not node.connected, what="the client seeing the node down")


def identifier(track: Track | None) -> str | None:
    return None if track is None else track.info.identifier


# -- the node is down during user commands ------------------------------------------------------------------------


async def test_play_and_skip_while_the_node_is_down_lose_no_queued_track(world: World) -> None:
    process = await world.boot()
    player = await joined(world, process)
    tracks = make_tracks(world.lavalink, "down", 4)
    await player.play(tracks[0])
    player.queue.extend(tracks[1:])
    await node_down(world, process)

    with pytest.raises(NodeUnavailable):
        await player.skip()  # "try again once it is back", says the error
    with pytest.raises(NodeUnavailable):
        await player.play()

    await world.lavalink.accept_connections()
    # Nothing happened on the node, so nothing may have happened to the queue either.
    assert identifier(player.track) == tracks[0].info.identifier
    assert ids(player.queue) == ids(tracks[1:])
    assert ids(player.queue.history) == []


async def test_leave_while_the_node_is_down_stays_left_after_the_resume(world: World) -> None:
    process = await world.boot()
    player = await joined(world, process)
    guild = world.guilds[0]
    await player.play(make_tracks(world.lavalink, "left", 1)[0])
    await node_down(world, process)

    await process.client.leave(guild.id)  # no error: the user believes the bot left
    await process.voice.wait_idle()
    assert process.client.get_player(guild.id) is None
    assert world.discord.bot_voice(guild.id) is None

    await world.lavalink.accept_connections()
    await process.wait_for(events.ResumeCompletedEvent)  # everything the resume set off settled, voice re-sync too
    await process.voice.wait_idle()
    # The player left while the node was away is destroyed on it once the session is back (a deferred destroy).
    await eventually(lambda: guild.id not in lavalink_players(world, process), what="its player gone from Lavalink")

    assert process.client.get_player(guild.id) is None, "the guild the user left came back"
    assert world.discord.bot_voice(guild.id) is None, "the bot rejoined the voice channel it was told to leave"


async def test_a_voice_server_change_during_a_node_outage_reaches_lavalink_after_the_resume(world: World) -> None:
    process = await world.boot()
    player = await joined(world, process)
    guild = world.guilds[0]
    await player.play(make_tracks(world.lavalink, "region", 1)[0])
    await node_down(world, process)

    new_endpoint = await process.voice.region_change(guild.id)  # Discord moved the voice server meanwhile
    await world.lavalink.accept_connections()
    await process.wait_for(events.SessionResumedEvent)

    await eventually(
        lambda: (v := lavalink_players(world, process)[guild.id].voice) is not None and v.endpoint == new_endpoint,
        timeout=2,
        what="Lavalink getting the new voice server",
    )


# -- REST answers racing websocket events ----------------------------------------------------------------------------


async def test_a_slow_rest_answer_does_not_roll_back_the_current_track(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = await world.boot()
    player = await joined(world, process)
    first, second = make_tracks(world.lavalink, "short", 2, length=8_000)  # 0.2 s each
    third = make_tracks(world.lavalink, "long", 1)[0]

    # The answer to one PATCH is held in transit (the HTTP response and the websocket are separate connections,
    # so nothing orders them): Lavalink applied it while `first` was playing.
    patch = HeldPatch(monkeypatch, answer=True)

    await player.play(first)
    player.queue.extend([second, third])
    patch.arm()
    volume = asyncio.create_task(player.set_volume(50))
    # `first` ends while the answer is in transit: the queue moves on at once, and `second` waits for the
    # command in flight (one command or start at a time per guild, so a late answer never undoes a later one).
    await eventually(lambda: identifier(player.pending) == second.info.identifier, what="the queue moving on")
    assert player.track is None
    patch.release()
    await volume
    await eventually(lambda: identifier(player.track) == second.info.identifier, what="second track started")
    assert player.volume == 50
    assert [t.info.identifier for t in player.queue.history] == [first.info.identifier]
    await eventually(
        lambda: identifier(lavalink_players(world, process)[player.guild_id].track) == third.info.identifier,
        timeout=2,
        what="the queue moving on to the third track",
    )


# -- recovery racing a user's command -------------------------------------------------------------------------------


async def test_a_track_played_during_recovery_is_not_thrown_away(manual_world: World) -> None:
    world = manual_world
    world.resume_timeout = 1
    first = await world.boot()
    player = await joined(world, first)
    guild = world.guilds[0]
    before = make_tracks(world.lavalink, "before", 1)[0]
    await player.play(before)
    await world.stop(first)
    clock_of(world).advance(2)  # the session expires: the next boot recovers from the snapshot

    second = await world.boot(voice_delay=0.3)
    # A /play right after the restart: the guild's player exists (recovery is rejoining voice), nothing plays.
    await eventually(lambda: second.client.get_player(guild.id) is not None, what="the recovery creating the player")
    recovering = second.client.get_player(guild.id)
    assert recovering is not None and recovering.track is None
    wanted = make_tracks(world.lavalink, "wanted", 1)[0]
    await recovering.play(wanted)
    await second.wait_for(events.SessionRecoveredEvent)

    now = second.client.get_player(guild.id)
    assert now is not None
    kept = [identifier(now.track), *ids(now.queue)]
    assert wanted.info.identifier in kept, f"the user's track vanished: playing/queued {kept}"


async def test_skip_racing_the_natural_end_of_the_track_advances_the_queue_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = await world.boot()
    player = await joined(world, process)
    ending = make_tracks(world.lavalink, "ending", 1, length=8_000)[0]  # 0.2 s
    after, later = make_tracks(world.lavalink, "next", 2)

    # The skip's PATCH is slow to reach Lavalink (latency): the skipped track finishes before it arrives.
    patch = HeldPatch(monkeypatch, answer=False)

    await player.play(ending)
    player.queue.extend([after, later])
    patch.arm()
    skip = asyncio.create_task(player.skip())
    await process.wait_for(events.TrackEndEvent, lambda e: e.track.info.identifier == ending.info.identifier)
    await asyncio.sleep(0.05)  # what the client does with that end
    patch.release()
    assert identifier(await skip) == after.info.identifier
    await asyncio.sleep(0.05)

    # One skip: `after` plays, `later` is still next, `ending` is in the history once.
    assert identifier(lavalink_players(world, process)[player.guild_id].track) == after.info.identifier
    assert ids(player.queue) == [later.info.identifier]
    assert ids(player.queue.history) == [ending.info.identifier]


async def test_a_guild_joined_before_its_recovery_turn_keeps_its_saved_queue(world: World) -> None:
    world.resume_timeout = 1
    first = await world.boot()
    saved: dict[int, list[str]] = {}
    for n in range(2):
        player = await joined(world, first, n)
        tracks = make_tracks(world.lavalink, f"saved{n}", 3)
        player.queue.extend(tracks[1:])
        await player.play(tracks[0])
        saved[player.guild_id] = ids(tracks[1:])
    await world.stop(first)
    await asyncio.sleep(0.2)  # the session expires: the next boot recovers from the snapshots

    second = await world.boot(voice_delay=0.3, wait=False)
    # One voice join a second on the shard (Discord's rate limit, shrunk): one guild rejoins at once, the other waits
    # its turn, and a user of that one runs /join meanwhile.
    second.client.voice.pacer.budget, second.client.voice.pacer.window = 1, 1.0
    await second.client.wait_ready(5)
    players = second.client.players
    await eventually(lambda: any(p.track is not None for p in players.values()), what="the first guild recovering")
    waiting = next(g for g in world.guilds[:2] if g.id not in players or players[g.id].track is None)
    await second.client.join(waiting.id, waiting.voice_channel_ids[0])
    await second.wait_for(events.SessionRecoveredEvent, timeout=5)

    rejoined = second.client.get_player(waiting.id)
    assert rejoined is not None
    assert ids(rejoined.queue) == saved[waiting.id], "the queue saved before the restart is gone"


async def test_a_failed_loop_restart_does_not_duplicate_the_track_in_the_queue(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = await world.boot()
    player = await joined(world, process)
    looped = make_tracks(world.lavalink, "looped", 1, length=8_000)[0]  # 0.2 s
    upcoming = make_tracks(world.lavalink, "upcoming", 1)[0]
    await player.play(looped)
    player.queue.loop = "track"
    player.queue.add(upcoming)

    original = RestClient.update_player

    async def node_refuses(self: RestClient, *args: typing.Any, **kwargs: typing.Any) -> typing.Any:
        raise NodeUnavailable("the node is restarting")  # the loop restart's PATCH fails

    monkeypatch.setattr(RestClient, "update_player", node_refuses)
    await process.wait_for(events.TrackEndEvent, lambda e: e.track.info.identifier == looped.info.identifier)
    await asyncio.sleep(0.05)
    monkeypatch.setattr(RestClient, "update_player", original)

    assert ids(player.queue) == [upcoming.info.identifier]


async def test_a_leave_while_a_recovery_sends_plugin_state_sends_no_track_for_the_left_guild(
    manual_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recovery sends a guild's plugin state (SponsorBlock's categories) before its track; the bot leaving the
    guild meanwhile must stop it there: a track sent after the leave would create the left guild's player again."""
    world = manual_world
    world.resume_timeout = 1
    first = await world.boot()
    player = await joined(world, first)
    guild = world.guilds[0]
    await player.play(make_tracks(world.lavalink, "plugin-left", 1)[0])
    player.set_plugin_state(PluginSnapshot(sponsorblock_categories=("sponsor",)))
    await world.stop(first)
    clock_of(world).advance(2)  # the session expires: the next boot recovers the guild from its snapshot

    entered, go_on = asyncio.Event(), asyncio.Event()
    original = Plugins.restore_before_track

    async def held(self: Plugins, player: Player, state: PluginSnapshot) -> None:
        entered.set()
        await go_on.wait()
        await original(self, player, state)

    monkeypatch.setattr(Plugins, "restore_before_track", held)
    second = await world.boot(wait=False)
    await entered.wait()  # the recovery is sending the plugin state
    seen = len(world.lavalink.requests)
    leaving = asyncio.create_task(second.client.leave(guild.id))
    await turns()
    go_on.set()
    await leaving
    await second.wait_for(events.ResumeCompletedEvent)
    sent = [r for r in world.lavalink.requests[seen:] if r.method == "PATCH" and r.path.endswith(f"/{guild.id}")]
    assert sent == [], "a track was sent for the guild the bot left"
    assert guild.id not in lavalink_players(world, second)
    assert second.client.get_player(guild.id) is None
