"""The ``route`` label of the REST metrics stays bounded: a plugin request's path (ids, titles, tokens in it) never
becomes a label of its own, so a bot calling a plugin with many paths does not grow a time series per call."""

from __future__ import annotations

import re
import typing

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

from lightbulb_lavalink import LavalinkClient, LavalinkSettings, NodeSettings
from lightbulb_lavalink.errors import RestError
from lightbulb_lavalink.metrics import LavalinkMetrics
from lightbulb_lavalink.protocol.rest import route_of
from lightbulb_lavalink.testing import FakeLavalink
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeVoiceGateway, make_bot

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator

SECRET = "tok-4f1d2a9e"
TITLE = "Never Gonna Give You Up"


def routes(metrics: LavalinkMetrics) -> tuple[str, set[str]]:
    """The scraped text and every ``route`` label value in it."""
    text = prometheus_client.generate_latest(metrics.registry).decode()
    seen = {
        sample.labels["route"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if "route" in sample.labels
    }
    return text, seen


@pytest.fixture
async def measured() -> AsyncIterator[tuple[LavalinkClient, LavalinkMetrics]]:
    async with FakeLavalink() as node:
        discord = FakeDiscord()
        bot = make_bot(bot_id=discord.bot_id)
        await discord.connect(bot)
        settings = LavalinkSettings(
            nodes=(NodeSettings(name="main", host=node.host, port=node.port, password=node.password),),
            store="memory://",
        )
        metrics = LavalinkMetrics()
        async with FakeVoiceGateway(discord) as voice:
            client = LavalinkClient(bot, settings, voice_gateway=voice, metrics=metrics)
            await client.start()
            await client.wait_ready()
            try:
                yield client, metrics
            finally:
                await client.close()


async def test_many_plugin_paths_make_a_bounded_number_of_route_series(
    measured: tuple[LavalinkClient, LavalinkMetrics],
) -> None:
    client, metrics = measured
    session = client.nodes["main"].session_id
    assert session is not None
    paths = [
        *(f"/v4/myplugin/users/{n}/token/{SECRET}{n}" for n in range(40)),
        *(f"/v4/lyrics/{TITLE.replace(' ', '%20')}%20{n}" for n in range(20)),
        *(f"/v4/sessions/{session}/players/{1000 + n}/myplugin/{n}" for n in range(20)),
        *(f"/v4/{SECRET}{n}" for n in range(20)),
    ]
    for path in paths:
        with pytest.raises(RestError):  # the emulator has no such plugin: the failures are measured too
            await client.plugins.request("GET", path, query={"apikey": SECRET})
    text, seen = routes(metrics)
    assert len(seen) <= 6, f"a route label per path: {sorted(seen)}"
    assert SECRET not in text, "a plugin path's token in a metric label"
    assert "Never" not in text, "a title in a metric label"
    # Label values only: the samples' own numbers (a `_created` timestamp) may hold any digits.
    labels = " ".join(re.findall(r"\{[^}]*\}", text))
    assert session not in labels and "1000" not in labels


async def test_a_plugin_request_can_name_its_route_template(measured: tuple[LavalinkClient, LavalinkMetrics]) -> None:
    client, metrics = measured
    for n in range(5):
        with pytest.raises(RestError):
            await client.plugins.request("GET", f"/v4/myplugin/users/{n}", route="/v4/myplugin/users/{userId}")
    with pytest.raises(ValueError, match="route"):
        await client.plugins.request("GET", "/v4/myplugin/users/1", route="/v4/myplugin/users/1?key=value")
    _, seen = routes(metrics)
    assert "/v4/myplugin/users/{userId}" in seen
    assert not any(route.startswith("/v4/myplugin/users/") and "{" not in route for route in seen)


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/v4/loadsearch", "/v4/loadsearch"),
        ("/v4/lyrics", "/v4/lyrics"),
        ("/v4/sessions/abc/players/12/track/lyrics", "/v4/sessions/{sessionId}/players/{guildId}/track/lyrics"),
        ("/v4/sessions/abc/players/12/lyrics/subscribe", "/v4/sessions/{sessionId}/players/{guildId}/lyrics/subscribe"),
        (
            "/v4/sessions/abc/players/12/sponsorblock/categories",
            "/v4/sessions/{sessionId}/players/{guildId}/sponsorblock/categories",
        ),
        ("/v4/sessions/abc/players/12/anything/else", "/v4/sessions/{sessionId}/players/{guildId}/{other}"),
        ("/v4/sessions/abc/whatever", "/v4/sessions/{sessionId}/{other}"),
        ("/v4/some/plugin/42", "/v4/{other}"),
        ("/elsewhere/42", "/{other}"),
    ],
)
def test_the_typed_plugins_routes_are_templates_and_any_other_path_is_reduced(path: str, route: str) -> None:
    assert route_of(path) == route
