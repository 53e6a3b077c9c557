"""A track still waiting to start is saved as such, so a restarted bot starts it instead of taking it for one that
played and ended; snapshots saved before the flag existed read as not pending."""

from __future__ import annotations

import json

import pytest

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.snapshot import GuildSnapshot, TrackSnapshot


def test_pending_survives_the_json_round_trip_and_is_written_only_when_true() -> None:
    pending = GuildSnapshot(guild_id=1, node="main", channel_id=2, track=TrackSnapshot(encoded="QUJD"), pending=True)
    data = json.loads(json.dumps(pending.to_dict()))
    assert data["pending"] is True
    assert GuildSnapshot.from_dict(data) == pending

    playing = GuildSnapshot(guild_id=1, node="main", channel_id=2, track=TrackSnapshot(encoded="QUJD"), updated_at=1.0)
    assert "pending" not in playing.to_dict()  # what older versions wrote and read
    assert GuildSnapshot.from_dict(playing.to_dict()).pending is False


def test_a_pending_flag_that_is_not_a_boolean_names_the_field() -> None:
    data = GuildSnapshot(guild_id=1, node="main", channel_id=None).to_dict()
    data["pending"] = "yes"
    with pytest.raises(StoreError, match="pending"):
        GuildSnapshot.from_dict(data)
