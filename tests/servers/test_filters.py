"""Item 6: NodeLink wraps a player's filters in an extra object (``{"filters": {…}}``), sends the equalizer as
``{"bands": […]}`` and the volume filter as ``{}``. Restored filters came back empty after every restart."""

from __future__ import annotations

import json

import attrs
import pytest

from lightbulb_lavalink.protocol.filters import (
    ChannelMix,
    Distortion,
    EqualizerBand,
    Filters,
    Karaoke,
    LowPass,
    Rotation,
    Timescale,
    Tremolo,
    Vibrato,
)
from lightbulb_lavalink.protocol.messages import UnknownMessage, parse_message
from lightbulb_lavalink.protocol.player import PlayerInfo

from .transcripts import Transcript

EVERY_KIND = Filters(
    equalizer=(EqualizerBand(band=0, gain=0.2), EqualizerBand(band=1, gain=0.15), EqualizerBand(band=14, gain=-0.1)),
    karaoke=Karaoke(),
    timescale=Timescale(speed=1.1, pitch=1.05),
    tremolo=Tremolo(),
    vibrato=Vibrato(),
    rotation=Rotation(rotation_hz=0.2),
    distortion=Distortion(),
    channel_mix=ChannelMix(left_to_left=0.5, left_to_right=0.5, right_to_left=0.5, right_to_right=0.5),
    low_pass=LowPass(),
)
"""What 04 set ("filters (every built-in kind)"), less the volume filter, which NodeLink reports as ``{}``."""


@pytest.fixture(scope="module")
def lifecycle() -> Transcript:
    return Transcript.load("04_player_lifecycle")


@pytest.mark.parametrize("label", ["filters (every built-in kind)", "player with filters"])
def test_nodelink_players_report_their_filters(lifecycle: Transcript, label: str) -> None:
    recorded = lifecycle.exchange(label)
    assert set(recorded.response_body["filters"]) == {"filters"}  # the wrapper
    player = PlayerInfo.from_payload(recorded.response_body)
    assert player.filters == EVERY_KIND
    assert player.filters.volume is None, "NodeLink sends the volume filter as {}: unknown, not a value"
    assert player.filters.unread == {"volume"}  # the value the bot set stands for it
    assert player.filters.with_unread_from(Filters(volume=0.8)) == attrs.evolve(EVERY_KIND, volume=0.8)


def test_a_partial_filter_comes_back_whole(lifecycle: Transcript) -> None:
    recorded = lifecycle.exchange("filters: one partial filter")
    expected = Filters(timescale=Timescale(speed=1.2, pitch=1.05))
    assert PlayerInfo.from_payload(recorded.response_body).filters == expected


def test_players_without_filters_have_none(lifecycle: Transcript) -> None:
    for exchange in lifecycle.exchanges:
        body = exchange.response_body
        is_player = exchange.status == 200 and isinstance(body, dict) and "guildId" in body
        if is_player and body["filters"] in ({}, {"filters": {}}):
            assert PlayerInfo.from_payload(body).filters == Filters()


def test_the_filters_changed_events_carry_the_same_filters(lifecycle: Transcript) -> None:
    """NodeLink's own ``FiltersChangedEvent`` is passed on as an unknown event, its filters readable by the bot."""
    changed = lifecycle.frames(event="FiltersChangedEvent")
    every = [f for f in changed if "timescale" in f["filters"]["filters"] and "karaoke" in f["filters"]["filters"]]
    assert every
    message = parse_message(json.dumps(every[0]))
    assert isinstance(message, UnknownMessage) and message.type == "FiltersChangedEvent"
    assert Filters.from_payload(message.data["filters"]) == EVERY_KIND
