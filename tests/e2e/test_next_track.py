"""Starting the next track when the request fails: a failed request is not a refused track, and the blob the user
queued is the one that plays again (DESIGN.md, Policies).

Everything runs on one `ManualClock`: tracks end, retries fire and backoffs pass only when a test moves the clock.
Failures are injected by wrapping `RestClient.update_player` (`FailingStarts`), since the request never has to
leave the machine for what the bot does with the answer to matter.
"""

from __future__ import annotations

import asyncio
import contextlib
import typing

import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.protocol.player import TrackUpdate
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.protocol.tracks import Track
from lightbulb_lavalink.queue import LoopMode
from lightbulb_lavalink.testing import FakeLavalink, ManualClock
from lightbulb_lavalink.testing.gateway import FakeDiscord

from .conftest import BotProcess, World, joined, make_tracks
from .test_resume import ids, lavalink_players

if typing.TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterator, Callable

    from lightbulb_lavalink.protocol.player import PlayerUpdate

E = typing.TypeVar("E", bound=events.LavalinkEvent)
Failure = typing.Callable[[str], Exception]
"""Builds the error a failed PATCH raises, given the request path."""

SHORT = 4_000  # ms: the track that ends first
RETRY = 0.2  # s: the longest retry delay in `World.settings` (reconnect_max_delay), jitter only shortens it


@pytest.fixture
async def world(tmp_path: pathlib.Path) -> AsyncIterator[World]:
    """One guild, FakeLavalink and every bot process on a single `ManualClock`."""
    clock = ManualClock()
    async with FakeLavalink(clock=clock, player_update_interval=1.0) as lavalink:
        discord = FakeDiscord()
        guilds = [await discord.add_guild(members=3)]
        w = World(
            lavalink=lavalink,
            discord=discord,
            store_url=f"sqlite:///{tmp_path / 'sessions.db'}",
            guilds=guilds,
            clock=clock,
        )
        try:
            yield w
        finally:
            for process in w.processes:
                with contextlib.suppress(Exception):
                    await process.client.close()
                await process.voice.close()


def clock_of(world: World) -> ManualClock:
    assert isinstance(world.clock, ManualClock)
    return world.clock


def expect(
    process: BotProcess, kind: type[E], predicate: Callable[[E], bool] = lambda e: True, *, seen: bool = False
) -> asyncio.Future[E]:
    """`BotProcess.expect` with the event's type: create it before what should cause the event."""
    return process.expect(kind, predicate, seen=seen)


async def got(future: asyncio.Future[E]) -> E:
    """Await an `expect` future (a real-time safety net only: the clock is what makes things happen)."""
    async with asyncio.timeout(5):
        return await future


def starting(track: Track) -> Callable[[events.TrackEvent], bool]:
    return lambda event: event.track.info.identifier == track.info.identifier


class FailingStarts:
    """Wraps `RestClient.update_player`: records every PATCH that starts a track, and makes the next ones fail.

    `arm(error, times)`: the next `times` track-starting PATCHes raise `error(path)`, before reaching the node or,
    with `applied`, after the node applied them (a malformed answer to a request that did happen).
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = RestClient.update_player
        self.starts: list[PlayerUpdate] = []
        """Every PATCH body that started (or tried to start) a track, in order."""
        self._error: Failure | None = None
        self._left = 0
        self._applied = False

        async def update_player(
            client: RestClient, session_id: str, guild_id: int, update: PlayerUpdate, *, no_replace: bool = False
        ) -> typing.Any:
            starts = isinstance(update.track, TrackUpdate) and isinstance(update.track.encoded, str)
            if starts:
                self.starts.append(update)
            if not starts or self._error is None or self._left <= 0:
                return await original(client, session_id, guild_id, update, no_replace=no_replace)
            self._left -= 1
            if self._applied:
                await original(client, session_id, guild_id, update, no_replace=no_replace)
            raise self._error(f"/v4/sessions/{session_id}/players/{guild_id}")

        monkeypatch.setattr(RestClient, "update_player", update_player)

    def arm(self, error: Failure, times: int = 1, *, applied: bool = False) -> None:
        self._error, self._left, self._applied = error, times, applied

    def encoded(self) -> list[str]:
        """The blobs the recorded PATCHes sent."""
        return [u.track.encoded for u in self.starts if isinstance(u.track, TrackUpdate) and u.track.encoded]


async def playing_with_queue(world: World, process: BotProcess, *, loop: LoopMode = LoopMode.OFF) -> list[Track]:
    """The guild plays A (ends after `SHORT` ms) with B and C (long) queued; returns [A, B, C]."""
    player = await joined(world, process)
    first = make_tracks(world.lavalink, "short", 1, length=SHORT)[0].with_user_data(requester=1)
    rest = [t.with_user_data(requester=2) for t in make_tracks(world.lavalink, "long", 2)]
    player.queue.loop = loop
    player.queue.extend(rest)
    started = expect(process, events.TrackStartEvent, starting(first))
    await player.play(first)
    await got(started)
    return [first, *rest]


async def end_first(world: World, process: BotProcess, kind: type[E], predicate: Callable[[E], bool]) -> E:
    """Let the first track finish, then wait for the event `kind` that says what the player did next."""
    outcome = expect(process, kind, predicate)
    clock_of(world).advance(SHORT / 1000)
    return await got(outcome)


# -- keep the blob the user queued ------------------------------------------------------------------------------


@pytest.mark.parametrize("loop", [LoopMode.TRACK, LoopMode.QUEUE])
async def test_a_looped_track_is_sent_again_as_the_queued_blob_from_position_zero(
    world: World, monkeypatch: pytest.MonkeyPatch, loop: LoopMode
) -> None:
    process = await world.boot()
    player = await joined(world, process)
    track = make_tracks(world.lavalink, "looped", 1, length=SHORT)[0].with_user_data(requester=7)
    player.queue.loop = loop
    patches = FailingStarts(monkeypatch)
    started = expect(process, events.TrackStartEvent, starting(track))
    await player.play(track)
    await got(started)

    await end_first(world, process, events.TrackStartEvent, starting(track))
    again = patches.starts[-1]
    assert len(patches.starts) == 2
    assert again.position == 0, "a blob from a TrackEndEvent starts where that event saw it: near its end"
    assert isinstance(again.track, TrackUpdate) and again.track.encoded == track.encoded
    assert player.track is track and player.track.user_data == {"requester": 7}
    assert lavalink_players(world, process)[player.guild_id].position == 0
    if loop is LoopMode.QUEUE:
        assert player.queue.history[-1] is track


async def test_a_track_played_again_from_history_starts_at_zero_with_its_user_data(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = await world.boot()
    first, second, third = await playing_with_queue(world, process)
    player = process.client.get_player(world.guilds[0].id)
    assert player is not None
    await end_first(world, process, events.TrackStartEvent, starting(second))
    assert player.queue.history[-1] is first, "the history holds the node's blob, not the track the user queued"

    patches = FailingStarts(monkeypatch)
    previous = player.queue.back(player.track)
    assert previous is first
    started = expect(process, events.TrackStartEvent, starting(first))
    await player.play(previous)
    await got(started)
    (sent,) = patches.starts
    assert sent.position == 0 and isinstance(sent.track, TrackUpdate) and sent.track.encoded == first.encoded
    assert player.track is first and player.track.user_data == {"requester": 1}
    assert ids(player.queue) == ids([second, third])


async def test_a_recovered_track_is_sent_with_its_position_even_at_zero(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = await world.boot()
    player = await joined(world, process)
    track = make_tracks(world.lavalink, "recovered", 1)[0].with_user_data(requester=9)
    await player.play(track)
    patches = FailingStarts(monkeypatch)

    disconnected = expect(process, events.NodeDisconnectedEvent)
    recovered = expect(process, events.SessionRecoveredEvent)
    await world.lavalink.restart()  # the node lost every session: the guild is rebuilt from its snapshot
    await got(disconnected)
    clock_of(world).advance(RETRY)  # the websocket's reconnect backoff
    assert (await got(recovered)).guild_ids == (player.guild_id,)

    (sent,) = patches.starts
    assert sent.position == 0, "without a position the node starts the blob where the blob says"
    assert isinstance(sent.track, TrackUpdate) and sent.track.encoded == track.encoded
    assert player.track == track and player.track is not None and player.track.user_data == {"requester": 9}
