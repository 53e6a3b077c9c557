"""Which failures to start a track are the node's verdict on the track (skip it) and which are a failed request (keep
the queue, retry): `lightbulb_lavalink.verdicts.refuses`, by status code and path, never by message wording."""

from __future__ import annotations

import pytest

from lightbulb_lavalink.errors import (
    AuthenticationError,
    LavalinkError,
    NodeUnavailable,
    PlayerNotFoundError,
    ProtocolError,
    RequestTimeoutError,
    RestError,
    SessionNotFoundError,
    TrackDecodeError,
)
from lightbulb_lavalink.protocol.codec import decode_track, encode_track
from lightbulb_lavalink.protocol.tracks import Track, TrackInfo
from lightbulb_lavalink.verdicts import refuses

PATH = "/v4/sessions/abc/players/1"
TRACK = decode_track(
    encode_track(
        TrackInfo(
            identifier="a",
            author="b",
            length=1000,
            is_stream=False,
            position=0,
            title="c",
            uri=None,
            source_name="http",
            artwork_url=None,
            isrc=None,
        )
    )
)
UNDECODABLE = Track(encoded="QAAAB3RydW5jYXRlZA==")


def patch_failed(status: int, message: str = "x", kind: type[RestError] = RestError) -> RestError:
    return kind(status, message, PATH, method="PATCH")


class Decoder:
    """The node's ``GET /v4/decodetrack``: answers with `error`, or decodes."""

    def __init__(self, error: LavalinkError | None = None) -> None:
        self.error = error
        self.asked: list[str] = []

    async def __call__(self, encoded: str) -> object:
        self.asked.append(encoded)
        if self.error is not None:
            raise self.error
        return decode_track(encoded)


NOT_VERDICTS = {
    "401": patch_failed(401, kind=AuthenticationError),
    "403": patch_failed(403, kind=AuthenticationError),
    "404 Lavalink session": patch_failed(404, "Session not found", SessionNotFoundError),
    "404 Lavalink player": patch_failed(404, "Player not found", PlayerNotFoundError),
    "404 NodeLink player": patch_failed(404, "Player not found."),
    "404 NodeLink session": patch_failed(404, "The provided sessionId doesn't exist."),
    "408": patch_failed(408),
    "429": patch_failed(429),
    "502": patch_failed(502, "Bad Gateway"),
    "503": patch_failed(503),
    "504": patch_failed(504),
    "timeout": RequestTimeoutError("no answer"),
    "connection": NodeUnavailable("connection refused"),
    "malformed 200": ProtocolError("", "not JSON"),
}


@pytest.mark.parametrize("error", list(NOT_VERDICTS.values()), ids=list(NOT_VERDICTS))
async def test_a_failed_request_is_not_a_verdict_and_asks_the_node_nothing(error: LavalinkError) -> None:
    decoder = Decoder()
    assert not await refuses(TRACK, error, decode=decoder)
    assert decoder.asked == []


async def test_a_400_or_a_blob_we_cannot_decode_is_a_verdict() -> None:
    decoder = Decoder()
    assert await refuses(TRACK, patch_failed(400, "Failed to read request"), decode=decoder)
    assert await refuses(UNDECODABLE, TrackDecodeError("truncated"), decode=decoder)
    assert await refuses(UNDECODABLE, patch_failed(500), decode=decoder)  # Lavalink's "illegal base64" 500
    assert decoder.asked == []


@pytest.mark.parametrize(
    ("probe", "verdict"),
    [
        (None, False),  # the node decodes the blob: the 500 was about something else
        (RestError(500, "Failed to decode track", "/v4/decodetrack"), True),
        (RestError(502, "Bad Gateway", "/v4/decodetrack"), False),
        (RequestTimeoutError("no answer"), False),
        (NodeUnavailable("node 'main' is not started"), False),
        (ProtocolError("", "not JSON"), False),
    ],
    ids=["decodes", "500", "502", "timeout", "node away", "malformed"],
)
async def test_a_500_is_a_verdict_only_when_the_nodes_decoder_confirms_it(
    probe: LavalinkError | None, verdict: bool
) -> None:
    decoder = Decoder(probe)
    assert await refuses(TRACK, patch_failed(500), decode=decoder) is verdict
    assert decoder.asked == [TRACK.encoded]
