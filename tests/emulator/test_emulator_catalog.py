"""The deterministic catalog and the clocks, without a server."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightbulb_lavalink.errors import SettingsError
from lightbulb_lavalink.protocol.codec import decode_track
from lightbulb_lavalink.testing import Catalog, FakeLavalink, ManualClock, Playback, ScaledClock
from lightbulb_lavalink.testing.catalog import STREAM_LENGTH
from lightbulb_lavalink.testing.versions import EmulatedVersion


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=80).filter(lambda s: "error" not in s.lower() and "empty" not in s.lower()))
def test_any_identifier_loads_the_same_sensible_track_every_time(identifier: str) -> None:
    first, second = Catalog().load(identifier), Catalog().load(identifier)
    assert first == second
    assert first.load_type in ("track", "search", "playlist", "empty")
    for track in first.tracks:
        assert track.info.title and track.info.author
        assert 60_000 <= track.info.length <= 360_000 or track.info.length == STREAM_LENGTH
        decoded = decode_track(track.encoded)
        assert decoded.info == track.info


def test_plain_identifier_is_a_youtube_track_with_that_id() -> None:
    (track,) = Catalog().load("dQw4w9WgXcQ").tracks
    assert track.info.identifier == "dQw4w9WgXcQ"
    assert track.info.source_name == "youtube"
    assert track.info.uri == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


@pytest.mark.parametrize(
    ("url", "source", "identifier"),
    [
        ("https://www.youtube.com/watch?v=abcdefghijk", "youtube", "abcdefghijk"),
        ("https://youtu.be/abcdefghijk", "youtube", "abcdefghijk"),
        ("https://example.com/a/b/song.flac", "http", "https://example.com/a/b/song.flac"),
    ],
)
def test_urls(url: str, source: str, identifier: str) -> None:
    (track,) = Catalog().load(url).tracks
    assert (track.info.source_name, track.info.identifier) == (source, identifier)


def test_stream_urls_are_streams() -> None:
    (track,) = Catalog().load("https://radio.example.com/live").tracks
    assert track.info.is_stream and track.info.length == STREAM_LENGTH and not track.info.is_seekable


def test_search_returns_five_distinct_results_of_the_source() -> None:
    result = Catalog().load("scsearch:rain sounds")
    assert result.load_type == "search" and len(result.tracks) == 5
    assert len({t.info.identifier for t in result.tracks}) == 5
    assert all(t.info.source_name == "soundcloud" and "rain sounds" in t.info.title for t in result.tracks)


def test_markers_take_precedence_over_forms() -> None:
    catalog = Catalog()
    assert catalog.load("ytsearch:error").load_type == "error"
    assert catalog.load("https://youtube.com/playlist?list=empty").load_type == "empty"


def test_add_track_registers_an_exact_track_by_identifier_and_uri() -> None:
    catalog = Catalog()
    track = catalog.add_track(
        title="Exact",
        author="Me",
        length=1234,
        identifier="id-1",
        uri="https://x.test/1",
        source_name="deezer",
        isrc="USABC1234567",
    )
    assert catalog.load("id-1").tracks == (track,)
    assert catalog.load("https://x.test/1").tracks == (track,)
    assert "deezer" in catalog.sources
    assert decode_track(track.encoded).info.isrc == "USABC1234567"


def test_add_track_error_like_identifiers_still_load_when_registered() -> None:
    catalog = Catalog()
    track = catalog.add_track(title="t", identifier="error-but-registered", playback=Playback.STUCK)
    assert catalog.load("error-but-registered").tracks == (track,)
    assert catalog.playback_of(track.info) is Playback.STUCK


def test_add_playlist() -> None:
    catalog = Catalog()
    tracks = [catalog.add_track(title=f"t{i}") for i in range(3)]
    catalog.add_playlist("https://x.test/list", "Mine", tracks, selected_track=1)
    result = catalog.load("https://x.test/list")
    assert (result.load_type, result.playlist_name, result.selected_track) == ("playlist", "Mine", 1)
    assert result.tracks == tuple(tracks)


def test_manual_clock_runs_timers_in_deadline_order() -> None:
    clock = ManualClock(start_epoch_ms=1000)
    fired: list[tuple[str, float]] = []
    clock.call_at(2.0, lambda: fired.append(("b", clock.now())))
    clock.call_at(1.0, lambda: fired.append(("a", clock.now())))
    cancelled = clock.call_at(1.5, lambda: fired.append(("x", clock.now())))
    cancelled.cancel()
    clock.call_at(2.0, lambda: (clock.call_at(2.5, lambda: fired.append(("c", clock.now()))), None)[1])
    clock.advance(3)
    assert fired == [("a", 1.0), ("b", 2.0), ("c", 2.5)]
    assert clock.now() == 3 and clock.time_ms() == 4000 and clock.pending == 0
    with pytest.raises(ValueError):
        clock.advance(-1)


async def test_scaled_clock_speeds_time_up() -> None:
    clock = ScaledClock(1000.0)
    done = asyncio.Event()
    clock.call_at(clock.now() + 5.0, done.set)  # five emulated seconds
    await asyncio.wait_for(done.wait(), timeout=5.0)
    assert clock.now() >= 5.0
    with pytest.raises(SettingsError):
        ScaledClock(0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"time_scale": 0},
        {"player_update_interval": 0},
        {"stats_interval": -1},
        {"track_stuck_threshold_ms": -1},
        {"version": "3.7.0"},
        {"version": "four"},
        {"clock": ManualClock(), "time_scale": 10},
    ],
)
def test_bad_settings_raise_settings_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(SettingsError):
        FakeLavalink(**kwargs)  # type: ignore[arg-type]


def test_version_switches() -> None:
    old, mid, new = (EmulatedVersion.parse(v) for v in ("4.0.0", "4.0.8", "4.2.2"))
    assert not old.close_1001_on_shutdown and mid.close_1001_on_shutdown
    assert old.identifier_error_status == 500 and mid.identifier_error_status == 400
    assert not mid.cause_stack_trace and new.cause_stack_trace
    assert mid.omit_filter_defaults and not new.omit_filter_defaults
    assert not mid.channel_id and new.channel_id
