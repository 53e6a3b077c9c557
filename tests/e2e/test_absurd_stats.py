"""Issue 10, item 3: a node that reports absurd stats scores badly; it never breaks choosing a node.

``systemLoad`` 1000 or a frame count of 10**30 made the penalty formula raise `OverflowError`, so `join()`,
`load_tracks()` and every node choice failed, even with a healthy node beside it.
"""

from __future__ import annotations

import asyncio
import json
import math
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightbulb_lavalink import events
from lightbulb_lavalink.ext.presentation import status_embed
from lightbulb_lavalink.ext.reports import status_view
from lightbulb_lavalink.pool import MAX_PENALTY, stats_penalty
from lightbulb_lavalink.protocol.stats import Stats
from lightbulb_lavalink.testing import FakeLavalink
from lightbulb_lavalink.testing.gateway import FakeDiscord

from .test_nodes import bot_with, node_settings

if typing.TYPE_CHECKING:
    import pathlib

    from lightbulb_lavalink.client import LavalinkClient

# What a node may send where a number goes: in range, huge, negative, not finite.
any_int = st.integers() | st.integers(min_value=10**15) | st.sampled_from([-(2**63), 2**63 - 1, 10**30, 10**400])
any_load = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=0, max_value=1)
    | st.sampled_from([1000.0, 1e308, -1.0])
    | any_int
)


def payload(
    *,
    playing: int = 0,
    load: float = 0.0,
    lavalink_load: float = 0.0,
    frames: tuple[int, int, int] | None = None,
    memory: int = 1,
    uptime: int = 1,
    cores: int = 2,
) -> dict[str, typing.Any]:
    return {
        "players": playing,
        "playingPlayers": playing,
        "uptime": uptime,
        "memory": {"free": memory, "used": memory, "allocated": memory, "reservable": memory},
        "cpu": {"cores": cores, "systemLoad": load, "lavalinkLoad": lavalink_load},
        "frameStats": None if frames is None else dict(zip(("sent", "nulled", "deficit"), frames, strict=True)),
    }


absurd_stats = st.builds(
    lambda playing, load, lavalink_load, frames, memory, uptime, cores: Stats.from_payload(
        payload(
            playing=playing,
            load=load,
            lavalink_load=lavalink_load,
            frames=frames,
            memory=memory,
            uptime=uptime,
            cores=cores,
        )
    ),
    any_int,
    any_load,
    any_load,
    st.none() | st.tuples(any_int, any_int, any_int),
    any_int,
    any_int,
    any_int,
)


@given(absurd_stats, st.integers(min_value=0, max_value=1000))
def test_the_penalty_is_always_a_bounded_number(stats: Stats, pending: int) -> None:
    penalty = stats_penalty(stats, pending)
    assert math.isfinite(penalty)
    assert 0 <= penalty <= MAX_PENALTY + pending


@given(
    st.integers(min_value=0, max_value=1000),
    st.floats(min_value=0, max_value=1),
    st.none() | st.tuples(st.integers(0, 3000), st.integers(0, 3000), st.integers(0, 3000)),
)
def test_in_range_stats_keep_the_usual_formula(playing: int, load: float, frames: tuple[int, int, int] | None) -> None:
    stats = Stats.from_payload(payload(playing=playing, load=load, frames=frames))
    expected = playing + 1.05 ** (100 * load) * 10 - 10
    if frames is not None:
        expected += 1.03 ** (500 * (frames[2] / 3000)) * 600 - 600
        expected += (1.03 ** (500 * (frames[1] / 3000)) * 300 - 300) * 2
    assert stats_penalty(stats) == pytest.approx(expected)


in_range = {
    "playing": st.integers(0, 100_000),
    "load": st.floats(0, 1),
    "nulled": st.integers(0, 3000),
    "deficit": st.integers(-3000, 3000),
}
out_of_range = {
    "playing": st.integers(max_value=-1) | st.integers(min_value=100_001) | st.just(10**400),
    "load": st.floats(min_value=1, exclude_min=True) | st.floats(max_value=0, exclude_max=True)
    | st.sampled_from([math.nan, math.inf, -math.inf, 1000.0, 1e308]),
    "nulled": st.integers(max_value=-1) | st.integers(min_value=3001) | st.just(10**30),
    "deficit": st.integers(max_value=-3001) | st.integers(min_value=3001) | st.just(-(10**30)),
}


def _with(base: dict[str, typing.Any], field: str, value: typing.Any) -> Stats:
    values = {**base, field: value}
    frames = (3000 - values["nulled"] - values["deficit"], values["nulled"], values["deficit"])
    return Stats.from_payload(payload(playing=values["playing"], load=values["load"], frames=frames))


@given(st.data(), st.sampled_from(sorted(in_range)))
def test_an_absurd_value_scores_at_least_as_badly_as_any_real_one(data: st.DataObject, field: str) -> None:
    base = {name: data.draw(strategy, label=name) for name, strategy in in_range.items()}
    real = data.draw(in_range[field], label=f"real {field}")
    absurd = data.draw(out_of_range[field], label=f"absurd {field}")
    assert stats_penalty(_with(base, field, absurd)) >= stats_penalty(_with(base, field, real))


# -- through the real client: join, load_tracks and /lavalink status with an absurd node beside a healthy one --


ABSURD = [
    payload(load=1000.0),
    payload(load=1e308, lavalink_load=1e308),
    payload(frames=(0, 10**30, 10**30)),
    payload(frames=(0, -(10**12), -(10**12))),  # negative frames must not be a bonus
    payload(playing=10**400, memory=10**400, uptime=10**400, cores=10**400),
    payload(playing=-5),
    payload(load=float("nan")),
    payload(load=float("inf")),
    payload(load=10**400, lavalink_load=-(10**400)),  # an integer no float holds: it used to end the connection
]


async def _stats_applied(client: LavalinkClient, node: FakeLavalink, name: str, body: dict[str, typing.Any]) -> None:
    got = asyncio.Event()

    async def on_stats(event: events.NodeStatsEvent) -> None:
        if event.node.name == name:
            got.set()

    client.app.event_manager.subscribe(events.NodeStatsEvent, on_stats)
    try:
        session_id = client.nodes[name].session_id
        assert session_id is not None
        connection = node.sessions[session_id].connection
        assert connection is not None
        connection.send(json.dumps({"op": "stats", **body}))  # NaN and Infinity as Python's json writes them
        await asyncio.wait_for(got.wait(), 5)
    finally:
        client.app.event_manager.unsubscribe(events.NodeStatsEvent, on_stats)


@pytest.mark.parametrize("absurd", ABSURD, ids=[f"absurd{i}" for i in range(len(ABSURD))])
async def test_join_and_load_tracks_go_to_the_healthy_node(
    tmp_path: pathlib.Path, absurd: dict[str, typing.Any]
) -> None:
    async with FakeLavalink() as sick, FakeLavalink() as well:
        discord = FakeDiscord()
        guild = await discord.add_guild(members=2)
        nodes = [node_settings("sick", sick), node_settings("well", well)]
        async with bot_with(nodes, f"sqlite:///{tmp_path / 's.db'}", discord) as (client, _voice):
            await client.wait_ready(5)
            await _stats_applied(client, sick, "sick", absurd)
            await _stats_applied(client, well, "well", payload(playing=200, load=0.8, frames=(2950, 25, 25)))

            assert client.best_node().name == "well"
            result = await client.load_tracks("ytsearch:anything")
            assert result.tracks
            await discord.voice_state(guild.id, guild.member_ids[1], guild.voice_channel_ids[0])
            player = await client.join(guild.id, guild.voice_channel_ids[0])
            assert player.node.name == "well"
            embed = status_embed(status_view(client))  # /lavalink status shows the absurd node without failing
            assert "sick" in "".join(field.name for field in embed.fields)
