"""The Lavalink v4 wire: typed models of every payload, the encoded-track codec, the REST and websocket clients."""

from __future__ import annotations

from lightbulb_lavalink.protocol.codec import decode_track, encode_track
from lightbulb_lavalink.protocol.tracks import (
    ExceptionInfo,
    LoadResult,
    LoadType,
    Playlist,
    PlaylistInfo,
    Severity,
    Track,
    TrackInfo,
)

# --- rest.py / websocket.py: re-exported by their owner below this line ---

__all__ = [
    "ExceptionInfo",
    "LoadResult",
    "LoadType",
    "Playlist",
    "PlaylistInfo",
    "Severity",
    "Track",
    "TrackInfo",
    "decode_track",
    "encode_track",
]
