"""Non-JSON user data in a guild's queue: refused when queued, never an obstacle to restoring or saving it."""

from __future__ import annotations

import datetime
import math
import typing

import pytest

from lightbulb_lavalink.errors import UserDataError
from lightbulb_lavalink.protocol import track as track_module
from lightbulb_lavalink.protocol.codec import decode_track, encode_track
from lightbulb_lavalink.protocol.tracks import Track, TrackInfo
from lightbulb_lavalink.queue import GuildQueue, LoopMode
from lightbulb_lavalink.snapshot import GuildSnapshot, QueueSnapshot, TrackSnapshot
from lightbulb_lavalink.stores.base import decode_guilds, encode_snapshot


def make_track(n: int) -> Track:
    info = TrackInfo(identifier=f"id-{n}", author="a", length=60_000, title=f"song {n}", source_name="http")
    return decode_track(encode_track(info))


A, B, C, D = (make_track(i) for i in range(4))


def test_a_track_with_non_json_user_data_never_reaches_a_queue() -> None:
    queue = GuildQueue([A.with_user_data(requester=1)])
    with pytest.raises(UserDataError, match=r"user_data\['when'\]: datetime is not JSON"):
        queue.add(B.with_user_data(requester=2, when=datetime.datetime(2024, 5, 1)))
    assert [t.user_data for t in queue] == [{"requester": 1}]


def test_restoring_a_saved_queue_does_not_check_its_user_data(monkeypatch: pytest.MonkeyPatch) -> None:
    # A resume rebuilds thousands of queues: their user data was read from JSON and is not checked again, and
    # even data no writer of ours produces (a hand-edited file's NaN) does not stop the queue from coming back.
    calls = 0
    real = track_module.checked_user_data

    def counting(data: typing.Any, where: str = "user_data") -> dict[str, typing.Any]:
        nonlocal calls
        calls += 1
        return real(data, where)

    monkeypatch.setattr(track_module, "checked_user_data", counting)
    saved = QueueSnapshot(
        tracks=(
            TrackSnapshot(encoded=A.encoded, user_data={"requester": 1}),
            TrackSnapshot(encoded=B.encoded, user_data={"score": math.nan}),
            TrackSnapshot(encoded=C.encoded, user_data={"requester": 3}, plugin_info={"albumName": "x"}),
        ),
        history=(TrackSnapshot(encoded=D.encoded, user_data={"requester": 4}),),
        loop="queue",
    )
    queue = GuildQueue.restore(saved)
    assert calls == 0
    assert [t.user_data.get("requester") for t in queue] == [1, None, 3]
    assert math.isnan(queue[1].user_data["score"])
    assert queue[2].plugin_info == {"albumName": "x"} and queue.history[0].user_data == {"requester": 4}
    assert queue.snapshot() == saved


def test_user_data_changed_in_place_after_queueing_costs_only_that_data() -> None:
    queue = GuildQueue([A.with_user_data(requester=1), B.with_user_data(requester=2), C], loop=LoopMode.QUEUE)
    typing.cast("dict[str, typing.Any]", queue[1].user_data)["when"] = datetime.datetime(2024, 5, 1)  # not allowed
    snapshot = GuildSnapshot(guild_id=9, node="main", channel_id=1, queue=queue.snapshot(), updated_at=1.5)
    restored = decode_guilds([(9, encode_snapshot(snapshot))], "test")[9]
    back = GuildQueue.restore(restored.queue)
    assert [t.user_data for t in back] == [{"requester": 1}, {"requester": 2}, {}]
    assert back.upcoming == (A.with_user_data(requester=1), B.with_user_data(requester=2), C)
    assert back.loop is LoopMode.QUEUE
