"""hikari events of Lavalink plugins: typed ones for SponsorBlock and LavaLyrics, `PluginEvent` for any other.

Every ``op: event`` message whose type this library does not know as Lavalink's own reaches the bot: as a typed
event when it is a known plugin's and readable, else as a `PluginEvent` with its raw payload (a malformed known one
with a warning saying what is wrong). Never dropped, never an error.
"""

from __future__ import annotations

import logging
import typing

import attrs
import hikari

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import ProtocolError
from lightbulb_lavalink.plugins.base import parse_list, read_int, read_object
from lightbulb_lavalink.plugins.lyrics import Lyrics, LyricsLine
from lightbulb_lavalink.plugins.sponsorblock import Chapter, Segment

if typing.TYPE_CHECKING:
    from collections.abc import Mapping

    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.protocol.messages import UnknownMessage

__all__ = [
    "ChapterStartedEvent",
    "ChaptersLoadedEvent",
    "LyricsEvent",
    "LyricsFoundEvent",
    "LyricsLineEvent",
    "LyricsNotFoundEvent",
    "PluginEvent",
    "PluginPlayerEvent",
    "SegmentSkippedEvent",
    "SegmentsLoadedEvent",
    "SponsorBlockEvent",
    "plugin_event",
]

_LOGGER = logging.getLogger("lightbulb_lavalink.plugins.events")


@attrs.define(kw_only=True, weakref_slot=False)
class PluginEvent(events.UnknownMessageEvent):
    """An event this library has no type for (another plugin's, a newer server's), or a known plugin's that could not
    be read (`problem` says why): passed on with its raw payload in `data`. A listener of `UnknownMessageEvent`
    receives it too."""

    problem: str | None = attrs.field(default=None)
    """Why a known plugin event was passed on raw (what is malformed in it); `None` for an unknown type."""


@attrs.define(kw_only=True, weakref_slot=False)
class PluginPlayerEvent(events.PlayerEvent):
    """Base of the typed plugin events about one guild's player."""

    data: Mapping[str, typing.Any] = attrs.field(repr=False, factory=dict)
    """The whole message, as decoded JSON (what the plugin sent beyond the typed fields)."""


@attrs.define(kw_only=True, weakref_slot=False)
class SponsorBlockEvent(PluginPlayerEvent):
    """Base of SponsorBlock's events."""


@attrs.define(kw_only=True, weakref_slot=False)
class SegmentsLoadedEvent(SponsorBlockEvent):
    """The segments of the started video were loaded (for the categories the player skips)."""

    segments: tuple[Segment, ...] = attrs.field()
    """The segments, in the video's order."""


@attrs.define(kw_only=True, weakref_slot=False)
class SegmentSkippedEvent(SponsorBlockEvent):
    """A segment was skipped: playback jumped to its end."""

    segment: Segment = attrs.field()
    """The segment."""


@attrs.define(kw_only=True, weakref_slot=False)
class ChaptersLoadedEvent(SponsorBlockEvent):
    """The chapters of the started video were loaded."""

    chapters: tuple[Chapter, ...] = attrs.field()
    """The chapters."""


@attrs.define(kw_only=True, weakref_slot=False)
class ChapterStartedEvent(SponsorBlockEvent):
    """Playback entered a chapter."""

    chapter: Chapter = attrs.field()
    """The chapter."""


@attrs.define(kw_only=True, weakref_slot=False)
class LyricsEvent(PluginPlayerEvent):
    """Base of LavaLyrics' live events (a subscribed player only: `LavaLyrics.subscribe`)."""


@attrs.define(kw_only=True, weakref_slot=False)
class LyricsFoundEvent(LyricsEvent):
    """Lyrics were found for the track that started; `LyricsLineEvent` follow as it plays."""

    lyrics: Lyrics = attrs.field()
    """The lyrics."""


@attrs.define(kw_only=True, weakref_slot=False)
class LyricsNotFoundEvent(LyricsEvent):
    """No lyrics were found for the track that started."""


@attrs.define(kw_only=True, weakref_slot=False)
class LyricsLineEvent(LyricsEvent):
    """A line of the lyrics is sung now."""

    line_index: int = attrs.field()
    """Its index in `LyricsFoundEvent.lyrics.lines`."""
    line: LyricsLine = attrs.field()
    """The line."""
    skipped: bool = attrs.field(default=False)
    """Whether it was passed over (a seek) rather than reached."""


_Build = typing.Callable[[dict[str, typing.Any]], dict[str, typing.Any]]


def _segments(d: dict[str, typing.Any]) -> dict[str, typing.Any]:
    return {"segments": parse_list(Segment.from_payload, d.get("segments"), "segments")}


def _segment(d: dict[str, typing.Any]) -> dict[str, typing.Any]:
    return {"segment": Segment.from_payload(d.get("segment"), "segment")}


def _chapters(d: dict[str, typing.Any]) -> dict[str, typing.Any]:
    return {"chapters": parse_list(Chapter.from_payload, d.get("chapters"), "chapters")}


def _chapter(d: dict[str, typing.Any]) -> dict[str, typing.Any]:
    return {"chapter": Chapter.from_payload(d.get("chapter"), "chapter")}


def _lyrics(d: dict[str, typing.Any]) -> dict[str, typing.Any]:
    return {"lyrics": Lyrics.from_payload(d.get("lyrics"), "lyrics")}


def _nothing(d: dict[str, typing.Any]) -> dict[str, typing.Any]:
    return {}


def _line(d: dict[str, typing.Any]) -> dict[str, typing.Any]:
    skipped = d.get("skipped", False)
    if not isinstance(skipped, bool):
        raise ProtocolError("skipped", f"expected a boolean, got {skipped!r:.40}")
    return {
        "line_index": read_int(d, "lineIndex", ""),
        "line": LyricsLine.from_payload(d.get("line"), "line"),
        "skipped": skipped,
    }


_TYPED: typing.Final[typing.Mapping[str, tuple[type[PluginPlayerEvent], _Build]]] = {
    # SponsorBlock; "SegmentsLoading" is what its 2.x releases called SegmentsLoaded.
    "SegmentsLoaded": (SegmentsLoadedEvent, _segments),
    "SegmentsLoading": (SegmentsLoadedEvent, _segments),
    "SegmentSkipped": (SegmentSkippedEvent, _segment),
    "ChaptersLoaded": (ChaptersLoadedEvent, _chapters),
    "ChapterStarted": (ChapterStartedEvent, _chapter),
    # LavaLyrics
    "LyricsFoundEvent": (LyricsFoundEvent, _lyrics),
    "LyricsNotFoundEvent": (LyricsNotFoundEvent, _nothing),
    "LyricsLineEvent": (LyricsLineEvent, _line),
}


def known_type(event_type: str | None) -> bool:
    """Whether `event_type` is a plugin event this library has a typed event for."""
    return event_type in _TYPED


def plugin_event(
    client: LavalinkClient,
    node: Node,
    message: UnknownMessage,
    *,
    guild_id: hikari.Snowflake | None,
    player: Player | None,
) -> PluginEvent | PluginPlayerEvent:
    """The hikari event for an ``op: event`` message this library does not know as Lavalink's own: typed when it is
    a known plugin's, readable, and about a guild with a player on `node`; else a `PluginEvent` (with a warning when
    a known one is malformed). Never raises."""
    data = message.data
    typed = _TYPED.get(message.type or "")
    problem: str | None = None
    if typed is not None:
        kind, build = typed
        try:
            fields = build(read_object(data, ""))
        except ProtocolError as exc:
            problem = f"{exc.where or '<root>'}: {exc.problem}"
            _LOGGER.warning(
                "node %s: a %s event%s cannot be read (%s); passed on as a PluginEvent",
                node.name,
                message.type,
                f" for guild {guild_id}" if guild_id is not None else "",
                problem,
            )
        else:
            if player is not None:
                return kind(app=client.app, client=client, player=player, data=data, **fields)
            problem = "no player of this guild on the node"
    return PluginEvent(
        app=client.app,
        client=client,
        node=node,
        op=message.op,
        type=message.type,
        guild_id=guild_id,
        data=data,
        problem=problem,
    )
