"""Websocket messages: the documented ops and events, unknown ones, malformed frames, and fuzzing."""

from __future__ import annotations

import contextlib
import json
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightbulb_lavalink.errors import ProtocolError
from lightbulb_lavalink.protocol.codec import encode_track
from lightbulb_lavalink.protocol.messages import (
    EventMessage,
    Message,
    PlayerUpdateMessage,
    ReadyMessage,
    StatsMessage,
    TrackEndMessage,
    TrackEndReason,
    TrackExceptionMessage,
    TrackStartMessage,
    TrackStuckMessage,
    UnknownMessage,
    WebSocketClosedMessage,
    message_from_payload,
    parse_message,
)
from lightbulb_lavalink.protocol.player import PlayerState
from lightbulb_lavalink.protocol.tracks import Severity, Track, TrackInfo

from .helpers import BLOB, damaged, json_values

# The protocol document's examples, verbatim but for the blob, given in full.
READY = '{"op":"ready","resumed":false,"sessionId":"la3kfsdf5eafe848"}'
PLAYER_UPDATE = (
    '{"op":"playerUpdate","state":{"time":1710214147839,"position":534,"connected":true,"ping":0},'
    '"guildId":"987654321"}'
)
STATS = (
    '{"op":"stats","frameStats":null,"players":0,"playingPlayers":0,"uptime":1139738,"memory":{"free":228139904,'
    '"used":103210112,"allocated":331350016,"reservable":8396996608},"cpu":{"cores":16,'
    '"systemLoad":0.05597997834786306,"lavalinkLoad":3.497090420769919E-5}}'
)
TRACK_JSON = (
    f'{{"encoded":"{BLOB}","info":{{"identifier":"OnuuYcqhzCE","isSeekable":true,"author":"Linkin Park",'
    '"length":169000,"isStream":false,"position":169000,"title":"Bleed It Out [Official Music Video] - Linkin Park",'
    '"uri":"https://www.youtube.com/watch?v=OnuuYcqhzCE","sourceName":"youtube",'
    '"artworkUrl":"https://i.ytimg.com/vi/OnuuYcqhzCE/maxresdefault.jpg","isrc":null},"pluginInfo":{},"userData":{}}'
)
TRACK_END = f'{{"op":"event","type":"TrackEndEvent","guildId":"987654321","track":{TRACK_JSON},"reason":"finished"}}'


def _event(event_type: str, **fields: typing.Any) -> str:
    body = ",".join(f'"{k}":{v if k == "track" else json.dumps(v)}' for k, v in fields.items())
    return f'{{"op":"event","type":"{event_type}","guildId":"987654321",{body}}}'


def test_ready() -> None:
    assert parse_message(READY) == ReadyMessage(resumed=False, session_id="la3kfsdf5eafe848")
    resumed = parse_message(READY.replace("false", "true"))
    assert isinstance(resumed, ReadyMessage) and resumed.resumed


def test_player_update() -> None:
    message = parse_message(PLAYER_UPDATE)
    assert message == PlayerUpdateMessage(
        guild_id=987654321, state=PlayerState(time=1710214147839, position=534, connected=True, ping=0)
    )
    assert message.to_payload() == json.loads(PLAYER_UPDATE)


def test_stats_with_null_frame_stats_and_an_exponent_float() -> None:
    message = parse_message(STATS)
    assert isinstance(message, StatsMessage)
    assert message.stats.frame_stats is None and message.stats.memory.reservable == 8396996608
    assert message.stats.cpu.lavalink_load == pytest.approx(3.497090420769919e-5)
    assert message.to_payload() == json.loads(STATS) and list(message.to_payload()) == list(json.loads(STATS))


def test_track_end_event() -> None:
    message = parse_message(TRACK_END)
    assert isinstance(message, TrackEndMessage)
    assert message.guild_id == 987654321 and message.reason is TrackEndReason.FINISHED
    assert message.track.encoded == BLOB and message.track.info.position == 169000
    assert message.track.info.title == "Bleed It Out [Official Music Video] - Linkin Park"
    assert message.to_payload() == json.loads(TRACK_END)


def test_the_other_events() -> None:
    start = parse_message(_event("TrackStartEvent", track=TRACK_JSON))
    assert isinstance(start, TrackStartMessage) and start.track == Track.from_payload(json.loads(TRACK_JSON))

    failure = {"message": "Something broke", "severity": "fault", "cause": "java.io.IOException: boom"}
    old = parse_message(_event("TrackExceptionEvent", track=TRACK_JSON, exception=failure))  # Lavalink 4.0
    assert isinstance(old, TrackExceptionMessage)
    assert old.exception.severity is Severity.FAULT and old.exception.cause_stack_trace is None
    new = parse_message(
        _event("TrackExceptionEvent", track=TRACK_JSON, exception={**failure, "causeStackTrace": "at x"})
    )
    assert isinstance(new, TrackExceptionMessage) and new.exception.cause_stack_trace == "at x"

    stuck = parse_message(_event("TrackStuckEvent", track=TRACK_JSON, thresholdMs=10000))
    assert isinstance(stuck, TrackStuckMessage) and stuck.threshold_ms == 10000

    closed = parse_message(_event("WebSocketClosedEvent", code=4006, reason="Session is no longer valid.",
                                  byRemote=True))  # fmt: skip
    assert closed == WebSocketClosedMessage(
        guild_id=987654321, code=4006, reason="Session is no longer valid.", by_remote=True
    )
    for message in (start, old, new, stuck, closed):
        assert isinstance(message, EventMessage)
        assert parse_message(json.dumps(message.to_payload())) == message


@pytest.mark.parametrize(
    ("reason", "may_start_next"),
    [("finished", True), ("loadFailed", True), ("stopped", False), ("replaced", False), ("cleanup", False)],
)
def test_every_end_reason_and_whether_the_next_track_may_start(reason: str, may_start_next: bool) -> None:
    message = parse_message(TRACK_END.replace('"reason":"finished"', f'"reason":"{reason}"'))
    assert isinstance(message, TrackEndMessage)
    assert message.reason.value == reason and message.reason.may_start_next is may_start_next


def test_unknown_ops_and_event_types_are_kept_not_refused() -> None:
    op = parse_message('{"op":"pluginThing","x":[1,2]}')
    assert op == UnknownMessage(op="pluginThing", type=None, data={"op": "pluginThing", "x": [1, 2]})
    event = parse_message('{"op":"event","type":"SegmentsLoaded","guildId":"1","segments":[]}')
    assert isinstance(event, UnknownMessage) and (event.op, event.type) == ("event", "SegmentsLoaded")
    assert event.data["segments"] == [] and event.to_payload() == event.data
    assert UnknownMessage.from_payload(event.data) == event and UnknownMessage.from_payload(op.data) == op


def test_unknown_keys_are_ignored() -> None:
    extra = PLAYER_UPDATE.replace('"op":"playerUpdate"', '"op":"playerUpdate","future":{"a":1}').replace(
        '"ping":0', '"ping":0,"jitter":3'
    )
    assert parse_message(extra) == parse_message(PLAYER_UPDATE)
    assert parse_message(READY[:-1] + ',"new":null}') == parse_message(READY)


def test_bytes_and_surrounding_whitespace_are_accepted() -> None:
    assert parse_message(PLAYER_UPDATE.encode()) == parse_message(PLAYER_UPDATE)
    assert parse_message(f" \n{PLAYER_UPDATE}\n ") == parse_message(PLAYER_UPDATE)


@pytest.mark.parametrize(
    ("raw", "where", "problem"),
    [
        ("", "", "invalid JSON"),
        ("{", "", "invalid JSON"),
        (READY + "x", "", "invalid JSON"),
        ("\ufeff" + READY, "", "invalid JSON"),
        (b"\xff\xfe{", "", "invalid JSON"),
        ("[" * 100_000, "", "invalid JSON"),
        ("[]", "", "expected an object"),
        ('"ready"', "", "expected an object"),
        ("null", "", "expected an object"),
        ('{"resumed":true}', "op", "missing"),
        ('{"op":1}', "op", "expected a string"),
        ('{"op":"ready","resumed":"no","sessionId":"x"}', "resumed", "expected a boolean"),
        (PLAYER_UPDATE.replace('"position":534', '"position":true'), "state.position", "expected an integer"),
        (PLAYER_UPDATE.replace('"position":534', '"position":5.5'), "state.position", "expected an integer"),
        (PLAYER_UPDATE.replace('"guildId":"987654321"', '"guildId":987654321'), "guildId", "snowflake"),
        (PLAYER_UPDATE.replace('"guildId":"987654321"', '"guildId":"-5"'), "guildId", "snowflake"),
        (PLAYER_UPDATE.replace('"guildId":"987654321"', '"guildId":"١٢"'), "guildId", "snowflake"),
        (PLAYER_UPDATE.replace('"state":{', '"state":[{').replace("},", "}],", 1), "state", "expected an object"),
    ],
)
def test_malformed_frames_raise_protocol_error_naming_the_path(raw: str | bytes, where: str, problem: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_message(raw)
    assert caught.value.where == where
    assert problem in caught.value.problem


def test_non_text_input_raises_protocol_error() -> None:
    for raw in (None, 5, ["{}"]):
        with pytest.raises(ProtocolError):
            parse_message(raw)  # type: ignore[arg-type]


# -- property tests -------------------------------------------------------------------------------------------

texts = st.text(max_size=12)
guild_ids = st.integers(0, 2**64 - 1)
floats = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def tracks(draw: st.DrawFn) -> Track:
    is_stream = draw(st.booleans())
    info = TrackInfo(
        identifier=draw(texts),
        is_seekable=not is_stream,
        author=draw(texts),
        length=draw(st.integers(0, 2**63 - 1)),
        is_stream=is_stream,
        position=draw(st.integers(0, 2**63 - 1)),
        title=draw(texts),
        uri=draw(st.none() | texts),
        source_name=draw(texts),
        artwork_url=draw(st.none() | texts),
        isrc=draw(st.none() | texts),
    )
    encoded = encode_track(info) if draw(st.booleans()) else draw(texts)
    user_data = draw(st.dictionaries(st.text(max_size=6), json_values, max_size=2))
    return Track(encoded=encoded, info=info, user_data=user_data)


states = st.builds(PlayerState, time=st.integers(), position=st.integers(), connected=st.booleans(),
                   ping=st.integers())  # fmt: skip
messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(ReadyMessage, resumed=st.booleans(), session_id=texts),
    st.builds(PlayerUpdateMessage, guild_id=guild_ids, state=states),
    st.builds(TrackStartMessage, guild_id=guild_ids, track=tracks()),
    st.builds(TrackEndMessage, guild_id=guild_ids, track=tracks(), reason=st.sampled_from(TrackEndReason)),
    st.builds(TrackStuckMessage, guild_id=guild_ids, track=tracks(), threshold_ms=st.integers()),
    st.builds(WebSocketClosedMessage, guild_id=guild_ids, code=st.integers(), reason=texts, by_remote=st.booleans()),
    st.builds(
        TrackExceptionMessage,
        guild_id=guild_ids,
        track=tracks(),
        exception=st.fixed_dictionaries(
            {"message": st.none() | texts, "severity": st.sampled_from(["common", "suspicious", "fault"]),
             "cause": texts},
            optional={"causeStackTrace": texts},
        ).map(lambda p: TrackExceptionMessage.from_payload(
            {"guildId": "1", "track": Track.from_payload(json.loads(TRACK_JSON)).to_payload(), "exception": p}
        ).exception),
    ),
    st.builds(
        StatsMessage,
        stats=st.fixed_dictionaries(
            {
                "frameStats": st.none() | st.fixed_dictionaries(
                    {"sent": st.integers(), "nulled": st.integers(), "deficit": st.integers()}
                ),
                "players": st.integers(0),
                "playingPlayers": st.integers(0),
                "uptime": st.integers(0),
                "memory": st.fixed_dictionaries(
                    {k: st.integers(0) for k in ("free", "used", "allocated", "reservable")}
                ),
                "cpu": st.fixed_dictionaries({"cores": st.integers(1), "systemLoad": floats, "lavalinkLoad": floats}),
            }
        ).map(lambda p: StatsMessage.from_payload(p).stats),
    ),
)  # fmt: skip


@settings(max_examples=200)
@given(messages)
def test_every_message_survives_the_wire(message: Message) -> None:
    raw = json.dumps(message.to_payload())
    parsed = parse_message(raw)
    assert parsed == message
    assert message_from_payload(json.loads(raw)) == parsed  # the fast paths agree with the checked parser


@settings(max_examples=200)
@given(st.one_of(json_values, messages.map(lambda m: m.to_payload()).flatmap(damaged)))
def test_arbitrary_json_only_ever_raises_protocol_error(payload: typing.Any) -> None:
    raw = json.dumps(payload)
    with contextlib.suppress(ProtocolError):
        fast = parse_message(raw)
        assert message_from_payload(json.loads(raw)) == fast


@settings(max_examples=200)
@given(st.text(max_size=60) | st.binary(max_size=60))
def test_arbitrary_text_only_ever_raises_protocol_error(raw: str | bytes) -> None:
    with contextlib.suppress(ProtocolError):
        parse_message(raw)
