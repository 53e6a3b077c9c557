"""A restart with 1,000 playing guilds per shard, under Discord's gateway rate limit (emulated time).

The real client, FakeLavalink and the fake Discord run on one ManualClock (`benchmarks/bench_rejoin.py` builds the
world: the same scenario `make bench` measures). What a user notices: no shard is disconnected for going over
the limit (4008), guilds where someone listens come back first, no rejoin fails or times out while it waits
its turn, and the whole restart takes what Discord's rate allows.
"""

from __future__ import annotations

from benchmarks.bench_rejoin import floor_seconds, restart


async def test_1000_guilds_on_one_shard_come_back_listeners_first_at_the_rate_discord_allows() -> None:
    result = await restart(1, 1000)
    assert result["kind"] == "resumed"
    assert result["audible"] == result["guilds"] == 1000
    assert result["closes_4008"] == 0
    assert result["order_ok"], "a guild without listeners rejoined before one with"
    assert result["listened_last_s"] <= result["background_first_s"]
    assert result["warning_count"] == 0, result["warnings"]  # no rejoin failed or timed out
    # hikari sends 116 OP4s in a shard's first minute and 117 in each after: the 1,000th leaves at 480 s.
    assert result["floor_s"] == floor_seconds(1000) == 480.0
    assert result["floor_s"] <= result["measured_s"] <= 1.1 * result["floor_s"]


async def test_eight_shards_are_paced_independently() -> None:
    result = await restart(8, 150)
    assert result["audible"] == result["guilds"] == 1200
    assert result["closes_4008"] == 0
    assert result["order_ok"]
    # Each shard has its own budget: 150 per shard take one extra minute, not eight.
    assert result["per_shard_last_s"] == [floor_seconds(150)] * 8 == [60.0] * 8


async def test_a_rejoin_that_starts_after_the_shard_connected_does_not_trip_the_limit() -> None:
    """hikari's window opens with the IDENTIFY; rejoins that start 10 s later must not be sent in a second burst
    at 60 s (hikari's next window), 50 s after the first: Discord would count both in one minute."""
    result = await restart(1, 300, start_delay=10.0)
    assert result["closes_4008"] == 0
    assert result["audible"] == 300
    assert result["warning_count"] == 0, result["warnings"]
    assert result["measured_s"] == 10.0 + floor_seconds(300)


async def test_our_pacing_alone_keeps_discord_happy_without_hikaris_limiter() -> None:
    result = await restart(1, 400, hikari_pacing=False)
    assert result["closes_4008"] == 0
    assert result["audible"] == 400
    assert result["measured_s"] == 180.0  # 116 a minute: 400 need three more minutes after the first burst


async def test_a_command_on_a_guild_waiting_its_turn_moves_it_up_and_does_not_time_out() -> None:
    """The node restarted too: every guild is recovered, and a guild's commands wait for it. A user pauses the
    last guild in line (its turn would come at 480 s): it goes with the next minute's turns, and the command,
    which gives up after request_timeout + voice_timeout (20 s) on a guild still being restored, waits with it."""
    result = await restart(1, 1000, lose_session=True, pause_last=True)
    assert result["kind"] == "recovered"
    assert result["audible"] == 1000
    assert result["closes_4008"] == 0
    assert "pause_error" not in result, result["pause_error"]
    assert result["pause_s"] == 60.0
    assert result["measured_s"] == 480.0
