"""The whole bot against servers that answer as NodeLink and every Lavalink 4.x really do (issue 11).

Everything runs on one `ManualClock`: tracks advance, updates come and backoffs pass only when a test moves it.
"""

from __future__ import annotations

import asyncio
import typing

import attrs
import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.protocol.filters import EqualizerBand, Filters, Karaoke, LowPass, Timescale
from lightbulb_lavalink.protocol.loading import Severity
from lightbulb_lavalink.settings import NodeSettings
from lightbulb_lavalink.stores import StoreKey, open_store
from lightbulb_lavalink.testing import FakeLavalink, ManualClock
from lightbulb_lavalink.testing.catalog import Playback
from lightbulb_lavalink.testing.gateway import FakeDiscord

from .conftest import BotProcess, World, clock_of, joined
from .test_resume import lavalink_players

if typing.TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterator, Callable

E = typing.TypeVar("E", bound=events.LavalinkEvent)
RETRY = 0.2  # s: the longest reconnect delay in `World.settings`


SERVERS: dict[str, dict[str, str]] = {
    "Lavalink 4.0.7": {"version": "4.0.7"},  # before 1001 on shutdown, filter defaults omitted, no channelId
    "Lavalink 4.1.2": {"version": "4.1.2"},  # every filter field written, causeStackTrace
    "Lavalink 4.2.2": {"version": "4.2.2"},  # channelId
    "NodeLink 3.7.0": {"flavour": "nodelink"},
}


@pytest.fixture(params=list(SERVERS))
async def world(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> AsyncIterator[World]:
    """One guild, FakeLavalink answering as each server does, and every bot process on a single `ManualClock`."""
    clock = ManualClock()
    async with FakeLavalink(clock=clock, player_update_interval=1.0, **SERVERS[request.param]) as lavalink:
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


def expect(
    process: BotProcess, kind: type[E], predicate: Callable[[E], bool] = lambda e: True, *, seen: bool = False
) -> asyncio.Future[E]:
    return process.expect(kind, predicate, seen=seen)


async def got(future: asyncio.Future[E]) -> E:
    """Await an `expect` future (a real-time safety net only: the clock is what makes things happen)."""
    async with asyncio.timeout(5):
        return await future


# -- item 3: a track whose length is unknown ----------------------------------------------------------------------


@pytest.mark.parametrize("length", [-1, 2**63 - 1], ids=["NodeLink's -1", "Java's Long.MAX_VALUE"])
async def test_a_track_of_unknown_length_keeps_its_position_in_snapshots_and_recoveries(
    world: World, length: int
) -> None:
    """NodeLink reports ``length: -1`` for files it has not measured: the position was clamped to 0, so snapshots
    stored 0 and a recovery restarted the track from its start."""
    process = await world.boot()
    player = await joined(world, process)
    track = world.lavalink.add_track(title="A file of unknown length", length=length, identifier="unmeasured")
    started = expect(process, events.TrackStartEvent)
    await player.play(track)
    await got(started)
    assert player.track is not None and player.track.info.length == length

    updated = expect(process, events.PlayerUpdateEvent, lambda e: e.state.position >= 30_000)
    clock_of(world).advance(30.0)
    await got(updated)
    assert player.position == 30_000
    assert player.snapshot().position == 30_000

    disconnected = expect(process, events.NodeDisconnectedEvent)
    recovered = expect(process, events.SessionRecoveredEvent)
    await world.lavalink.restart()  # the node lost every session: the guild is rebuilt from its snapshot
    await got(disconnected)
    clock_of(world).advance(RETRY)
    assert (await got(recovered)).guild_ids == (player.guild_id,)
    fake = lavalink_players(world, process)[player.guild_id]
    assert fake.track is not None and fake.track.info.identifier == "unmeasured"
    assert fake.position == 30_000, "the recovered track starts where it was, not from its start"


# -- Lavalink 4.2: the voice channel comes back from Lavalink ------------------------------------------------------


@pytest.mark.parametrize("lost", ["the channel", "the whole snapshot"])
async def test_after_a_resume_the_voice_channel_is_read_back_from_lavalink(world: World, lost: str) -> None:
    """4.2 reports each player's ``channelId``: a guild whose snapshot lacks its channel (written before the bot's
    voice state came, or lost) still rejoins it after a resume, and the snapshot has it again."""
    if not world.lavalink.context.version.channel_id:
        pytest.skip("before 4.2 Lavalink does not report the channel: only the snapshot knows it")
    first = await world.boot()
    player = await joined(world, first)
    gid, channel = player.guild_id, player.channel_id
    assert channel is not None
    track = world.lavalink.add_track(title="Keeps playing", identifier="keeps-playing")
    started = expect(first, events.TrackStartEvent)
    await player.play(track)
    await got(started)
    await world.stop(first)
    store = open_store(world.store_url)
    await store.open()
    key = StoreKey(bot_id=world.discord.bot_id, node="main")
    try:
        if lost == "the channel":
            saved = (await store.get_guilds(key))[gid]
            await store.put_guild(key, attrs.evolve(saved, channel_id=None))
        else:
            await store.delete_guild(key, gid)
    finally:
        await store.close()

    second = await world.boot()
    # One playerUpdate comes with the resume; the next one, once the bot rejoined and sent its new voice state.
    rejoined = second.expect(
        events.PlayerUpdateEvent, lambda e: len(second.of_type(events.PlayerUpdateEvent)) >= 2, seen=True
    )
    await got(rejoined)
    resumed = second.client.get_player(gid)
    assert resumed is not None and resumed.channel_id == channel
    assert [c.channel_id for c in second.voice.calls if c.guild_id == gid] == [channel]
    fake = lavalink_players(world, second)[gid]
    assert fake.voice is not None and fake.voice.channel_id == str(channel)
    assert resumed.snapshot().channel_id == channel


# -- Lavalink 4.0.8+: a shutdown closes every socket with 1001 ----------------------------------------------------


async def test_a_node_that_shuts_down_is_recovered_as_soon_as_it_is_back(world: World) -> None:
    """1001 on shutdown: the session is gone. The bot reconnects with backoff and recovers the guild from its
    snapshot as soon as the node listens again, at the position it was at."""
    process = await world.boot()
    player = await joined(world, process)
    track = world.lavalink.add_track(title="Interrupted", identifier="interrupted")
    started = expect(process, events.TrackStartEvent)
    await player.play(track)
    await got(started)
    clock_of(world).advance(20.0)  # 20 s of playback
    disconnected = expect(process, events.NodeDisconnectedEvent)
    await world.lavalink.close()  # a graceful shutdown: 1001 to every socket (NodeLink: 1000), the port closes
    lost = await got(disconnected)
    close = world.lavalink.context.version.shutdown_close
    assert (lost.code, lost.will_reconnect) == (close[0] if close else None, True)
    node = process.client.nodes["main"]
    assert node.last_error is not None
    if close is not None:  # before 4.0.8 the socket just dropped: nothing said the session was gone
        assert "shut down" in node.last_error and "session is gone" in node.last_error
    assert player.snapshot().position == 20_000

    recovered = expect(process, events.SessionRecoveredEvent)
    await world.lavalink.start()  # back on the same port, with no session
    clock_of(world).advance(RETRY)
    assert (await got(recovered)).guild_ids == (player.guild_id,)
    fake = lavalink_players(world, process)[player.guild_id]
    assert fake.track is not None and fake.track.info.identifier == "interrupted" and fake.position == 20_000


async def test_the_players_of_a_node_that_shuts_down_move_at_once_without_waiting_for_a_resume(world: World) -> None:
    """With another node ready, the players of a node that said it is shutting down move at once: waiting
    `failover_after` seconds for a session that cannot be resumed only keeps the guild silent."""
    if world.lavalink.context.version.shutdown_close is None:
        pytest.skip("before 4.0.8 a shutdown looks like a network cut: the failover waits failover_after")
    async with FakeLavalink(clock=clock_of(world), player_update_interval=1.0) as backup:
        main = NodeSettings(name="main", host="127.0.0.1", port=world.lavalink.port, password=world.lavalink.password)
        spare = NodeSettings(name="spare", host="127.0.0.1", port=backup.port, password=backup.password)
        process = await world.boot(nodes=(main, spare), failover_after=30.0)
        guild = world.guilds[0]
        await world.seat_listener(guild)
        player = await process.client.join(guild.id, guild.voice_channel_ids[0], node="main")
        track = world.lavalink.add_track(title="Moves", identifier="moves")
        backup.add_track(title="Moves", identifier="moves")
        started = expect(process, events.TrackStartEvent)
        await player.play(track)
        await got(started)
        clock_of(world).advance(5.0)

        moved = expect(process, events.PlayerMovedEvent)
        await world.lavalink.close()
        event = await got(moved)  # the clock did not move: no failover_after wait
        assert (event.previous_node.name, event.node.name, player.node.name) == ("main", "spare", "spare")
        spare_session = process.client.nodes["spare"].session_id
        assert spare_session is not None
        fake = backup.players_of(spare_session)[guild.id]
        assert fake.track is not None and fake.track.info.identifier == "moves" and fake.position == 5_000
        await process.client.close()


# -- item 6 and Lavalink 4.1: filters come back from every server, compared normalised -------------------------------

FILTERS = Filters(
    volume=0.8,  # NodeLink reports it as {}: its value is the one the bot set
    equalizer=(EqualizerBand(band=0, gain=0.2), EqualizerBand(band=14, gain=1.0)),
    timescale=Timescale(speed=1.2),
    karaoke=Karaoke(level=0.5),
    low_pass=LowPass(),
)
"""Fields at their defaults included: 4.0 leaves them out of what it reports, 4.1+ writes them, NodeLink wraps all."""


async def test_filters_come_back_after_a_resume_and_after_a_recovery(world: World) -> None:
    first = await world.boot()
    player = await joined(world, first)
    track = world.lavalink.add_track(title="Filtered", identifier="filtered")
    started = expect(first, events.TrackStartEvent)
    await player.play(track)
    await got(started)
    await player.set_filters(FILTERS)
    assert player.filters == FILTERS
    await player.set_volume(70)  # another command's answer reports the filters again
    assert player.filters == FILTERS and player.snapshot().filters == FILTERS.to_payload()
    await world.stop(first)

    second = await world.boot()  # the session resumes: the filters are read back from the node
    resumed = second.client.get_player(player.guild_id)
    assert resumed is not None and resumed.filters == FILTERS

    disconnected = expect(second, events.NodeDisconnectedEvent)
    recovered = expect(second, events.SessionRecoveredEvent)
    await world.lavalink.restart()  # the node lost the session: the guild is rebuilt from its snapshot
    await got(disconnected)
    clock_of(world).advance(RETRY)
    await got(recovered)
    again = second.client.get_player(player.guild_id)
    assert again is not None and again.filters == FILTERS
    fake = lavalink_players(world, second)[player.guild_id]
    assert fake.filters.speed == 1.2 and fake.filters.values["karaoke"]["level"] == 0.5
    assert fake.filters.values["volume"] == 0.8

    await world.stop(second)
    await world.lavalink.restart()  # the bot and the node both restart: only the store knows the filters
    third = await world.boot()
    recovered_again = expect(third, events.SessionRecoveredEvent, seen=True)
    clock_of(world).advance(RETRY)
    await got(recovered_again)
    last = third.client.get_player(player.guild_id)
    assert last is not None and last.filters == FILTERS
    assert lavalink_players(world, third)[player.guild_id].filters.values["volume"] == 0.8


# -- Lavalink 4.1 causeStackTrace; NodeLink's two ends after a failure ---------------------------------------------


async def test_a_track_that_fails_is_reported_and_skipped_once_on_every_server(world: World) -> None:
    """4.1+ sends ``causeStackTrace``, 4.0 and NodeLink do not; NodeLink follows the exception with two ends
    (``loadFailed`` then ``stopped``): the queue moves on once, to the next track."""
    process = await world.boot()
    player = await joined(world, process)
    broken = world.lavalink.add_track(title="Broken", identifier="broken", playback=Playback.FAIL)
    good = world.lavalink.add_track(title="Good", identifier="good")
    after = world.lavalink.add_track(title="After", identifier="after")
    player.queue.extend([good, after])
    failed = expect(process, events.TrackExceptionEvent)
    next_started = expect(process, events.TrackStartEvent, lambda e: e.track.info.identifier == "good")
    await player.play(broken)
    exception = (await got(failed)).exception
    await got(next_started)
    version = world.lavalink.context.version
    assert (exception.cause_stack_trace is not None) == version.cause_stack_trace
    assert exception.severity is not Severity.UNKNOWN and exception.message
    updated = expect(process, events.PlayerUpdateEvent)
    clock_of(world).advance(1.0)
    await got(updated)  # every event of the failure was read by now
    assert player.track is not None and player.track.info.identifier == "good"
    assert [t.info.identifier for t in player.queue] == ["after"]
    ends = [(e.track.info.identifier, e.reason.value) for e in process.of_type(events.TrackEndEvent)]
    assert ends[0] == ("broken", "loadFailed")
    assert (("broken", "stopped") in ends) == version.nodelink
