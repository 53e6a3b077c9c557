"""`FakeVoiceGateway`: stands in for `update_voice_state` (OP4) and answers through `FakeDiscord` as Discord does."""

from __future__ import annotations

__all__ = ["FakeVoiceGateway", "VoiceCall"]

import asyncio
import itertools
import typing

import attrs
import hikari

from lightbulb_lavalink.testing.fake_discord import VoiceRecord
from lightbulb_lavalink.testing.offline_bot import GatewayOfflineError

if typing.TYPE_CHECKING:
    import types

    from lightbulb_lavalink.testing.fake_discord import FakeDiscord
    from lightbulb_lavalink.testing.gateway_limits import ShardGateway


@attrs.define(frozen=True, kw_only=True, weakref_slot=False)
class VoiceCall:
    """One `update_voice_state` call `FakeVoiceGateway` received (what would have been OP4)."""

    guild_id: int
    """The guild."""
    channel_id: int | None
    """The channel to join, or `None` to leave."""
    self_mute: bool
    """The requested self-mute flag."""
    self_deaf: bool
    """The requested self-deaf flag."""
    session_id: str | None
    """The bot's gateway session id when the call was made."""


class FakeVoiceGateway:
    """Stands in for `update_voice_state` (OP4) and answers as Discord does, through `FakeDiscord`.

    A join (a channel id) is answered, a loop turn later, by a VOICE_STATE_UPDATE for the bot (its current
    gateway session id, the channel) and then a VOICE_SERVER_UPDATE (a fresh token and `endpoint`); a leave
    (`None`) by a VOICE_STATE_UPDATE with a null channel when the bot was in voice there. The attributes below
    switch on the awkward cases; the async methods play what Discord does on its own (moves, kicks, region
    changes, restarts). Every call is recorded in `calls`. Answers run in tasks this object owns:
    `wait_idle()` waits for them, `close()` (or leaving `async with`) cancels what is left.

    Each OP4 goes out through its shard's gateway (`FakeDiscord.gateway`) as through a real hikari shard: it
    waits in hikari's limiter when hikari would hold it (`hikari_pacing`), and Discord counts it. One that goes
    over Discord's limit is not answered: the shard is closed with 4008 (`FakeDiscord.closes`) and, while it
    reconnects, calls raise `hikari.ComponentStateConflictError` as hikari does.
    """

    def __init__(
        self,
        discord: FakeDiscord,
        *,
        respond: bool = True,
        send_state: bool = True,
        send_server: bool = True,
        synchronous: bool = False,
        server_first: bool = False,
        null_endpoint_first: bool = False,
        server_on_rejoin: bool = True,
        endpoint: str = "c-rot01-0a1b2c3d.discord.media:443",
        delay: float = 0.0,
        hikari_pacing: bool = True,
    ) -> None:
        self.discord = discord
        """The Discord model answers are fed through."""
        self.respond = respond
        """`False`: record calls and answer nothing (a join then times out)."""
        self.send_state = send_state
        """`False`: on join, skip the VOICE_STATE_UPDATE (only the server update arrives)."""
        self.send_server = send_server
        """`False`: on join, skip the VOICE_SERVER_UPDATE (only the state update arrives)."""
        self.synchronous = synchronous
        """`True`: answer inside `update_voice_state` and let listeners run before it returns.

        As when the answer arrives while the OP4 send is still being awaited: a caller that registers its
        waiters only after `update_voice_state` returns misses both events.
        """
        self.server_first = server_first
        """`True`: VOICE_SERVER_UPDATE before VOICE_STATE_UPDATE (Discord does not promise the order)."""
        self.null_endpoint_first = null_endpoint_first
        """`True`: on join, a VOICE_SERVER_UPDATE with a null endpoint first, then the real one."""
        self.server_on_rejoin = server_on_rejoin
        """`False`: a join to the channel the bot is already in (same session) gets the state update only."""
        self.endpoint = endpoint
        """The ``host:port`` endpoint sent on join."""
        self.delay = delay
        """Seconds to wait before answering (0: one loop turn, like a fast gateway)."""
        self.hikari_pacing = hikari_pacing
        """`True`: OP4s wait in a model of hikari's shard limiter, as through `HikariVoiceGateway`; `False`: they
        reach Discord at once, as from a sender that bypasses hikari's pacing."""
        self.calls: list[VoiceCall] = []
        """Every call received, oldest first."""
        self.tokens: dict[int, str] = {}
        """Guild id -> the last voice token sent."""
        self.endpoints: dict[int, str | None] = {}
        """Guild id -> the last endpoint sent."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._gateways: set[ShardGateway] = set()
        self._region_counter = itertools.count(2)

    def shard_of(self, guild_id: int) -> int:
        """The shard that carries `guild_id`'s commands (what `VoiceManager` paces by)."""
        return self.discord.shard_of(guild_id)

    # -- the VoiceGateway protocol --

    async def update_voice_state(
        self,
        guild: hikari.SnowflakeishOr[hikari.PartialGuild],
        channel: hikari.SnowflakeishOr[hikari.GuildVoiceChannel] | None,
        /,
        *,
        self_mute: bool = False,
        self_deaf: bool = False,
    ) -> None:
        """Record the OP4 and schedule Discord's answer (or give it now when `synchronous`)."""
        guild_id = int(guild)
        channel_id = None if channel is None else int(channel)
        self.discord.guild(guild_id)
        self.discord.require_session()
        gateway = self.discord.gateway(self.discord.shard_of(guild_id))
        self._gateways.add(gateway)
        processed = await gateway.send("OP4 voice state update", paced=self.hikari_pacing)
        self.calls.append(
            VoiceCall(
                guild_id=guild_id,
                channel_id=channel_id,
                self_mute=self_mute,
                self_deaf=self_deaf,
                session_id=self.discord.session_id,
            )
        )
        if not self.respond or not processed:
            return
        if self.synchronous:
            self._answer_now(guild_id, channel_id, self_mute=self_mute, self_deaf=self_deaf)
            await self.discord.settle()
            return
        task = asyncio.get_running_loop().create_task(
            self._answer_later(guild_id, channel_id, self_mute=self_mute, self_deaf=self_deaf),
            name=f"FakeVoiceGateway answer guild {guild_id}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- what Discord does on its own --

    async def move(self, guild_id: int, channel_id: int, *, new_server: bool = True) -> None:
        """Someone drags the bot to `channel_id`: a VOICE_STATE_UPDATE, then (by default) a server update."""
        record = self._bot_record(guild_id, "move")
        self.discord.voice_state_now(
            guild_id, self.discord.bot_id, channel_id, self_mute=record.self_mute, self_deaf=record.self_deaf
        )
        if new_server:
            self._send_server(guild_id, self.endpoints.get(guild_id) or self.endpoint)
        await self.discord.settle()

    async def region_change(self, guild_id: int, *, endpoint: str | None = None) -> str:
        """The voice server changes (region change, failover): a VOICE_SERVER_UPDATE; returns the endpoint."""
        self._bot_record(guild_id, "region change")
        new = endpoint if endpoint is not None else f"c-fra{next(self._region_counter):02d}-9f8e7d6c.discord.media:443"
        self._send_server(guild_id, new)
        await self.discord.settle()
        return new

    async def server_deallocated(self, guild_id: int) -> None:
        """The voice server goes away: a VOICE_SERVER_UPDATE with a null endpoint (a real one comes later)."""
        self._bot_record(guild_id, "server deallocation")
        self._send_server(guild_id, None)
        await self.discord.settle()

    async def kick(self, guild_id: int) -> None:
        """A moderator disconnects the bot: a VOICE_STATE_UPDATE with a null channel, initiated by Discord."""
        self._bot_record(guild_id, "kick")
        self.discord.voice_state_now(guild_id, self.discord.bot_id, None)
        await self.discord.settle()

    async def restart(self, bot: hikari.GatewayBot | None = None, *, session_id: str | None = None) -> str:
        """A bot restart: READY again with a new gateway session id (see `FakeDiscord.connect`)."""
        return await self.discord.restart(bot, session_id=session_id)

    # -- task ownership --

    async def wait_idle(self) -> None:
        """Wait until every scheduled answer was fed, then let the listeners run."""
        while self._tasks:
            await asyncio.gather(*tuple(self._tasks))
        await self.discord.settle()

    async def close(self) -> None:
        """Cancel answers not yet sent and wait for them to finish."""
        tasks = tuple(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        gateways, self._gateways = self._gateways, set()
        for gateway in gateways:  # hikari's queue dies with the bot process
            await gateway.close()

    async def __aenter__(self) -> FakeVoiceGateway:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        await self.close()

    # -- internals --

    async def _answer_later(self, guild_id: int, channel_id: int | None, *, self_mute: bool, self_deaf: bool) -> None:
        await asyncio.sleep(self.delay)
        self._answer_now(guild_id, channel_id, self_mute=self_mute, self_deaf=self_deaf)

    def _answer_now(self, guild_id: int, channel_id: int | None, *, self_mute: bool, self_deaf: bool) -> None:
        discord = self.discord
        if channel_id is None:
            if discord.bot_voice(guild_id) is not None:
                discord.voice_state_now(guild_id, discord.bot_id, None)
            return
        before = discord.bot_voice(guild_id)
        rejoin = before is not None and before.channel_id == channel_id and before.session_id == discord.session_id
        send_server = self.send_server and (self.server_on_rejoin or not rejoin)
        if self.server_first and send_server:
            self._join_server(guild_id)
        if self.send_state:
            discord.voice_state_now(guild_id, discord.bot_id, channel_id, self_mute=self_mute, self_deaf=self_deaf)
        else:  # Discord's view changes even if the bot never hears of it
            discord.guild(guild_id).voice[discord.bot_id] = VoiceRecord(
                channel_id=channel_id,
                session_id=discord.require_session(),
                self_mute=self_mute,
                self_deaf=self_deaf,
            )
        if not self.server_first and send_server:
            self._join_server(guild_id)

    def _join_server(self, guild_id: int) -> None:
        if self.null_endpoint_first:
            self._send_server(guild_id, None)
        self._send_server(guild_id, self.endpoint)

    def _send_server(self, guild_id: int, endpoint: str | None) -> None:
        self.tokens[guild_id] = self.discord.voice_server_now(guild_id, endpoint=endpoint)
        self.endpoints[guild_id] = endpoint

    def _bot_record(self, guild_id: int, what: str) -> VoiceRecord:
        record = self.discord.bot_voice(guild_id)
        if record is None:
            raise GatewayOfflineError(f"cannot simulate a {what} in guild {guild_id}: the bot is not in voice there")
        return record
