"""Liberal in what we accept (DESIGN.md): a field we do not need that is missing or malformed costs that field, not
the message; only what the library cannot act on at all is a `ProtocolError`."""

from __future__ import annotations

import copy
import json
import typing

import pytest

from lightbulb_lavalink.errors import ProtocolError
from lightbulb_lavalink.protocol.deviations import Deviations
from lightbulb_lavalink.protocol.filters import EqualizerBand, Filters, LowPass, Timescale
from lightbulb_lavalink.protocol.info import Info, Plugin, SessionInfo
from lightbulb_lavalink.protocol.loading import LoadResult, LoadType, Severity
from lightbulb_lavalink.protocol.messages import TrackEndReason, UnknownMessage, parse_message
from lightbulb_lavalink.protocol.player import PlayerInfo
from lightbulb_lavalink.protocol.stats import Stats
from lightbulb_lavalink.protocol.tracks import Track

from . import samples

if typing.TYPE_CHECKING:
    from collections.abc import Callable


def with_value(payload: dict[str, typing.Any], path: str, value: typing.Any) -> dict[str, typing.Any]:
    """A deep copy of `payload` with the dotted `path` set to `value` (or removed, for `...`)."""
    result = copy.deepcopy(payload)
    *parents, last = path.split(".")
    node = result
    for key in parents:
        node = node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return result


FILTERS = Filters(
    volume=0.8,
    equalizer=(EqualizerBand(band=0, gain=0.2), EqualizerBand(band=14, gain=-0.1)),
    timescale=Timescale(speed=1.2),
    low_pass=LowPass(),
)

# (what is damaged, the damage, what it costs: a check on the parsed player)
PLAYER_CASES: list[tuple[str, typing.Any, Callable[[PlayerInfo], bool]]] = [
    ("volume", True, lambda p: p.volume is None and p.filters == FILTERS),
    ("paused", ..., lambda p: p.paused is None and p.volume == 80),
    ("state.position", 1.5, lambda p: p.state is None and p.track is not None),
    ("state.ping", ..., lambda p: p.state is not None and p.state.ping is None and p.state.position == 534),
    ("state", ..., lambda p: p.state is None and p.volume == 80),
    ("voice.channelId", 123, lambda p: p.voice.channel_id == "123"),
    ("voice.channelId", [1], lambda p: p.voice.channel_id is None and p.voice.token == "t"),
    ("voice.token", 5, lambda p: p.voice.token == "" and p.voice.session_id == "abc"),
    ("voice", ..., lambda p: p.voice.session_id == "" and p.filters == FILTERS),
    ("filters.timescale.speed", "fast", lambda p: p.filters.timescale == Timescale() and p.filters.volume == 0.8),
    ("filters.equalizer", {"band": 1}, lambda p: p.filters.equalizer is None and p.filters.volume == 0.8),
    ("filters.equalizer", [{"band": True, "gain": 0.1}, {"band": 3}],
     lambda p: p.filters.equalizer == (EqualizerBand(band=3, gain=1.0),)),
    ("filters.volume", True, lambda p: p.filters.volume is None and p.filters.timescale == Timescale(speed=1.2)),
    ("filters.volume", {}, lambda p: p.filters.volume is None and p.filters.low_pass == LowPass()),
    ("filters.pluginFilters", [], lambda p: p.filters.plugin_filters is None and p.filters.volume == 0.8),
    ("filters", "none", lambda p: p.filters == Filters() and p.volume == 80),
    ("filters", ..., lambda p: p.filters == Filters()),
]  # fmt: skip


@pytest.mark.parametrize(("path", "damage", "cost"), PLAYER_CASES, ids=[f"{p}={d!r}" for p, d, _ in PLAYER_CASES])
def test_a_player_with_a_damaged_field_we_do_not_need_is_read(
    path: str, damage: typing.Any, cost: Callable[[PlayerInfo], bool]
) -> None:
    assert PlayerInfo.from_payload(samples.PLAYER).filters == FILTERS
    deviations = Deviations("the test node")
    with deviations.reading():
        player = PlayerInfo.from_payload(with_value(samples.PLAYER, path, damage))
    assert player.guild_id == 987654321 and player.track is not None
    assert cost(player)
    assert deviations.counts, "what was read anyway is noted"


@pytest.mark.parametrize(("path", "damage"), [("guildId", 987654321), ("guildId", ...), ("track", ...), ("track", 5)])
def test_a_player_without_its_guild_or_track_is_refused(path: str, damage: typing.Any) -> None:
    with pytest.raises(ProtocolError):
        PlayerInfo.from_payload(with_value(samples.PLAYER, path, damage))


# (model, sample, what is damaged, the damage, what it costs)
MODEL_CASES: list[tuple[Callable[[typing.Any], typing.Any], dict[str, typing.Any], str, typing.Any,
                        Callable[[typing.Any], bool]]] = [
    (Info.from_payload, samples.INFO_PAYLOAD, "plugins", [{"name": "x"}, {"name": "y", "version": "1"}],
     lambda i: i.plugins == (Plugin(name="y", version="1"),)),
    (Info.from_payload, samples.INFO_PAYLOAD, "sourceManagers", ["http", 1], lambda i: i.source_managers == ("http",)),
    (Info.from_payload, samples.INFO_PAYLOAD, "version.major", "4", lambda i: i.version.major is None
     and i.version.minor == 0 and i.jvm == "17.0.12"),
    (Info.from_payload, samples.INFO_PAYLOAD, "jvm", ..., lambda i: i.jvm is None and i.lavaplayer == "2.2.1"),
    (Info.from_payload, samples.INFO_PAYLOAD, "git", [], lambda i: i.git.commit is None and i.build_time is not None),
    (SessionInfo.from_payload, {"resuming": True, "timeout": 60}, "resuming", "yes",
     lambda s: s.resuming is None and s.timeout == 60),
    (Stats.from_payload, samples.STATS, "memory.free", 1.5, lambda s: s.memory.free is None and s.memory.used),
    (Stats.from_payload, samples.STATS, "cpu.cores", 16.0, lambda s: s.cpu.cores is None and s.cpu.system_load),
    (Stats.from_payload, samples.STATS, "frameStats.nulled", ..., lambda s: s.frame_stats is not None
     and s.frame_stats.nulled is None and s.frame_stats.deficit == 40),
    (Stats.from_payload, samples.STATS, "frameStats", 7, lambda s: s.frame_stats is None and s.players == 2),
    (Stats.from_payload, samples.STATS, "cpu", ..., lambda s: s.cpu.system_load is None and s.uptime),
]  # fmt: skip


@pytest.mark.parametrize(
    ("parse", "sample", "path", "damage", "cost"),
    MODEL_CASES,
    ids=[f"{type(sample).__name__}-{path}={damage!r}" for _, sample, path, damage, _ in MODEL_CASES],
)
def test_a_damaged_field_we_do_not_need_costs_only_that_field(
    parse: Callable[[typing.Any], typing.Any],
    sample: dict[str, typing.Any],
    path: str,
    damage: typing.Any,
    cost: Callable[[typing.Any], bool],
) -> None:
    deviations = Deviations("the test node")
    with deviations.reading():
        parsed = parse(with_value(sample, path, damage))
    assert cost(parsed)
    assert deviations.counts, "what was read anyway is noted"


PLAYLIST = {"loadType": "playlist", "data": {"info": {"name": "x", "selectedTrack": -1}, "pluginInfo": {},
                                             "tracks": [samples.TRACK, 1, samples.TRACK]}}  # fmt: skip
LOAD_CASES: list[tuple[dict[str, typing.Any], Callable[[LoadResult], bool]]] = [
    (PLAYLIST, lambda r: r.load_type is LoadType.PLAYLIST and len(r.tracks) == 2),
    ({"loadType": "search", "data": [{"encoded": 5}, samples.TRACK]}, lambda r: len(r.tracks) == 1),
    ({"loadType": "empty", "data": []}, lambda r: r.load_type is LoadType.EMPTY and r.data is None),
    ({"loadType": "error", "data": {"severity": "bad", "cause": ""}},
     lambda r: r.error is not None and r.error.severity is Severity.UNKNOWN and r.error.raw_severity == "bad"),
    ({"loadType": "error", "exception": {"message": "Invalid identifier", "severity": "fault"}},  # NodeLink
     lambda r: r.error is not None and r.error.message == "Invalid identifier" and r.error.cause is None),
    ({"loadType": "unknown", "data": None}, lambda r: r.load_type is LoadType.UNKNOWN and r.raw_load_type == "unknown"),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "check"), LOAD_CASES, ids=[json.dumps(p)[:60] for p, _ in LOAD_CASES])
def test_a_load_result_is_read_as_far_as_it_can_be(
    payload: dict[str, typing.Any], check: Callable[[LoadResult], bool]
) -> None:
    deviations = Deviations("the test node")
    with deviations.reading():
        result = LoadResult.from_payload(payload)
    assert check(result) and deviations.counts


MESSAGE_CASES: list[tuple[str, str, typing.Any, Callable[[typing.Any], bool]]] = [
    ("TrackEndEvent", "reason", "exploded",
     lambda m: m.reason is TrackEndReason.UNKNOWN and m.raw_reason == "exploded"),
    ("TrackEndEvent", "reason", None, lambda m: m.reason is TrackEndReason.UNKNOWN and m.raw_reason is None),
    ("WebSocketClosedEvent", "byRemote", ..., lambda m: m.by_remote is None and m.code == 4006),
    ("TrackStuckEvent", "thresholdMs", "10", lambda m: m.threshold_ms is None and m.track.encoded == samples.BLOB),
    ("TrackExceptionEvent", "exception", None, lambda m: m.exception.severity is Severity.UNKNOWN
     and m.exception.message is None),
    ("TrackExceptionEvent", "exception.cause", ..., lambda m: m.exception.cause is None
     and m.exception.severity is Severity.COMMON),
    ("TrackStartEvent", "type", 5, lambda m: isinstance(m, UnknownMessage) and m.op == "event" and m.type is None),
    ("TrackStartEvent", "track.info.length", "169000", lambda m: m.track.info.length == 169000),
    ("TrackStartEvent", "track.info", [], lambda m: m.track.info.title.startswith("Bleed It Out")),
    ("TrackStartEvent", "track.userData", [], lambda m: m.track.user_data == {}),
    ("playerUpdate", "state.ping", ..., lambda m: m.state.ping is None and m.state.position == 534),
    ("playerUpdate", "state.time", "now", lambda m: m.state.time is None and m.state.connected),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "path", "damage", "cost"), MESSAGE_CASES,
                         ids=[f"{k}-{p}={d!r}" for k, p, d, _ in MESSAGE_CASES])  # fmt: skip
def test_a_message_with_a_damaged_field_we_do_not_need_is_read(
    kind: str, path: str, damage: typing.Any, cost: Callable[[typing.Any], bool]
) -> None:
    deviations = Deviations("the test node")
    with deviations.reading():
        message = parse_message(json.dumps(with_value(samples.MESSAGES[kind], path, damage)))
    assert cost(message) and deviations.counts


def test_a_track_whose_blob_we_cannot_decode_keeps_what_its_info_says() -> None:
    """A plugin's blob our decoder does not know, with a damaged info field: that field reads as unknown."""
    payload = {**samples.TRACK, "encoded": "cGx1Z2luIGJsb2I=", "info": {**samples.INFO, "length": "long"}}
    deviations = Deviations("the test node")
    with deviations.reading():
        track = Track.from_payload(payload)
    assert track.info.length == -1 and track.info.known_length is None
    assert track.info.identifier == "OnuuYcqhzCE" and track.encoded == "cGx1Z2luIGJsb2I="
    assert deviations.counts == {"info.length: unreadable; read as unknown": 1}


@pytest.mark.parametrize(("channel", "read"), [("123", 123), (123, 123), ("general", None), (None, None), ([], None)])
def test_the_voice_channel_of_a_reported_player_is_read_only_when_it_is_a_snowflake(
    channel: typing.Any, read: int | None
) -> None:
    from lightbulb_lavalink.resuming.sync import channel_of

    assert channel_of(PlayerInfo.from_payload(with_value(samples.PLAYER, "voice.channelId", channel))) == read
