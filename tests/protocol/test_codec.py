"""The encoded-track codec against the protocol document's vectors, the modified UTF-8 rules and fuzzing."""

from __future__ import annotations

import base64
import struct

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightbulb_lavalink.errors import TrackDecodeError
from lightbulb_lavalink.protocol.codec import decode_track, encode_track
from lightbulb_lavalink.protocol.tracks import Track, TrackInfo

LONG_MAX = 2**63 - 1

# Protocol §6.3: real Lavalink output and the other verified vectors, with the fields the document gives.
YOUTUBE_V3 = (
    "QAAAzgMAMUJsZWVkIEl0IE91dCBbT2ZmaWNpYWwgTXVzaWMgVmlkZW9dIC0gTGlua2luIFBhcmsAC0xpbmtpbiBQYXJrAAAAAAAClCgAC09"
    "udXVZY3FoekNFAAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9T251dVljcWh6Q0UBADRodHRwczovL2kueXRpbWcuY29tL3"
    "ZpL09udXVZY3FoekNFL21heHJlc2RlZmF1bHQuanBnAAAHeW91dHViZQAAAAAAAAAA"
)
DOCS_V2 = (
    "QAAAjQIAJVJpY2sgQXN0bGV5IC0gTmV2ZXIgR29ubmEgR2l2ZSBZb3UgVXAADlJpY2tBc3RsZXlWRVZPAAAAAAADPCAAC2RRdzR3OVdnWGN"
    "RAAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9ZFF3NHc5V2dYY1EAB3lvdXR1YmUAAAAAAAAAAA=="
)
DEEZER_V3_ISRC = (
    "QAABCAMAKUNsZWFuIFdoaXRlIE5vaXNlIC0gTG9vcGFibGUgd2l0aCBubyBmYWRlABZXaGl0ZSBOb2lzZSBCYWJ5IFNsZWVwAAAAAAABX5A"
    "ACTU3MTYwNzc2MgABACJodHRwczovL2RlZXplci5jb20vdHJhY2svNTcxNjA3NzYyAQBpaHR0cHM6Ly9lLWNkbnMtaW1hZ2VzLmR6Y2RuLm"
    "5ldC9pbWFnZXMvY292ZXIvZDFlMzJjY2RiY2YxZmUzNTY5ZTEyYzNjNGMyZDY4NjEvMTAwMHgxMDAwLTAwMDAwMC04MC0wLTAuanBnAQAMU"
    "0VZT0wxNzk3MjAxAAZkZWV6ZXIAAAAAAAAAAA=="
)
HTTP_STREAM_V2 = (
    "QAAAuwIAGVBvd2VyZWQgYnkgSW5mb21hbmlhay5jb20ACkNvbnRhY3QgRk1//////////wA5aHR0cDovL3JhZGlvLWNvbnRhY3QuaWNlLmlu"
    "Zm9tYW5pYWsuY2gvcmFkaW8tY29udGFjdC1oaWdoAQEAOWh0dHA6Ly9yYWRpby1jb250YWN0LmljZS5pbmZvbWFuaWFrLmNoL3JhZGlvLWNv"
    "bnRhY3QtaGlnaAAEaHR0cAADbXAzAAAAAAAAAAA="
)
SPOTIFY_V2_EXTRA = (
    "QAAA0gIADFN0YXkgd2l0aCBNZQAFRmFjZXMAAAAAAARDQAAWN2ZMVHl0dm52eHk2NTNWV3hmbFRSZgABADVodHRwczovL29wZW4uc3BvdGlm"
    "eS5jb20vdHJhY2svN2ZMVHl0dm52eHk2NTNWV3hmbFRSZgAHc3BvdGlmeQEADFVTV0IxMDEwMzg1NQEAQGh0dHBzOi8vaS5zY2RuLmNvL2lt"
    "YWdlL2FiNjc2MTZkMDAwMGIyNzMyODdjZjQ2NTkwYTc4MWI4YTAzZTE3NGUAAAAAAAAAAA=="
)
SYNTHETIC_V3_HTTP = (
    "QAAAlgMADUV4YW1wbGUgVGl0bGUADkV4YW1wbGUgQXV0aG9yAAAAAAACvyAACmV4YW1wbGUtaWQAAQAeaHR0cHM6Ly9leGFtcGxlLmNvbS9"
    "leGFtcGxlLWlkAQAbaHR0cHM6Ly9leGFtcGxlLmNvbS9hcnQuanBnAQAMVVNBQkMxMjM0NTY3AARodHRwAANtcDMAAAAAAAAAAA=="
)

VECTORS = {
    "youtube v3": (
        YOUTUBE_V3,
        {
            "version": 3,
            "title": "Bleed It Out [Official Music Video] - Linkin Park",
            "author": "Linkin Park",
            "length": 169000,
            "identifier": "OnuuYcqhzCE",
            "is_stream": False,
            "uri": "https://www.youtube.com/watch?v=OnuuYcqhzCE",
            "artwork_url": "https://i.ytimg.com/vi/OnuuYcqhzCE/maxresdefault.jpg",
            "isrc": None,
            "source_name": "youtube",
            "source_extra": b"",
            "position": 0,
        },
    ),
    "docs v2": (
        DOCS_V2,
        {
            "version": 2,
            "title": "Rick Astley - Never Gonna Give You Up",
            "author": "RickAstleyVEVO",
            "length": 212000,
            "identifier": "dQw4w9WgXcQ",
            "is_stream": False,
            "uri": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "artwork_url": None,
            "isrc": None,
            "source_name": "youtube",
            "source_extra": b"",
            "position": 0,
        },
    ),
    "deezer v3 isrc": (
        DEEZER_V3_ISRC,
        {"version": 3, "isrc": "SEYOL1797201", "length": 90000, "source_name": "deezer", "source_extra": b""},
    ),
    "http stream v2": (
        HTTP_STREAM_V2,
        {
            "version": 2,
            "length": LONG_MAX,
            "is_stream": True,
            "source_name": "http",
            "source_extra": b"\x00\x03mp3",
            "position": 0,
        },
    ),
    "old lavasrc spotify v2": (
        SPOTIFY_V2_EXTRA,
        {
            "version": 2,
            "source_name": "spotify",
            "source_extra": b"\x01\x00\x0cUSWB10103855\x01\x00\x40"
            b"https://i.scdn.co/image/ab67616d0000b273287cf46590a781b8a03e174e",
            "artwork_url": None,
            "isrc": None,
            "position": 0,
        },
    ),
    "synthetic v3 http": (
        SYNTHETIC_V3_HTTP,
        {
            "version": 3,
            "title": "Example Title",
            "author": "Example Author",
            "length": 180000,
            "identifier": "example-id",
            "is_stream": False,
            "uri": "https://example.com/example-id",
            "artwork_url": "https://example.com/art.jpg",
            "isrc": "USABC1234567",
            "source_name": "http",
            "source_extra": b"\x00\x03mp3",
            "position": 0,
        },
    ),
}


@pytest.mark.parametrize(("blob", "expected"), VECTORS.values(), ids=list(VECTORS))
def test_protocol_vectors_decode_to_the_documented_fields(blob: str, expected: dict[str, object]) -> None:
    track = decode_track(blob)
    for field, value in expected.items():
        assert getattr(track.info, field) == value, field
    assert track.info.is_seekable is (not track.info.is_stream)
    assert track.encoded is blob
    assert track.plugin_info == {} and track.user_data == {}


@pytest.mark.parametrize("blob", [v[0] for v in VECTORS.values()], ids=list(VECTORS))
def test_protocol_vectors_reencode_byte_identically(blob: str) -> None:
    track = decode_track(blob)
    assert encode_track(track) == blob
    assert encode_track(track.info) == blob


def test_a_hand_built_info_encodes_as_version_3() -> None:
    info = TrackInfo(
        title="Example Title",
        author="Example Author",
        length=180000,
        identifier="example-id",
        uri="https://example.com/example-id",
        artwork_url="https://example.com/art.jpg",
        isrc="USABC1234567",
        source_name="http",
        source_extra=b"\x00\x03mp3",
    )
    assert encode_track(info) == SYNTHETIC_V3_HTTP  # the document's §6.2 output for these arguments
    plain = base64.b64decode(encode_track(_info()))
    assert plain[0] >> 6 == 1 and plain[4] == 3  # versioned flag, version byte 3
    stream = _info(is_stream=True, length=LONG_MAX)
    assert not stream.is_seekable  # not in the blob: by default, as decoding says, a stream cannot seek
    assert decode_track(encode_track(stream)).info == stream


def test_encoding_a_track_uses_its_info_not_its_old_blob() -> None:
    track = decode_track(YOUTUBE_V3)
    moved = Track(encoded=track.encoded, info=attrs.evolve(track.info, position=5000))
    again = decode_track(encode_track(moved))
    assert again.info.position == 5000
    assert base64.b64decode(encode_track(moved))[-8:] == struct.pack(">q", 5000)
    assert again.info == moved.info


def _info(**overrides: object) -> TrackInfo:
    fields: dict[str, object] = {"title": "t", "author": "a", "length": 1, "identifier": "i", "source_name": "s"}
    fields.update(overrides)
    return TrackInfo(**fields)  # type: ignore[arg-type]


def _utf_bytes(text: str) -> bytes:
    """The modified UTF-8 bytes our encoder writes for `text` as the title."""
    raw = base64.b64decode(encode_track(_info(title=text, author="", identifier="", source_name="")))
    size = struct.unpack_from(">H", raw, 5)[0]
    return raw[7 : 7 + size]


def test_modified_utf8_writes_nul_as_c0_80_and_non_bmp_as_surrogate_pairs() -> None:
    assert _utf_bytes("a\x00b") == b"a\xc0\x80b"
    assert _utf_bytes("é") == b"\xc3\xa9"
    assert _utf_bytes("東") == "東".encode()
    assert _utf_bytes("\U0001f600") == b"\xed\xa0\xbd\xed\xb8\x80"  # U+D83D U+DE00, three bytes each
    for text in ("a\x00b", "é", "東", "\U0001f600", "mix \x00 ü 🎵 end"):
        info = decode_track(encode_track(_info(title=text, author=text, identifier=text))).info
        assert (info.title, info.author, info.identifier) == (text, text, text)


def _blob(body: bytes, *, flags: int = 1) -> str:
    return base64.b64encode(struct.pack(">I", len(body) | (flags << 30)) + body).decode()


def _sized(body: bytes, error: int) -> str:
    return base64.b64encode(struct.pack(">I", (len(body) + error) | (1 << 30)) + body).decode()


def _utf(raw: bytes) -> bytes:
    return struct.pack(">H", len(raw)) + raw


def _v3_body(title: bytes) -> bytes:
    return (
        b"\x03" + _utf(title) + _utf(b"a") + struct.pack(">q", 1) + _utf(b"i") + b"\x00\x00\x00\x00"
        + _utf(b"youtube") + struct.pack(">q", 0)
    )  # fmt: skip


def test_a_lone_surrogate_survives_a_round_trip() -> None:
    blob = _blob(_v3_body(b"x\xed\xa0\xbdy"))  # a high surrogate with no low one: Java strings allow it
    track = decode_track(blob)
    assert track.info.title == "x\ud83dy"
    assert encode_track(track) == blob


def test_versions_above_3_read_like_3_and_keep_their_version_byte() -> None:
    body = bytearray(_v3_body(b"t"))
    body[0] = 7
    blob = _blob(bytes(body))
    track = decode_track(blob)
    assert track.info.version == 7 and track.info.title == "t" and track.info.source_name == "youtube"
    assert encode_track(track) == blob


def test_a_version_1_blob_round_trips() -> None:
    body = _utf(b"title") + _utf(b"author") + struct.pack(">q", 5) + _utf(b"id") + b"\x01" + _utf(b"http")
    blob = _blob(body + b"\x00\x03mp3" + struct.pack(">q", 42), flags=0)
    info = decode_track(blob).info
    assert (info.version, info.uri, info.is_stream) == (1, None, True)
    assert (info.source_extra, info.position) == (b"\x00\x03mp3", 42)
    assert encode_track(info) == blob


@pytest.mark.parametrize(
    ("blob", "reason"),
    [
        ("not base64!", "base64"),
        ("QQ=", "base64"),
        ("QR==", "base64"),  # non-zero padding bits: not the canonical encoding of b"A"
        ("ñ", "base64"),
        ("", "truncated"),
        (_blob(b""), "empty"),
        (_sized(_v3_body(b"title"), +10), "size mismatch"),  # the header promises more than there is
        (_sized(_v3_body(b"title"), -3), "size mismatch"),  # bytes after the message
        (_blob(b"\x03\x00\x05ti"), "truncated"),
        (_blob(_v3_body(b"t")[:-9]), "truncated"),
        (_blob(_v3_body(b"\xff")), "modified UTF-8"),
        (_blob(_v3_body(b"\xf0\x9f\x98\x80")), "modified UTF-8"),  # 4-byte UTF-8: Java writes surrogates
        (_blob(_v3_body(b"a\x00b")), "modified UTF-8"),  # a raw NUL: Java writes C0 80
        (_blob(_v3_body(b"\xc1\x81")), "modified UTF-8"),  # overlong
        (_blob(_v3_body(b"t"), flags=3), "flags"),
        (_blob(b"\x01" + _v3_body(b"t")[1:]), "version"),
    ],
)
def test_bad_blobs_raise_track_decode_error_with_the_reason(blob: str, reason: str) -> None:
    with pytest.raises(TrackDecodeError, match=reason):
        decode_track(blob)


def test_bad_boolean_bytes_are_refused() -> None:
    body = bytearray(_v3_body(b"t"))
    is_stream_at = 1 + 3 + 3 + 8 + 3
    body[is_stream_at] = 2
    with pytest.raises(TrackDecodeError, match="isStream"):
        decode_track(_blob(bytes(body)))


def test_non_strings_raise_track_decode_error() -> None:
    for value in (None, 5, b"QAAA", ["QAAA"]):
        with pytest.raises(TrackDecodeError):
            decode_track(value)  # type: ignore[arg-type]


def test_encoding_refuses_what_the_format_cannot_hold() -> None:
    with pytest.raises(ValueError, match="65535"):
        encode_track(_info(title="é" * 40000))
    with pytest.raises(ValueError, match="64-bit"):
        encode_track(_info(length=2**63))
    with pytest.raises(ValueError, match="uri"):
        encode_track(_info(uri="https://x", version=1))
    with pytest.raises(ValueError, match="artwork_url or isrc"):
        encode_track(_info(isrc="X", version=2))
    with pytest.raises(ValueError, match="version"):
        encode_track(_info(version=0))


# -- property tests ---------------------------------------------------------------------------------------------

texts = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40) | st.sampled_from(
    ["", "\x00", "\U0001f3b5\x00\U0010ffff", "東京事変 - 群青日和", "Ünïcödé"]
)
longs = st.integers(-(2**63), LONG_MAX) | st.sampled_from([LONG_MAX, 0, -1])


@st.composite
def track_infos(draw: st.DrawFn) -> TrackInfo:
    version = draw(st.integers(1, 3) | st.integers(4, 255))
    is_stream = draw(st.booleans())
    return TrackInfo(
        title=draw(texts),
        author=draw(texts),
        length=draw(longs),
        identifier=draw(texts),
        is_stream=is_stream,
        is_seekable=not is_stream,
        uri=draw(st.none() | texts) if version >= 2 else None,
        artwork_url=draw(st.none() | texts) if version >= 3 else None,
        isrc=draw(st.none() | texts) if version >= 3 else None,
        source_name=draw(texts),
        source_extra=draw(st.binary(max_size=24)),
        position=draw(longs),
        version=version,
    )


@settings(max_examples=200)
@given(track_infos())
def test_any_info_round_trips_through_its_blob(info: TrackInfo) -> None:
    blob = encode_track(info)
    track = decode_track(blob)
    assert track.info == info
    assert encode_track(track) == blob


def _decodes_exactly_or_refuses(blob: str) -> None:
    try:
        track = decode_track(blob)
    except TrackDecodeError:
        return
    assert encode_track(track) == blob  # whatever is accepted is reproduced byte for byte


@settings(max_examples=200)
@given(st.binary(max_size=160))
def test_random_bytes_are_decoded_exactly_or_refused(raw: bytes) -> None:
    _decodes_exactly_or_refuses(base64.b64encode(raw).decode())


@settings(max_examples=200)
@given(track_infos(), st.data())
def test_damaged_blobs_are_decoded_exactly_or_refused(info: TrackInfo, data: st.DataObject) -> None:
    raw = bytearray(base64.b64decode(encode_track(info)))
    for _ in range(data.draw(st.integers(1, 3))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    _decodes_exactly_or_refuses(base64.b64encode(bytes(raw)).decode())


@settings(max_examples=200)
@given(st.text(max_size=80))
def test_random_strings_only_raise_track_decode_error(text: str) -> None:
    _decodes_exactly_or_refuses(text)
