"""LavaLyrics (topi314/LavaLyrics): a track's lyrics, and live lyrics lines of a player as events.

Wire format (the plugin's ``protocol/`` and ``plugin/`` sources): ``GET /v4/sessions/{sessionId}/players/{guildId}/
track/lyrics?skipTrackSource=`` and ``GET /v4/lyrics?track={encoded}&skipTrackSource=`` (a Lyrics object, 204 when
none), ``POST``/``DELETE /v4/sessions/{sessionId}/players/{guildId}/lyrics/subscribe[?skipTrackSource=]`` (204);
events ``LyricsFoundEvent {lyrics}``, ``LyricsNotFoundEvent``, ``LyricsLineEvent {lineIndex, line, skipped}``.
Lyrics: ``{sourceName, provider, text, lines: [{timestamp, duration, line, plugin}], plugin}`` (milliseconds). The
plugin forgets subscriptions on every websocket open, a resume included: this library subscribes again after
every restart (`PluginSnapshot`).
"""

from __future__ import annotations

import typing

import attrs

from lightbulb_lavalink.errors import RestError
from lightbulb_lavalink.plugins.base import (
    PluginKind,
    parse_list,
    plugin_object,
    quote,
    read_int,
    read_object,
    read_str,
)

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.plugins.access import Plugins
    from lightbulb_lavalink.protocol.tracks import Track

__all__ = ["LavaLyrics", "Lyrics", "LyricsLine", "subscribe_path"]


@attrs.frozen(kw_only=True, weakref_slot=False)
class LyricsLine:
    """One timed line of lyrics."""

    timestamp: int
    """When it is sung, in milliseconds from the start of the track."""
    duration: int | None
    """How long, in milliseconds (`None` when the source does not say)."""
    line: str
    """The text."""
    plugin: typing.Mapping[str, typing.Any] = attrs.field(factory=dict, hash=False)
    """What other plugins added."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "line") -> LyricsLine:
        """Parse a wire line; raises `ProtocolError` naming the field."""
        d = read_object(data, where)
        return cls(
            timestamp=typing.cast("int", read_int(d, "timestamp", where)),
            duration=read_int(d, "duration", where, required=False),
            line=typing.cast("str", read_str(d, "line", where)),
            plugin=plugin_object(d, "plugin"),
        )


@attrs.frozen(kw_only=True, weakref_slot=False)
class Lyrics:
    """A track's lyrics: timed `lines` when the source has them, else plain `text`."""

    source_name: str
    """The source they came from (``spotify``, ``youtube``, ``deezer``...)."""
    provider: str | None
    """The provider on that source (``MusixMatch``...)."""
    text: str | None
    """The whole text, when the source gives no timed lines."""
    lines: tuple[LyricsLine, ...]
    """The timed lines (empty when the source has none)."""
    plugin: typing.Mapping[str, typing.Any] = attrs.field(factory=dict, hash=False)
    """What other plugins added."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "lyrics") -> Lyrics:
        """Parse a wire Lyrics object; raises `ProtocolError` naming the field (a missing source reads as ``""``)."""
        d = read_object(data, where)
        lines = d.get("lines")
        return cls(
            source_name=read_str(d, "sourceName", where, required=False) or "",
            provider=read_str(d, "provider", where, required=False),
            text=read_str(d, "text", where, required=False),
            lines=() if lines is None else parse_list(LyricsLine.from_payload, lines, f"{where}.lines"),
            plugin=plugin_object(d, "plugin"),
        )

    def __str__(self) -> str:
        return self.text if self.text is not None else "\n".join(line.line for line in self.lines)


def subscribe_path(session_id: str, guild_id: int) -> str:
    """The route of a player's live lyrics subscription."""
    return f"/v4/sessions/{quote(session_id)}/players/{int(guild_id)}/lyrics/subscribe"


def _flag(value: bool) -> dict[str, str]:
    return {"skipTrackSource": "true"} if value else {}


class LavaLyrics:
    """LavaLyrics for one client: ``client.plugins.lyrics``. A subscription made here is part of the guild's
    snapshot and made again after a restart; the node forgets it with its session."""

    __slots__ = ("_plugins",)

    def __init__(self, plugins: Plugins) -> None:
        self._plugins = plugins

    def subscribed(self, player: Player) -> bool:
        """Whether `player` is subscribed to live lyrics through this library."""
        return player.plugin_state.lyrics_subscribed

    async def current(self, player: Player, *, skip_track_source: bool = False) -> Lyrics | None:
        """The lyrics of what `player` plays now; `None` when nothing plays or the sources have none.

        Raises:
            PluginUnavailable: The player's node does not have the LavaLyrics plugin (nothing is sent).
            NodeUnavailable: The node has no session now.
            ProtocolError: The answer cannot be read.
            RestError: The node refused the request.
        """
        node, session_id = await self._plugins.player_node(PluginKind.LAVALYRICS, player)
        if player.track is None:
            return None
        path = f"/v4/sessions/{quote(session_id)}/players/{int(player.guild_id)}/track/lyrics"
        try:
            data = await node.rest.request_json("GET", path, query=_flag(skip_track_source))
        except RestError as exc:
            if exc.status == 404 and player.track is None:
                return None  # the track ended meanwhile
            raise
        return None if data is None else Lyrics.from_payload(data)

    async def of_track(
        self, track: Track, *, node: Node | str | None = None, skip_track_source: bool = False
    ) -> Lyrics | None:
        """The lyrics of any track (``GET /v4/lyrics``) on `node` (default: the best node); `None` when none.

        Raises:
            PluginUnavailable: The node does not have the LavaLyrics plugin (nothing is sent).
            NodeUnavailable: No node has a session now.
            ProtocolError: The answer cannot be read.
            RestError: The node refused the request.
        """
        target = await self._plugins.node_with(PluginKind.LAVALYRICS, node)
        query = {"track": track.encoded, **_flag(skip_track_source)}
        data = await target.rest.request_json("GET", "/v4/lyrics", query=query)
        return None if data is None else Lyrics.from_payload(data)

    async def subscribe(self, player: Player, *, skip_track_source: bool = False) -> None:
        """Receive `player`'s lyrics as events: `LyricsFoundEvent` (or `LyricsNotFoundEvent`) when a track starts
        (and now, for the one playing), then a `LyricsLineEvent` per line as it is sung. Saved with the guild and
        made again after a restart.

        Raises:
            PluginUnavailable: The player's node does not have the LavaLyrics plugin (nothing is sent).
            NodeUnavailable: The node has no session now.
            RestError: The node refused the request.
        """
        node, session_id = await self._plugins.player_node(PluginKind.LAVALYRICS, player)
        path = subscribe_path(session_id, player.guild_id)
        await node.rest.request_json("POST", path, query=_flag(skip_track_source))
        self._plugins.remember(player, lyrics_subscribed=True, lyrics_skip_track_source=skip_track_source)

    async def unsubscribe(self, player: Player) -> None:
        """Stop `player`'s live lyrics events; forgotten from the guild's snapshot.

        Raises:
            PluginUnavailable: The player's node does not have the LavaLyrics plugin (nothing is sent).
            NodeUnavailable: The node has no session now.
            RestError: The node refused the request.
        """
        node, session_id = await self._plugins.player_node(PluginKind.LAVALYRICS, player)
        await node.rest.request_json("DELETE", subscribe_path(session_id, player.guild_id))
        self._plugins.remember(player, lyrics_subscribed=False, lyrics_skip_track_source=False)
