"""Shared benchmark data, stdlib only: the encoded-track vectors, the reference codec and the bare baselines.

This module is imported by the peer drivers too, which run in `benchmarks/.peers/venv` where our package is
not installed, so it must never import `lightbulb_lavalink`.
"""

from __future__ import annotations

import base64
import json
import struct
import typing

__all__ = [
    "PROTOCOL_VECTORS",
    "bare_decode",
    "decode_vectors",
    "distinct_playlist_text",
    "fast_encoded",
    "long_title_vectors",
    "playlist_text",
    "reference_decode",
    "reference_encode",
    "track_payload",
    "track_pool",
]

PROTOCOL_VECTORS: typing.Final[tuple[str, ...]] = (
    # §6.3 worked example: real Lavalink 4 output, version 3, youtube.
    "QAAAzgMAMUJsZWVkIEl0IE91dCBbT2ZmaWNpYWwgTXVzaWMgVmlkZW9dIC0gTGlua2luIFBhcmsAC0xpbmtpbiBQYXJrAAAAAAAClCgAC09"
    "udXVZY3FoekNFAAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9T251dVljcWh6Q0UBADRodHRwczovL2kueXRpbWcuY29tL3"
    "ZpL09udXVZY3FoekNFL21heHJlc2RlZmF1bHQuanBnAAAHeW91dHViZQAAAAAAAAAA",
    # Docs example, version 2.
    "QAAAjQIAJVJpY2sgQXN0bGV5IC0gTmV2ZXIgR29ubmEgR2l2ZSBZb3UgVXAADlJpY2tBc3RsZXlWRVZPAAAAAAADPCAAC2RRdzR3OVdnWGN"
    "RAAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9ZFF3NHc5V2dYY1EAB3lvdXR1YmUAAAAAAAAAAA==",
    # Version 3 with an ISRC (deezer via LavaSrc).
    "QAABCAMAKUNsZWFuIFdoaXRlIE5vaXNlIC0gTG9vcGFibGUgd2l0aCBubyBmYWRlABZXaGl0ZSBOb2lzZSBCYWJ5IFNsZWVwAAAAAAABX5A"
    "ACTU3MTYwNzc2MgABACJodHRwczovL2RlZXplci5jb20vdHJhY2svNTcxNjA3NzYyAQBpaHR0cHM6Ly9lLWNkbnMtaW1hZ2VzLmR6Y2RuLm"
    "5ldC9pbWFnZXMvY292ZXIvZDFlMzJjY2RiY2YxZmUzNTY5ZTEyYzNjNGMyZDY4NjEvMTAwMHgxMDAwLTAwMDAwMC04MC0wLTAuanBnAQAMU"
    "0VZT0wxNzk3MjAxAAZkZWV6ZXIAAAAAAAAAAA==",
    # A stream with source-specific bytes (http source, version 2).
    "QAAAuwIAGVBvd2VyZWQgYnkgSW5mb21hbmlhay5jb20ACkNvbnRhY3QgRk1//////////wA5aHR0cDovL3JhZGlvLWNvbnRhY3QuaWNlLmlu"
    "Zm9tYW5pYWsuY2gvcmFkaW8tY29udGFjdC1oaWdoAQEAOWh0dHA6Ly9yYWRpby1jb250YWN0LmljZS5pbmZvbWFuaWFrLmNoL3JhZGlvLWNv"
    "bnRhY3QtaGlnaAAEaHR0cAADbXAzAAAAAAAAAAA=",
    # Plugin extra fields (old LavaSrc spotify, version 2).
    "QAAA0gIADFN0YXkgd2l0aCBNZQAFRmFjZXMAAAAAAARDQAAWN2ZMVHl0dm52eHk2NTNWV3hmbFRSZgABADVodHRwczovL29wZW4uc3BvdGlm"
    "eS5jb20vdHJhY2svN2ZMVHl0dm52eHk2NTNWV3hmbFRSZgAHc3BvdGlmeQEADFVTV0IxMDEwMzg1NQEAQGh0dHBzOi8vaS5zY2RuLmNvL2lt"
    "YWdlL2FiNjc2MTZkMDAwMGIyNzMyODdjZjQ2NTkwYTc4MWI4YTAzZTE3NGUAAAAAAAAAAA==",
    # Synthetic version 3 http track produced by the §6.2 reference.
    "QAAAlgMADUV4YW1wbGUgVGl0bGUADkV4YW1wbGUgQXV0aG9yAAAAAAACvyAACmV4YW1wbGUtaWQAAQAeaHR0cHM6Ly9leGFtcGxlLmNvbS9l"
    "eGFtcGxlLWlkAQAbaHR0cHM6Ly9leGFtcGxlLmNvbS9hcnQuanBnAQAMVVNBQkMxMjM0NTY3AARodHRwAANtcDMAAAAAAAAAAA==",
)
"""The six encoded tracks of the protocol document (§6.3), in its order."""


# -- the §6.2 reference codec (verbatim logic, reformatted) ---------------------------------------------


def _write_utf(s: str) -> bytes:
    raw = s.encode("utf-16-be", "surrogatepass")
    out = bytearray()
    for (u,) in struct.iter_unpack(">H", raw):
        if 0x01 <= u <= 0x7F:
            out.append(u)
        elif u <= 0x7FF:
            out += bytes((0xC0 | (u >> 6), 0x80 | (u & 0x3F)))
        else:
            out += bytes((0xE0 | (u >> 12), 0x80 | ((u >> 6) & 0x3F), 0x80 | (u & 0x3F)))
    if len(out) > 0xFFFF:
        raise ValueError("too long")
    return struct.pack(">H", len(out)) + bytes(out)


def _read_utf(b: bytes, o: int) -> tuple[str, int]:
    n = struct.unpack_from(">H", b, o)[0]
    o += 2
    d, units, i = b[o : o + n], [], 0
    while i < n:
        c = d[i]
        if c < 0x80:
            units.append(c)
            i += 1
        elif c & 0xE0 == 0xC0:
            units.append(((c & 0x1F) << 6) | (d[i + 1] & 0x3F))
            i += 2
        elif c & 0xF0 == 0xE0:
            units.append(((c & 0x0F) << 12) | ((d[i + 1] & 0x3F) << 6) | (d[i + 2] & 0x3F))
            i += 3
        else:
            raise ValueError("bad modified UTF-8")
    return struct.pack(f">{len(units)}H", *units).decode("utf-16-be", "surrogatepass"), o + n


def _nullable(s: str | None) -> bytes:
    return b"\x00" if s is None else b"\x01" + _write_utf(s)


def reference_encode(
    title: str,
    author: str,
    length: int,
    identifier: str,
    is_stream: bool,
    uri: str | None,
    artwork_url: str | None,
    isrc: str | None,
    source_name: str,
    position: int = 0,
    source_extra: bytes = b"",
    version: int = 3,
) -> str:
    """Encode a track exactly as Lavalink does (protocol §6.2)."""
    body = bytearray()
    if version >= 2:
        body.append(version)
    body += _write_utf(title) + _write_utf(author) + struct.pack(">q", length)
    body += _write_utf(identifier) + (b"\x01" if is_stream else b"\x00")
    if version >= 2:
        body += _nullable(uri)
    if version >= 3:
        body += _nullable(artwork_url) + _nullable(isrc)
    body += _write_utf(source_name) + source_extra + struct.pack(">q", position)
    flags = 1 if version >= 2 else 0
    return base64.b64encode(struct.pack(">I", len(body) | (flags << 30)) + bytes(body)).decode()


def reference_decode(encoded: str) -> dict[str, typing.Any]:
    """Decode a track blob with the protocol document's pure-Python reference (§6.2)."""
    b = base64.b64decode(encoded)
    hdr = struct.unpack_from(">I", b, 0)[0]
    flags, size = (hdr >> 30) & 3, hdr & 0x3FFFFFFF
    end, o, version = 4 + size, 4, 1
    if flags & 1:
        version = b[o]
        o += 1
    title, o = _read_utf(b, o)
    author, o = _read_utf(b, o)
    length = struct.unpack_from(">q", b, o)[0]
    o += 8
    identifier, o = _read_utf(b, o)
    is_stream = b[o] != 0
    o += 1

    def nullable(o: int) -> tuple[str | None, int]:
        present = b[o] != 0
        o += 1
        return _read_utf(b, o) if present else (None, o)

    uri = artwork = isrc = None
    if version >= 2:
        uri, o = nullable(o)
    if version >= 3:
        artwork, o = nullable(o)
        isrc, o = nullable(o)
    source, o = _read_utf(b, o)
    return {
        "version": version,
        "title": title,
        "author": author,
        "length": length,
        "identifier": identifier,
        "isStream": is_stream,
        "uri": uri,
        "artworkUrl": artwork,
        "isrc": isrc,
        "sourceName": source,
        "sourceExtra": b[o : end - 8],
        "position": struct.unpack_from(">q", b, end - 8)[0],
    }


# -- the bare baseline: base64 + struct, nothing else -------------------------------------------------

_U16 = struct.Struct(">H").unpack_from
_U32 = struct.Struct(">I").unpack_from
_I64 = struct.Struct(">q").unpack_from


def _bare_text(b: bytes, o: int) -> tuple[str, int]:
    (n,) = _U16(b, o)
    o += 2
    raw = b[o : o + n]
    try:
        return raw.decode(), o + n
    except UnicodeDecodeError:  # modified UTF-8: NUL as C0 80, supplementary characters as two surrogates
        text = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
        return text.encode("utf-16-be", "surrogatepass").decode("utf-16-be"), o + n


def bare_decode(encoded: str) -> tuple[typing.Any, ...]:
    """The cheapest correct decoding, `base64` + `struct` into a plain tuple: the floor of `decode_track`."""
    b = base64.b64decode(encoded)
    (hdr,) = _U32(b, 0)
    end = 4 + (hdr & 0x3FFFFFFF)
    o = 4
    version = 1
    if hdr & 0x40000000:
        version = b[4]
        o = 5
    title, o = _bare_text(b, o)
    author, o = _bare_text(b, o)
    (length,) = _I64(b, o)
    identifier, o = _bare_text(b, o + 8)
    is_stream = b[o] != 0
    o += 1
    uri = artwork = isrc = None
    if version >= 2:
        if b[o]:
            uri, o = _bare_text(b, o + 1)
        else:
            o += 1
    if version >= 3:
        if b[o]:
            artwork, o = _bare_text(b, o + 1)
        else:
            o += 1
        if b[o]:
            isrc, o = _bare_text(b, o + 1)
        else:
            o += 1
    source, o = _bare_text(b, o)
    (position,) = _I64(b, end - 8)
    return (
        title,
        author,
        length,
        identifier,
        is_stream,
        uri,
        artwork,
        isrc,
        source,
        b[o : end - 8],
        position,
    )


# -- generated data ------------------------------------------------------------------------------------

_NON_ASCII_PARTS: typing.Final = (
    "東京事変 - 群青日和 ",  # CJK: 3 bytes per character
    "Ελληνικά τραγούδια ",  # Greek: 2 bytes per character
    "Ünïcödé çàfé ",  # Latin-1 supplement
    "🎵🎶🎸 ",  # outside the BMP: written as two 3-byte surrogates each
    "NUL\x00inside ",  # U+0000: the 2-byte C0 80 form
    "Кириллица ",  # Cyrillic
)


def long_title_vectors(count: int = 4, title_chars: int = 400) -> list[str]:
    """`count` version 3 blobs with long non-ASCII titles and authors (CJK, Greek, emoji, NUL, Cyrillic)."""
    out: list[str] = []
    for i in range(count):
        parts = _NON_ASCII_PARTS[i % len(_NON_ASCII_PARTS) :] + _NON_ASCII_PARTS[: i % len(_NON_ASCII_PARTS)]
        unit = "".join(parts)
        title = (unit * (title_chars // len(unit) + 1))[:title_chars]
        author = (parts[0] * 8)[:60]
        out.append(
            reference_encode(
                title,
                author,
                183_000 + i,
                f"nonascii-{i}",
                False,
                f"https://example.com/非ascii/{i}",
                f"https://example.com/art/{i}.jpg",
                None,
                "youtube",
                i * 1000,
            )
        )
    return out


def decode_vectors() -> list[str]:
    """The decoding workload: the six protocol vectors plus four long non-ASCII ones."""
    return [*PROTOCOL_VECTORS, *long_title_vectors()]


def track_payload(index: int, *, prefix: str = "bench") -> dict[str, typing.Any]:
    """A Lavalink v4 `Track` JSON object (encoded blob byte-exact with its info) for a synthetic track."""
    identifier = f"{prefix}{index:07d}xx"
    title = f"Benchmark track {index} - Some Artist feat. Another (Official Video)"
    author = f"Some Artist {index % 97}"
    uri = f"https://www.youtube.com/watch?v={identifier}"
    artwork = f"https://i.ytimg.com/vi/{identifier}/maxresdefault.jpg"
    length = 120_000 + (index * 7919) % 240_000
    encoded = reference_encode(title, author, length, identifier, False, uri, artwork, None, "youtube", 0)
    return {
        "encoded": encoded,
        "info": {
            "identifier": identifier,
            "isSeekable": True,
            "author": author,
            "length": length,
            "isStream": False,
            "position": 0,
            "title": title,
            "uri": uri,
            "sourceName": "youtube",
            "artworkUrl": artwork,
            "isrc": None,
        },
        "pluginInfo": {},
        "userData": {},
    }


def track_pool(count: int) -> list[str]:
    """The JSON texts of `count` distinct tracks (`track_payload`), to assemble load results from cheaply."""
    return [json.dumps(track_payload(i), separators=(",", ":")) for i in range(count)]


def playlist_text(pool: typing.Sequence[str], start: int, count: int) -> str:
    """The JSON text of a `loadtracks` playlist result holding `count` tracks of `pool`, from `start` on.

    Parsing it yields fresh string objects every time, as a real load does.
    """
    n = len(pool)
    tracks = ",".join(pool[(start + i) % n] for i in range(count))
    return (
        f'{{"loadType":"playlist","data":{{"info":{{"name":"Playlist {start}","selectedTrack":-1}},'
        f'"pluginInfo":{{}},"tracks":[{tracks}]}}}}'
    )


_PACK_H = struct.Struct(">H").pack
_PACK_Q = struct.Struct(">q").pack


def _ascii_utf(s: str) -> bytes:
    b = s.encode("ascii")
    return _PACK_H(len(b)) + b


def fast_encoded(identifier: str, title: str, author: str, length: int) -> str:
    """A youtube track blob from a fast ASCII-only path, byte-equal to what §6.2's encoder gives."""
    body = b"".join(
        (
            b"\x03",
            _ascii_utf(title),
            _ascii_utf(author),
            _PACK_Q(length),
            _ascii_utf(identifier),
            b"\x00\x01",
            _ascii_utf(f"https://www.youtube.com/watch?v={identifier}"),
            b"\x01",
            _ascii_utf(f"https://i.ytimg.com/vi/{identifier}/maxresdefault.jpg"),
            b"\x00",
            _ascii_utf("youtube"),
            _PACK_Q(0),
        )
    )
    return base64.b64encode(struct.pack(">I", len(body) | (1 << 30)) + body).decode()


def _fast_track_json(identifier: str, title: str, author: str, length: int) -> str:
    uri = f"https://www.youtube.com/watch?v={identifier}"
    artwork = f"https://i.ytimg.com/vi/{identifier}/maxresdefault.jpg"
    encoded = fast_encoded(identifier, title, author, length)
    return (
        f'{{"encoded":"{encoded}","info":{{"identifier":"{identifier}","isSeekable":true,"author":"{author}",'
        f'"length":{length},"isStream":false,"position":0,"title":"{title}","uri":"{uri}",'
        f'"sourceName":"youtube","artworkUrl":"{artwork}","isrc":null}},"pluginInfo":{{}},"userData":{{}}}}'
    )


def distinct_playlist_text(guild: int, count: int) -> str:
    """The JSON text of a playlist result of `count` tracks found in no other guild's playlist."""
    tracks = ",".join(
        _fast_track_json(
            f"g{guild:05d}t{i:04d}",
            f"Track {i} of guild {guild} - Some Artist feat. Another (Official Video)",
            f"Some Artist {(guild + i) % 97}",
            120_000 + ((guild * 131 + i) * 7919) % 240_000,
        )
        for i in range(count)
    )
    return (
        f'{{"loadType":"playlist","data":{{"info":{{"name":"Playlist of {guild}","selectedTrack":-1}},'
        f'"pluginInfo":{{}},"tracks":[{tracks}]}}}}'
    )


def _self_check() -> None:
    for vector in PROTOCOL_VECTORS:
        d = reference_decode(vector)
        again = reference_encode(
            d["title"], d["author"], d["length"], d["identifier"], d["isStream"], d["uri"], d["artworkUrl"],
            d["isrc"], d["sourceName"], d["position"], d["sourceExtra"], d["version"],
        )  # fmt: skip
        assert again == vector, vector
        bare = bare_decode(vector)
        assert bare[0] == d["title"] and bare[-1] == d["position"] and bare[-2] == d["sourceExtra"], vector
    for track in json.loads(distinct_playlist_text(3, 5))["data"]["tracks"]:
        i = track["info"]
        expected = reference_encode(
            i["title"],
            i["author"],
            i["length"],
            i["identifier"],
            False,
            i["uri"],
            i["artworkUrl"],
            None,
            "youtube",
        )
        assert track["encoded"] == expected
    for vector in long_title_vectors():
        assert bare_decode(vector)[0] == reference_decode(vector)["title"]


if __name__ == "__main__":
    _self_check()
    print("vectors OK")
