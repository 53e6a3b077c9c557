"""The wire models: the protocol document's payloads, its tolerance list (§7), malformed input, round trips."""

from __future__ import annotations

import contextlib
import copy
import json
import typing

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightbulb_lavalink.errors import ProtocolError, TrackDecodeError
from lightbulb_lavalink.protocol.codec import decode_track, encode_track
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
from lightbulb_lavalink.protocol.info import Info, RoutePlannerStatus, SessionInfo, Version
from lightbulb_lavalink.protocol.player import UNSET, PlayerInfo, PlayerUpdate, TrackUpdate, VoiceState
from lightbulb_lavalink.protocol.stats import Stats
from lightbulb_lavalink.protocol.tracks import ExceptionInfo, LoadResult, LoadType, Playlist, Severity, Track, TrackInfo

from .helpers import BLOB, damaged, json_values

INFO = {
    "identifier": "OnuuYcqhzCE",
    "isSeekable": True,
    "author": "Linkin Park",
    "length": 169000,
    "isStream": False,
    "position": 0,
    "title": "Bleed It Out [Official Music Video] - Linkin Park",
    "uri": "https://www.youtube.com/watch?v=OnuuYcqhzCE",
    "sourceName": "youtube",
    "artworkUrl": "https://i.ytimg.com/vi/OnuuYcqhzCE/maxresdefault.jpg",
    "isrc": None,
}
TRACK = {"encoded": BLOB, "info": INFO, "pluginInfo": {}, "userData": {}}
VOICE = {"token": "t", "endpoint": "us-east1.discord.media:443", "sessionId": "abc", "channelId": "123"}
PLAYER = {  # protocol §4.3, the PATCH answer
    "guildId": "987654321",
    "track": {**TRACK, "userData": {"requester": "1"}},
    "volume": 80,
    "paused": False,
    "state": {"time": 1710214147839, "position": 0, "connected": True, "ping": 0},
    "voice": VOICE,
    "filters": {},
}
INFO_PAYLOAD = json.loads(  # protocol §5.10, verbatim
    '{"version":{"semver":"4.0.7","major":4,"minor":0,"patch":7,"preRelease":""},"buildTime":1720476857034,'
    '"git":{"branch":"HEAD","commit":"93102f8","commitTime":1720475342000},"jvm":"17.0.12","lavaplayer":"2.2.1",'
    '"sourceManagers":["soundcloud","bandcamp","twitch","vimeo","niconico","http"],"filters":["volume",'
    '"equalizer","karaoke","timescale","tremolo","vibrato","distortion","rotation","channelMix","lowPass"],'
    '"plugins":[]}'
)
REST_STATS = {  # GET /v4/stats: no op, no frameStats
    "players": 2,
    "playingPlayers": 1,
    "uptime": 1139738,
    "memory": {"free": 228139904, "used": 103210112, "allocated": 331350016, "reservable": 8396996608},
    "cpu": {"cores": 16, "systemLoad": 0.05597997834786306, "lavalinkLoad": 3.497090420769919e-5},
}


def _where(call: typing.Callable[[], object]) -> str:
    with pytest.raises(ProtocolError) as caught:
        call()
    return caught.value.where


# -- tracks ---------------------------------------------------------------------------------------------------


def test_track_parses_the_documented_payload_and_writes_it_back() -> None:
    track = Track.from_payload(copy.deepcopy(TRACK))
    assert track.encoded == BLOB
    assert track.info == TrackInfo.from_payload(INFO)
    assert (track.info.title, track.info.length, track.info.source_name) == (INFO["title"], 169000, "youtube")
    assert track.info.isrc is None and track.info.is_seekable
    assert track.to_payload() == TRACK
    assert list(track.to_payload()["info"]) == list(INFO)  # Lavalink's key order


def test_a_track_whose_blob_disagrees_with_its_info_keeps_the_info_sent() -> None:
    # The §2.8 example: an event's info says position 169000; a blob may also be anything a plugin sends.
    for payload in ({**TRACK, "info": {**INFO, "position": 169000}}, {**TRACK, "encoded": "QAAAzgMA…"}):
        track = Track.from_payload(payload)
        assert track.to_payload() == payload
        assert track.info == TrackInfo.from_payload(payload["info"])


def test_tracks_parsed_from_json_equal_decoded_and_hand_built_ones() -> None:
    parsed = Track.from_payload(TRACK)
    decoded = decode_track(BLOB)
    assert parsed == decoded and hash(parsed) == hash(decoded)
    assert parsed == Track(encoded=BLOB, info=decoded.info)
    assert parsed != Track(encoded=BLOB, info=decoded.info, user_data={"requester": 1})
    assert parsed != Track(encoded=BLOB, info=attrs.evolve(decoded.info, title="other"))
    assert Track(encoded=BLOB).info == decoded.info  # info decoded from the blob when not given


def test_a_track_built_with_a_subclass_of_track_info_gives_that_info_back() -> None:
    @attrs.frozen
    class RequestedInfo(TrackInfo):  # a bot's own kind of info (or a test double)
        pass

    info = RequestedInfo(**{f.name: getattr(decode_track(BLOB).info, f.name) for f in attrs.fields(TrackInfo)})
    track = Track(encoded=BLOB, info=info)
    assert track.info is info
    assert track.known_length == info.known_length
    assert track.source_and_identifier == (info.source_name, info.identifier)
    assert "RequestedInfo(" in repr(track)


def test_a_track_built_from_a_bad_blob_without_info_fails_on_access() -> None:
    track = Track(encoded="not a blob")
    with pytest.raises(TrackDecodeError):
        _ = track.info


def test_missing_plugin_info_and_user_data_read_as_empty_shared_read_only_mappings() -> None:
    a = Track.from_payload({"encoded": BLOB, "info": INFO})  # Lavalink 4.0.1 omitted them
    b = Track.from_payload({**TRACK, "encoded": "other"})
    assert a.plugin_info == {} and a.user_data == {}
    assert a.user_data is b.user_data  # one shared empty mapping, not two dicts per track
    with pytest.raises(TypeError):
        a.user_data["requester"] = 1  # type: ignore[index]
    assert a.to_payload() == TRACK


def test_user_data_can_be_given_to_a_track() -> None:
    track = Track.from_payload(TRACK)
    mine = track.with_user_data(requester=1234)
    assert mine.user_data == {"requester": 1234} and track.user_data == {}
    assert mine.with_user_data(channel=5).user_data == {"requester": 1234, "channel": 5}
    assert mine.with_user_data({}).user_data == {}
    assert mine.info == track.info and mine.encoded == track.encoded
    assert Track(encoded=BLOB, user_data={"requester": 9}).to_payload()["userData"] == {"requester": 9}
    assert attrs.evolve(track, user_data={"x": 1}).user_data == {"x": 1}


def test_load_results_of_every_type() -> None:
    single = LoadResult.from_payload({"loadType": "track", "data": TRACK})
    assert single.load_type is LoadType.TRACK and single.tracks == [Track.from_payload(TRACK)]
    assert single.playlist is None and single.error is None

    playlist_payload = {
        "info": {"name": "Mix", "selectedTrack": 1},
        "pluginInfo": {"type": "album"},
        "tracks": [TRACK, {**TRACK, "userData": {"n": 2}}],
    }
    listed = LoadResult.from_payload({"loadType": "playlist", "data": playlist_payload})
    assert isinstance(listed.playlist, Playlist)
    assert listed.playlist.info.name == "Mix" and listed.playlist.plugin_info == {"type": "album"}
    assert len(listed.tracks) == 2 and listed.playlist.selected == listed.tracks[1]

    search = LoadResult.from_payload({"loadType": "search", "data": [TRACK]})
    assert search.load_type is LoadType.SEARCH and len(search.tracks) == 1
    assert LoadResult.from_payload({"loadType": "search", "data": []}).tracks == []

    error_payload = {
        "message": "This video is unavailable",
        "severity": "common",
        "cause": "com.sedmelluq.discord.lavaplayer.tools.FriendlyException: This video is unavailable",
        "causeStackTrace": "com.sedmelluq...FriendlyException: ...\n\tat ...",
    }
    failed = LoadResult.from_payload({"loadType": "error", "data": error_payload})
    assert failed.error == ExceptionInfo(
        message="This video is unavailable",
        severity=Severity.COMMON,
        cause=error_payload["cause"],
        cause_stack_trace=error_payload["causeStackTrace"],
    )
    assert failed.tracks == []
    for result in (single, listed, search, failed):
        assert LoadResult.from_payload(result.to_payload()) == result


@pytest.mark.parametrize("payload", [{"loadType": "empty", "data": None}, {"loadType": "empty", "data": {}},
                                     {"loadType": "empty"}])  # fmt: skip
def test_empty_accepts_null_empty_object_or_no_data(payload: dict[str, object]) -> None:
    result = LoadResult.from_payload(payload)
    assert result.load_type is LoadType.EMPTY and result.data is None and result.tracks == []
    assert result.to_payload() == {"loadType": "empty", "data": None}


def test_exception_without_cause_stack_trace_and_with_null_message() -> None:
    exc = ExceptionInfo.from_payload({"message": None, "severity": "fault", "cause": "java.io.IOException"})
    assert exc.message is None and exc.severity is Severity.FAULT and exc.cause_stack_trace is None
    assert exc.to_payload() == {"message": None, "severity": "fault", "cause": "java.io.IOException"}


# -- filters --------------------------------------------------------------------------------------------------

FULL_FILTERS = {  # Lavalink 4.1+ output: every sub-field written, key order as the server writes it
    "volume": 1.0,
    "equalizer": [{"band": 0, "gain": 0.2}, {"band": 14, "gain": -0.25}],
    "karaoke": {"level": 1.0, "monoLevel": 1.0, "filterBand": 220.0, "filterWidth": 100.0},
    "timescale": {"speed": 1.2, "pitch": 1.0, "rate": 1.0},
    "tremolo": {"frequency": 2.0, "depth": 0.5},
    "vibrato": {"frequency": 2.0, "depth": 0.5},
    "distortion": {
        "sinOffset": 0.0, "sinScale": 1.0, "cosOffset": 0.0, "cosScale": 1.0,
        "tanOffset": 0.0, "tanScale": 1.0, "offset": 0.0, "scale": 1.0,
    },
    "rotation": {"rotationHz": 0.2},
    "channelMix": {"leftToLeft": 0.5, "leftToRight": 0.5, "rightToLeft": 0.5, "rightToRight": 0.5},
    "lowPass": {"smoothing": 20.0},
    "pluginFilters": {"echo": {"delay": 1.5, "decay": [1, {"x": None}]}},
}  # fmt: skip


def test_filters_round_trip_in_lavalinks_key_order() -> None:
    filters = Filters.from_payload(FULL_FILTERS)
    assert filters.timescale == Timescale(speed=1.2)
    assert filters.equalizer == (EqualizerBand(band=0, gain=0.2), EqualizerBand(band=14, gain=-0.25))
    assert filters.plugin_filters == FULL_FILTERS["pluginFilters"]  # kept as raw JSON
    payload = filters.to_payload()
    assert payload == FULL_FILTERS and list(payload) == list(FULL_FILTERS)


def test_filter_sub_fields_missing_take_the_documented_defaults() -> None:
    # Lavalink 4.0.x omits sub-fields equal to their default.
    filters = Filters.from_payload(
        {"timescale": {"speed": 1.2}, "karaoke": {}, "equalizer": [{"band": 3}], "tremolo": {"depth": 1}}
    )
    assert filters.timescale == Timescale(speed=1.2, pitch=1.0, rate=1.0)
    assert filters.karaoke == Karaoke(level=1.0, mono_level=1.0, filter_band=220.0, filter_width=100.0)
    assert filters.equalizer == (EqualizerBand(band=3, gain=1.0),)
    assert filters.tremolo == Tremolo(frequency=2.0, depth=1.0)
    assert Vibrato() == Vibrato(frequency=2.0, depth=0.5) and Rotation().rotation_hz == 0.0
    assert LowPass().smoothing == 20.0 and ChannelMix().right_to_right == 1.0 and Distortion().scale == 1.0


def test_filters_write_only_what_is_set() -> None:
    assert Filters().to_payload() == {} and Filters().is_empty
    assert Filters.from_payload({}) == Filters()
    assert Filters.from_payload({"karaoke": None, "timescale": None}).is_empty  # null disables a filter
    only = Filters(timescale=Timescale(speed=1.5), volume=0.8)
    assert only.to_payload() == {"volume": 0.8, "timescale": {"speed": 1.5, "pitch": 1.0, "rate": 1.0}}
    assert not only.is_empty


# -- players and updates --------------------------------------------------------------------------------------


def test_player_parses_the_documented_patch_answer() -> None:
    player = PlayerInfo.from_payload(copy.deepcopy(PLAYER))
    assert player.guild_id == 987654321
    assert player.track is not None and player.track.user_data == {"requester": "1"}
    assert (player.volume, player.paused, player.state.connected) == (80, False, True)
    assert player.voice == VoiceState(token="t", endpoint="us-east1.discord.media:443", session_id="abc",
                                      channel_id="123")  # fmt: skip
    assert player.filters == Filters()
    assert player.to_payload() == PLAYER


@pytest.mark.parametrize(
    "change",
    [{}, {"track": None}, {"paused": True, "volume": 0}, {"voice": {**PLAYER["voice"], "channelId": None}}],
    ids=["playing", "idle", "paused", "no channel"],
)
def test_the_usual_player_reads_as_the_liberal_reader_reads_it(change: dict[str, typing.Any]) -> None:
    """The usual Player is read on a fast path; an unknown key sends it through the liberal reader instead."""
    payload = {**copy.deepcopy(PLAYER), **change}
    usual, liberal = PlayerInfo.from_payload(payload), PlayerInfo.from_payload({**payload, "newField": 1})
    assert usual == liberal
    assert (usual.track is None) is (liberal.track is None)
    if usual.track is not None and liberal.track is not None:
        assert (usual.track.info, usual.track.user_data) == (liberal.track.info, liberal.track.user_data)


def test_idle_player_without_voice_from_lavalink_4_0() -> None:
    payload = {**PLAYER, "track": None, "voice": {"token": "", "endpoint": "", "sessionId": ""}, "extra": 1}
    player = PlayerInfo.from_payload(payload)
    assert player.track is None and player.voice.channel_id is None and player.voice.token == ""


def test_player_update_writes_only_what_is_set_in_wire_order() -> None:
    voice = VoiceState(**{"token": "t", "endpoint": "us-east1.discord.media:443", "session_id": "abc",
                          "channel_id": "123"})  # fmt: skip
    update = PlayerUpdate(
        voice=voice,
        volume=80,
        position=0,
        track=TrackUpdate(encoded="QAAAzgMA…", user_data={"requester": "1"}),
    )
    expected = {  # protocol §4.3's example request
        "track": {"encoded": "QAAAzgMA…", "userData": {"requester": "1"}},
        "position": 0,
        "volume": 80,
        "voice": VOICE,
    }
    assert update.to_payload() == expected and list(update.to_payload()) == list(expected)
    assert PlayerUpdate.from_payload(expected) == update
    assert PlayerUpdate().to_payload() == {}
    assert PlayerUpdate(paused=True).to_payload() == {"paused": True}
    assert PlayerUpdate(end_time=None).to_payload() == {"endTime": None}
    assert PlayerUpdate(track=TrackUpdate(encoded=None)).to_payload() == {"track": {"encoded": None}}
    assert PlayerUpdate(filters=Filters()).to_payload() == {"filters": {}}
    assert TrackUpdate(identifier="ytsearch:x").to_payload() == {"identifier": "ytsearch:x"}
    assert repr(UNSET) == "UNSET" and not UNSET


def test_track_update_refuses_both_a_blob_and_an_identifier() -> None:
    with pytest.raises(ValueError, match="not both"):
        TrackUpdate(encoded="QAAA", identifier="x")
    assert _where(lambda: PlayerUpdate.from_payload({"track": {"encoded": "a", "identifier": "b"}})) == "track"


def test_player_update_reads_the_deprecated_top_level_fields() -> None:
    assert PlayerUpdate.from_payload({"encodedTrack": None}).track == TrackUpdate(encoded=None)
    assert PlayerUpdate.from_payload({"identifier": "x"}).track == TrackUpdate(identifier="x")
    with pytest.raises(ProtocolError):
        PlayerUpdate.from_payload({"track": {}, "encodedTrack": "x"})


# -- stats and info -------------------------------------------------------------------------------------------


def test_rest_stats_without_frame_stats() -> None:
    stats = Stats.from_payload(REST_STATS)
    assert stats.frame_stats is None and stats.cpu.lavalink_load == pytest.approx(3.497090420769919e-5)
    assert stats.memory.reservable == 8396996608
    assert stats.to_payload() == {"frameStats": None, **REST_STATS}
    with_frames = Stats.from_payload({**REST_STATS, "frameStats": {"sent": 3000, "nulled": 0, "deficit": -5}})
    assert with_frames.frame_stats is not None and with_frames.frame_stats.deficit == -5


def test_integer_cpu_loads_are_read_as_floats() -> None:
    stats = Stats.from_payload({**REST_STATS, "cpu": {"cores": 2, "systemLoad": 0, "lavalinkLoad": 1}})
    assert stats.cpu.system_load == 0.0 and isinstance(stats.cpu.system_load, float)


def test_info_parses_the_documented_payload() -> None:
    info = Info.from_payload(INFO_PAYLOAD)
    assert info.version == Version(semver="4.0.7", major=4, minor=0, patch=7, pre_release="")
    assert info.git.commit == "93102f8" and info.plugins == () and "http" in info.source_managers
    assert info.filters[-1] == "lowPass"
    assert info.to_payload() == INFO_PAYLOAD


@pytest.mark.parametrize("pre_release", ["", None, "rc.1", "missing"])
def test_pre_release_may_be_empty_null_or_missing(pre_release: str | None) -> None:
    version = {"semver": "4.2.2", "major": 4, "minor": 2, "patch": 2, "preRelease": pre_release}
    if pre_release == "missing":
        del version["preRelease"]
    parsed = Version.from_payload({**version, "build": None})
    assert parsed.pre_release == (None if pre_release == "missing" else pre_release)


def test_session_and_route_planner() -> None:
    assert SessionInfo.from_payload({"resuming": True, "timeout": 60}) == SessionInfo(resuming=True, timeout=60)
    status = {
        "class": "RotatingNanoIpRoutePlanner",
        "details": {
            "ipBlock": {"type": "Inet6Address", "size": "1208925819614629174706176"},
            "failingAddresses": [{"failingAddress": "/1.0.0.0", "failingTimestamp": 1573520707545,
                                  "failingTime": "Mon Nov 11 20:05:07 EST 2019"}],
            "blockIndex": "0",
            "currentAddressIndex": "36792023813",
        },
    }  # fmt: skip
    planner = RoutePlannerStatus.from_payload(status)
    assert planner.class_name == "RotatingNanoIpRoutePlanner" and planner.details["blockIndex"] == "0"
    assert planner.to_payload() == status
    assert RoutePlannerStatus.from_payload({"class": None, "details": None}).details == {}


# -- malformed payloads: ProtocolError naming the path ---------------------------------------------------------


@pytest.mark.parametrize(
    ("parse", "payload", "where"),
    [
        (Track.from_payload, [TRACK], ""),
        (Track.from_payload, {"info": INFO}, "encoded"),
        (Track.from_payload, {**TRACK, "encoded": "not a blob", "info": {**INFO, "identifier": 5}}, "info.identifier"),
        (Track.from_payload, {**TRACK, "encoded": "not a blob", "info": {**INFO, "sourceName": None}},
         "info.sourceName"),
        (LoadResult.from_payload, {"loadType": "track"}, "data"),
        (LoadResult.from_payload, {"loadType": 5, "data": None}, "loadType"),
        (PlayerInfo.from_payload, {**PLAYER, "guildId": 987654321}, "guildId"),
        (PlayerInfo.from_payload, {**PLAYER, "guildId": "98x"}, "guildId"),
        (PlayerInfo.from_payload, {k: v for k, v in PLAYER.items() if k != "track"}, "track"),
        (PlayerUpdate.from_payload, {"volume": 1.5}, "volume"),
        (PlayerUpdate.from_payload, {"voice": {"token": "t"}}, "voice.endpoint"),
    ],
)  # fmt: skip
def test_malformed_payloads_raise_protocol_error_naming_the_path(
    parse: typing.Callable[[object], object], payload: object, where: str
) -> None:
    assert _where(lambda: parse(payload)) == where


# -- property tests -------------------------------------------------------------------------------------------

texts = st.text(max_size=12)
ints = st.integers(-(2**63), 2**63 - 1)
floats = st.floats(allow_nan=False, allow_infinity=False)
objects = st.dictionaries(st.text(max_size=6), json_values, max_size=3)


@st.composite
def track_payloads(draw: st.DrawFn) -> dict[str, typing.Any]:
    is_stream = draw(st.booleans())
    info = {
        "identifier": draw(texts),
        "isSeekable": draw(st.booleans()) if draw(st.booleans()) else not is_stream,
        "author": draw(texts),
        "length": draw(st.integers(0, 2**63 - 1)),
        "isStream": is_stream,
        "position": draw(st.integers(0, 2**63 - 1)),
        "title": draw(texts),
        "uri": draw(st.none() | texts),
        "sourceName": draw(texts),
        "artworkUrl": draw(st.none() | texts),
        "isrc": draw(st.none() | texts),
    }
    # Either a blob that says exactly what the info says (the compact form), or any text (info kept as sent).
    consistent = draw(st.booleans())
    encoded = encode_track(TrackInfo.from_payload(info)) if consistent else draw(st.text(max_size=20))
    return {"encoded": encoded, "info": info, "pluginInfo": draw(objects), "userData": draw(objects)}


exceptions = st.fixed_dictionaries(
    {"message": st.none() | texts, "severity": st.sampled_from(["common", "suspicious", "fault"]), "cause": texts},
    optional={"causeStackTrace": texts},
)
load_results = st.one_of(
    st.fixed_dictionaries({"loadType": st.just("track"), "data": track_payloads()}),
    st.fixed_dictionaries(
        {
            "loadType": st.just("playlist"),
            "data": st.fixed_dictionaries(
                {
                    "info": st.fixed_dictionaries({"name": texts, "selectedTrack": st.integers(-1, 5)}),
                    "pluginInfo": objects,
                    "tracks": st.lists(track_payloads(), max_size=3),
                }
            ),
        }
    ),
    st.fixed_dictionaries({"loadType": st.just("search"), "data": st.lists(track_payloads(), max_size=3)}),
    st.fixed_dictionaries({"loadType": st.just("empty"), "data": st.none()}),
    st.fixed_dictionaries({"loadType": st.just("error"), "data": exceptions}),
)


def _filter(*keys: str) -> st.SearchStrategy[dict[str, typing.Any]]:
    return st.fixed_dictionaries({key: floats for key in keys})


filter_payloads = st.fixed_dictionaries(
    {},
    optional={
        "volume": floats,
        "equalizer": st.lists(st.fixed_dictionaries({"band": st.integers(0, 14), "gain": floats}), max_size=3),
        "karaoke": _filter("level", "monoLevel", "filterBand", "filterWidth"),
        "timescale": _filter("speed", "pitch", "rate"),
        "tremolo": _filter("frequency", "depth"),
        "vibrato": _filter("frequency", "depth"),
        "distortion": _filter(
            "sinOffset", "sinScale", "cosOffset", "cosScale", "tanOffset", "tanScale", "offset", "scale"
        ),
        "rotation": _filter("rotationHz"),
        "channelMix": _filter("leftToLeft", "leftToRight", "rightToLeft", "rightToRight"),
        "lowPass": _filter("smoothing"),
        "pluginFilters": objects,
    },
)
voices = st.fixed_dictionaries({"token": texts, "endpoint": texts, "sessionId": texts, "channelId": st.none() | texts})
player_payloads = st.fixed_dictionaries(
    {
        "guildId": st.integers(0, 2**64 - 1).map(str),
        "track": st.none() | track_payloads(),
        "volume": st.integers(0, 1000),
        "paused": st.booleans(),
        "state": st.fixed_dictionaries(
            {"time": ints, "position": ints, "connected": st.booleans(), "ping": st.integers(-1, 10**6)}
        ),
        "voice": voices,
        "filters": filter_payloads,
    }
)
stats_payloads = st.fixed_dictionaries(
    {
        "frameStats": st.none()
        | st.fixed_dictionaries({"sent": st.integers(), "nulled": st.integers(), "deficit": st.integers()}),
        "players": st.integers(0),
        "playingPlayers": st.integers(0),
        "uptime": st.integers(0),
        "memory": st.fixed_dictionaries({k: st.integers(0) for k in ("free", "used", "allocated", "reservable")}),
        "cpu": st.fixed_dictionaries({"cores": st.integers(1, 512), "systemLoad": floats, "lavalinkLoad": floats}),
    }
)
info_payloads = st.fixed_dictionaries(
    {
        "version": st.fixed_dictionaries(
            {"semver": texts, "major": st.integers(0), "minor": st.integers(0), "patch": st.integers(0),
             "preRelease": st.none() | texts},
            optional={"build": texts},
        ),
        "buildTime": ints,
        "git": st.fixed_dictionaries({"branch": texts, "commit": texts, "commitTime": ints}),
        "jvm": texts,
        "lavaplayer": texts,
        "sourceManagers": st.lists(texts, max_size=3),
        "filters": st.lists(texts, max_size=3),
        "plugins": st.lists(st.fixed_dictionaries({"name": texts, "version": texts}), max_size=2),
    }
)  # fmt: skip
route_planners = st.fixed_dictionaries({"class": st.none() | texts, "details": objects})
sessions = st.fixed_dictionaries({"resuming": st.booleans(), "timeout": ints})

MODELS: list[tuple[typing.Callable[[typing.Any], typing.Any], st.SearchStrategy[typing.Any]]] = [
    (Track.from_payload, track_payloads()),
    (LoadResult.from_payload, load_results),
    (Filters.from_payload, filter_payloads),
    (PlayerInfo.from_payload, player_payloads),
    (Stats.from_payload, stats_payloads),
    (Info.from_payload, info_payloads),
    (RoutePlannerStatus.from_payload, route_planners),
    (SessionInfo.from_payload, sessions),
]
MODEL_IDS = ["track", "load_result", "filters", "player", "stats", "info", "route_planner", "session"]


@pytest.mark.parametrize(("parse", "payloads"), MODELS, ids=MODEL_IDS)
@settings(max_examples=60)
@given(data=st.data())
def test_valid_payloads_parse_and_write_back_unchanged(
    parse: typing.Callable[[typing.Any], typing.Any], payloads: st.SearchStrategy[typing.Any], data: st.DataObject
) -> None:
    payload = data.draw(payloads)
    parsed = parse(copy.deepcopy(payload))
    assert parsed.to_payload() == payload
    assert parse(parsed.to_payload()) == parsed


@pytest.mark.parametrize(("parse", "payloads"), MODELS, ids=MODEL_IDS)
@settings(max_examples=60)
@given(data=st.data())
def test_arbitrary_json_raises_only_protocol_error(
    parse: typing.Callable[[typing.Any], typing.Any], payloads: st.SearchStrategy[typing.Any], data: st.DataObject
) -> None:
    payload = data.draw(st.one_of(json_values, payloads.flatmap(damaged)))
    with contextlib.suppress(ProtocolError):
        parse(payload)


@settings(max_examples=100)
@given(
    st.builds(
        PlayerUpdate,
        track=st.just(UNSET)
        | st.builds(TrackUpdate, encoded=st.just(UNSET) | st.none() | texts, user_data=st.just(UNSET) | objects)
        | st.builds(TrackUpdate, identifier=texts),
        position=st.just(UNSET) | ints,
        end_time=st.just(UNSET) | st.none() | st.integers(1),
        volume=st.just(UNSET) | st.integers(0, 1000),
        paused=st.just(UNSET) | st.booleans(),
        filters=st.just(UNSET) | filter_payloads.map(Filters.from_payload),
        voice=st.just(UNSET) | voices.map(VoiceState.from_payload),
    )
)
def test_player_updates_round_trip(update: PlayerUpdate) -> None:
    payload = update.to_payload()
    assert json.loads(json.dumps(payload)) == payload
    assert PlayerUpdate.from_payload(payload) == update
