"""Shards and ownership without servers: which guilds a process holds, and the loud single-process store."""

from __future__ import annotations

import logging

import pytest

from lightbulb_lavalink import LavalinkClient, LavalinkSettings, Shards, shard_of
from lightbulb_lavalink.stores import MemoryStore, RedisStore
from lightbulb_lavalink.testing.gateway import make_bot

GUILD = 1_200_000_000_000_000_000


def test_a_guild_belongs_to_the_shard_discord_computes() -> None:
    import hikari

    for count in (1, 2, 3, 48):
        assert shard_of(GUILD, count) == hikari.snowflakes.calculate_shard_id(count, GUILD)
    shards = Shards.of([1], 3)
    held = [i for i in range(6) if shards.holds(GUILD + (i << 22))]
    assert held == [i for i in range(6) if shard_of(GUILD + (i << 22), 3) == 1] and len(held) == 2
    assert str(Shards.of([0, 2], 4)) == "shards 0,2 of 4"
    assert Shards.of(range(4), 4).whole_bot
    with pytest.raises(ValueError, match="subset"):
        Shards.of([3], 3)


def test_a_bot_that_is_not_started_has_no_shards_yet() -> None:
    assert Shards.from_bot(make_bot()) is None


def _client(shards: Shards | None) -> LavalinkClient:
    return LavalinkClient(make_bot(), LavalinkSettings(store="memory://"), shards=shards)


def test_a_single_process_store_under_part_of_the_shards_is_an_error(caplog: pytest.LogCaptureFixture) -> None:
    ownership = _client(None)._hub.ownership
    with caplog.at_level(logging.ERROR):
        ownership.configure(MemoryStore(), Shards.of([0], 2))
    assert not ownership.active
    (record,) = caplog.records
    assert "serves one process only" in record.getMessage() and "shards 0 of 2" in record.getMessage()
    caplog.clear()
    ownership.configure(MemoryStore(), Shards.of([0, 1], 2))  # the whole bot in one process: fine
    assert caplog.records == []


def test_a_shared_store_claims_only_with_known_shards() -> None:
    ownership = _client(None)._hub.ownership
    store = RedisStore("redis://127.0.0.1:6379/0", prefix="never-connected")
    ownership.configure(store, None)
    assert not ownership.active and ownership.owns(GUILD)
    ownership.configure(store, Shards.of([1], 2))
    assert ownership.active
    assert ownership.owns(GUILD) is (shard_of(GUILD, 2) == 1)

