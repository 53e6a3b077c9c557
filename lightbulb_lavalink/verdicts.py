"""Whether a failed request to start a track is the node's verdict on the track, or only a failed request.

DESIGN.md, "A failed request is not a refused track": a track the node refuses is skipped; a request that failed
for any other reason leaves the queue as it was and is retried. Errors are told apart by status code and path,
never by message wording (NodeLink words its 404s differently from Lavalink).
"""

from __future__ import annotations

import typing

from lightbulb_lavalink.errors import AuthenticationError, LavalinkError, RestError, TrackDecodeError

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from lightbulb_lavalink.protocol.tracks import Track

__all__ = ["refuses"]


async def refuses(track: Track, error: LavalinkError, *, decode: Callable[[str], Awaitable[object]]) -> bool:
    """Whether `error`, raised by the request that starts `track`, is the node refusing the track itself.

    `decode` asks the same node to decode a blob (``GET /v4/decodetrack``, `RestClient.decode_track`).

    A verdict on the track (skip it):

    * a blob we cannot decode ourselves (`TrackDecodeError`);
    * **400**: the request as built for this track is wrong (its user data, its end) and would be every time;
    * **500** from decoding it -- what Lavalink answers for bad data or a source it has no manager for, and
      NodeLink for bad data (protocol §4.3, step 13) -- but a 500 is also any internal error, so only once the
      node's own decoder confirms it: ``GET /v4/decodetrack`` answers 500 too (asked only after a 500).

    Not a verdict (keep the track, retry): the connection (`NodeUnavailable`), a timeout, 401/403, any 404 (the
    session or the player, whatever its wording), 429, 502/503/504 and every other status, a 500 the node's
    decoder does not confirm, and an unreadable answer (`ProtocolError`: the node may well have started it).
    """
    if isinstance(error, TrackDecodeError):
        return True
    if not isinstance(error, RestError) or isinstance(error, AuthenticationError):
        return False
    if error.status == 400:
        return True
    if error.status != 500:
        return False
    try:
        track.info  # noqa: B018 - decodes the blob, or raises
    except TrackDecodeError:
        return True
    try:
        await decode(track.encoded)
    except RestError as probe:
        return probe.status == 500
    except LavalinkError:
        return False
    return False  # the node decodes it: the 500 was about something else
