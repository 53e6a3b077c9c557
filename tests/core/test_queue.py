"""GuildQueue: every operation, the loop modes, the bounded history, and snapshot/restore identity."""

from __future__ import annotations

import json
import random
import typing

import hypothesis
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from lightbulb_lavalink.errors import TrackDecodeError
from lightbulb_lavalink.protocol.codec import decode_track, encode_track
from lightbulb_lavalink.protocol.tracks import Track, TrackInfo
from lightbulb_lavalink.queue import GuildQueue, LoopMode
from lightbulb_lavalink.snapshot import QueueSnapshot, TrackSnapshot


def make_track(n: int, **user_data: typing.Any) -> Track:
    """A real track (its blob decodes) numbered `n`, optionally with user data."""
    info = TrackInfo(
        identifier=f"id-{n}",
        author=f"author {n}",
        length=60_000 + n * 1000,
        title=f"song {n}",
        uri=f"https://example.com/{n}",
        source_name="http",
    )
    track = decode_track(encode_track(info))
    return track.with_user_data(user_data) if user_data else track


A, B, C, D, E = (make_track(i) for i in range(5))


def titles(queue: GuildQueue) -> list[str]:
    return [t.info.title for t in queue]


def roundtrip(queue: GuildQueue) -> GuildQueue:
    """Snapshot, through JSON text, back to a queue: what a store and a restart do."""
    text = json.dumps(queue.snapshot().to_dict())
    return GuildQueue.restore(QueueSnapshot.from_dict(json.loads(text)), history_limit=queue.history_limit)


# ----------------------------------------------------------------------------------------------- basics


def test_new_queue_is_empty() -> None:
    queue = GuildQueue()
    assert len(queue) == 0
    assert not queue
    assert queue.peek() is None
    assert queue.upcoming == ()
    assert queue.history == ()
    assert queue.loop is LoopMode.OFF
    assert queue.history_limit == 100


def test_add_extend_and_reading() -> None:
    queue = GuildQueue()
    queue.add(A)
    assert queue.extend([B, C]) == 2
    assert len(queue) == 3
    assert queue
    assert list(queue) == [A, B, C]
    assert queue.upcoming == (A, B, C)
    assert queue[0] is A
    assert queue[-1] is C
    assert queue[1:] == (B, C)
    assert queue.peek() is A
    assert B in queue
    assert D not in queue
    assert queue.index(B) == 1
    assert queue.duration == A.info.length + B.info.length + C.info.length


def test_upcoming_is_a_copy() -> None:
    queue = GuildQueue([A])
    view = queue.upcoming
    queue.add(B)
    assert view == (A,)
    assert queue.upcoming == (A, B)


@pytest.mark.parametrize("bad", [None, "QAAA", {"encoded": "x"}, 3])
def test_only_tracks_are_accepted(bad: typing.Any) -> None:
    queue = GuildQueue([A])
    with pytest.raises(TypeError, match="must be a Track"):
        queue.add(bad)
    with pytest.raises(TypeError, match="must be a Track"):
        queue.insert(0, bad)
    with pytest.raises(TypeError, match="must be a Track"):
        queue.extend([B, bad])
    with pytest.raises(TypeError, match="must be a Track"):
        GuildQueue([bad])
    assert queue.upcoming == (A,), "a rejected extend adds nothing"


def test_insert_positions() -> None:
    queue = GuildQueue([A, B])
    queue.insert(0, C)
    assert queue.upcoming == (C, A, B)
    queue.insert(3, D)
    assert queue.upcoming == (C, A, B, D)
    queue.insert(-1, E)
    assert queue.upcoming == (C, A, B, E, D)


@pytest.mark.parametrize("index", [3, -4, 100])
def test_insert_out_of_range(index: int) -> None:
    queue = GuildQueue([A, B])
    with pytest.raises(IndexError, match=f"cannot insert at index {index}: the queue has 2 track"):
        queue.insert(index, C)
    assert queue.upcoming == (A, B)


def test_remove_by_index() -> None:
    queue = GuildQueue([A, B, C])
    assert queue.remove(1) is B
    assert queue.remove(-1) is C
    assert queue.upcoming == (A,)


@pytest.mark.parametrize(("tracks", "index", "message"), [
    ([A, B], 2, r"index 2 is out of range: the queue has 2 track\(s\) \(0 to 1\)"),
    ([A, B], -3, r"index -3 is out of range"),
    ([], 0, "index 0 is out of range: the queue is empty"),
])  # fmt: skip
def test_bad_indexes_raise_index_error(tracks: list[Track], index: int, message: str) -> None:
    queue = GuildQueue(tracks)
    with pytest.raises(IndexError, match=message):
        queue.remove(index)
    with pytest.raises(IndexError, match=message):
        queue[index]
    assert list(queue) == tracks


def test_index_must_be_an_int() -> None:
    queue = GuildQueue([A])
    with pytest.raises(TypeError, match="index must be an int"):
        queue.remove(True)
    with pytest.raises(TypeError, match="index must be an int"):
        queue.remove("0")  # type: ignore[arg-type]


def test_remove_track_and_remove_where() -> None:
    alice, bob = make_track(7, requester=1), make_track(8, requester=2)
    queue = GuildQueue([A, alice, B, bob, alice])
    assert queue.remove_track(alice) == 1
    assert queue.upcoming == (A, B, bob, alice)
    with pytest.raises(ValueError, match="'song 3' is not in the queue"):
        queue.remove_track(D)
    assert queue.remove_where(lambda t: t.user_data.get("requester") == 1) == 1
    assert queue.upcoming == (A, B, bob)
    assert queue.remove_where(lambda t: False) == 0


def test_user_data_distinguishes_tracks() -> None:
    mine = A.with_user_data(requester=1)
    queue = GuildQueue([A, mine])
    assert queue.index(mine) == 1
    assert queue.remove_track(mine) == 1
    assert queue.upcoming == (A,)


@pytest.mark.parametrize(("source", "destination", "expected"), [
    (0, 3, "BCDA"),
    (3, 0, "DABC"),
    (1, 2, "ACBD"),
    (-1, 0, "DABC"),
    (2, 2, "ABCD"),
])  # fmt: skip
def test_move(source: int, destination: int, expected: str) -> None:
    tracks = dict(zip("ABCD", (A, B, C, D), strict=True))
    queue = GuildQueue(tracks.values())
    moved = queue.move(source, destination)
    assert queue[destination] is moved
    assert queue.upcoming == tuple(tracks[ch] for ch in expected)


def test_move_out_of_range() -> None:
    queue = GuildQueue([A, B])
    with pytest.raises(IndexError, match="source 2 is out of range"):
        queue.move(2, 0)
    with pytest.raises(IndexError, match="destination 2 is out of range"):
        queue.move(0, 2)
    assert queue.upcoming == (A, B)


def test_shuffle_is_a_permutation_and_follows_the_rng() -> None:
    tracks = [make_track(i) for i in range(20)]
    one, two = GuildQueue(tracks), GuildQueue(tracks)
    one.shuffle(random.Random(42))
    two.shuffle(random.Random(42))
    assert one.upcoming == two.upcoming
    assert sorted(one, key=lambda t: t.info.identifier) == sorted(tracks, key=lambda t: t.info.identifier)
    assert one.upcoming != tuple(tracks)  # seeded: this permutation is not the identity


def test_clear_keeps_the_history() -> None:
    queue = GuildQueue([A, B, C], history=[D])
    assert queue.clear() == 3
    assert len(queue) == 0
    assert queue.history == (D,)
    version = queue.version
    queue.clear_history()
    assert queue.history == ()
    assert queue.version > version


# ------------------------------------------------------------------------------------------ loop modes


def test_loop_off_plays_once_and_records_history() -> None:
    queue = GuildQueue([A, B])
    assert queue.advance(None) is A
    assert queue.advance(A) is B
    assert queue.advance(B) is None
    assert queue.history == (A, B)
    assert len(queue) == 0


def test_loop_track_repeats_the_finished_track() -> None:
    queue = GuildQueue([B], loop=LoopMode.TRACK)
    assert queue.advance(A) is A
    assert queue.advance(A) is A
    assert queue.upcoming == (B,)
    assert queue.history == ()
    # With nothing playing, the loop has nothing to repeat: the next track starts.
    assert queue.advance(None) is B


def test_loop_queue_cycles() -> None:
    queue = GuildQueue([A, B, C], loop="queue")
    current = queue.advance(None)
    played = []
    for _ in range(7):
        played.append(current)
        current = queue.advance(current)
    assert played == [A, B, C, A, B, C, A]
    assert len(queue) == 2


def test_loop_queue_with_a_single_track_repeats_it() -> None:
    queue = GuildQueue(loop=LoopMode.QUEUE)
    assert queue.advance(A) is A
    assert queue.advance(A) is A
    assert len(queue) == 0


def test_loop_setter() -> None:
    queue = GuildQueue()
    queue.loop = "track"
    assert queue.loop is LoopMode.TRACK
    queue.loop = LoopMode.QUEUE
    assert queue.loop is LoopMode.QUEUE
    with pytest.raises(
        ValueError, match="unknown loop mode 'forever', expected one of 'off', 'track', 'queue'"
    ):
        queue.loop = "forever"
    assert queue.loop is LoopMode.QUEUE


def test_skip_ignores_a_track_loop() -> None:
    queue = GuildQueue([B, C], loop=LoopMode.TRACK)
    assert queue.skip(A) is B
    assert queue.history == (A,)
    assert queue.upcoming == (C,)


def test_skip_several() -> None:
    queue = GuildQueue([B, C, D, E])
    assert queue.skip(A, 3) is D
    assert queue.upcoming == (E,)
    assert queue.history == (A,), "jumped-over tracks were never played"
    assert queue.skip(D, 2) is None
    assert len(queue) == 0


def test_skip_several_with_a_queue_loop_moves_them_to_the_end() -> None:
    queue = GuildQueue([B, C, D], loop=LoopMode.QUEUE)
    assert queue.skip(A, 2) is C
    assert queue.upcoming == (D, A, B)


def test_skip_bounds() -> None:
    queue = GuildQueue([B])
    with pytest.raises(ValueError, match="count must be at least 1"):
        queue.skip(A, 0)
    with pytest.raises(IndexError, match="cannot skip 3 track"):
        queue.skip(A, 3)
    assert queue.upcoming == (B,)
    assert queue.history == ()


def test_back_returns_the_previous_track() -> None:
    queue = GuildQueue([A, B, C])
    current = queue.advance(None)
    current = queue.advance(current)
    assert current is B
    assert queue.back(current) is A
    assert queue.upcoming == (B, C)
    assert queue.history == ()
    assert queue.back(A) is None, "nothing before the first track"
    assert queue.upcoming == (B, C)


def test_back_with_a_queue_loop_does_not_duplicate() -> None:
    queue = GuildQueue([A, B, C], loop=LoopMode.QUEUE)
    current = queue.advance(queue.advance(None))
    assert current is B
    assert queue.upcoming == (C, A)
    assert queue.back(current) is A
    assert queue.upcoming == (B, C)


# --------------------------------------------------------------------------------------------- history


def test_history_is_bounded_most_recent_last() -> None:
    tracks = [make_track(i) for i in range(10)]
    queue = GuildQueue(tracks, history_limit=3)
    current = queue.advance(None)
    while current is not None:
        current = queue.advance(current)
    assert queue.history == tuple(tracks[-3:])


def test_history_limit_zero_keeps_nothing() -> None:
    queue = GuildQueue([A, B], history_limit=0)
    queue.advance(queue.advance(None))
    assert queue.history == ()


def test_lowering_the_history_limit_drops_the_oldest() -> None:
    queue = GuildQueue(history=[A, B, C, D])
    queue.history_limit = 2
    assert queue.history == (C, D)
    with pytest.raises(ValueError, match="history_limit must be 0 or more"):
        queue.history_limit = -1
    with pytest.raises(TypeError, match="history_limit must be an int"):
        GuildQueue(history_limit=2.5)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------- change signal


def test_every_change_bumps_the_version_and_calls_back() -> None:
    calls: list[int] = []
    queue = GuildQueue(on_change=lambda: calls.append(queue.version))
    changes: list[typing.Callable[[], object]] = [
        lambda: queue.add(A),
        lambda: queue.extend([B, C]),
        lambda: queue.insert(0, D),
        lambda: queue.remove(0),
        lambda: queue.move(0, 2),
        lambda: queue.shuffle(random.Random(1)),
        lambda: queue.remove_track(B),
        lambda: setattr(queue, "loop", "queue"),
        lambda: queue.advance(E),
        lambda: queue.skip(None),
        lambda: queue.clear(),
        lambda: queue.back(None),
    ]
    for i, change in enumerate(changes, start=1):
        before = queue.version
        change()
        assert queue.version > before, f"change #{i} did not bump the version"
    assert calls == sorted(calls)
    assert len(calls) == len(changes)


def test_no_op_calls_do_not_signal_a_change() -> None:
    calls: list[None] = []
    queue = GuildQueue([A], on_change=lambda: calls.append(None))
    queue.loop = "off"
    queue.move(0, 0)
    queue.shuffle()
    queue.extend([])
    queue.remove_where(lambda t: False)
    queue.clear_history()
    assert GuildQueue().advance(None) is None
    queue.loop = "track"
    calls.clear()
    assert queue.advance(B) is B
    assert calls == [], "a repeated track changes nothing in the queue"
    assert queue.version == 1


# -------------------------------------------------------------------------------------------- snapshots


def test_snapshot_contents() -> None:
    mine = make_track(5, requester=42, note="hi")
    queue = GuildQueue([mine, A], history=[B], loop=LoopMode.QUEUE)
    snap = queue.snapshot()
    assert snap == QueueSnapshot(
        tracks=(
            TrackSnapshot(encoded=mine.encoded, user_data={"requester": 42, "note": "hi"}),
            TrackSnapshot(encoded=A.encoded, user_data={}),
        ),
        history=(TrackSnapshot(encoded=B.encoded, user_data={}),),
        loop="queue",
    )


def test_restore_reproduces_tracks_user_data_history_and_loop() -> None:
    mine = make_track(5, requester=42)
    queue = GuildQueue([mine, A, mine], history=[B, C], loop=LoopMode.TRACK)
    for restored in (GuildQueue.restore(queue.snapshot()), roundtrip(queue)):
        assert restored.upcoming == (mine, A, mine)
        assert restored[0].user_data == {"requester": 42}
        assert restored[0].info.title == "song 5"
        assert restored.history == (B, C)
        assert restored.loop is LoopMode.TRACK


def test_restore_keeps_the_most_recent_history() -> None:
    queue = GuildQueue(history=[A, B, C, D])
    assert GuildQueue.restore(queue.snapshot(), history_limit=2).history == (C, D)
    assert GuildQueue.restore(queue.snapshot(), history_limit=0).history == ()


def test_restore_drops_undecodable_tracks_unless_strict(caplog: pytest.LogCaptureFixture) -> None:
    snap = QueueSnapshot(
        tracks=(
            TrackSnapshot(encoded=A.encoded),
            TrackSnapshot(encoded="not a track"),
            TrackSnapshot(encoded=B.encoded),
        )
    )
    restored = GuildQueue.restore(snap)
    assert restored.upcoming == (A, B)
    assert "dropping undecodable track tracks[1]" in caplog.text
    with pytest.raises(TrackDecodeError):
        GuildQueue.restore(snap, strict=True)


def test_repr_is_short() -> None:
    queue = GuildQueue([A, B], history=[C], loop="track")
    assert repr(queue) == "GuildQueue(upcoming=2, history=1, loop='track', version=0)"


# ---------------------------------------------------------------------------------------- stateful model

POOL = [make_track(i) for i in range(6)] + [make_track(i, requester=i) for i in range(3)]
tracks_st = st.sampled_from(POOL)


class QueueMachine(RuleBasedStateMachine):
    """Any sequence of operations keeps the queue equal to a plain-list model, and restorable exactly."""

    def __init__(self) -> None:
        super().__init__()
        self.limit = 4
        self.queue = GuildQueue(history_limit=self.limit)
        self.tracks: list[Track] = []
        self.history: list[Track] = []
        self.loop = LoopMode.OFF
        self.current: Track | None = None
        self.version = 0

    def remember(self, track: Track) -> None:
        self.history = [*self.history, track][-self.limit :] if self.limit else []

    def model_next(self, finished: Track | None) -> Track | None:
        if finished is not None:
            self.remember(finished)
            if self.loop is LoopMode.QUEUE:
                self.tracks.append(finished)
        return self.tracks.pop(0) if self.tracks else None

    @rule(track=tracks_st)
    def add(self, track: Track) -> None:
        self.queue.add(track)
        self.tracks.append(track)

    @rule(tracks=st.lists(tracks_st, max_size=4))
    def extend(self, tracks: list[Track]) -> None:
        assert self.queue.extend(tracks) == len(tracks)
        self.tracks.extend(tracks)

    @rule(data=st.data(), track=tracks_st)
    def insert(self, data: st.DataObject, track: Track) -> None:
        index = data.draw(st.integers(-len(self.tracks), len(self.tracks)))
        self.queue.insert(index, track)
        self.tracks.insert(index, track)

    @precondition(lambda self: self.tracks)
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(-len(self.tracks), len(self.tracks) - 1))
        assert self.queue.remove(index) == self.tracks.pop(index)

    @rule(data=st.data())
    def remove_out_of_range(self, data: st.DataObject) -> None:
        n = len(self.tracks)
        index = data.draw(st.integers(n, n + 3) | st.integers(-n - 3, -n - 1))
        with pytest.raises(IndexError):
            self.queue.remove(index)

    @precondition(lambda self: self.tracks)
    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        n = len(self.tracks)
        src = data.draw(st.integers(-n, n - 1))
        dst = data.draw(st.integers(-n, n - 1))
        track = self.tracks.pop(src)
        self.tracks.insert(dst % n, track)
        assert self.queue.move(src, dst) == track

    @rule(seed=st.integers(0, 2**32))
    def shuffle(self, seed: int) -> None:
        self.queue.shuffle(random.Random(seed))
        if len(self.tracks) > 1:
            random.Random(seed).shuffle(self.tracks)

    @rule()
    def clear(self) -> None:
        assert self.queue.clear() == len(self.tracks)
        self.tracks = []

    @rule(mode=st.sampled_from(list(LoopMode)))
    def set_loop(self, mode: LoopMode) -> None:
        self.queue.loop = mode.value
        self.loop = mode

    @rule(limit=st.integers(0, 6))
    def set_history_limit(self, limit: int) -> None:
        self.queue.history_limit = limit
        self.limit = limit
        self.history = self.history[-limit:] if limit else []

    @rule(track=st.none() | tracks_st)
    def play(self, track: Track | None) -> None:
        # The player starts a track by hand (or stops): the queue is not involved.
        self.current = track

    @rule()
    def advance(self) -> None:
        finished = self.current
        expected = (
            finished if finished is not None and self.loop is LoopMode.TRACK else self.model_next(finished)
        )
        self.current = self.queue.advance(finished)
        assert self.current == expected

    @rule(count=st.integers(1, 4))
    def skip(self, count: int) -> None:
        available = len(self.tracks) + (self.current is not None and self.loop is LoopMode.QUEUE)
        if count - 1 > available:
            with pytest.raises(IndexError):
                self.queue.skip(self.current, count)
            return
        expected = self.model_next(self.current)
        for _ in range(count - 1):
            if expected is None:
                break
            if self.loop is LoopMode.QUEUE:
                self.tracks.append(expected)
            expected = self.tracks.pop(0) if self.tracks else None
        self.current = self.queue.skip(self.current, count)
        assert self.current == expected

    @rule()
    def back(self) -> None:
        previous = self.queue.back(self.current)
        if not self.history:
            assert previous is None
            return
        expected = self.history.pop()
        if self.current is not None:
            self.tracks.insert(0, self.current)
        if self.loop is LoopMode.QUEUE:
            last = max((i for i, t in enumerate(self.tracks) if t == expected), default=None)
            if last is not None:
                del self.tracks[last]
        assert previous == expected
        self.current = previous

    @rule()
    def restart(self) -> None:
        # A bot restart: the queue comes back from its snapshot, through JSON, and must carry on identically.
        self.queue = roundtrip(self.queue)

    @invariant()
    def matches_model(self) -> None:
        assert list(self.queue) == self.tracks
        assert len(self.queue) == len(self.tracks)
        assert bool(self.queue) == bool(self.tracks)
        assert self.queue.peek() == (self.tracks[0] if self.tracks else None)
        assert list(self.queue.history) == self.history
        assert len(self.queue.history) <= self.queue.history_limit
        assert self.queue.loop is self.loop

    @invariant()
    def version_never_decreases(self) -> None:
        if self.queue.version < self.version:
            # Only a restart builds a new queue (whose counter starts again).
            assert self.queue.version == 0
        self.version = self.queue.version

    @invariant()
    def snapshot_restores_exactly(self) -> None:
        snap = self.queue.snapshot()
        for restored in (
            GuildQueue.restore(snap, history_limit=self.limit),
            GuildQueue.restore(
                QueueSnapshot.from_dict(json.loads(json.dumps(snap.to_dict()))), history_limit=self.limit
            ),
        ):
            assert restored.upcoming == self.queue.upcoming
            assert [t.user_data for t in restored] == [t.user_data for t in self.queue]
            assert restored.history == self.queue.history
            assert restored.loop is self.queue.loop
            assert restored.snapshot() == snap


QueueMachine.TestCase.settings = hypothesis.settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
TestQueueMachine = QueueMachine.TestCase


# -- a command's change, planned then applied (the player makes it once the node took the command) ------------------

TRACKS = [make_track(i) for i in range(8)]


@hypothesis.given(
    queued=st.integers(0, 6),
    history=st.integers(0, 3),
    loop=st.sampled_from(list(LoopMode)),
    count=st.integers(1, 4),
    playing=st.booleans(),
)
def test_plan_skip_then_apply_is_skip(queued: int, history: int, loop: LoopMode, count: int, playing: bool) -> None:
    def build() -> GuildQueue:
        return GuildQueue(TRACKS[1 : 1 + queued], history=TRACKS[7 - history : 7], loop=loop)

    current = TRACKS[0] if playing else None
    direct, planned = build(), build()
    try:
        expected = direct.skip(current, count)
    except IndexError:
        with pytest.raises(IndexError):
            planned.plan_skip(current, count)
        return
    move = planned.plan_skip(current, count)
    assert titles(planned) == titles(build()), "planning changed the queue"
    planned.apply(move)
    assert move.started is expected
    assert titles(planned) == titles(direct)
    assert [t.info.title for t in planned.history] == [t.info.title for t in direct.history]


def test_a_move_applied_late_keeps_what_the_user_did_meanwhile() -> None:
    queue = GuildQueue([B, C], loop=LoopMode.QUEUE)
    move = queue.plan_skip(A)  # A plays, B is next
    queue.add(D)  # while the command is in flight
    queue.remove_track(C)
    queue.apply(move)
    assert move.started is B
    assert titles(queue) == ["song 3", "song 0"]  # D kept, C removed, A at the end of the loop
    assert [t.info.title for t in queue.history] == ["song 0"]


def test_a_move_whose_track_the_user_removed_meanwhile_takes_nothing_else() -> None:
    queue = GuildQueue([B, C])
    move = queue.plan_next()
    queue.remove_track(B)
    queue.apply(move)
    assert titles(queue) == ["song 2"]
