"""`LavalinkClient`, the hub: nodes, players, voice, the session store and the resume coordinator."""

from __future__ import annotations

import asyncio
import logging
import typing
import urllib.parse

import aiohttp
import hikari

from lightbulb_lavalink import failover
from lightbulb_lavalink.clock import SYSTEM_CLOCK
from lightbulb_lavalink.dispatching import EventDispatcher
from lightbulb_lavalink.errors import HandoffError, LavalinkError, NodeUnavailable, StoreError
from lightbulb_lavalink.hub import Hub
from lightbulb_lavalink.node import Node, NodeState
from lightbulb_lavalink.observe import MeasuredStore
from lightbulb_lavalink.player import Player
from lightbulb_lavalink.plugins import Plugins
from lightbulb_lavalink.pool import LoadBalancer, PenaltyBalancer
from lightbulb_lavalink.redact import redact_secret
from lightbulb_lavalink.resuming.book import describe
from lightbulb_lavalink.resuming.handoff import Handoff, HandoffState
from lightbulb_lavalink.settings import LavalinkSettings
from lightbulb_lavalink.shards import Shards
from lightbulb_lavalink.stores import MemoryStore, SnapshotWriter, StoreKey, open_store, supports_handoff
from lightbulb_lavalink.voice import HikariVoiceGateway, VoiceManager

if typing.TYPE_CHECKING:
    from collections.abc import Mapping

    from lightbulb_lavalink.clock import Clock
    from lightbulb_lavalink.observe import MetricsSource, Observer
    from lightbulb_lavalink.protocol.tracks import LoadResult
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
        metrics: MetricsSource | None = None,
        shards: Shards | None = None,
        release_poll: float = 1.0,
    ) -> None:
        """`shards`: the shards this process holds (default: the bot's own, once it is started); with a shared
        store (Redis, PostgreSQL) the process claims the guilds of those shards whoever saved them, and checks
        every `release_poll` seconds for guilds another process claimed from it."""
        self.app: hikari.GatewayBot = app
        """The hikari bot this client serves."""
        self.clock: Clock = clock if clock is not None else SYSTEM_CLOCK
        """Where the client reads time and waits (a `ManualClock` in deterministic tests)."""
        self.settings: LavalinkSettings = settings if settings is not None else LavalinkSettings()
        """The settings in force."""
        self.balancer: LoadBalancer = balancer if balancer is not None else PenaltyBalancer()
        """Chooses the node for a new player."""
        self._store: SessionStore | None = store
        self._owns_store = store is None
        self._session = session
        self._owns_session = session is None
        self._hub = Hub(self)
        self._dispatcher = EventDispatcher(app.event_manager)
        self._store_keys: dict[str, StoreKey] = {}
        self._nodes = {ns.name: Node(self, ns, self._hub) for ns in self.settings.nodes}
        self._handoff = Handoff(self._hub, reconnect=self._reconnect_node)
        self._nodes_started = asyncio.Event()
        self._starting = False  # `start()` is running (a `close()` meanwhile stops it)
        self._store_error: str | None = None
        self._shards = shards
        self._release_poll = release_poll
        self.voice: VoiceManager = VoiceManager(
            app,
            voice_gateway if voice_gateway is not None else HikariVoiceGateway(app),
            timeout=self.settings.voice_timeout,
            on_update=self._on_voice_update,
            on_disconnect=self._on_voice_disconnect,
            clock=self.clock,
        )
        """Discord voice handling for this client's guilds."""
        self.plugins: Plugins = Plugins(self)
        """Lavalink plugins (LavaSrc, LavaSearch, LavaLyrics, SponsorBlock, any other): see the plugins guide."""
        self.bot_id: int | None = None
        """The bot's user id, known once started."""
        self.started = False
        """Whether `start()` ran and `close()` has not."""
        self.observer: Observer | None = None
        """What is told of this client's work for metrics (see `attach_metrics`); `None`: nothing is measured."""
        if metrics is not None:
            self.attach_metrics(metrics)

    def __repr__(self) -> str:
        return f"LavalinkClient(nodes={list(self._nodes)}, players={len(self._hub.players)}, started={self.started})"

    # -- public state -------------------------------------------------------------------------------------------

    @property
    def nodes(self) -> Mapping[str, Node]:
        """The nodes by name."""
        return self._nodes

    @property
    def players(self) -> Mapping[int, Player]:
        """The players by guild id."""
        return self._hub.players

    @property
    def store(self) -> SessionStore:
        """The session store.

        Raises:
            LavalinkError: Before `start()`, when no store was given to the constructor.
        """
        if self._store is None:
            raise LavalinkError("the session store is opened by start()")
        return self._store

    @property
    def shards(self) -> Shards | None:
        """The shards this process holds (known once started), or `None`: every guild counts as its own."""
        return self._hub.ownership.shards

    def get_player(self, guild_id: hikari.Snowflakeish) -> Player | None:
        """The guild's player, or `None`."""
        return self._hub.players.get(int(guild_id))

    def store_key(self, node: str) -> StoreKey:
        """The store key of this bot, cluster and node.

        Raises:
            LavalinkError: Before `start()`: the bot id is not known yet.
        """
        if self.bot_id is None:
            raise LavalinkError("the bot id is known once the client started")
        cached = self._store_keys.get(node)
        if cached is None or cached.bot_id != self.bot_id or cached.cluster != self.settings.cluster:
            # Every save asks for one: built once per node (attrs validates each field it is given).
            cached = self._store_keys[node] = StoreKey(bot_id=self.bot_id, node=node, cluster=self.settings.cluster)
        return cached

    def attach_metrics(self, metrics: MetricsSource, *, label: str = "default") -> None:
        """Measure this client with `metrics` (`lightbulb_lavalink.metrics.LavalinkMetrics`), its metrics labelled
        ``client=label`` (one label per client sharing a `LavalinkMetrics`). Before `start()` only.

        Raises:
            LavalinkError: The client is started, or already measured.
        """
        if self.started:
            raise LavalinkError("attach metrics before start(): the nodes' REST clients are made there")
        if self.observer is not None:
            raise LavalinkError("this client already has metrics attached")
        self.observer = metrics.observer_for(self, label)

    # -- lifecycle ----------------------------------------------------------------------------------------------

    async def start(self, bot_id: hikari.Snowflakeish | None = None, *, handoff: bool | None = None) -> None:
        """Open the store, read what it saved and connect every node, asking each to resume its saved session.

        Returns once the websockets are started, without waiting for `ready` (see `wait_ready`), so that an
        unreachable node never stalls the bot. If the store cannot be read, the nodes wait for it (retrying in
        the background): starting fresh would overwrite every saved queue. `bot_id` defaults to the bot's own
        user from hikari's cache.

        With `handoff` (default: the settings' ``handoff``), a handoff deploy: the process of the same cluster
        that runs now is asked, through the shared store, to let its Lavalink sessions go, and this one resumes
        them; it returns once every node is ready (the old process then exits: `wait_handed_off`). If no process
        answers and no live connection holds the saved sessions, it starts as without `handoff`.

        Raises:
            LavalinkError: `bot_id` was not given and hikari does not know the bot's user yet (no READY).
            HandoffError: With `handoff`: the store is not shared (SQLite, JSON, memory), no process answered
                while one holds the sessions, or the sessions did not come back in time (the old process keeps
                them). Nothing is left open.
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
        hub = self._hub
        self._handoff.reset()
        # `close()` during a start sets `closing`: the start then stops where it is (see `close`).
        hub.closing = False
        self._starting = True
        try:
            if self._session is None:
                self._session = aiohttp.ClientSession()
            await self._open_store()
            self._hub.ownership.configure(self.store, self._shards or Shards.from_bot(self.app))
            store = self.store if self.observer is None else MeasuredStore(self.store, self.observer, self.clock)
            hub.writer = SnapshotWriter(store, min_interval=self.settings.snapshot_interval, clock=self.clock)
            await self.voice.start(self.bot_id)
            if hub.closing:
                await self._undo_start()  # closed before anything ran: undo what was opened
                return
            self.started = True
            # Reading the store and syncing the first node build every saved guild at once: the garbage collector
            # waits meanwhile (it doubled a restart's time; see `collector`).
            hub.collector.hold()
            handing_over = self.settings.handoff if handoff is None else handoff
            if handing_over and await self._handoff.take_over(
                self._read_before_handoff, self._start_handed_over, self._close_nodes
            ):
                return  # the nodes are started and synced: the old process let them go
            # A shared store's read claims the guilds of our shards, whichever process saved them: all of it first.
            reading = self._read_store(first=True) if hub.ownership.active else self._read_sessions()
            if await reading:
                await self._start_nodes()
            else:
                hub.collector.release()
                hub.spawn(self._read_store_then_start(), name="lavalink-store-wait")
        except BaseException:
            await self._undo_start()
            raise
        finally:
            self._starting = False

    async def _undo_start(self) -> None:
        """A failed `start()` closes whatever it opened (HTTP session, store, voice, nodes), as `close()` would."""
        self.started = False
        self.bot_id = None
        hub = self._hub
        hub.collector.release()
        try:
            await hub.cancel_tasks()
            await self.voice.close()
            for node in self._nodes.values():
                await node.close()
            if hub.writer is not None:
                writer, hub.writer = hub.writer, None
                await writer.close()
        finally:
            if self._owns_session and self._session is not None:
                session, self._session = self._session, None
                await session.close()
            if self._store is not None and self._owns_store:
                store, self._store = self._store, None
                await store.close()

    async def _read_before_handoff(self) -> None:
        """A handoff's first read of the store, while the old process still plays."""
        if not await self._read_store(first=True):
            raise HandoffError(f"the session store cannot be read: {self._store_error}")

    async def _start_handed_over(self, changed: tuple[int, ...] | None, timeout: float) -> None:
        """A handoff's start, once the old process let go: read again the guilds it changed meanwhile (all of
        them: `changed` is `None`) and the session ids, connect the nodes resuming the saved sessions and wait
        until they are synced."""
        if changed is None:
            await self._read_before_handoff()
        else:
            store = self.store
            assert supports_handoff(store)
            try:
                for name in self._nodes:
                    key = self.store_key(name)
                    session_id = await self.store.get_session(key)
                    self._hub.book.refresh(name, session_id, changed, await store.get_some_guilds(key, changed))
            except StoreError as exc:
                raise HandoffError(f"the session store cannot be read: {exc}") from None
        await self._start_nodes()
        await self.wait_ready(timeout)

    async def _close_nodes(self) -> None:
        """A handoff failed here: close every node websocket, leaving the sessions resumable for the old process."""
        for node in self._nodes.values():
            await node.close()

    async def _reconnect_node(self, node: Node, session_id: str | None) -> None:
        """A handoff failed: connect `node` again, resuming `session_id`."""
        if self._session is not None and self.bot_id is not None and not self._hub.closing:
            await node.start(self._session, self.bot_id, session_id)

    async def _read_store(self, *, first: bool) -> bool:
        """Read the session book; on failure say why on every node and return `False`."""
        started = self.clock.monotonic()
        keys = [self.store_key(name) for name in self._nodes]
        try:
            if self._hub.ownership.active:
                await self._hub.ownership.load(self._hub.book, self.store, keys, cluster=self.settings.cluster)
            else:
                await self._hub.book.load(self.store, keys, cluster=self.settings.cluster)
        except StoreError as exc:
            self._store_unreadable(exc, warn=first)
            return False
        if not first:
            _LOGGER.info("the session store answers again: connecting the nodes")
        self._store_read(started)
        return True

    async def _read_sessions(self) -> bool:
        """Read the saved session ids, then the saved guilds in the background; on failure as `_read_store`.

        The session ids are all the nodes need to connect, and the guilds (the bulk of a big bot's store) are read
        while the websocket handshake and the node's answer to the resumed session's players are on the network:
        a node's `ready` waits for them (`SessionBook.wait_loaded`) before it claims anything.
        """
        started = self.clock.monotonic()
        keys = [self.store_key(name) for name in self._nodes]
        book = self._hub.book
        try:
            book.expect(await book.read_sessions(self.store, keys))
        except StoreError as exc:
            self._store_unreadable(exc, warn=True)
            return False
        self._hub.spawn(self._read_guilds(keys, started), name="lavalink-store-read")
        return True

    async def _read_guilds(self, keys: list[StoreKey], started: float) -> None:
        """Fill the session book with the saved guilds, retrying until the store answers (the nodes' `ready`
        waits meanwhile: no guild is claimed, nothing saved over a queue)."""
        book = self._hub.book
        delay = self.settings.reconnect_delay
        first = True
        try:
            while True:
                try:
                    guilds, orphans = await book.read_guilds(self.store, keys, cluster=self.settings.cluster)
                    break
                except StoreError as exc:
                    self._store_unreadable(exc, warn=first)
                    first = False
                except Exception as exc:  # a store of the bot's own that raises something else
                    # Retried as a store error: ending here would let the waiting `ready` go on as if the client
                    # closed, claim no saved guild, and leave the node ready with every saved queue ignored.
                    self._store_unreadable(StoreError(_unexpected(exc, self.settings.store)), warn=first)
                    first = False
                await self.clock.sleep(delay)
                delay = min(delay * 2, self.settings.reconnect_max_delay)
        except BaseException:
            book.give_up()  # closed meanwhile: a node's ready waiting for the guilds stops waiting
            raise
        if not first:
            _LOGGER.info("the session store answers again: bringing the saved guilds back")
            for node in self._nodes.values():
                if node.last_error == self._store_error:
                    node.last_error = None
        book.fill(book.sessions, guilds, orphans)
        self._store_read(started)

    def _store_unreadable(self, exc: StoreError, *, warn: bool) -> None:
        """The store could not be read: every node says why until it is."""
        self._store_error = describe(exc)
        for node in self._nodes.values():
            node.last_error = self._store_error
        if warn:
            _LOGGER.warning(
                "cannot read the saved sessions from the store (%s): the nodes wait for it, so that no saved "
                "queue is overwritten; retrying",
                exc,
            )

    def _store_read(self, started: float) -> None:
        """The session book is filled: tell the reports how long it took, and destroy what users left meanwhile."""
        self._hub.coordinator.store_read(self.clock.monotonic() - started)
        self._store_error = None
        for name, guild_id in self._hub.book.take_left():
            self._hub.defer_destroy(self._nodes[name], guild_id)

    async def _read_store_then_start(self) -> None:
        delay = self.settings.reconnect_delay
        while not await self._read_store(first=False):
            await self.clock.sleep(delay)
            delay = min(delay * 2, self.settings.reconnect_max_delay)
        await self._start_nodes()

    async def _start_nodes(self) -> None:
        for node in self._nodes.values():
            if self._hub.closing or self._session is None or self.bot_id is None:
                return  # closed meanwhile (the store read is what takes time): nothing connects after a close
            node.last_error = None
            await node.start(self._session, self.bot_id, self._hub.book.session_id(node.name))
        self._nodes_started.set()
        if self._hub.ownership.active:
            self._hub.spawn(self._hub.ownership.watch(self._release_poll), name="lavalink-releases")
        if self._handoff.available:
            self._hub.spawn(self._handoff.listen(), name="lavalink-handoff")

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
                # A database server may be down at boot: keep the store; it reconnects, and it is read once it does.
                _LOGGER.warning("the session store is unreachable: %s; it will be retried", exc)
                return
            _LOGGER.error("cannot open the session store: %s; queues will not survive a restart", exc)
            self._store = MemoryStore()
            await self._store.open()

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until every node has a session.

        Raises:
            NodeUnavailable: A node has no session within `timeout` seconds (the reason is in the message).
            LavalinkError: A node failed for good, with that error (`AuthenticationError` for a wrong password).
        """
        deadline = self.clock.monotonic() + timeout
        try:
            async with self.clock.timeout(timeout):
                await self._nodes_started.wait()
        except TimeoutError:
            raise NodeUnavailable(f"no node could start within {timeout:g} s: {self._store_error}") from None
        remaining = max(0.0, deadline - self.clock.monotonic())
        await asyncio.gather(*(node.wait_ready(remaining) for node in self._nodes.values()))

    @property
    def handed_off(self) -> bool:
        """Whether a new process of this cluster took the sessions over (a handoff deploy): this one plays and
        saves nothing any more, and should exit."""
        return self._handoff.state is HandoffState.HANDED_OFF

    async def wait_handed_off(self) -> None:
        """Wait until a new process of this cluster takes the sessions over (a handoff deploy; `start` with
        ``handoff=True`` in the new process), then return: the bot should exit (``await bot.close()``).
        `HandoffCompletedEvent` is dispatched then too. Waits for ever if no handoff comes."""
        await self._handoff.wait_handed_off()

    async def close(self) -> None:
        """Stop, keeping every session resumable: players keep playing on Lavalink for `resume_timeout` seconds.

        Voice is left untouched and every guild's snapshot is written, so the next `start()` resumes.
        """
        if not self.started:
            if self._starting:
                self._hub.closing = True  # `start()` is opening things: it undoes them and returns
            return
        self.started = False
        hub = self._hub
        hub.closing = True
        hub.collector.release()
        for player in hub.players.values():
            hub.save(player)
        await hub.cancel_tasks()
        await self._handoff.close()
        await self.voice.close()
        for node in self._nodes.values():
            await node.close()
        if hub.writer is not None:
            await hub.writer.close()
            hub.writer = None
        await self._handoff.closed()  # everything is written: a new process waiting for this one may start
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None
        if self._store is not None and self._owns_store:
            await self._store.close()
            self._store = None
        await self._dispatcher.drain()

    async def shutdown(self) -> None:
        """Stop for good: destroy every player, leave voice and forget the sessions.

        Once a new process took the sessions over (a handoff deploy) they are its own: this only closes.
        """
        if self.handed_off:
            _LOGGER.info("shutdown after a handoff: the sessions belong to the new process; closing only")
            await self.close()
            return
        for guild_id in list(self._hub.players):
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
            await self._hub.save_session_id(node, None)
        await self.close()

    # -- commands -----------------------------------------------------------------------------------------------

    def best_node(self, *, region: str | None = None) -> Node:
        """The node a new player should go to (the balancer chooses among the ready nodes, by `region` first).

        Raises:
            NodeUnavailable: No node has a session (this process handed them over to a new one, or is doing so:
                the message says so).
        """
        ready = [n for n in self._nodes.values() if n.state is NodeState.READY]
        node = self.balancer.choose(ready, region=region)
        if node is None:
            self._hub.check_commands()  # the nodes are not away: this process let them go
            states = ", ".join(f"{n.name}: {n.state.value}" for n in self._nodes.values()) or "none configured"
            raise NodeUnavailable(f"no Lavalink node is ready ({states})")
        return node

    async def join(
        self, guild_id: hikari.Snowflakeish, channel_id: hikari.Snowflakeish, *, node: str | None = None
    ) -> Player:
        """Join a voice channel (or move to it) and return the guild's player, created on the best node.

        A guild being restored is moved once it is back; while a node is syncing a `ready`, a new player waits
        for it.

        Raises:
            NodeUnavailable: No node can take the player (none is ready, or `node` is not).
            KeyError: `node` names no configured node.
            VoiceTimeoutError: Discord did not answer the voice join within `voice_timeout`.
        """
        gid, cid = int(guild_id), int(channel_id)
        hub = self._hub
        self._handoff.check_commands()
        await self._wait_syncing(node)
        player = hub.players.get(gid)
        if player is not None:
            await player.wait_restored()  # the guild is being brought back: move it once it is
            player = hub.players.get(gid)
        created = player is None
        if player is None:
            target = self._nodes[node] if node is not None else self.best_node()
            if not target.connected:
                raise NodeUnavailable(f"node {target.name!r} is not ready ({target.state.value})")
            target.pending_players += 1
            player = Player(hub, target, gid)
            hub.add_player(player)
        try:
            await player.send_voice(await self.voice.join(gid, cid))
        except BaseException:
            if created:
                hub.remove_player(gid)
            raise
        hub.save(player)
        return player

    async def _wait_syncing(self, node: str | None) -> None:
        """Let the nodes that are syncing a `ready` finish it (they claim the guilds they bring back)."""
        nodes = [self._nodes[node]] if node is not None else list(self._nodes.values())
        wait = self.settings.request_timeout
        for n in nodes:
            if n.state is NodeState.SYNCING:
                await n.wait_synced(wait)

    async def leave(self, guild_id: hikari.Snowflakeish) -> None:
        """Destroy the guild's player, drop its queue and snapshot, and leave voice (a guild still being restored
        is never brought back).

        Raises:
            NodeUnavailable: This process is handing its sessions over to a new one (a handoff deploy), or did:
                the guild is left as it is.
        """
        gid = int(guild_id)
        self._handoff.check_commands()
        player = self._hub.remove_player(gid)
        try:
            if player is not None:
                await player.destroy()
        finally:
            await self.voice.leave(gid)

    async def move_player(self, guild_id: hikari.Snowflakeish, node: str | Node | None = None) -> Player:
        """Move the guild's player to `node` (by default the best other ready node), keeping track and queue.

        Raises:
            LavalinkError: The guild has no player.
            NodeUnavailable: No node can take it.
        """
        self._handoff.check_commands()
        player = self._hub.players.get(int(guild_id))
        if player is None:
            raise LavalinkError(f"guild {guild_id} has no player")
        target = self._nodes[node] if isinstance(node, str) else node
        await failover.move(self, player, target)
        return player

    async def load_tracks(self, query: str) -> LoadResult:
        """Resolve a URL, identifier or search (`ytsearch:...`) on the best ready node.

        A query that finds nothing or that the node cannot load is not an error: see `LoadResult.load_type`.

        Raises:
            NodeUnavailable: No node has a session, or the node cannot be reached.
            RestError: The node answered with an error status (`AuthenticationError` for 401/403).
            RequestTimeoutError: The node did not answer within `request_timeout`.
            ProtocolError: The answer could not be read.
        """
        return await self.best_node().rest.load_tracks(query)

    def dispatch(self, event: hikari.Event) -> None:
        """Deliver `event` to the bot's listeners (those of its event manager) and `wait_for` waiters.

        Listeners run at the loop's next turn, in a task, as with hikari's own dispatch, but without a task made
        per listener (see `lightbulb_lavalink.dispatching`).
        """
        self._dispatcher.dispatch(event)

    def heard(self, event_type: type[hikari.Event]) -> bool:
        """Whether anything listens or waits for `event_type` (or one of its bases): if not, the library does not
        build it."""
        return self._dispatcher.heard(event_type)

    # -- voice callbacks ----------------------------------------------------------------------------------------

    async def _on_voice_update(self, info: VoiceConnectionInfo) -> None:
        player = self._hub.players.get(info.guild_id)
        if player is None:
            return
        player.channel_id = info.channel_id
        if player.node.connected:
            try:
                await player.send_voice(info)
            except LavalinkError as exc:
                _LOGGER.warning("guild %s: could not forward the voice update: %s", info.guild_id, exc)
        self._hub.save(player)

    async def _on_voice_disconnect(self, guild_id: int) -> None:
        player = self._hub.remove_player(guild_id)
        if player is None:
            return
        _LOGGER.info("guild %s: disconnected from voice, player cleaned up", guild_id)
        try:
            await player.destroy()
        except LavalinkError as exc:
            _LOGGER.warning("guild %s: could not destroy the player: %s", guild_id, exc)


def _unexpected(exc: Exception, store_url: str) -> str:
    """An error a store raised that is not a `StoreError`, in words (the store URL's password masked)."""
    password = urllib.parse.urlsplit(store_url).password if "://" in store_url else None
    return redact_secret(f"{type(exc).__name__}: {exc}", password)
