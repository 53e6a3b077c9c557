"""Which track objects stand for the same track: the node re-encodes a track with its current position, so an
event's blob may differ from the one the bot sent only in its last 8 bytes; two different tracks never compare
equal, however their blobs or `info` were read (a REST answer, an event, a saved queue)."""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from lightbulb_lavalink.player.identity import same_track
from lightbulb_lavalink.protocol.codec import encode_track
from lightbulb_lavalink.protocol.messages import TrackStartMessage, parse_message
from lightbulb_lavalink.protocol.track import Track, TrackInfo

_PREFIX = st.binary(min_size=5, max_size=300)
_POSITION = st.binary(min_size=8, max_size=8)


def _blob(prefix: bytes, position: bytes) -> str:
    return base64.b64encode(prefix + position).decode()


def _reference(a: str, b: str) -> bool:
    raw_a, raw_b = base64.b64decode(a), base64.b64decode(b)
    return len(raw_a) == len(raw_b) and len(raw_a) > 12 and raw_a[:-8] == raw_b[:-8]


def _bare(encoded: str) -> Track:
    """A track whose `info` cannot be read: only its blob can tell it from another."""
    return Track(encoded=encoded, info=TrackInfo(identifier=encoded, author="", length=0, title="", source_name="x"))


@given(_PREFIX, _POSITION, _POSITION)
def test_a_blob_that_differs_only_in_its_position_is_the_same_track(prefix: bytes, one: bytes, two: bytes) -> None:
    a, b = _blob(prefix, one), _blob(prefix, two)
    assert same_track(_bare(a), _bare(b))  # their `info` differs: only the blobs say so


@given(_PREFIX, _PREFIX, _POSITION)
def test_blobs_are_the_same_track_exactly_when_all_but_their_position_match(
    first: bytes, second: bytes, position: bytes
) -> None:
    a, b = _blob(first, position), _blob(second, position)
    info = TrackInfo(identifier="one", author="", length=0, title="", source_name="x")
    other = TrackInfo(identifier="two", author="", length=0, title="", source_name="x")
    assert same_track(Track(encoded=a, info=info), Track(encoded=b, info=other)) is (a == b or _reference(a, b))


def _event_track(info: TrackInfo, position: int) -> Track:
    """The track of a `TrackStartEvent` the node sent for `info` at `position` (its `info` read lazily)."""
    at = TrackInfo(**{**_fields(info), "position": position})
    wire = {"encoded": encode_track(at), "info": at.to_payload(), "pluginInfo": {}, "userData": {}}
    frame = json.dumps({"op": "event", "type": "TrackStartEvent", "guildId": "1", "track": wire})
    message = parse_message(frame)
    assert isinstance(message, TrackStartMessage)
    return message.track


def _fields(info: TrackInfo) -> dict[str, object]:
    return {
        "identifier": info.identifier,
        "author": info.author,
        "length": info.length,
        "is_stream": info.is_stream,
        "title": info.title,
        "uri": info.uri,
        "source_name": info.source_name,
    }


_INFOS = st.builds(
    TrackInfo,
    identifier=st.text(min_size=1, max_size=40),
    author=st.text(max_size=40),
    length=st.integers(0, 2**40),
    is_stream=st.booleans(),
    title=st.text(max_size=80),
    uri=st.none() | st.text(max_size=60),
    source_name=st.sampled_from(["youtube", "soundcloud", "http"]),
)


@given(_INFOS, _INFOS, st.integers(0, 2**31), st.integers(0, 2**31))
def test_an_event_track_is_the_track_the_bot_sent_and_no_other(
    sent: TrackInfo, other: TrackInfo, at: int, later: int
) -> None:
    mine = Track(encoded=encode_track(sent))  # compact: `info` decoded from the blob when asked
    heard = _event_track(sent, at)
    assert same_track(mine, heard) and same_track(heard, mine)
    assert same_track(heard, _event_track(sent, later))
    different = (sent.source_name, sent.identifier) != (other.source_name, other.identifier)
    assert same_track(mine, _event_track(other, at)) is not different
    fresh = _event_track(other, later)  # nothing read yet: its length and identity come from the wire info
    assert fresh.known_length == other.known_length
    assert fresh.source_and_identifier == (other.source_name, other.identifier)
    assert heard.info == TrackInfo(**{**_fields(sent), "position": at})  # built on first access, as sent
