"""Lavalink plugins: typed helpers and events for LavaSrc, LavaSearch, LavaLyrics and SponsorBlock, and a generic
request for any other plugin. Reached through ``client.plugins`` (`Plugins`); see the plugins guide.

A helper checks that the node lists its plugin in ``/v4/info`` and raises `PluginUnavailable` otherwise, before
anything is sent to the plugin. Per-player state set through them (SponsorBlock categories, a lyrics subscription)
is saved with the guild (`lightbulb_lavalink.snapshot.PluginSnapshot`) and sent again after every restart: the
plugins forget it with the session, and on a resume too.
"""

from __future__ import annotations

from lightbulb_lavalink.plugins.access import Plugins
from lightbulb_lavalink.plugins.base import NodePlugins, PluginKind, PluginUnavailable
from lightbulb_lavalink.plugins.events import (
    ChaptersLoadedEvent,
    ChapterStartedEvent,
    LyricsEvent,
    LyricsFoundEvent,
    LyricsLineEvent,
    LyricsNotFoundEvent,
    PluginEvent,
    PluginPlayerEvent,
    SegmentSkippedEvent,
    SegmentsLoadedEvent,
    SponsorBlockEvent,
)
from lightbulb_lavalink.plugins.lavasearch import LavaSearch, SearchResult, SearchText, SearchType
from lightbulb_lavalink.plugins.lavasrc import (
    LavaSrc,
    LavaSrcPlaylistInfo,
    LavaSrcTrackInfo,
    PlaylistKind,
    SearchSource,
    search_query,
)
from lightbulb_lavalink.plugins.lyrics import LavaLyrics, Lyrics, LyricsLine
from lightbulb_lavalink.plugins.sponsorblock import Chapter, Segment, SegmentCategory, SponsorBlock
from lightbulb_lavalink.snapshot import PluginSnapshot

__all__ = [
    "Chapter",
    "ChapterStartedEvent",
    "ChaptersLoadedEvent",
    "LavaLyrics",
    "LavaSearch",
    "LavaSrc",
    "LavaSrcPlaylistInfo",
    "LavaSrcTrackInfo",
    "Lyrics",
    "LyricsEvent",
    "LyricsFoundEvent",
    "LyricsLine",
    "LyricsLineEvent",
    "LyricsNotFoundEvent",
    "NodePlugins",
    "PlaylistKind",
    "PluginEvent",
    "PluginKind",
    "PluginPlayerEvent",
    "PluginSnapshot",
    "PluginUnavailable",
    "Plugins",
    "SearchResult",
    "SearchSource",
    "SearchText",
    "SearchType",
    "Segment",
    "SegmentCategory",
    "SegmentSkippedEvent",
    "SegmentsLoadedEvent",
    "SponsorBlock",
    "SponsorBlockEvent",
    "search_query",
]
