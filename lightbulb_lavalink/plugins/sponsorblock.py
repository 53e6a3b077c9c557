"""SponsorBlock (topi314/SponsorBlock-Plugin): the segment categories a player skips, and its segments and chapters.

Wire format (the plugin's ``protocol/`` sources): ``GET``/``PUT``/``DELETE``
``/v4/sessions/{sessionId}/players/{guildId}/sponsorblock/categories`` (a JSON array of category names); events
``SegmentsLoaded {segments}``, ``SegmentSkipped {segment}``, ``ChaptersLoaded {chapters}``, ``ChapterStarted
{chapter}``, a segment being ``{category, start, end}`` and a chapter ``{name, start, end, duration}`` (milliseconds).
The plugin keeps the categories per session and forgets them on every websocket open, a resume included: this
library sends them again after every restart (`PluginSnapshot`).
"""

from __future__ import annotations

import enum
import typing

import attrs

from lightbulb_lavalink.errors import ProtocolError, RestError
from lightbulb_lavalink.plugins.base import PluginKind, quote, read_int, read_object, read_str

if typing.TYPE_CHECKING:
    from collections.abc import Iterable

    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.plugins.access import Plugins

__all__ = ["Chapter", "Segment", "SegmentCategory", "SponsorBlock", "categories_path"]


class SegmentCategory(enum.StrEnum):
    """The SponsorBlock segment categories (any other string is passed on as it is)."""

    SPONSOR = "sponsor"
    SELF_PROMO = "selfpromo"
    INTERACTION = "interaction"
    INTRO = "intro"
    OUTRO = "outro"
    PREVIEW = "preview"
    MUSIC_OFFTOPIC = "music_offtopic"
    FILLER = "filler"


@attrs.frozen(kw_only=True, weakref_slot=False)
class Segment:
    """A SponsorBlock segment of the playing video."""

    category: str
    """Its category (see `SegmentCategory`)."""
    start: int
    """Where it starts, in milliseconds."""
    end: int
    """Where it ends (and playback resumes when it is skipped), in milliseconds."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "segment") -> Segment:
        """Parse a wire segment; raises `ProtocolError` naming the field."""
        d = read_object(data, where)
        return cls(
            category=typing.cast("str", read_str(d, "category", where)),
            start=typing.cast("int", read_int(d, "start", where)),
            end=typing.cast("int", read_int(d, "end", where)),
        )


@attrs.frozen(kw_only=True, weakref_slot=False)
class Chapter:
    """A chapter of the playing video."""

    name: str
    """Its title."""
    start: int
    """Where it starts, in milliseconds."""
    end: int
    """Where it ends, in milliseconds."""
    duration: int | None
    """How long it is, in milliseconds (`None` when not sent readably)."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "chapter") -> Chapter:
        """Parse a wire chapter; raises `ProtocolError` naming the field."""
        d = read_object(data, where)
        return cls(
            name=typing.cast("str", read_str(d, "name", where)),
            start=typing.cast("int", read_int(d, "start", where)),
            end=typing.cast("int", read_int(d, "end", where)),
            duration=read_int(d, "duration", where, required=False),
        )


def categories_path(session_id: str, guild_id: int) -> str:
    """The route of a player's categories."""
    return f"/v4/sessions/{quote(session_id)}/players/{int(guild_id)}/sponsorblock/categories"


class SponsorBlock:
    """SponsorBlock for one client: ``client.plugins.sponsorblock``. Categories set here are part of the guild's
    snapshot and sent again after a restart; the node forgets them with its session."""

    __slots__ = ("_plugins",)

    def __init__(self, plugins: Plugins) -> None:
        self._plugins = plugins

    def categories(self, player: Player) -> tuple[str, ...] | None:
        """The categories set for `player` through this library (`None`: never set, nothing skipped)."""
        return player.plugin_state.sponsorblock_categories

    async def set_categories(self, player: Player, categories: Iterable[SegmentCategory | str]) -> None:
        """Skip these categories in `player`'s YouTube videos, from the next track on (the plugin reads them when a
        track starts). Saved with the guild and sent again after a restart.

        Raises:
            TypeError: A category is not a string (nothing is sent).
            PluginUnavailable: The player's node does not have the SponsorBlock plugin (nothing is sent).
            NodeUnavailable: The node has no session now.
            RestError: The node refused the request.
        """
        wanted = tuple(dict.fromkeys(_category(c) for c in categories))
        node, session_id = await self._plugins.player_node(PluginKind.SPONSORBLOCK, player)
        await node.rest.request_json("PUT", categories_path(session_id, player.guild_id), json_body=list(wanted))
        self._plugins.remember(player, sponsorblock_categories=wanted)

    async def clear_categories(self, player: Player) -> None:
        """Skip nothing any more in `player`'s videos (``DELETE``); forgotten from the guild's snapshot.

        Raises:
            PluginUnavailable: The player's node does not have the SponsorBlock plugin (nothing is sent).
            NodeUnavailable: The node has no session now.
            RestError: The node refused the request.
        """
        node, session_id = await self._plugins.player_node(PluginKind.SPONSORBLOCK, player)
        await node.rest.request_json("DELETE", categories_path(session_id, player.guild_id))
        self._plugins.remember(player, sponsorblock_categories=None)

    async def fetch_categories(self, player: Player) -> frozenset[str] | None:
        """The categories the node holds for `player` now (`None`: none set on this session).

        Raises:
            PluginUnavailable: The player's node does not have the SponsorBlock plugin (nothing is sent).
            NodeUnavailable: The node has no session now.
            ProtocolError: The answer is not an array of strings.
            RestError: The node refused the request (other than its 404 for a player without categories).
        """
        node, session_id = await self._plugins.player_node(PluginKind.SPONSORBLOCK, player)
        try:
            data = await node.rest.request_json("GET", categories_path(session_id, player.guild_id))
        except RestError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(data, list) or not all(isinstance(c, str) for c in data):
            raise ProtocolError("sponsorblock.categories", f"expected an array of strings, got {data!r:.60}")
        return frozenset(data)


def _category(value: SegmentCategory | str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a SponsorBlock category must be a string, got {type(value).__name__}")
    return str(value)
