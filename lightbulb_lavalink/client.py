"""`LavalinkClient`, the hub: nodes, players, voice, the session store and the resume coordinator."""

from __future__ import annotations

import asyncio
import logging
import typing

import aiohttp
import hikari

from lightbulb_lavalink import failover
from lightbulb_lavalink.clock import SYSTEM_CLOCK
from lightbulb_lavalink.errors import LavalinkError, NodeUnavailable, StoreError
from lightbulb_lavalink.node import Node, NodeState
from lightbulb_lavalink.player import Player
from lightbulb_lavalink.pool import LoadBalancer, PenaltyBalancer
from lightbulb_lavalink.resume import ResumeCoordinator
from lightbulb_lavalink.settings import LavalinkSettings
from lightbulb_lavalink.stores import MemoryStore, SnapshotWriter, StoreKey, open_store
from lightbulb_lavalink.voice import HikariVoiceGateway, VoiceManager

if typing.TYPE_CHECKING:
    from collections.abc import Coroutine, Mapping

    from lightbulb_lavalink.clock import Clock
    from lightbulb_lavalink.protocol.tracks import LoadResult
    from lightbulb_lavalink.snapshot import GuildSnapshot
    from lightbulb_lavalink.stores import SessionStore
    from lightbulb_lavalink.voice import VoiceConnectionInfo, VoiceGateway

__all__ = ["LavalinkClient"]

_LOGGER = logging.getLogger("lightbulb_lavalink.client")
_SERVER_SCHEMES = ("redis://", "rediss://", "postgresql://", "postgres://")


class LavalinkClient:
    """The hub a bot talks to: it owns the nodes, the players, voice handling and the session store.

    `start()` connects every node, resuming the saved sessions; `close()` keeps them resumable for the next
    start; `shutdown()` ends them for good.
    """

    def __init__(
        self,
        app: hikari.GatewayBot,
        settings: LavalinkSettings | None = None,
        *,
        store: SessionStore | None = None,
        voice_gateway: VoiceGateway | None = None,
        session: aiohttp.ClientSession | None = None,
        balancer: LoadBalancer | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.app: hikari.GatewayBot = app
        self.clock: Clock = clock if clock is not None else SYSTEM_CLOCK
        """Where the client reads time and waits (a `ManualClock` in deterministic tests)."""
        """The hikari bot this client serves."""
        self.settings: LavalinkSettings = settings if settings is not None else LavalinkSettings()
        """The settings in force."""
        self.balancer: LoadBalancer = balancer if balancer is not None else PenaltyBalancer()
        """Chooses the node for a new player."""
        self._store: SessionStore | None = store
        self._owns_store = store is None
        self._session = session
        self._owns_session = session is None
        self._nodes = {ns.name: Node(self, ns) for ns in self.settings.nodes}
        self._players: dict[int, Player] = {}
        self._saved: dict[str, dict[int, GuildSnapshot]] = {}
        self._orphans: dict[StoreKey, dict[int, GuildSnapshot]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._writer: SnapshotWriter | None = None
        self._resume = ResumeCoordinator(self)
        self.voice: VoiceManager = VoiceManager(
            app,
            voice_gateway if voice_gateway is not None else HikariVoiceGateway(app),
            timeout=self.settings.voice_timeout,
            on_update=self._on_voice_update,
            on_disconnect=self._on_voice_disconnect,
            clock=self.clock,
        )
        """Discord voice handling for this client's guilds."""
        self.bot_id: int | None = None
        """The bot's user id, known once started."""
        self.started = False
        """Whether `start()` ran and `close()` has not."""

    def __repr__(self) -> str:
        return f"LavalinkClient(nodes={list(self._nodes)}, players={len(self._players)}, started={self.started})"

    # -- public state -------------------------------------------------------------------------------------------

    @property
    def nodes(self) -> Mapping[str, Node]:
        """The nodes by name."""
        return self._nodes

    @property
    def players(self) -> Mapping[int, Player]:
        """The players by guild id."""
        return self._players

    @property
    def store(self) -> SessionStore:
        """The session store (raises `LavalinkError` before `start()` when none was given)."""
        if self._store is None:
            raise LavalinkError("the session store is opened by start()")
        return self._store

    def get_player(self, guild_id: hikari.Snowflakeish) -> Player | None:
        """The guild's player, or `None`."""
        return self._players.get(int(guild_id))

    def store_key(self, node: str) -> StoreKey:
        """The store key of this bot, cluster and node."""
        if self.bot_id is None:
            raise LavalinkError("the bot id is known once the client started")
        return StoreKey(bot_id=self.bot_id, node=node, cluster=self.settings.cluster)

    # -- lifecycle ----------------------------------------------------------------------------------------------

    async def start(self, bot_id: hikari.Snowflakeish | None = None) -> None:
        """Open the store and connect every node, asking each to resume its saved session.

        Returns once the websockets are started, without waiting for `ready` (see `wait_ready`), so that an
        unreachable node never stalls the bot. `bot_id` defaults to the bot's own user from hikari's cache.
        """
        if self.started:
            return
        if bot_id is None:
            me = self.app.get_me()
            if me is None:
                raise LavalinkError(
                    "the bot user is not known yet: start the client after the bot is ready, or pass bot_id"
                )
            bot_id = me.id
        self.bot_id = int(bot_id)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        await self._open_store()
        store = self.store
        self._writer = SnapshotWriter(store, min_interval=self.settings.snapshot_interval, clock=self.clock)
        await self.voice.start(self.bot_id)
        self.started = True
        await self._load_orphans()
        for node in self._nodes.values():
            key = self.store_key(node.name)
            session_id: str | None = None
            try:
                session_id = await store.get_session(key)
                self._saved[node.name] = await store.get_guilds(key)
            except StoreError as exc:
                _LOGGER.error("node %s: could not read the saved session: %s; starting fresh", node.name, exc)
                self._saved[node.name] = {}
            await node.start(self._session, self.bot_id, session_id)

    async def _load_orphans(self) -> None:
        """Guild snapshots saved under a node no longer configured (renamed or removed): recover them elsewhere."""
        store = self.store
        assert self.bot_id is not None
        try:
            keys = await store.list_keys(self.bot_id)
            for key in keys:
                if key.cluster != self.settings.cluster or key.node in self._nodes:
                    continue
                guilds = await store.get_guilds(key)
                if guilds:
                    _LOGGER.info(
                        "%d guilds were saved on node %r, which is no longer configured: moving them",
                        len(guilds),
                        key.node,
                    )
                self._orphans[key] = guilds
        except StoreError as exc:
            _LOGGER.error("could not look for guilds saved under other nodes: %s", exc)

    def _take_orphans(self) -> dict[StoreKey, dict[int, GuildSnapshot]]:
        orphans, self._orphans = self._orphans, {}
        return orphans

    async def _forget_orphans(self, key: StoreKey, guild_ids: typing.Iterable[int]) -> None:
        """Drop what was moved off a node that is no longer configured."""
        if self._writer is not None:
            for guild_id in guild_ids:
                self._writer.delete(key, guild_id)
            self._writer.schedule_session(key, None)

    async def _open_store(self) -> None:
        if self._store is None:
            try:
                self._store = open_store(self.settings.store)
            except LavalinkError as exc:
                _LOGGER.error("cannot use the session store: %s; queues will not survive a restart", exc)
                self._store = MemoryStore()
        try:
            await self._store.open()
        except StoreError as exc:
            if self._store.url.startswith(_SERVER_SCHEMES):
                # A database server may be down at boot: keep the store, it reconnects and the writer retries.
                _LOGGER.warning("the session store is unreachable: %s; writes will be retried", exc)
                return
            _LOGGER.error("cannot open the session store: %s; queues will not survive a restart", exc)
            self._store = MemoryStore()
            await self._store.open()

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until every node has a session (raises `NodeUnavailable` or the node's fatal error)."""
        await asyncio.gather(*(node.wait_ready(timeout) for node in self._nodes.values()))

    async def close(self) -> None:
        """Stop, keeping every session resumable: players keep playing on Lavalink for `resume_timeout` seconds.

        Voice is left untouched and every guild's snapshot is written, so the next `start()` resumes.
        """
        if not self.started:
            return
        self.started = False
        for player in self._players.values():
            self._schedule_snapshot(player)
        await self._cancel_tasks()
        await self.voice.close()
        for node in self._nodes.values():
            await node.close()
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None
        if self._store is not None and self._owns_store:
            await self._store.close()
            self._store = None

    async def shutdown(self) -> None:
        """Stop for good: destroy every player, leave voice and forget the sessions."""
        for guild_id in list(self._players):
            try:
                await self.leave(guild_id)
            except LavalinkError as exc:
                _LOGGER.warning("guild %s: could not leave cleanly: %s", guild_id, exc)
        for node in self._nodes.values():
            if node.session_id is not None and node.connected:
                try:
                    await node.rest.update_session(node.session_id, resuming=False)
                except LavalinkError as exc:
                    _LOGGER.warning("node %s: could not disable resuming: %s", node.name, exc)
            await self._save_session_id(node, None)
        await self.close()

    # -- commands -----------------------------------------------------------------------------------------------

    def best_node(self, *, region: str | None = None) -> Node:
        """The node a new player should go to (raises `NodeUnavailable` when no node has a session)."""
        ready = [n for n in self._nodes.values() if n.state is NodeState.READY]
        node = self.balancer.choose(ready, region=region)
        if node is None:
            states = ", ".join(f"{n.name}: {n.state.value}" for n in self._nodes.values()) or "none configured"
            raise NodeUnavailable(f"no Lavalink node is ready ({states})")
        return node

    async def join(
        self, guild_id: hikari.Snowflakeish, channel_id: hikari.Snowflakeish, *, node: str | None = None
    ) -> Player:
        """Join a voice channel (or move to it) and return the guild's player, created on the best node."""
        gid, cid = int(guild_id), int(channel_id)
        player = self._players.get(gid)
        if player is not None and not player._ready.is_set():
            await player._ready.wait()  # the guild is being recovered: move it once it is back
            player = self._players.get(gid)
        created = player is None
        if player is None:
            target = self._nodes[node] if node is not None else self.best_node()
            if not target.connected:
                raise NodeUnavailable(f"node {target.name!r} is not ready ({target.state.value})")
            target.pending_players += 1
            player = Player(self, target, gid)
            self._add_player(player)
        try:
            await player._send_voice(await self.voice.join(gid, cid))
        except BaseException:
            if created:
                self._remove_player(gid)
            raise
        self._schedule_snapshot(player)
        return player

    async def leave(self, guild_id: hikari.Snowflakeish) -> None:
        """Destroy the guild's player, drop its queue and snapshot, and leave voice."""
        gid = int(guild_id)
        player = self._remove_player(gid)
        try:
            if player is not None:
                await player.destroy()
        finally:
            await self.voice.leave(gid)

    async def move_player(self, guild_id: hikari.Snowflakeish, node: str | Node | None = None) -> Player:
        """Move the guild's player to `node` (by default the best other ready node), keeping track and queue."""
        player = self._players.get(int(guild_id))
        if player is None:
            raise LavalinkError(f"guild {guild_id} has no player")
        target = self._nodes[node] if isinstance(node, str) else node
        await failover.move(self, player, target)
        return player

    async def load_tracks(self, query: str) -> LoadResult:
        """Resolve a URL, identifier or search (`ytsearch:...`) on the best ready node."""
        return await self.best_node().rest.load_tracks(query)

    # -- internals used by nodes, players and the coordinator -----------------------------------------------------

    def dispatch(self, event: hikari.Event) -> None:
        """Dispatch `event` through the bot's event manager."""
        self.app.event_manager.dispatch(event)

    def _add_player(self, player: Player) -> None:
        self._players[player.guild_id] = player

    def _remove_player(self, guild_id: int) -> Player | None:
        player = self._players.pop(guild_id, None)
        if player is not None:
            player._destroyed = True
            if self._writer is not None and self.bot_id is not None:
                self._writer.delete(self.store_key(player.node.name), guild_id)
        return player

    def _forget_snapshot(self, node: str, guild_id: int) -> None:
        if self._writer is not None and self.bot_id is not None:
            self._writer.delete(self.store_key(node), guild_id)

    def _node_lost(self, node: Node) -> None:
        """A node with a live session went away: move its players if it stays away `failover_after` seconds."""
        delay = self.settings.failover_after
        if delay > 0 and len(self._nodes) > 1 and self.started:
            self._spawn(failover.failover(self, node, delay), name=f"lavalink-failover-{node.name}")

    def _schedule_snapshot(self, player: Player) -> None:
        if self._writer is not None and self.bot_id is not None and not player._destroyed:
            self._writer.schedule(self.store_key(player.node.name), player.snapshot, guild_id=player.guild_id)

    async def _save_session_id(self, node: Node, session_id: str | None) -> None:
        """Save (or forget) a node's session id now. Every session write goes through the writer, so a retried
        older id can never land over a newer one; if the store is down the writer keeps retrying."""
        if self._writer is None or self.bot_id is None:
            return
        self._writer.schedule_session(self.store_key(node.name), session_id)
        try:
            await self._writer.flush()
        except StoreError as exc:
            _LOGGER.warning("node %s: could not save session id %s now (%s); retrying", node.name, session_id, exc)

    def _take_saved(self, node: str) -> dict[int, GuildSnapshot]:
        return self._saved.pop(node, {})

    def _should_rejoin(self, guild_id: int, channel_id: int) -> bool:
        """Whether a restored guild should rejoin its channel (not when nobody but bots is left in it)."""
        if self.settings.rejoin_empty_channels:
            return True
        cache = self.app.cache
        states = cache.get_voice_states_view_for_channel(guild_id, channel_id)
        if not cache.get_guild(guild_id):
            return True  # the guild is not cached yet: we cannot tell, assume listeners
        for state in states.values():
            member = state.member
            if state.user_id != self.bot_id and not (member is not None and member.is_bot):
                return True
        return False

    def _spawn(self, coro: Coroutine[typing.Any, typing.Any, None], *, name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(self._guard(coro, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _guard(coro: Coroutine[typing.Any, typing.Any, None], name: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception("background task %s failed", name)

    async def _cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _on_voice_update(self, info: VoiceConnectionInfo) -> None:
        player = self._players.get(info.guild_id)
        if player is None:
            return
        player.channel_id = info.channel_id
        if player.node.connected:
            try:
                await player._send_voice(info)
            except LavalinkError as exc:
                _LOGGER.warning("guild %s: could not forward the voice update: %s", info.guild_id, exc)
        self._schedule_snapshot(player)

    async def _on_voice_disconnect(self, guild_id: int) -> None:
        player = self._remove_player(guild_id)
        if player is None:
            return
        _LOGGER.info("guild %s: disconnected from voice, player cleaned up", guild_id)
        try:
            await player.destroy()
        except LavalinkError as exc:
            _LOGGER.warning("guild %s: could not destroy the player: %s", guild_id, exc)
