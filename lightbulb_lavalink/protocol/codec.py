"""The encoded-track codec: Lavalink's base64 track blobs to `Track` and back, byte-exact with lavaplayer.

Layout (protocol §6): ``u32 (flags << 30 | size)``, ``u8 version`` when ``flags & 1``, then title,
author, ``i64 length``, identifier, ``u8 isStream``, uri (v2+), artworkUrl and isrc (v3+), sourceName,
opaque source-specific bytes, and ``i64 position`` as the last 8 bytes. Texts are Java ``writeUTF``
strings: a u16 byte length and *modified* UTF-8 (NUL as ``C0 80``, characters outside the BMP as two
3-byte surrogates).

Decoding accepts exactly the blobs it can reproduce: ``encode_track(decode_track(s)) == s`` for every
string it accepts, whatever its version (1 to 255, >3 laid out like 3) or source-specific bytes.
"""

from __future__ import annotations

import binascii
import re
import struct
import sys
import typing

from lightbulb_lavalink.errors import TrackDecodeError
from lightbulb_lavalink.protocol.track import Track, TrackInfo, new_track, new_track_info

__all__ = ["decode_track", "encode_track"]

_U32 = struct.Struct(">I")
_I64 = struct.Struct(">q")
_a2b = binascii.a2b_base64
_b2a = binascii.b2a_base64
_intern = sys.intern

_VERSIONED: typing.Final = 1
"""Header flag: a version byte follows the header (set for versions 2 and up)."""
_MAX_SIZE: typing.Final = 0x3FFF_FFFF

# Base64 characters whose unused low bits are zero: the only ones a canonical encoder puts before padding.
_LAST_BEFORE_DOUBLE_PAD: typing.Final = frozenset("AQgw")
_LAST_BEFORE_SINGLE_PAD: typing.Final = frozenset("AEIMQUYcgkosw048")

# A raw NUL (Java writes C0 80) and 4-byte sequences (Java writes surrogate pairs) are not modified UTF-8.
_NOT_MODIFIED_UTF8: typing.Final = re.compile(b"[\x00\xf0-\xff]")
# Bytes after which plain UTF-8 decoding is not the answer: NUL, C0 (C0 80), ED (surrogates), F0-FF.
_NOT_PLAIN_UTF8: typing.Final = re.compile(b"[\x00\xc0\xed\xf0-\xff]")
_SURROGATE: typing.Final = re.compile("[\ud800-\udfff]")
_NON_BMP: typing.Final = re.compile("[\U00010000-\U0010ffff]")


def _truncated(field: str) -> TrackDecodeError:
    return TrackDecodeError(f"truncated track blob: it ends inside {field}")


def _bad_utf8(field: str, exc: UnicodeDecodeError) -> TrackDecodeError:
    return TrackDecodeError(f"bad modified UTF-8 in {field}: {exc.reason} at byte {exc.start}")


def _decode_modified_utf8(raw: bytes, field: str) -> str:
    """Decode Java modified UTF-8 that is not plain ASCII."""
    # Common case: valid UTF-8 with no NUL (Java writes C0 80), no surrogates (ED A0..BF, rejected by the
    # strict codec) and no 4-byte sequence (Java writes surrogate pairs instead) is read by the plain codec.
    if _NOT_PLAIN_UTF8.search(raw) is None:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _bad_utf8(field, exc) from None
    if _NOT_MODIFIED_UTF8.search(raw) is not None:
        raise TrackDecodeError(f"bad modified UTF-8 in {field}: raw NUL or 4-byte sequence")
    try:
        text = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise _bad_utf8(field, exc) from None
    if 0xED in raw and _SURROGATE.search(text) is not None:
        # Java writes a character outside the BMP as its two UTF-16 surrogates: join the pairs back.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return text


def _read_utf(b: bytes, o: int, limit: int, field: str) -> tuple[str, int]:
    if o + 2 > limit:
        raise _truncated(field)
    end = o + 2 + ((b[o] << 8) | b[o + 1])
    if end > limit:
        raise _truncated(field)
    raw = b[o + 2 : end]
    if raw.isascii() and 0 not in raw:
        return raw.decode("ascii"), end
    return _decode_modified_utf8(raw, field), end


def _read_flag(b: bytes, o: int, limit: int, field: str) -> bool:
    if o >= limit:
        raise _truncated(field)
    flag = b[o]
    if flag > 1:
        raise TrackDecodeError(f"bad boolean byte {flag} for {field} (expected 0 or 1)")
    return flag == 1


def _read_nullable_utf(b: bytes, o: int, limit: int, field: str) -> tuple[str | None, int]:
    if _read_flag(b, o, limit, field):
        return _read_utf(b, o + 1, limit, field)
    return None, o + 1


class _Malformed(Exception):
    """Raised inside the fast path: `_decode_checked` then says precisely what is wrong."""


def decode_track(encoded: str) -> Track:
    """Decode a base64 track blob (versions 1 to 3) into a `Track` whose `encoded` is `encoded` itself.

    The result remembers the blob's version and source-specific bytes, so `encode_track` gives back the same
    string.

    Raises:
        TrackDecodeError: The blob cannot be decoded; the message says why (bad base64, truncated, bad UTF-8,
            size mismatch).
    """
    if type(encoded) is not str:
        raise TrackDecodeError(f"expected a base64 string, got {type(encoded).__name__}")
    try:
        b = _a2b(encoded, strict_mode=True)
    except ValueError as exc:  # binascii.Error, or non-ASCII characters
        raise TrackDecodeError(f"not valid base64: {exc}") from None
    if encoded[-1:] == "=":
        if encoded[-2] == "=":
            canonical = encoded[-3] in _LAST_BEFORE_DOUBLE_PAD
        else:
            canonical = encoded[-2] in _LAST_BEFORE_SINGLE_PAD
        if not canonical:
            raise TrackDecodeError("not valid base64: non-zero padding bits")
    # The fast path: every check, no details; any anomaly hands over to `_decode_checked` for the reason.
    # Texts are sliced from a Latin-1 view of the bytes: a slice that is ASCII without NUL is the text itself
    # (str.isascii() is O(1)); anything else is decoded from the bytes as modified UTF-8.
    n = len(b)
    limit = n - 8
    s = b.decode("latin-1")
    try:
        header = _U32.unpack_from(b)[0]
        if header == n - 4:
            version = 1
            o = 4
        elif header == (n - 4) | 0x4000_0000:
            version = b[4]
            if version < 2:
                raise _Malformed
            o = 5
        else:
            raise _Malformed
        e = o + 2 + ((b[o] << 8) | b[o + 1])
        if e > limit:
            raise _Malformed
        title = s[o + 2 : e]
        if not title.isascii() or "\x00" in title:
            title = _decode_modified_utf8(b[o + 2 : e], "title")
        o = e + 2 + ((b[e] << 8) | b[e + 1])
        if o + 8 > limit:
            raise _Malformed
        author = s[e + 2 : o]
        if not author.isascii() or "\x00" in author:
            author = _decode_modified_utf8(b[e + 2 : o], "author")
        length = _I64.unpack_from(b, o)[0]
        o += 8
        e = o + 2 + ((b[o] << 8) | b[o + 1])
        if e >= limit:
            raise _Malformed
        identifier = s[o + 2 : e]
        if not identifier.isascii() or "\x00" in identifier:
            identifier = _decode_modified_utf8(b[o + 2 : e], "identifier")
        flag = b[e]
        if flag > 1:
            raise _Malformed
        is_stream = flag == 1
        o = e + 1
        uri = artwork_url = isrc = None
        if version >= 2:
            if b[o]:
                e = o + 3 + ((b[o + 1] << 8) | b[o + 2])
                if b[o] != 1 or e > limit:
                    raise _Malformed
                uri = s[o + 3 : e]
                if not uri.isascii() or "\x00" in uri:
                    uri = _decode_modified_utf8(b[o + 3 : e], "uri")
                o = e
            else:
                o += 1
            if version >= 3:
                if b[o]:
                    e = o + 3 + ((b[o + 1] << 8) | b[o + 2])
                    if b[o] != 1 or e > limit:
                        raise _Malformed
                    artwork_url = s[o + 3 : e]
                    if not artwork_url.isascii() or "\x00" in artwork_url:
                        artwork_url = _decode_modified_utf8(b[o + 3 : e], "artworkUrl")
                    o = e
                else:
                    o += 1
                if b[o]:
                    e = o + 3 + ((b[o + 1] << 8) | b[o + 2])
                    if b[o] != 1 or e > limit:
                        raise _Malformed
                    isrc = s[o + 3 : e]
                    if not isrc.isascii() or "\x00" in isrc:
                        isrc = _decode_modified_utf8(b[o + 3 : e], "isrc")
                    o = e
                else:
                    o += 1
        e = o + 2 + ((b[o] << 8) | b[o + 1])
        if e > limit:
            raise _Malformed
        source_name = s[o + 2 : e]
        if not source_name.isascii() or "\x00" in source_name:
            source_name = _decode_modified_utf8(b[o + 2 : e], "sourceName")
    except (_Malformed, IndexError, struct.error):
        return _decode_checked(encoded, b)
    return new_track(
        encoded,
        new_track_info(
            identifier,
            not is_stream,
            author,
            length,
            is_stream,
            _I64.unpack_from(b, limit)[0],
            title,
            uri,
            _intern(source_name),
            artwork_url,
            isrc,
            version,
            b[e:limit] if e < limit else b"",
        ),
    )


def _decode_checked(encoded: str, b: bytes) -> Track:
    """Decode `b` (the bytes of `encoded`) field by field, raising `TrackDecodeError` with the reason."""
    n = len(b)
    if n < 4:
        raise _truncated("the header")
    header = _U32.unpack_from(b)[0]
    size = header & _MAX_SIZE
    if size == 0:
        raise TrackDecodeError("empty track blob: a message size of 0 means no track")
    if size + 4 != n:
        raise TrackDecodeError(f"size mismatch: the header says {size} bytes, the blob has {n - 4}")
    flags = header >> 30
    if flags == _VERSIONED:
        if n < 5:
            raise _truncated("the version")
        version = b[4]
        if version < 2:
            raise TrackDecodeError(f"bad version byte {version} (a versioned blob is version 2 or later)")
        o = 5
    elif flags == 0:
        version = 1
        o = 4
    else:
        raise TrackDecodeError(f"unknown header flags {flags}")
    limit = n - 8
    title, o = _read_utf(b, o, limit, "title")
    author, o = _read_utf(b, o, limit, "author")
    if o + 8 > limit:
        raise _truncated("length")
    length = _I64.unpack_from(b, o)[0]
    identifier, o = _read_utf(b, o + 8, limit, "identifier")
    is_stream = _read_flag(b, o, limit, "isStream")
    o += 1
    uri = artwork_url = isrc = None
    if version >= 2:
        uri, o = _read_nullable_utf(b, o, limit, "uri")
        if version >= 3:
            artwork_url, o = _read_nullable_utf(b, o, limit, "artworkUrl")
            isrc, o = _read_nullable_utf(b, o, limit, "isrc")
    source_name, o = _read_utf(b, o, limit, "sourceName")
    info = TrackInfo(
        identifier=identifier,
        is_seekable=not is_stream,
        author=author,
        length=length,
        is_stream=is_stream,
        position=_I64.unpack_from(b, limit)[0],
        title=title,
        uri=uri,
        source_name=_intern(source_name),
        artwork_url=artwork_url,
        isrc=isrc,
        version=version,
        source_extra=b[o:limit] if o < limit else b"",
    )
    return Track(encoded=encoded, info=info)


def _write_utf(out: bytearray, text: str, field: str) -> None:
    if text.isascii() and "\x00" not in text:
        data = text.encode("ascii")
    else:
        if _NON_BMP.search(text) is not None:
            text = _NON_BMP.sub(_as_surrogates, text)
        data = text.encode("utf-8", "surrogatepass").replace(b"\x00", b"\xc0\x80")
    size = len(data)
    if size > 0xFFFF:
        raise ValueError(f"cannot encode track: {field} is {size} bytes of modified UTF-8 (at most 65535)")
    out += size.to_bytes(2, "big")
    out += data


def _as_surrogates(match: re.Match[str]) -> str:
    code = ord(match.group()) - 0x10000
    return chr(0xD800 | (code >> 10)) + chr(0xDC00 | (code & 0x3FF))


def _write_nullable_utf(out: bytearray, text: str | None, field: str) -> None:
    if text is None:
        out.append(0)
    else:
        out.append(1)
        _write_utf(out, text, field)


def _write_i64(out: bytearray, value: int, field: str) -> None:
    try:
        out += _I64.pack(value)
    except struct.error:
        raise ValueError(f"cannot encode track: {field} {value!r} is not a 64-bit integer") from None


def encode_track(track: Track | TrackInfo) -> str:
    """Encode a track's info as the base64 blob Lavalink reads.

    Writes the version and source-specific bytes the info was decoded with (version 3 and none for a
    `TrackInfo` built by hand).

    Raises:
        ValueError: The format cannot hold the info (a text over 65535 bytes, a number outside 64 bits, a
            `uri` in a version 1 blob, an `artwork_url`/`isrc` in a version 1-2 blob).
    """
    info = track.info if isinstance(track, Track) else track
    version = info.version
    if not 1 <= version <= 255:
        raise ValueError(f"cannot encode track: version {version} is not in 1..255")
    if version < 2 and info.uri is not None:
        raise ValueError("cannot encode track: a version 1 blob has no uri")
    if version < 3 and (info.artwork_url is not None or info.isrc is not None):
        raise ValueError(f"cannot encode track: a version {version} blob has no artwork_url or isrc")
    out = bytearray(b"\x00\x00\x00\x00")
    if version >= 2:
        out.append(version)
    _write_utf(out, info.title, "title")
    _write_utf(out, info.author, "author")
    _write_i64(out, info.length, "length")
    _write_utf(out, info.identifier, "identifier")
    out.append(1 if info.is_stream else 0)
    if version >= 2:
        _write_nullable_utf(out, info.uri, "uri")
        if version >= 3:
            _write_nullable_utf(out, info.artwork_url, "artwork_url")
            _write_nullable_utf(out, info.isrc, "isrc")
    _write_utf(out, info.source_name, "source_name")
    out += info.source_extra
    _write_i64(out, info.position, "position")
    size = len(out) - 4
    if size > _MAX_SIZE:
        raise ValueError(f"cannot encode track: {size} bytes is too large")
    _U32.pack_into(out, 0, size | ((_VERSIONED if version >= 2 else 0) << 30))
    return _b2a(out, newline=False).decode("ascii")
