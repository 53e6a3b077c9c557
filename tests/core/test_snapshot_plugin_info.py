"""A track's plugin info (what LavaSrc and other plugins add) survives a snapshot and a restart."""

from __future__ import annotations

import json

from lightbulb_lavalink.protocol.codec import encode_track
from lightbulb_lavalink.protocol.tracks import Track, TrackInfo
from lightbulb_lavalink.queue import GuildQueue
from lightbulb_lavalink.snapshot import QueueSnapshot, TrackSnapshot


def spotify_track(n: int) -> Track:
    info = TrackInfo(
        identifier=f"sp{n}",
        author="Artist",
        length=200_000,
        is_stream=False,
        position=0,
        title=f"Song {n}",
        uri=f"https://open.spotify.com/track/{n}",
        source_name="spotify",
        artwork_url=None,
        isrc="USX1",
    )
    return Track(
        encoded=encode_track(info),
        plugin_info={"albumName": f"Album {n}", "previewUrl": None},
        user_data={"requester": str(100 + n)},
    )


def test_plugin_info_and_user_data_survive_snapshot_json_and_restore() -> None:
    queue = GuildQueue([spotify_track(1), spotify_track(2)])
    data = json.loads(json.dumps(queue.snapshot().to_dict()))
    restored = GuildQueue.restore(QueueSnapshot.from_dict(data))
    assert [dict(t.plugin_info) for t in restored] == [
        {"albumName": "Album 1", "previewUrl": None},
        {"albumName": "Album 2", "previewUrl": None},
    ]
    assert [t.user_data["requester"] for t in restored] == ["101", "102"]
    assert [t.info.title for t in restored] == ["Song 1", "Song 2"]


def test_snapshots_without_plugin_info_keep_their_old_form() -> None:
    plain = TrackSnapshot(encoded="QUJD", user_data={"a": 1})
    assert plain.to_dict() == {"encoded": "QUJD", "userData": {"a": 1}}
    assert TrackSnapshot.from_dict({"encoded": "QUJD", "userData": {"a": 1}}) == plain


def test_a_track_without_user_data_is_saved_without_it_and_old_snapshots_with_it_still_read() -> None:
    bare = TrackSnapshot(encoded="QUJD")
    assert bare.to_dict() == {"encoded": "QUJD"}
    assert TrackSnapshot.from_dict({"encoded": "QUJD"}) == bare
    assert TrackSnapshot.from_dict({"encoded": "QUJD", "userData": {}}) == bare  # as versions up to 0.1.0 wrote it
