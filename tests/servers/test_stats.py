"""Item 5: NodeLink names the CPU load ``nodelinkLoad``. Every stats frame was refused, ``node.stats`` stayed
empty and load balancing ran blind."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.pool import stats_penalty
from lightbulb_lavalink.protocol.messages import StatsMessage, parse_message
from lightbulb_lavalink.protocol.rest import RestClient

from .conftest import bot_on, got
from .replay import ReplayNode
from .transcripts import Transcript, serve_app, serving


@pytest.fixture(scope="module")
def stats_frames() -> list[dict[str, Any]]:
    names = ("01_websocket_ready_stats", "04_player_lifecycle")
    frames = [frame for name in names for frame in Transcript.load(name).frames("stats")]
    assert frames and all("nodelinkLoad" in f["cpu"] and "lavalinkLoad" not in f["cpu"] for f in frames)
    return frames


def test_every_recorded_nodelink_stats_frame_is_read_with_its_cpu_load(stats_frames: list[dict[str, Any]]) -> None:
    for frame in stats_frames:
        message = parse_message(json.dumps(frame))
        assert isinstance(message, StatsMessage)
        stats = message.stats
        cpu = frame["cpu"]
        assert stats.cpu.lavalink_load == cpu["nodelinkLoad"] and stats.cpu.system_load == cpu["systemLoad"]
        assert (stats.players, stats.playing_players) == (frame["players"], frame["playingPlayers"])
        frames = frame["frameStats"]
        if frames is None:
            assert stats.frame_stats is None
        else:
            assert stats.frame_stats is not None
            assert (stats.frame_stats.sent, stats.frame_stats.deficit) == (frames["sent"], frames["deficit"])


async def test_get_stats_of_nodelink_is_read() -> None:
    recorded = Transcript.load("02_rest_info_stats_session").exchange(route="/v4/stats")
    async with serve_app(serving(recorded)) as url, RestClient(url, "pw", timeout=5) as rest:
        stats = await rest.stats()
    assert stats.cpu.lavalink_load == 0 and stats.frame_stats is None and stats.uptime == 5089


async def test_a_nodelink_node_has_stats_and_a_penalty_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    session = Transcript.load("02_rest_info_stats_session")
    recorded = Transcript.load("01_websocket_ready_stats")
    async with ReplayNode(recorded, session) as server, bot_on(server.host, server.port, server.password) as bot:
        node = bot.client.nodes["main"]
        frames = recorded.frames("stats")
        sent = [*frames * 3, frames[0]]
        all_read = bot.expect(events.NodeStatsEvent, lambda e: len(bot.of_type(events.NodeStatsEvent)) == len(sent))
        with caplog.at_level(logging.INFO, logger="lightbulb_lavalink"):
            for frame in sent:
                await server.send(frame)
            await got(all_read)
        assert node.stats is not None and node.stats.players == 2 and node.stats.cpu.lavalink_load == 0.02
        assert node.penalty == stats_penalty(node.stats) == 2.0  # its two playing players count
        said = [r for r in caplog.records if "nodelinkLoad" in r.getMessage()]
        assert len(said) == 1 and said[0].levelno == logging.INFO, "each kind of deviation is logged once per node"
        assert node.deviations.counts["cpu.lavalinkLoad: sent as nodelinkLoad (NodeLink)"] == len(sent)
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
