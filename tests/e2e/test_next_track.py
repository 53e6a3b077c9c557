"""Starting the next track when the request fails: a failed request is not a refused track, and the blob the user
queued is the one that plays again (DESIGN.md, Policies).

Everything runs on one `ManualClock`: tracks end, retries fire and backoffs pass only when a test moves the clock.
Failures are injected by wrapping `RestClient.update_player` (`FailingStarts`), since the request never has to
leave the machine for what the bot does with the answer to matter.
"""

from __future__ import annotations

import asyncio
import typing

import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import (
    AuthenticationError,
    LavalinkError,
    NodeUnavailable,
    ProtocolError,
    RequestTimeoutError,
    RestError,
    SessionNotFoundError,
)
from lightbulb_lavalink.protocol.player import TrackUpdate
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.protocol.tracks import Track
from lightbulb_lavalink.queue import LoopMode

from .conftest import BotProcess, World, clock_of, joined, make_tracks, world_on_manual_clock
from .test_resume import ids, lavalink_players

if typing.TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterator, Callable

    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.protocol.player import PlayerUpdate

E = typing.TypeVar("E", bound=events.LavalinkEvent)
Failure = typing.Callable[[str], Exception]
"""Builds the error a failed PATCH raises, given the request path."""

SHORT = 4_000  # ms: the track that ends first
RETRY = 0.2  # s: the longest retry delay in `World.settings` (reconnect_max_delay), jitter only shortens it


@pytest.fixture
async def world(tmp_path: pathlib.Path) -> AsyncIterator[World]:
    """One guild, FakeLavalink and every bot process on a single `ManualClock`."""
    async with world_on_manual_clock(tmp_path, guilds=1) as w:
        yield w


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


def status(code: int, message: str, kind: type[RestError] = RestError) -> Failure:
    return lambda path: kind(code, message, path, method="PATCH")


# Answers that say nothing about the track: the request failed, the queue must not move.
NOT_A_VERDICT: dict[str, Failure] = {
    "500 (the node decodes the track fine)": status(500, "Internal Server Error"),
    "502 from a proxy during a node restart": status(502, "Bad Gateway"),
    "503": status(503, "Service Unavailable"),
    "429": status(429, "Too Many Requests"),
    "404 NodeLink player": status(404, "Player not found."),
    "404 NodeLink session": status(404, "The provided sessionId doesn't exist."),
    "404 Lavalink session": status(404, "Session not found", SessionNotFoundError),
    "403": status(403, "the node refused the password (the password is wrong)", AuthenticationError),
    "timeout": lambda path: RequestTimeoutError(f"PATCH {path} got no answer within 10 s"),
    "connection lost": lambda path: NodeUnavailable(f"PATCH {path} failed: ServerDisconnectedError()"),
    "malformed 200 (HTML)": lambda path: ProtocolError("", f"PATCH {path} answered 200 with a body that is not JSON"),
    "malformed 200 (wrong shape)": lambda path: ProtocolError("track", "expected an object, got list"),
}


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


def what_came_next(event: events.PlayerEvent) -> bool:
    return isinstance(event, (events.TrackStartEvent, events.TrackStartFailedEvent, events.QueueEndEvent))


async def quiet(world: World, process: BotProcess) -> None:
    """Move the clock past any retry and wait for the node's next playerUpdate: a retry would have been sent by then."""
    updated = expect(process, events.PlayerUpdateEvent)
    clock_of(world).advance(1.0)
    await got(updated)


def assert_pending(player: Player, pending: Track, queue: list[Track], history: list[Track]) -> None:
    """Nothing plays; `pending` is what should (the snapshot says so); the queue and history are untouched."""
    assert player.track is None
    snap = player.snapshot()
    assert snap.track is not None and snap.track.encoded == pending.encoded
    assert snap.track.user_data == dict(pending.user_data)
    assert ids(player.queue) == ids(queue)
    assert ids(player.queue.history) == ids(history)


# -- a failed request is not a refused track ------------------------------------------------------------------


@pytest.mark.parametrize("failure", list(NOT_A_VERDICT.values()), ids=list(NOT_A_VERDICT))
async def test_a_failed_request_for_the_next_track_keeps_the_queue_and_plays_it_once_the_node_answers(
    world: World, monkeypatch: pytest.MonkeyPatch, failure: Failure
) -> None:
    process = await world.boot()
    first, second, third = await playing_with_queue(world, process)
    player = process.client.get_player(world.guilds[0].id)
    assert player is not None
    patches = FailingStarts(monkeypatch)
    patches.arm(failure, times=3)

    failed = await end_first(world, process, events.PlayerEvent, what_came_next)
    assert isinstance(failed, events.TrackStartFailedEvent), f"the queue did not wait for the node: {failed}"
    assert not failed.refused and failed.track is second
    assert_pending(player, second, [third], [first])

    # The node answers again after two more failed retries (a burst of 502s from a proxy passes).
    for _ in range(2):
        retried = expect(process, events.TrackStartFailedEvent)
        clock_of(world).advance(RETRY)
        assert (await got(retried)).track is second
        assert_pending(player, second, [third], [first])
    started = expect(process, events.TrackStartEvent, starting(second))
    clock_of(world).advance(RETRY)
    await got(started)

    assert player.track is second, "the player forgot the queued track object (and its user data)"
    assert ids(player.queue) == ids([third]) and ids(player.queue.history) == ids([first])
    assert lavalink_players(world, process)[player.guild_id].track.info.identifier == second.info.identifier
    assert patches.encoded() == [second.encoded] * 4
    assert not process.of_type(events.QueueEndEvent)


@pytest.mark.parametrize("applied", [False, True], ids=["not applied", "applied"])
async def test_a_malformed_answer_to_the_next_track_leaves_it_what_should_play(
    world: World, monkeypatch: pytest.MonkeyPatch, applied: bool
) -> None:
    process = await world.boot()
    first, second, third = await playing_with_queue(world, process)
    player = process.client.get_player(world.guilds[0].id)
    assert player is not None
    patches = FailingStarts(monkeypatch)
    patches.arm(NOT_A_VERDICT["malformed 200 (HTML)"], applied=applied)

    started = expect(process, events.TrackStartEvent, starting(second))
    await end_first(world, process, events.TrackStartFailedEvent, starting(second))
    if not applied:
        assert_pending(player, second, [third], [first])
        clock_of(world).advance(RETRY)
    await got(started)  # the node started it: the event tells the truth the answer did not
    assert player.track is second
    await quiet(world, process)  # a retry that is no longer needed does not run
    assert patches.encoded() == [second.encoded] * (1 if applied else 2)
    assert ids(player.queue) == ids([third]) and ids(player.queue.history) == ids([first])
    assert not process.of_type(events.QueueEndEvent)


async def next_track_failed(world: World, process: BotProcess) -> events.TrackStartFailedEvent:
    """Let the first track finish and return the event saying that the next one could not be started."""
    event = await end_first(world, process, events.PlayerEvent, what_came_next)
    assert isinstance(event, events.TrackStartFailedEvent), f"the queue did not wait for the node: {event}"
    return event


VERDICTS = ["400 on the PATCH", "a blob nobody can decode"]


@pytest.mark.parametrize("verdict", VERDICTS)
async def test_the_nodes_verdict_on_the_next_track_skips_it(
    world: World, monkeypatch: pytest.MonkeyPatch, verdict: str
) -> None:
    process = await world.boot()
    player = await joined(world, process)
    first = make_tracks(world.lavalink, "short", 1, length=SHORT)[0]
    good = make_tracks(world.lavalink, "good", 1)[0]
    patches = FailingStarts(monkeypatch)
    if verdict == "400 on the PATCH":
        bad = make_tracks(world.lavalink, "bad", 1)[0]
    else:
        bad = Track(encoded="QAAAB3RydW5jYXRlZA==")  # says 7 bytes follow: a truncated blob
    player.queue.extend([bad, good])
    await player.play(first)
    patches.arm(status(400, "Failed to read request"), times=1)

    refused = expect(process, events.TrackStartFailedEvent)
    await end_first(world, process, events.TrackStartEvent, starting(good))
    event = await got(refused)
    assert event.refused and event.track is bad
    assert player.track is good
    assert ids(player.queue.history) == ids([first]) and list(player.queue) == []
    assert not process.of_type(events.QueueEndEvent)


async def test_skip_while_the_next_track_is_pending_moves_it_to_history_and_plays_the_one_after(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = await world.boot()
    first, second, third = await playing_with_queue(world, process)
    player = process.client.get_player(world.guilds[0].id)
    assert player is not None
    patches = FailingStarts(monkeypatch)
    patches.arm(NOT_A_VERDICT["502 from a proxy during a node restart"], times=1)
    await next_track_failed(world, process)

    started = expect(process, events.TrackStartEvent, starting(third))
    assert await player.skip() is third
    await got(started)
    assert player.track is third
    assert ids(player.queue.history) == ids([first, second]) and list(player.queue) == []
    await quiet(world, process)  # the retry of `second` that was waiting does not run
    assert patches.encoded() == [second.encoded, third.encoded]
    assert player.track is third


@pytest.mark.parametrize("how", ["play(track, replace=False)", "play(track)", "play()"])
async def test_play_while_the_next_track_is_pending_never_drops_it(
    world: World, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    process = await world.boot()
    first, second, third = await playing_with_queue(world, process)
    extra = make_tracks(world.lavalink, "extra", 1)[0]
    player = process.client.get_player(world.guilds[0].id)
    assert player is not None
    patches = FailingStarts(monkeypatch)
    patches.arm(NOT_A_VERDICT["502 from a proxy during a node restart"], times=1)
    await next_track_failed(world, process)

    if how == "play(track, replace=False)":
        # The pending track is what plays as far as the user can tell: the new one is queued behind the others.
        assert await player.play(extra, replace=False) is second
        assert_pending(player, second, [third, extra], [first])
        started = expect(process, events.TrackStartEvent, starting(second))
        clock_of(world).advance(RETRY)
        await got(started)
        expected, queue = second, [third, extra]
    elif how == "play(track)":
        # Played now, in front of the track that never got to start: that one plays next.
        started = expect(process, events.TrackStartEvent, starting(extra))
        assert await player.play(extra) is extra
        await got(started)
        expected, queue = extra, [second, third]
    else:
        # "Play": the track that should be playing starts now, without waiting for the next retry.
        started = expect(process, events.TrackStartEvent, starting(second))
        assert await player.play() is second
        await got(started)
        expected, queue = second, [third]
    await quiet(world, process)
    assert player.track is expected
    assert ids(player.queue) == ids(queue) and ids(player.queue.history) == ids([first])
    assert patches.encoded()[-1] == expected.encoded


async def test_leaving_while_a_track_is_pending_ends_its_retries(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    process = await world.boot()
    await playing_with_queue(world, process)
    guild_id = world.guilds[0].id
    patches = FailingStarts(monkeypatch)
    patches.arm(NOT_A_VERDICT["502 from a proxy during a node restart"], times=1_000)
    await next_track_failed(world, process)
    retries = [task for task in asyncio.all_tasks() if task.get_name() == f"lavalink-retry-{guild_id}"]
    assert len(retries) == 1, "nothing retries the pending track"

    await process.client.leave(guild_id)
    await asyncio.wait(retries, timeout=5)
    assert retries[0].cancelled()
    attempts = len(patches.starts)
    clock_of(world).advance(10 * RETRY)
    assert len(patches.starts) == attempts


async def test_a_track_still_pending_at_a_restart_plays_when_the_session_resumes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = await world.boot()
    first, second, third = await playing_with_queue(world, process)
    patches = FailingStarts(monkeypatch)
    patches.arm(NOT_A_VERDICT["502 from a proxy during a node restart"], times=1)
    await next_track_failed(world, process)
    await world.stop(process)  # a deploy while the next track could not start: the snapshot says it is pending

    again = await world.boot()
    started = await got(expect(again, events.TrackStartEvent, starting(second), seen=True))
    assert not started.replayed
    player = again.client.get_player(world.guilds[0].id)
    assert player is not None and player.track is not None
    assert player.track.info.identifier == second.info.identifier
    assert player.track.user_data == dict(second.user_data)
    assert ids(player.queue) == ids([third]), "the track that never played was taken for one that ended"
    assert ids(player.queue.history) == ids([first])
    assert patches.starts[-1].position == 0


@pytest.mark.parametrize("applied", [False, True], ids=["not applied", "applied"])
async def test_a_malformed_answer_to_skip_raises_and_rolls_back_until_the_node_says_it_happened(
    world: World, monkeypatch: pytest.MonkeyPatch, applied: bool
) -> None:
    process = await world.boot()
    first, second, third = await playing_with_queue(world, process)
    player = process.client.get_player(world.guilds[0].id)
    assert player is not None
    patches = FailingStarts(monkeypatch)
    patches.arm(NOT_A_VERDICT["malformed 200 (HTML)"], times=1, applied=applied)
    started = expect(process, events.TrackStartEvent, starting(second))

    with pytest.raises(ProtocolError):
        await player.skip()
    assert player.track is first
    assert ids(player.queue) == ids([second, third]) and list(player.queue.history) == []
    snap = player.snapshot()
    assert snap.track is not None and snap.track.encoded == first.encoded

    if applied:
        # The node did skip: its TrackStartEvent says so, and the skip's queue change stands after all, rather
        # than `second` playing now and again after.
        await got(started)
        assert player.track is second
        assert ids(player.queue) == ids([third]) and ids(player.queue.history) == ids([first])
    else:
        await quiet(world, process)
        assert player.track is first and not started.done()
        assert ids(player.queue) == ids([second, third])


# Failures that may come after the node acted (its answer lost on the way back).
ANSWER_LOST = [
    "timeout",
    "connection lost",
    "502 from a proxy during a node restart",
    "500 (the node decodes the track fine)",
]


@pytest.mark.parametrize("failure", [NOT_A_VERDICT[name] for name in ANSWER_LOST], ids=ANSWER_LOST)
async def test_a_skip_the_node_took_though_its_answer_was_lost_does_not_play_the_next_track_twice(
    world: World, monkeypatch: pytest.MonkeyPatch, failure: Failure
) -> None:
    """A timeout, a dropped connection or a proxy's 5xx can come after the node acted, like a malformed answer: the
    skip raises, and once the node's TrackStartEvent says the skip happened its queue change stands (the skipped
    track to the history, the started one out of the queue) instead of the started track playing again next."""
    process = await world.boot()
    first, second, third = await playing_with_queue(world, process)
    player = process.client.get_player(world.guilds[0].id)
    assert player is not None
    patches = FailingStarts(monkeypatch)
    patches.arm(failure, times=1, applied=True)
    started = expect(process, events.TrackStartEvent, starting(second))

    with pytest.raises(LavalinkError):
        await player.skip()
    await got(started)
    assert player.track is second
    assert ids(player.queue) == ids([third]), "the track the node started is still queued: it plays twice"
    assert ids(player.queue.history) == ids([first])


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
