"""Discord voice glue: ask Discord to join (OP4), collect what Lavalink needs, and follow the connection.

Lavalink plays into a guild's voice channel with the bot's voice credentials: the voice state's
``session_id`` (from VOICE_STATE_UPDATE) and the voice server's ``token`` and raw ``host:port`` ``endpoint``
(from VOICE_SERVER_UPDATE). `VoiceManager` sends the voice state update through a `VoiceGateway`, waits for
both answers through hikari's event manager, and afterwards keeps following the guild: moves, voice server
changes and a new gateway session are reported to ``on_update``, a disconnect (kick or leave) to
``on_disconnect``. Every OP4 waits its turn in the shard's `GatewayPacer` (`lightbulb_lavalink.pacing`): Discord
disconnects a shard that sends more than it allows.
"""

from __future__ import annotations

__all__ = [
    "DisconnectCallback",
    "HikariVoiceGateway",
    "UpdateCallback",
    "VoiceConnectionInfo",
    "VoiceGateway",
    "VoiceManager",
]

import asyncio
import logging
import types
import typing

import attrs
import hikari

from lightbulb_lavalink.clock import SYSTEM_CLOCK
from lightbulb_lavalink.errors import LavalinkError, VoiceTimeoutError
from lightbulb_lavalink.pacing import GatewayPacer, Lane

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Mapping

    from lightbulb_lavalink.clock import Clock
    from lightbulb_lavalink.protocol.player import VoiceState

_LOGGER = logging.getLogger("lightbulb_lavalink.voice")

UpdateCallback = typing.Callable[["VoiceConnectionInfo"], typing.Awaitable[None]]
"""``async def on_update(info)``: a followed guild's voice connection changed (move, server, session)."""

DisconnectCallback = typing.Callable[[int], typing.Awaitable[None]]
"""``async def on_disconnect(guild_id)``: the bot left voice in a followed guild (kicked, or `leave()`)."""


class VoiceGateway(typing.Protocol):
    """Sends the one gateway command voice needs: OP4, the bot's voice state update.

    The seam between this library and Discord: `HikariVoiceGateway` sends it through a running bot; tests use
    `lightbulb_lavalink.testing.gateway.FakeVoiceGateway`, which answers as Discord does.
    """

    async def update_voice_state(
        self, guild_id: int, channel_id: int | None, /, *, self_mute: bool, self_deaf: bool
    ) -> None:
        """Ask Discord to put the bot in `channel_id` of `guild_id` (`None`: out of voice there)."""
        ...


class HikariVoiceGateway:
    """The `VoiceGateway` of a running hikari bot: `app.update_voice_state` on the guild's shard.

    It calls the bot directly, not ``bot.voice`` (hikari's own voice component, which would try to connect
    to the voice server itself).
    """

    __slots__ = ("_app",)

    def __init__(self, app: hikari.ShardAware) -> None:
        self._app = app

    def shard_of(self, guild_id: int) -> int:
        """The shard that carries `guild_id`'s commands, as Discord maps guilds to shards."""
        return (int(guild_id) >> 22) % max(self._app.shard_count, 1)

    async def update_voice_state(
        self, guild_id: int, channel_id: int | None, /, *, self_mute: bool, self_deaf: bool
    ) -> None:
        """Send OP4 for `guild_id` through the bot's shard for that guild."""
        await self._app.update_voice_state(guild_id, channel_id, self_mute=self_mute, self_deaf=self_deaf)


@attrs.define(frozen=True, kw_only=True, weakref_slot=False)
class VoiceConnectionInfo:
    """The bot's voice connection in one guild: everything Lavalink needs to play there."""

    guild_id: int
    """The guild."""
    channel_id: int
    """The voice channel the bot is in."""
    session_id: str
    """The voice state's session id (the bot's Discord gateway session id)."""
    token: str
    """The voice server token."""
    endpoint: str
    """The voice server as Discord sends it, ``host:port`` without a scheme (what Lavalink expects)."""

    def to_voice_state(self) -> VoiceState:
        """The Lavalink wire `VoiceState` for this connection (for a player update's ``voice``)."""
        from lightbulb_lavalink.protocol.player import VoiceState

        return VoiceState(
            token=self.token,
            endpoint=self.endpoint,
            session_id=self.session_id,
            channel_id=str(self.channel_id),
        )


class _Superseded(Exception):
    """Internal: a pending join was replaced by a newer one for the same guild; waiters follow `by`."""

    def __init__(self, by: _Join) -> None:
        super().__init__(f"superseded by a join to channel {by.channel_id}")
        self.by = by


class _Join:
    """A join in flight: what Discord has answered so far, and the future its callers wait on."""

    __slots__ = (
        "channel_id",
        "endpoint",
        "future",
        "guild_id",
        "null_endpoint",
        "prefilled",
        "session_id",
        "state_seen",
        "token",
    )

    def __init__(self, guild_id: int, channel_id: int, future: asyncio.Future[VoiceConnectionInfo]) -> None:
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.future = future
        self.session_id: str | None = None
        self.state_seen = False
        self.token: str | None = None
        self.endpoint: str | None = None
        self.null_endpoint = False
        self.prefilled = False

    def finish(self, outcome: VoiceConnectionInfo | BaseException) -> None:
        if self.future.done():
            return
        if isinstance(outcome, BaseException):
            self.future.set_exception(outcome)
        else:
            self.future.set_result(outcome)

    def missing(self) -> str:
        parts = []
        if not self.state_seen:
            parts.append(f"the bot's voice state update for channel {self.channel_id} (session id)")
        if self.endpoint is None:
            if self.null_endpoint:
                parts.append("a voice server update with an endpoint (only a null endpoint came: server reallocating)")
            else:
                parts.append("the voice server update (token and endpoint)")
        return " and ".join(parts) or "nothing (it completed as it timed out)"


def _retrieve(future: asyncio.Future[VoiceConnectionInfo]) -> None:
    # A superseded or failed join nobody waits on must not log "exception was never retrieved".
    if not future.cancelled():
        future.exception()


class VoiceManager:
    """Joins and leaves voice channels through a `VoiceGateway`, and follows each joined guild's connection.

    `start(bot_user_id)` subscribes to hikari's `VoiceStateUpdateEvent` and `VoiceServerUpdateEvent` on
    ``app.event_manager``; `close()` unsubscribes. Joins for different guilds run independently; a second
    join for a guild supersedes the first, whose callers then get the outcome of the newer one.
    """

    def __init__(
        self,
        app: hikari.EventManagerAware,
        gateway: VoiceGateway,
        *,
        timeout: float = 10.0,
        self_deaf: bool = True,
        self_mute: bool = False,
        on_update: UpdateCallback | None = None,
        on_disconnect: DisconnectCallback | None = None,
        clock: Clock = SYSTEM_CLOCK,
        pacer: GatewayPacer | None = None,
    ) -> None:
        self.app = app
        """The bot whose event manager delivers the voice events."""
        self.gateway = gateway
        """Where OP4 goes."""
        self.timeout = timeout
        """Default seconds `join()` waits for Discord's two answers."""
        self.self_deaf = self_deaf
        """Default self-deaf flag of joins (a music bot hears nothing, which saves Discord bandwidth)."""
        self.self_mute = self_mute
        """Default self-mute flag of joins."""
        self.on_update: UpdateCallback | None = on_update
        """Awaited with the new info when a followed connection changes (move, voice server, session)."""
        self.on_disconnect: DisconnectCallback | None = on_disconnect
        """Awaited with the guild id when the bot is out of voice in a followed guild (kick, or `leave()`)."""
        if pacer is None:
            shard_of = getattr(gateway, "shard_of", None)  # a gateway that cannot tell: every guild on one shard
            pacer = GatewayPacer(clock=clock) if shard_of is None else GatewayPacer(clock=clock, shard_of=shard_of)
        self.pacer: GatewayPacer = pacer
        """Paces the OP4s per shard within Discord's gateway rate limit."""
        self._clock = clock
        self._bot_user_id: int | None = None
        self._queued: dict[int, _Join] = {}
        self._joins: dict[int, _Join] = {}
        self._connections: dict[int, VoiceConnectionInfo] = {}
        self._leaving: set[int] = set()
        self._callback_lock = asyncio.Lock()

    # -- lifecycle --

    @property
    def bot_user_id(self) -> int | None:
        """The bot's user id once started (voice state updates of other users are ignored)."""
        return self._bot_user_id

    @property
    def started(self) -> bool:
        """Whether `start()` ran and `close()` has not."""
        return self._bot_user_id is not None

    async def start(self, bot_user_id: int) -> None:
        """Listen to voice events for the bot `bot_user_id` (idempotent)."""
        if self._bot_user_id is not None:
            if self._bot_user_id == int(bot_user_id):
                return
            await self.close()
        self._bot_user_id = int(bot_user_id)
        events = self.app.event_manager
        events.subscribe(hikari.VoiceStateUpdateEvent, self._on_voice_state)
        events.subscribe(hikari.VoiceServerUpdateEvent, self._on_voice_server)

    async def close(self) -> None:
        """Stop listening; pending joins fail; followed connections are forgotten (voice is untouched)."""
        if self._bot_user_id is None:
            return
        self._bot_user_id = None
        events = self.app.event_manager
        events.unsubscribe(hikari.VoiceStateUpdateEvent, self._on_voice_state)
        events.unsubscribe(hikari.VoiceServerUpdateEvent, self._on_voice_server)
        joins, self._joins = [*self._queued.values(), *self._joins.values()], {}
        self._queued = {}
        for join in joins:
            join.finish(
                LavalinkError(f"the voice manager closed while guild {join.guild_id} was joining {join.channel_id}")
            )
        self._connections.clear()
        self._leaving.clear()
        await self.pacer.close()

    # -- queries --

    def current(self, guild_id: int) -> VoiceConnectionInfo | None:
        """The bot's voice connection in `guild_id` as last reported by Discord, or `None`."""
        return self._connections.get(int(guild_id))

    @property
    def connections(self) -> Mapping[int, VoiceConnectionInfo]:
        """Guild id -> voice connection, for every followed guild (a read-only view)."""
        return types.MappingProxyType(self._connections)

    def is_joining(self, guild_id: int) -> bool:
        """Whether a join for `guild_id` waits for Discord (or for its turn to be sent)."""
        return int(guild_id) in self._joins or int(guild_id) in self._queued

    def is_queued(self, guild_id: int) -> bool:
        """Whether a join for `guild_id` waits for its turn under Discord's gateway rate limit."""
        return int(guild_id) in self._queued

    # -- commands --

    async def join(
        self,
        guild_id: int,
        channel_id: int,
        *,
        timeout: float | None = None,
        self_deaf: bool | None = None,
        self_mute: bool | None = None,
        lane: Lane = Lane.COMMAND,
    ) -> VoiceConnectionInfo:
        """Join (or move to) `channel_id` and return the connection once Discord sent state and server.

        The voice state update first waits its turn on the guild's shard (`lane`: how urgent it is; see
        `GatewayPacer`); that wait has no timeout. The waiters are registered before the update is sent, so a
        fast answer is never missed.
        A voice server update with a null endpoint means "wait for the next one". Raises `VoiceTimeoutError`
        naming the guild, the channel and what did not arrive within `timeout` seconds (default
        `VoiceManager.timeout`). A newer join for the same guild supersedes this one: this call then returns
        (or raises) what the newer join does.
        """
        if self._bot_user_id is None:
            raise RuntimeError("VoiceManager.start(bot_user_id) must be called before join()")
        gid, cid = int(guild_id), int(channel_id)
        wait = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        join = _Join(gid, cid, loop.create_future())
        join.future.add_done_callback(_retrieve)
        previous = self._queued.pop(gid, None)
        if previous is not None:
            previous.finish(_Superseded(join))
        self._queued[gid] = join
        try:
            sent = await self.pacer.turn(gid, lane)
        except BaseException as exc:
            self._drop(join, exc if isinstance(exc, Exception) else LavalinkError(f"join of guild {gid} cancelled"))
            raise
        if not sent or self._queued.get(gid) is not join:
            # A newer join or a leave of this guild took over while this one waited: follow what it becomes.
            return await self._wait(join, None, wait)
        del self._queued[gid]
        known = self._connections.get(gid)
        if known is not None and known.channel_id == cid:
            # Re-joining the channel the bot is in: Discord may answer with the state alone, keeping the
            # server. The known server is used unless a new one arrives or the state has a new session.
            join.token, join.endpoint, join.prefilled = known.token, known.endpoint, True
        previous = self._joins.get(gid)
        self._joins[gid] = join
        self._leaving.discard(gid)
        if previous is not None:
            _LOGGER.debug("guild %s: join to %s supersedes the join to %s", gid, cid, previous.channel_id)
            previous.finish(_Superseded(join))
        _LOGGER.debug("guild %s: joining voice channel %s", gid, cid)
        try:
            await self.gateway.update_voice_state(
                gid,
                cid,
                self_mute=self.self_mute if self_mute is None else self_mute,
                self_deaf=self.self_deaf if self_deaf is None else self_deaf,
            )
        except BaseException as exc:
            self._drop(join, exc if isinstance(exc, Exception) else LavalinkError(f"join of guild {gid} cancelled"))
            raise
        return await self._wait(join, self._clock.monotonic() + wait, wait)

    async def leave(self, guild_id: int) -> None:
        """Leave voice in `guild_id` (OP4 with no channel); a pending join there fails.

        The guild is no longer followed at once; `on_disconnect` is still called when Discord confirms.
        """
        if self._bot_user_id is None:
            raise RuntimeError("VoiceManager.start(bot_user_id) must be called before leave()")
        gid = int(guild_id)
        for join in (self._queued.pop(gid, None), self._joins.pop(gid, None)):
            if join is not None:
                join.finish(LavalinkError(f"the join of guild {gid} to channel {join.channel_id} was ended by leave()"))
        self._connections.pop(gid, None)
        self._leaving.add(gid)
        _LOGGER.debug("guild %s: leaving voice", gid)
        if not await self.pacer.turn(gid, Lane.COMMAND) or gid in self._queued or gid in self._joins:
            return  # a join of this guild came after this leave, before its turn
        await self.gateway.update_voice_state(gid, None, self_mute=False, self_deaf=False)

    # -- waiting --

    async def _wait(self, join: _Join, deadline: float | None, wait: float) -> VoiceConnectionInfo:
        # `deadline` None: a join replaced before it was sent follows its successor, whose own caller times it.
        current = join
        while True:
            remaining = None if deadline is None else max(0.0, deadline - self._clock.monotonic())
            try:
                async with self._clock.timeout(remaining):
                    return await asyncio.shield(current.future)
            except _Superseded as superseded:
                current = superseded.by
            except TimeoutError:
                if current.future.done() and not current.future.cancelled():
                    # Completed in the same loop turn the timer fired: follow or return what it became.
                    if isinstance(current.future.exception(), _Superseded):
                        continue
                    return current.future.result()
                error = VoiceTimeoutError(
                    f"Discord did not answer the voice join of guild {current.guild_id} to channel "
                    f"{current.channel_id} within {wait:g}s: missing {current.missing()}"
                )
                self._drop(current, error)
                raise error from None
            except asyncio.CancelledError:
                if current is join:
                    self._drop(join, LavalinkError(f"the join of guild {join.guild_id} was cancelled"))
                raise

    def _drop(self, join: _Join, error: BaseException) -> None:
        if self._joins.get(join.guild_id) is join:
            del self._joins[join.guild_id]
        if self._queued.get(join.guild_id) is join:
            del self._queued[join.guild_id]
        join.finish(error)

    def _complete(self, join: _Join) -> None:
        if not join.state_seen or join.session_id is None or join.token is None or join.endpoint is None:
            return
        info = VoiceConnectionInfo(
            guild_id=join.guild_id,
            channel_id=join.channel_id,
            session_id=join.session_id,
            token=join.token,
            endpoint=join.endpoint,
        )
        if self._joins.get(join.guild_id) is join:
            del self._joins[join.guild_id]
        self._connections[join.guild_id] = info
        _LOGGER.debug("guild %s: voice connection ready: channel %s, %s", info.guild_id, info.channel_id, info.endpoint)
        join.finish(info)

    # -- events --

    async def _on_voice_state(self, event: hikari.VoiceStateUpdateEvent) -> None:
        state = event.state
        if self._bot_user_id is None or int(state.user_id) != self._bot_user_id:
            return
        gid = int(state.guild_id)
        cid = None if state.channel_id is None else int(state.channel_id)
        join = self._joins.get(gid)
        if join is not None:
            if cid != join.channel_id:
                _LOGGER.debug(
                    "guild %s: ignoring the bot's voice state for %s while joining %s",
                    gid,
                    cid,
                    join.channel_id,
                )
                return
            known = self._connections.get(gid)
            if join.prefilled and (known is None or known.session_id != state.session_id):
                # A new gateway session needs a new voice server update: forget the pre-filled one.
                join.token = join.endpoint = None
                join.prefilled = False
            join.session_id = state.session_id
            join.state_seen = True
            self._complete(join)
            return
        if cid is None:
            if self._connections.pop(gid, None) is not None or gid in self._leaving:
                self._leaving.discard(gid)
                _LOGGER.debug("guild %s: the bot is out of voice", gid)
                await self._notify_disconnect(gid)
            return
        info = self._connections.get(gid)
        if info is None or (info.channel_id == cid and info.session_id == state.session_id):
            return
        info = attrs.evolve(info, channel_id=cid, session_id=state.session_id)
        self._connections[gid] = info
        _LOGGER.debug("guild %s: the bot's voice state changed: channel %s", gid, cid)
        await self._notify_update(info)

    async def _on_voice_server(self, event: hikari.VoiceServerUpdateEvent) -> None:
        if self._bot_user_id is None:
            return
        gid = int(event.guild_id)
        endpoint = event.raw_endpoint
        join = self._joins.get(gid)
        if join is not None:
            if endpoint is None:
                _LOGGER.debug("guild %s: voice server reallocating (null endpoint), waiting for the next", gid)
                join.null_endpoint = True
                join.token = join.endpoint = None
                join.prefilled = False
                return
            join.token, join.endpoint, join.prefilled = event.token, endpoint, False
            self._complete(join)
            return
        info = self._connections.get(gid)
        if info is None:
            return
        if endpoint is None:
            _LOGGER.info("guild %s: voice server reallocating, waiting for the new one", gid)
            return
        if info.token == event.token and info.endpoint == endpoint:
            return
        info = attrs.evolve(info, token=event.token, endpoint=endpoint)
        self._connections[gid] = info
        _LOGGER.debug("guild %s: voice server changed to %s", gid, endpoint)
        await self._notify_update(info)

    async def _notify_update(self, info: VoiceConnectionInfo) -> None:
        callback = self.on_update
        if callback is not None:
            await self._call(callback(info), f"on_update for guild {info.guild_id}")

    async def _notify_disconnect(self, guild_id: int) -> None:
        callback = self.on_disconnect
        if callback is not None:
            await self._call(callback(guild_id), f"on_disconnect for guild {guild_id}")

    async def _call(self, awaitable: Awaitable[None], what: str) -> None:
        # One callback at a time, in the order the events came, so a move and the following server update
        # reach the player in order.
        async with self._callback_lock:
            try:
                await awaitable
            except Exception:
                _LOGGER.exception("voice callback %s failed", what)
