"""`Plugins`: the client's door to Lavalink plugins (``client.plugins``): detection from ``/v4/info``, the typed
helpers of each plugin, the generic escape hatch, and sending a player's plugin state again after a restart."""

from __future__ import annotations

import logging
import typing

import attrs

from lightbulb_lavalink.errors import LavalinkError, NodeUnavailable
from lightbulb_lavalink.plugins.base import NodePlugins, PluginKind
from lightbulb_lavalink.plugins.lavasearch import LavaSearch
from lightbulb_lavalink.plugins.lavasrc import LavaSrc
from lightbulb_lavalink.plugins.lyrics import LavaLyrics, subscribe_path
from lightbulb_lavalink.plugins.sponsorblock import SponsorBlock, categories_path

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.snapshot import PluginSnapshot

__all__ = ["Plugins"]

_LOGGER = logging.getLogger("lightbulb_lavalink.plugins")


class Plugins:
    """Lavalink plugins for one client: ``client.plugins``.

    Each helper checks that the node lists its plugin in ``/v4/info`` (read once per node session) and raises
    `PluginUnavailable` otherwise, before sending anything to the plugin. Per-player state set through them
    (SponsorBlock categories, a lyrics subscription) is saved with the guild and sent again after a restart.
    """

    __slots__ = ("_client", "_known", "lavasearch", "lavasrc", "lyrics", "sponsorblock")

    def __init__(self, client: LavalinkClient) -> None:
        self._client = client
        self._known: dict[str, NodePlugins] = {}
        self.lavasrc: LavaSrc = LavaSrc(self)
        """LavaSrc: searches on its sources, the typed ``pluginInfo`` of its tracks and playlists."""
        self.lavasearch: LavaSearch = LavaSearch(self)
        """LavaSearch: ``/v4/loadsearch``."""
        self.lyrics: LavaLyrics = LavaLyrics(self)
        """LavaLyrics: lyrics, and live lyrics events per player."""
        self.sponsorblock: SponsorBlock = SponsorBlock(self)
        """SponsorBlock: the segment categories a player skips."""

    def __repr__(self) -> str:
        return f"Plugins(known={sorted(self._known)})"

    # -- nodes ------------------------------------------------------------------------------------------------

    def resolve(self, node: Node | str | None) -> Node:
        """The node meant by `node`: itself, the client's node of that name, or (`None`) the best ready node.

        Raises:
            KeyError: No node has that name.
            NodeUnavailable: `node` is `None` and no node has a session.
        """
        if node is None:
            return self._client.best_node()
        if isinstance(node, str):
            return self._client.nodes[node]
        return node

    async def of(self, node: Node | str | None = None) -> NodePlugins:
        """The plugins `node` lists (default: the best node), read from ``/v4/info`` once per node session.

        Raises:
            NodeUnavailable: The node cannot be reached.
            RestError: The node refused the request.
        """
        target = self.resolve(node)
        known = self._known.get(target.name)
        if known is not None and known.session_id == target.session_id:
            return known
        info = await target.fetch_info()
        known = NodePlugins.of(target.name, target.session_id, info)
        self._known[target.name] = known
        _LOGGER.debug("node %s lists plugins: %s", target.name, ", ".join(known.names) or "none")
        return known

    async def has(self, plugin: PluginKind | str, node: Node | str | None = None) -> bool:
        """Whether `node` (default: the best node) lists `plugin` in ``/v4/info``."""
        return (await self.of(node)).has(plugin)

    async def node_with(self, plugin: PluginKind, node: Node | str | None) -> Node:
        """`node` (default: the best node) once it is known to have `plugin`; else `PluginUnavailable`."""
        target = self.resolve(node)
        (await self.of(target)).require(plugin)
        return target

    async def player_node(self, plugin: PluginKind, player: Player) -> tuple[Node, str]:
        """The player's node and its session, once the node is known to have `plugin`.

        Raises:
            LavalinkError: The bot left the guild.
            PluginUnavailable: The node does not have `plugin`.
            NodeUnavailable: The node has no session now.
        """
        if player.left:
            raise LavalinkError(f"guild {player.guild_id}: the bot left it; join again first")
        node = player.node
        (await self.of(node)).require(plugin)
        session_id = node.session_id
        if session_id is None or not node.connected:
            raise NodeUnavailable(f"node {node.name!r} has no session now")
        return node, session_id

    # -- the escape hatch -------------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        node: Node | str | None = None,
        query: typing.Mapping[str, str] | None = None,
        json: typing.Any = None,
        route: str | None = None,
    ) -> typing.Any:
        """Call any endpoint of a plugin on `node` (default: the best node) with the node's password, and return
        the decoded JSON answer (`None` for an empty one). Errors are the library's own, the password never in them.

        The REST metrics label the request with `route`, a constant template of your choosing
        (``/v4/myplugin/users/{userId}``); without it, with the path cut to its known prefix (``/v4/{other}``), so
        that ids, titles or tokens in `path` never make a time series each.

        Raises:
            ValueError: `method`, `path` or `route` is not usable (nothing is sent).
            NodeUnavailable: No node has a session, or the node cannot be reached.
            RestError: The node answered with an error status.
            RequestTimeoutError: The node did not answer in time.
            ProtocolError: The answer is not JSON.
        """
        return await self.resolve(node).rest.request_json(method, path, query=query, json_body=json, route=route)

    # -- per-player state -------------------------------------------------------------------------------------

    def remember(self, player: Player, **changes: typing.Any) -> None:
        """Change `player`'s plugin state (saved with its snapshot)."""
        player.set_plugin_state(attrs.evolve(player.plugin_state, **changes))

    async def restore_before_track(self, player: Player, state: PluginSnapshot) -> None:
        """A player is recreated on a session that lost its plugin state: send what must be there before its track
        starts (SponsorBlock reads its categories when a track starts). Never raises: a failure is logged, and the
        state stays in the snapshot for the next restart."""
        if state.sponsorblock_categories is not None:
            categories = list(state.sponsorblock_categories)
            await self._send(player, PluginKind.SPONSORBLOCK, "PUT", categories_path, json=categories)

    async def restore_after_track(self, player: Player, state: PluginSnapshot) -> None:
        """The rest of `restore_before_track`, once the player exists (a lyrics subscription). Never raises."""
        if state.lyrics_subscribed:
            query = {"skipTrackSource": "true"} if state.lyrics_skip_track_source else None
            await self._send(player, PluginKind.LAVALYRICS, "POST", subscribe_path, query=query)

    async def restore(self, player: Player, state: PluginSnapshot) -> None:
        """Send all of `state` again to the player's node (a resumed session: the plugins forget their state on
        every websocket open, a resume included). Never raises."""
        if not state.empty:
            await self.restore_before_track(player, state)
            await self.restore_after_track(player, state)

    async def _send(
        self,
        player: Player,
        plugin: PluginKind,
        method: str,
        path_of: typing.Callable[[str, int], str],
        *,
        json: typing.Any = None,
        query: typing.Mapping[str, str] | None = None,
    ) -> None:
        node = player.node
        session_id = node.session_id
        if session_id is None or player.left:
            return
        try:
            known = await self.of(node)
            if not known.has(plugin):
                _LOGGER.warning(
                    "guild %s: node %s has no %s plugin now; its %s state is kept for a node that has it",
                    player.guild_id,
                    node.name,
                    plugin.display_name,
                    plugin.display_name,
                )
                return
            await node.rest.request_json(method, path_of(session_id, player.guild_id), query=query, json_body=json)
            _LOGGER.debug("guild %s: %s state sent again to node %s", player.guild_id, plugin.display_name, node.name)
        except LavalinkError as exc:
            _LOGGER.warning(
                "guild %s: could not send its %s state again: %s", player.guild_id, plugin.display_name, exc
            )
