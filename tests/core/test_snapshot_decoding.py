"""A saved guild reads back exactly as it was saved, and a damaged one is refused naming what is wrong, whichever
way the reader takes (the usual guild is read on a fast path)."""

from __future__ import annotations

import typing

import pytest

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.snapshot import GuildSnapshot, PluginSnapshot, QueueSnapshot, TrackSnapshot
from lightbulb_lavalink.stores import decode_guilds, encode_snapshot

_QUEUE = QueueSnapshot(
    tracks=(TrackSnapshot(encoded="QUJD"), TrackSnapshot(encoded="REVG", user_data={"requester": "7"})),
    history=(TrackSnapshot(encoded="R0hJ", plugin_info={"albumName": "A"}),),
    loop="queue",
)
SNAPSHOTS: typing.Final = [
    GuildSnapshot(guild_id=1, node="main", channel_id=None),
    GuildSnapshot(guild_id=2, node="main", channel_id=20, track=TrackSnapshot(encoded="QUJD"), position=5,
                  queue=_QUEUE),
    GuildSnapshot(guild_id=3, node="a", channel_id=30, track=TrackSnapshot(encoded="QUJD", user_data={"x": [1]}),
                  paused=True, volume=80, filters={"volume": 0.5}, end_time=9_000, pending=True, updated_at=12),
    GuildSnapshot(guild_id=4, node="main", channel_id=None, left=True),
    GuildSnapshot(guild_id=5, node="main", channel_id=50, plugins=PluginSnapshot(lyrics_subscribed=True)),
]  # fmt: skip


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=lambda s: f"guild {s.guild_id}")
def test_a_saved_guild_reads_back_as_it_was(snapshot: GuildSnapshot) -> None:
    assert GuildSnapshot.from_dict(snapshot.to_dict()) == snapshot
    assert decode_guilds([(snapshot.guild_id, encode_snapshot(snapshot))], "test") == {snapshot.guild_id: snapshot}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"guildId": 2}, "guildId"),
        ({"guildId": "x"}, "not a number"),
        ({"position": -1}, "position"),
        ({"position": True}, "position"),
        ({"volume": "80"}, "volume"),
        ({"paused": 0}, "paused"),
        ({"filters": []}, "filters"),
        ({"updatedAt": "now"}, "updatedAt"),
        ({"endTime": 1.5}, "endTime"),
        ({"track": {"encoded": 5}}, "track.encoded"),
        ({"track": {"encoded": "QUJD", "userData": []}}, "track.userData"),
        ({"queue": {"tracks": [], "history": [], "loop": "sometimes"}}, "loop"),
        ({"queue": {"tracks": [], "history": [], "loop": ["off"]}}, "queue.loop"),
        ({"queue": {"tracks": [], "history": [], "loop": {"mode": "off"}}}, "queue.loop"),
        ({"queue": {"tracks": [{"encoded": None}], "history": [], "loop": "off"}}, "queue.tracks[0].encoded"),
        ({"queue": {"tracks": [], "loop": "off"}}, "queue.history"),
    ],
)
def test_a_damaged_saved_guild_is_refused_naming_the_field(change: dict[str, typing.Any], named: str) -> None:
    data = {**SNAPSHOTS[1].to_dict(), **change}
    with pytest.raises(StoreError, match=named.replace(".", r"\.").replace("[", r"\[")):
        GuildSnapshot.from_dict(data)
