"""Plugin payloads from a node can be anything: parsing them never crashes the client, and old snapshots (written
before plugin state was saved) still load."""

from __future__ import annotations

import contextlib
import logging
import typing

import hypothesis
import pytest
from hypothesis import strategies as st

from lightbulb_lavalink.errors import ProtocolError
from lightbulb_lavalink.plugins import (
    LavaSrcPlaylistInfo,
    LavaSrcTrackInfo,
    LyricsLineEvent,
    PluginEvent,
    SearchResult,
    SegmentSkippedEvent,
)
from lightbulb_lavalink.plugins.events import plugin_event
from lightbulb_lavalink.protocol.messages import UnknownMessage, message_from_payload
from lightbulb_lavalink.snapshot import GuildSnapshot, PluginSnapshot

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
PLUGIN_TYPES = ["SegmentsLoaded", "SegmentSkipped", "ChaptersLoaded", "ChapterStarted", "LyricsFoundEvent",
                "LyricsNotFoundEvent", "LyricsLineEvent", "SomeoneElsesEvent"]  # fmt: skip
FIELDS = ["segment", "segments", "chapter", "chapters", "lyrics", "line", "lineIndex", "skipped"]


class _Player:
    """What a typed event reads of its player (its guild and node)."""

    guild_id = 42
    node = typing.cast("typing.Any", object())


class _Node:
    name = "main"


class _Client:
    app = typing.cast("typing.Any", object())


def _event(data: dict[str, typing.Any]) -> PluginEvent | typing.Any:
    message = message_from_payload(data)
    assert isinstance(message, UnknownMessage)
    client = typing.cast("typing.Any", _Client())
    node = typing.cast("typing.Any", _Node())
    return plugin_event(client, node, message, guild_id=None, player=typing.cast("typing.Any", _Player()))


@hypothesis.settings(
    max_examples=300, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(
    kind=st.sampled_from(PLUGIN_TYPES),
    fields=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4),
)
def test_any_plugin_event_payload_gives_an_event_never_an_error(
    kind: str, fields: dict[str, typing.Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "lightbulb_lavalink.plugins.events"):
        event = _event({"op": "event", "type": kind, "guildId": "42", **fields})
    if isinstance(event, PluginEvent):
        assert event.data["type"] == kind
        assert (event.problem is None) == (kind == "SomeoneElsesEvent")  # a known one is generic only when malformed


def test_a_readable_plugin_event_is_typed() -> None:
    skipped = _event({"op": "event", "type": "SegmentSkipped", "guildId": "42",
                      "segment": {"category": "sponsor", "start": 0, "end": 3000}})  # fmt: skip
    assert isinstance(skipped, SegmentSkippedEvent) and skipped.segment.end == 3000
    line = _event({"op": "event", "type": "LyricsLineEvent", "guildId": "42", "lineIndex": 2, "skipped": True,
                   "line": {"timestamp": 16770, "duration": None, "line": "la", "plugin": {}}})  # fmt: skip
    assert isinstance(line, LyricsLineEvent) and line.line_index == 2 and line.skipped and line.line.duration is None


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(info=json_values)
def test_any_plugin_info_reads_as_a_typed_view(info: typing.Any) -> None:
    track = LavaSrcTrackInfo.from_plugin_info(info)
    assert track.is_preview in (True, False)
    LavaSrcPlaylistInfo.from_plugin_info(info)


def test_lavasrc_fields_are_typed_and_a_wrong_one_costs_only_itself(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "lightbulb_lavalink.plugins.lavasrc"):
        info = LavaSrcTrackInfo.from_plugin_info({"albumName": "Discovery", "previewUrl": 5, "isPreview": True})
    assert info.album_name == "Discovery" and info.preview_url is None and info.is_preview
    assert "previewUrl" in caplog.text


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(data=st.dictionaries(st.sampled_from(["tracks", "albums", "texts", "plugin"]), json_values))
def test_a_search_answer_is_read_or_refused_as_a_protocol_error(data: dict[str, typing.Any]) -> None:
    with contextlib.suppress(ProtocolError):
        SearchResult.from_payload(data)


OLD_SNAPSHOT = {
    "guildId": "42", "node": "main", "channelId": "7", "track": None, "position": 0, "paused": False,
    "volume": 100, "filters": {}, "queue": {"tracks": [], "history": [], "loop": "off"}, "updatedAt": 1.0,
}  # fmt: skip


def test_a_snapshot_written_before_plugin_state_loads_with_none() -> None:
    snap = GuildSnapshot.from_dict(OLD_SNAPSHOT)
    assert snap.plugins == PluginSnapshot() and snap.plugins.empty
    assert "plugins" not in snap.to_dict()  # and nothing new is written for a guild without plugin state


def test_plugin_state_round_trips_and_an_unreadable_part_costs_only_itself() -> None:
    state = PluginSnapshot(sponsorblock_categories=("sponsor",), lyrics_subscribed=True, lyrics_skip_track_source=True)
    data = GuildSnapshot.from_dict({**OLD_SNAPSHOT, "plugins": state.to_dict()})
    assert data.plugins == state
    damaged = GuildSnapshot.from_dict(
        {**OLD_SNAPSHOT, "plugins": {"sponsorblock": "all", "lyrics": {"subscribed": True}}}
    )
    assert damaged.plugins == PluginSnapshot(lyrics_subscribed=True)
    newer = GuildSnapshot.from_dict({**OLD_SNAPSHOT, "plugins": {"lyrics": {"subscribed": True}, "future": {}}})
    assert newer.plugins.lyrics_subscribed
