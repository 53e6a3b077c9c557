"""Item 7: NodeLink's ``/v4/info`` has array ``prerelease``/``build``, no ``jvm``/``lavaplayer`` and extra keys;
``/lavalink nodes`` failed on it."""

from __future__ import annotations

import pytest

from lightbulb_lavalink.ext.presentation import nodes_embed
from lightbulb_lavalink.ext.reports import nodes_view
from lightbulb_lavalink.protocol.info import Info
from lightbulb_lavalink.protocol.rest import RestClient

from . import samples
from .conftest import bot_on
from .replay import ReplayNode
from .transcripts import Transcript, serve_app, serving


@pytest.fixture(scope="module")
def recorded() -> Transcript:
    return Transcript.load("02_rest_info_stats_session")


async def test_nodelink_info_is_read(recorded: Transcript) -> None:
    exchange = recorded.exchange(route="/v4/info")
    assert exchange.response_body["version"]["prerelease"] == [] and "jvm" not in exchange.response_body
    async with serve_app(serving(exchange)) as url, RestClient(url, "pw", timeout=5) as rest:
        info = await rest.info()
    assert (info.version.semver, info.version.major, info.version.minor, info.version.patch) == ("3.7.0", 3, 7, 0)
    assert info.version.pre_release == "" and info.version.build is None  # empty arrays: a release, no build
    assert info.jvm is None and info.lavaplayer is None  # not a JVM server: unknown
    assert info.build_time == -1 and info.git.commit == "unknown"
    assert info.source_managers == ("rss", "local", "http")
    assert "lowpass" in info.filters and info.plugins == ()


def test_array_prerelease_and_build_read_as_dotted_text() -> None:
    version = {"semver": "4.0.0-beta.1+abc.5", "major": 4, "minor": 0, "patch": 0, "prerelease": ["beta", 1],
               "build": ["abc", "5"]}  # fmt: skip
    payload = {**samples.INFO_PAYLOAD, "version": version}
    parsed = Info.from_payload(payload).version
    assert (parsed.pre_release, parsed.build) == ("beta.1", "abc.5")


async def test_lavalink_nodes_shows_a_nodelink_node(recorded: Transcript) -> None:
    async with ReplayNode(recorded) as server, bot_on(server.host, server.port, server.password) as bot:
        (view,) = await nodes_view(bot.client)
    assert view.error is None
    assert view.version == "3.7.0" and view.jvm is None and view.lavaplayer is None
    assert view.source_managers == ("rss", "local", "http")
    embed = nodes_embed([view])
    assert "3.7.0" in str(embed.fields[0].value) and "⚠️" not in str(embed.fields[0].value)
