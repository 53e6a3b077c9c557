"""`FakeDiscord`: a small model of Discord's side that feeds real gateway payloads to a never-started bot."""

from __future__ import annotations

__all__ = ["FakeDiscord", "FakeGuild", "PayloadRejectedError", "VoiceRecord"]

import asyncio
import itertools
import logging
import secrets
import typing

import attrs
import hikari

from lightbulb_lavalink.clock import SYSTEM_CLOCK
from lightbulb_lavalink.testing.gateway_limits import GatewayClose, ShardGateway
from lightbulb_lavalink.testing.gateway_payloads import (
    guild_create_payload,
    member_payload,
    ready_payload,
    text_channel_payload,
    user_payload,
    voice_channel_payload,
    voice_server_update_payload,
    voice_state_payload,
)
from lightbulb_lavalink.testing.offline_bot import DEFAULT_BOT_ID, FakeShard, GatewayOfflineError

if typing.TYPE_CHECKING:
    from collections.abc import Mapping

    from lightbulb_lavalink.clock import Clock

_LOGGER = logging.getLogger("lightbulb_lavalink.testing.fake_discord")

_SETTLE_ROUNDS: typing.Final[int] = 12
"""Event loop turns `settle()` yields: enough for listener tasks and the coroutines they wake to run."""


class PayloadRejectedError(ValueError):
    """hikari could not consume a payload fed to it (malformed, or a failure in hikari's own handling)."""


@attrs.define(kw_only=True, weakref_slot=False)
class VoiceRecord:
    """Where Discord believes a user is in voice, in one guild."""

    channel_id: int
    """The voice channel."""
    session_id: str
    """The gateway session id the state belongs to (the bot's, for the bot)."""
    self_mute: bool = False
    """Whether the user muted itself."""
    self_deaf: bool = False
    """Whether the user deafened itself."""


@attrs.define(kw_only=True, weakref_slot=False, eq=False)
class FakeGuild:
    """A guild as `FakeDiscord` models it: channels, members and current voice states."""

    id: int
    """The guild id (also the id of its @everyone role)."""
    name: str
    """The guild name."""
    owner_id: int
    """The owner's user id (the first member)."""
    voice_channel_ids: list[int] = attrs.field(factory=list)
    """Voice channels, in position order."""
    text_channel_ids: list[int] = attrs.field(factory=list)
    """Text channels, in position order."""
    member_ids: list[int] = attrs.field(factory=list)
    """Human members (the bot is a member too, but is not listed here)."""
    voice: dict[int, VoiceRecord] = attrs.field(factory=dict)
    """User id -> where that user is in voice; the bot's own entry included."""

    def listeners(self, channel_id: int, *, bot_id: int) -> list[int]:
        """The users other than the bot in `channel_id`."""
        return [user for user, record in self.voice.items() if record.channel_id == channel_id and user != bot_id]


class FakeDiscord:
    """A small model of Discord that feeds real gateway payloads to a never-started bot.

    It keeps the bot user, guilds, channels, members and voice states, and the bot's current gateway session.
    `connect(bot)` plays a gateway connection (READY then GUILD_CREATE for every guild); calling it again,
    with the same or a new bot, plays a restart: a new gateway session id, and GUILD_CREATE still carrying
    the bot's voice state from its previous session (Discord keeps it until the bot rejoins or times out).

    Each shard's gateway applies Discord's rate limit on `clock` (`gateway(shard_id)`, a
    `lightbulb_lavalink.testing.gateway_limits.ShardGateway`): hikari's own pacing in front, 120 commands per
    connection in 60 s, and a close with 4008 for the one that goes over (`closes`). `connect()` opens a new
    connection on every shard.
    """

    def __init__(
        self,
        *,
        bot_id: int = DEFAULT_BOT_ID,
        bot_name: str = "lavalink-test-bot",
        application_id: int | None = None,
        shard_count: int = 1,
        first_id: int = 1_200_000_000_000_000_000,
        clock: Clock | None = None,
        reconnect_delay: float = 1.0,
    ) -> None:
        self.bot_id = bot_id
        """The bot's user id."""
        self.application_id = application_id if application_id is not None else bot_id
        """The application id (the bot's user id for every bot created since 2016)."""
        self.bot_user = user_payload(bot_id, bot_name, bot=True)
        """The bot's user object."""
        self.shard_count = shard_count
        """How many shards the bot runs; guilds map to shards as Discord maps them."""
        self.bot: hikari.GatewayBot | None = None
        """The bot currently connected, or `None` before `connect()`."""
        self.session_id: str | None = None
        """The bot's current gateway session id (from the last READY), or `None` before `connect()`."""
        self.sessions: list[str] = []
        """Every gateway session id handed out, oldest first."""
        self.guilds: dict[int, FakeGuild] = {}
        """Guild id -> guild."""
        self.clock: Clock = clock if clock is not None else SYSTEM_CLOCK
        """The clock the gateway rate limit is counted on (a `ManualClock` in deterministic tests)."""
        self.reconnect_delay = reconnect_delay
        """Seconds a shard closed by Discord takes to reconnect and resume."""
        self.closes: list[GatewayClose] = []
        """Every gateway connection Discord closed (4008 for too many commands), oldest first."""
        self._ids = itertools.count(first_id)
        self._shards: dict[int, FakeShard] = {}
        self._gateways: dict[int, ShardGateway] = {}

    # -- ids and shards --

    def next_id(self) -> int:
        """A fresh snowflake-sized id."""
        return next(self._ids)

    def shard_for(self, guild_id: int) -> FakeShard:
        """The shard of the connected bot that serves `guild_id`."""
        return self._shard_by_id(self._sid(guild_id))

    def shard_of(self, guild_id: int) -> int:
        """The id of the shard that serves `guild_id`: ``(guild_id >> 22) % shard_count``."""
        return self._sid(guild_id)

    def gateway(self, shard_id: int) -> ShardGateway:
        """Shard `shard_id`'s gateway connection (its rate limit), opened by `connect()`."""
        self._require_bot()
        gateway = self._gateways.get(shard_id)
        if gateway is None:
            raise ValueError(f"shard {shard_id} out of range for {self.shard_count} shard(s)")
        return gateway

    def guild(self, guild_id: int) -> FakeGuild:
        """The guild `guild_id`; `KeyError` with a clear message if it was never added."""
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise KeyError(f"FakeDiscord has no guild {guild_id}; add it with add_guild() first") from None

    # -- feeding --

    def feed_now(self, event_name: str, payload: Mapping[str, typing.Any], *, shard_id: int = 0) -> None:
        """Hand one dispatch to the bot's event manager now, without yielding to the event loop.

        hikari (>= 2.2) parses the payload and fills its cache right here, reporting a failure to the event
        loop's exception handler; that failure is raised here instead (`PayloadRejectedError`), so a payload
        hikari cannot read fails the test that fed it.
        """
        bot = self._require_bot()
        shard = self._shard_by_id(shard_id)
        body = dict(payload)
        loop = asyncio.get_running_loop()
        previous = loop.get_exception_handler()
        rejected: list[BaseException] = []

        def capture(loop: asyncio.AbstractEventLoop, context: dict[str, typing.Any]) -> None:
            exception = context.get("exception")
            if context.get("payload") is body and isinstance(exception, BaseException):
                rejected.append(exception)
            elif previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)

        _LOGGER.debug("feeding %s to shard %s: %s", event_name, shard_id, body)
        loop.set_exception_handler(capture)
        try:
            bot.event_manager.consume_raw_event(event_name, typing.cast("hikari.api.GatewayShard", shard), body)
        finally:
            loop.set_exception_handler(previous)
        if rejected:
            raise PayloadRejectedError(f"hikari could not consume {event_name}: {rejected[0]!r}") from rejected[0]

    async def feed(self, event_name: str, payload: Mapping[str, typing.Any], *, shard_id: int = 0) -> None:
        """Hand one dispatch to the bot, then let its listeners run (`settle()`)."""
        self.feed_now(event_name, payload, shard_id=shard_id)
        await self.settle()

    async def settle(self) -> None:
        """Yield a few event loop turns so listener tasks (and what they wake) run to their next wait."""
        for _ in range(_SETTLE_ROUNDS):
            await asyncio.sleep(0)

    # -- connection --

    async def connect(self, bot: hikari.GatewayBot, *, session_id: str | None = None) -> str:
        """Connect `bot` (or reconnect after a restart): READY with a new session id, then every GUILD_CREATE.

        Returns the new gateway session id. The bot's voice states from an earlier session are kept (and sent
        in GUILD_CREATE) until it rejoins or leaves; `forget_bot_voice()` drops them first if wanted.
        """
        self.bot = bot
        self._shards.clear()
        self._gateways = {
            shard_id: ShardGateway(shard_id, self.clock, reconnect_delay=self.reconnect_delay, closes=self.closes)
            for shard_id in range(self.shard_count)
        }
        self.session_id = session_id if session_id is not None else secrets.token_hex(16)
        self.sessions.append(self.session_id)
        for shard_id in range(self.shard_count):
            guild_ids = [gid for gid in self.guilds if self._sid(gid) == shard_id]
            self.feed_now(
                "READY",
                ready_payload(
                    self.bot_user,
                    self.session_id,
                    guild_ids=guild_ids,
                    application_id=self.application_id,
                    shard=(shard_id, self.shard_count),
                ),
                shard_id=shard_id,
            )
        for guild in self.guilds.values():
            self.feed_now("GUILD_CREATE", self._guild_create(guild, available=True), shard_id=self._sid(guild.id))
        await self.settle()
        return self.session_id

    async def restart(self, bot: hikari.GatewayBot | None = None, *, session_id: str | None = None) -> str:
        """A bot restart: `connect()` the new `bot` (or the same one again) under a new gateway session."""
        return await self.connect(bot if bot is not None else self._require_bot(), session_id=session_id)

    def forget_bot_voice(self) -> None:
        """Drop the bot's voice states everywhere without telling the bot (Discord timed them out)."""
        for guild in self.guilds.values():
            guild.voice.pop(self.bot_id, None)

    # -- guilds and members --

    async def add_guild(
        self,
        guild_id: int | None = None,
        *,
        name: str | None = None,
        voice_channels: int = 2,
        text_channels: int = 1,
        members: int = 2,
    ) -> FakeGuild:
        """Create a guild with fresh ids; if a bot is connected, feed its GUILD_CREATE (the bot was added)."""
        gid = guild_id if guild_id is not None else self.next_id()
        if gid in self.guilds:
            raise ValueError(f"guild {gid} already exists")
        member_ids = [self.next_id() for _ in range(members)]
        guild = FakeGuild(
            id=gid,
            name=name if name is not None else f"guild-{gid % 10_000}",
            owner_id=member_ids[0] if member_ids else self.next_id(),
            voice_channel_ids=[self.next_id() for _ in range(voice_channels)],
            text_channel_ids=[self.next_id() for _ in range(text_channels)],
            member_ids=member_ids,
        )
        self.guilds[gid] = guild
        if self.bot is not None:
            await self.feed("GUILD_CREATE", self._guild_create(guild, available=False), shard_id=self._sid(gid))
        return guild

    def member(self, guild_id: int, user_id: int) -> dict[str, typing.Any]:
        """The member payload of `user_id` in `guild_id` (the bot included)."""
        if user_id == self.bot_id:
            return member_payload(self.bot_user)
        return member_payload(user_payload(user_id, f"user{user_id % 10_000}"))

    # -- voice --

    def bot_voice(self, guild_id: int) -> VoiceRecord | None:
        """Where Discord believes the bot is in voice in `guild_id`."""
        return self.guild(guild_id).voice.get(self.bot_id)

    def voice_state_now(
        self,
        guild_id: int,
        user_id: int,
        channel_id: int | None,
        *,
        session_id: str | None = None,
        self_mute: bool = False,
        self_deaf: bool = False,
    ) -> None:
        """Record a user's voice state and feed the VOICE_STATE_UPDATE at once (no yield).

        For the bot, `session_id` defaults to its current gateway session; for others to a stable per-user id.
        """
        guild = self.guild(guild_id)
        if session_id is None:
            session_id = self.require_session() if user_id == self.bot_id else f"{user_id:032x}"[-32:]
        if channel_id is None:
            guild.voice.pop(user_id, None)
        else:
            guild.voice[user_id] = VoiceRecord(
                channel_id=channel_id, session_id=session_id, self_mute=self_mute, self_deaf=self_deaf
            )
        self.feed_now(
            "VOICE_STATE_UPDATE",
            voice_state_payload(
                guild_id,
                user_id,
                channel_id,
                session_id,
                member=self.member(guild_id, user_id),
                self_mute=self_mute,
                self_deaf=self_deaf,
            ),
            shard_id=self._sid(guild_id),
        )

    async def voice_state(self, guild_id: int, user_id: int, channel_id: int | None, **kwargs: typing.Any) -> None:
        """`voice_state_now()` then `settle()`: a user joins (`channel_id`), moves, or leaves (`None`)."""
        self.voice_state_now(guild_id, user_id, channel_id, **kwargs)
        await self.settle()

    def voice_server_now(self, guild_id: int, *, token: str | None = None, endpoint: str | None) -> str:
        """Feed a VOICE_SERVER_UPDATE at once (no yield); returns the token sent (a fresh one by default)."""
        self.guild(guild_id)
        sent = token if token is not None else secrets.token_hex(8)
        self.feed_now(
            "VOICE_SERVER_UPDATE",
            voice_server_update_payload(guild_id, sent, endpoint),
            shard_id=self._sid(guild_id),
        )
        return sent

    async def voice_server(self, guild_id: int, *, token: str | None = None, endpoint: str | None) -> str:
        """`voice_server_now()` then `settle()`."""
        sent = self.voice_server_now(guild_id, token=token, endpoint=endpoint)
        await self.settle()
        return sent

    # -- internals --

    def _guild_create(self, guild: FakeGuild, *, available: bool) -> dict[str, typing.Any]:
        channels = [
            voice_channel_payload(cid, f"voice-{i}", position=i) for i, cid in enumerate(guild.voice_channel_ids)
        ]
        channels += [text_channel_payload(cid, f"text-{i}", position=i) for i, cid in enumerate(guild.text_channel_ids)]
        members = [self.member(guild.id, self.bot_id)] + [self.member(guild.id, uid) for uid in guild.member_ids]
        states = [
            voice_state_payload(
                None, uid, rec.channel_id, rec.session_id, self_mute=rec.self_mute, self_deaf=rec.self_deaf
            )
            for uid, rec in guild.voice.items()
        ]
        return guild_create_payload(
            guild.id,
            guild.name,
            guild.owner_id,
            channels=channels,
            members=members,
            voice_states=states,
            available=available,
        )

    def _sid(self, guild_id: int) -> int:
        return hikari.snowflakes.calculate_shard_id(self.shard_count, guild_id)

    def _shard_by_id(self, shard_id: int) -> FakeShard:
        bot = self._require_bot()
        if not 0 <= shard_id < self.shard_count:
            raise ValueError(f"shard {shard_id} out of range for {self.shard_count} shard(s)")
        shard = self._shards.get(shard_id)
        if shard is None:
            shard = FakeShard(shard_id, self.shard_count, self.bot_id, bot.intents)
            self._shards[shard_id] = shard
        return shard

    def _require_bot(self) -> hikari.GatewayBot:
        if self.bot is None:
            raise GatewayOfflineError("no bot is connected to FakeDiscord; call `await discord.connect(bot)` first")
        return self.bot

    def require_session(self) -> str:
        """The bot's gateway session id (raises `GatewayOfflineError` before `connect()`)."""
        if self.session_id is None:
            raise GatewayOfflineError("the bot has no gateway session yet; call `await discord.connect(bot)` first")
        return self.session_id
