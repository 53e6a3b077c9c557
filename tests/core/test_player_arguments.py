"""Public player methods refuse bad arguments with a clear TypeError/ValueError before anything is sent
(issue 10 item 9): `play("a string")` and `set_filters("x")` ended in AttributeError; `start=-5`,
`set_volume(True)` and `seek(1.5)` were sent to the node unchecked."""

from __future__ import annotations

import typing

import hikari
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import NodeUnavailable
from lightbulb_lavalink.player import Player
from lightbulb_lavalink.protocol.filters import Filters
from lightbulb_lavalink.protocol.tracks import Track, TrackInfo

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

TRACK = Track(
    encoded="QAAAjQIAJVJpY2sgQXN0bGV5IC0gTmV2ZXIgR29ubmEgR2l2ZSBZb3UgVXAADlJpY2tBc3RsZXlWRVZPAAAAAAADPCAAC2RRdzR3OVdnWGNRAAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9ZFF3NHc5V2dYY1EAB3lvdXR1YmUAAAAAAAAAAA==",
    info=TrackInfo(
        identifier="dQw4w9WgXcQ",
        is_seekable=True,
        author="RickAstleyVEVO",
        length=212000,
        is_stream=False,
        position=0,
        title="Rick Astley - Never Gonna Give You Up",
        uri="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        source_name="youtube",
        artwork_url=None,
        isrc=None,
    ),
)

NOT_INTS = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


def make_player(bot: hikari.GatewayBot) -> Player:
    """A player of a never-started client: any command that gets past its argument checks meets
    `NodeUnavailable`, so a TypeError/ValueError proves the check came first."""
    client = LavalinkClient(bot)
    node = next(iter(client.nodes.values()))
    return Player(client._hub, node, 1234)


async def refused(call: Callable[[], Awaitable[object]]) -> BaseException:
    with pytest.raises((TypeError, ValueError)) as info:
        await call()
    return info.value


@pytest.mark.parametrize(
    ("what", "call", "message"),
    [
        ("play a string", lambda p: p.play("a string"), "track must be a Track"),
        ("play a negative start", lambda p: p.play(TRACK, start=-5), "start"),
        ("play a float start", lambda p: p.play(TRACK, start=1.5), "start"),
        ("play an end before the start", lambda p: p.play(TRACK, start=5000, end=100), "end"),
        ("play a non-bool paused", lambda p: p.play(TRACK, paused="yes"), "paused"),
        ("play a non-bool replace", lambda p: p.play(TRACK, replace=0), "replace"),
        ("seek a float", lambda p: p.seek(1.5), "position"),
        ("seek a bool", lambda p: p.seek(True), "position"),
        ("seek negative", lambda p: p.seek(-1), "position"),
        ("volume a bool", lambda p: p.set_volume(True), "volume"),
        ("volume a float", lambda p: p.set_volume(50.5), "volume"),
        ("volume too loud", lambda p: p.set_volume(1001), "volume"),
        ("filters a string", lambda p: p.set_filters("x"), "filters must be a Filters"),
        ("set_pause a string", lambda p: p.set_pause("no"), "paused"),
    ],
)
async def test_bad_arguments_are_refused_before_anything_is_sent(
    bot: hikari.GatewayBot, what: str, call: Callable[[Player], Awaitable[object]], message: str
) -> None:
    player = make_player(bot)
    error = await refused(lambda: call(player))
    assert message in str(error), what


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=NOT_INTS)
async def test_any_non_int_position_or_volume_is_a_type_error(bot: hikari.GatewayBot, value: object) -> None:
    player = make_player(bot)
    for call in (player.seek, player.set_volume, lambda v: player.play(TRACK, start=v)):
        with pytest.raises(TypeError):
            await call(value)  # type: ignore[operator]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(volume=st.integers(0, 1000), position=st.integers(0, 10**12))
async def test_good_arguments_get_past_the_checks(bot: hikari.GatewayBot, volume: int, position: int) -> None:
    player = make_player(bot)
    for call in (
        lambda: player.set_volume(volume),
        lambda: player.seek(position),
        lambda: player.play(TRACK, start=position, end=None, paused=False),
        lambda: player.set_filters(Filters()),
    ):
        with pytest.raises(NodeUnavailable):
            await call()
