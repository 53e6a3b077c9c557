"""Tracks and track loading results: `TrackInfo`, `Track`, `Playlist`, `LoadResult` and friends."""

from __future__ import annotations

# The models live in `track` (what a track is) and `loading` (what loading tracks answers); this module
# gathers them under the documented import path. The fast builders are re-exported for the codec.
from lightbulb_lavalink.protocol.loading import ExceptionInfo, LoadResult, LoadType, Playlist, PlaylistInfo, Severity
from lightbulb_lavalink.protocol.track import STREAM_LENGTH as STREAM_LENGTH
from lightbulb_lavalink.protocol.track import Track, TrackInfo
from lightbulb_lavalink.protocol.track import compact_track as compact_track
from lightbulb_lavalink.protocol.track import fast_track as fast_track
from lightbulb_lavalink.protocol.track import new_track as new_track
from lightbulb_lavalink.protocol.track import new_track_info as new_track_info

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
