"""Tracks and track loading results: `TrackInfo`, `Track`, `Playlist`, `LoadResult` and friends."""

from __future__ import annotations

# The models live in `track` (what a track is) and `loading` (what loading tracks answers); this module
# gathers them under the documented import path.
from lightbulb_lavalink.protocol.loading import ExceptionInfo, LoadResult, LoadType, Playlist, PlaylistInfo, Severity
from lightbulb_lavalink.protocol.track import STREAM_LENGTH as STREAM_LENGTH
from lightbulb_lavalink.protocol.track import Track, TrackInfo

__all__ = [
    "ExceptionInfo",
    "LoadResult",
    "LoadType",
    "Playlist",
    "PlaylistInfo",
    "Severity",
    "Track",
    "TrackInfo",
]
