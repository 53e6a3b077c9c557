"""Drive a real, never-started `hikari.GatewayBot` with the gateway payloads Discord sends.

Nothing here talks to Discord. `make_bot` builds a `GatewayBot` whose cache and event manager work without
starting it (its REST client is inactive and points at a closed loopback port, so any REST call fails
loudly). `FakeDiscord` is a small model of Discord's side (the bot user, guilds, channels, members, voice
states, the bot's gateway session) that feeds READY, GUILD_CREATE, VOICE_STATE_UPDATE and VOICE_SERVER_UPDATE
payloads, shaped exactly as Discord sends them, through `bot.event_manager.consume_raw_event`.
`FakeVoiceGateway` stands in for the one call that would leave the machine, `update_voice_state`, and
answers as Discord does.

```python
bot = make_bot()
discord = FakeDiscord()
guild = await discord.add_guild(voice_channels=2, members=3)
await discord.connect(bot)                       # READY + GUILD_CREATE
async with FakeVoiceGateway(discord) as voice:   # pass as LavalinkClient(..., voice_gateway=voice)
    await voice.update_voice_state(guild.id, guild.voice_channel_ids[0], self_mute=False, self_deaf=True)
    await voice.wait_idle()                      # VOICE_STATE_UPDATE then VOICE_SERVER_UPDATE were fed
    await discord.connect(make_bot())            # a bot restart: new process, new gateway session id
```
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_BOT_ID",
    "FakeDiscord",
    "FakeGuild",
    "FakeShard",
    "FakeVoiceGateway",
    "GatewayOfflineError",
    "PayloadRejectedError",
    "VoiceCall",
    "VoiceRecord",
    "guild_create_payload",
    "make_bot",
    "make_token",
    "member_payload",
    "ready_payload",
    "text_channel_payload",
    "user_payload",
    "voice_channel_payload",
    "voice_server_update_payload",
    "voice_state_payload",
]

import asyncio
import base64
import itertools
import logging
import secrets
import typing

import attrs
import hikari

if typing.TYPE_CHECKING:
    import types
    from collections.abc import Iterable, Mapping, Sequence

_LOGGER = logging.getLogger("lightbulb_lavalink.testing.gateway")

DEFAULT_BOT_ID: typing.Final[int] = 1_180_000_000_000_000_001
"""The user id (and application id) `make_bot` and `FakeDiscord` use when given none."""

_OFFLINE_REST_URL: typing.Final[str] = "http://127.0.0.1:9/api/v10"
"""Where the offline bot's REST client points: the loopback discard port, so nothing leaves the machine."""

_JOINED_AT: typing.Final[str] = "2024-03-01T12:00:00.000000+00:00"

_SETTLE_ROUNDS: typing.Final[int] = 12
"""Event loop turns `settle()` yields: enough for listener tasks and the coroutines they wake to run."""


class GatewayOfflineError(RuntimeError):
    """Something tried to reach Discord through the fake gateway, or used it before `connect()`."""


class PayloadRejectedError(ValueError):
    """hikari could not consume a payload fed to it (malformed, or a failure in hikari's own handling)."""


# ------------------------------------------------------------------------------------------
# Payloads, shaped as Discord sends them (API v10). Ids are strings on the wire.
# ------------------------------------------------------------------------------------------


def user_payload(user_id: int, username: str, *, bot: bool = False) -> dict[str, typing.Any]:
    """A user object as it appears in members, voice states and READY."""
    payload: dict[str, typing.Any] = {
        "id": str(user_id),
        "username": username,
        "global_name": None if bot else username.title(),
        "discriminator": "4821" if bot else "0",
        "avatar": None,
        "avatar_decoration_data": None,
        "public_flags": 0,
        "primary_guild": None,
        "clan": None,
    }
    if bot:
        payload["bot"] = True
    return payload


def member_payload(user: Mapping[str, typing.Any], *, joined_at: str = _JOINED_AT) -> dict[str, typing.Any]:
    """A guild member object wrapping `user` (no roles beyond @everyone)."""
    return {
        "user": dict(user),
        "roles": [],
        "nick": None,
        "avatar": None,
        "banner": None,
        "joined_at": joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }


def voice_channel_payload(
    channel_id: int, name: str, *, position: int = 0, guild_id: int | None = None
) -> dict[str, typing.Any]:
    """A guild voice channel (type 2); `guild_id` is absent inside GUILD_CREATE, as Discord sends it."""
    payload: dict[str, typing.Any] = {
        "id": str(channel_id),
        "type": 2,
        "name": name,
        "position": position,
        "parent_id": None,
        "permission_overwrites": [],
        "bitrate": 64000,
        "user_limit": 0,
        "rtc_region": None,
        "nsfw": False,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    return payload


def text_channel_payload(
    channel_id: int, name: str, *, position: int = 0, guild_id: int | None = None
) -> dict[str, typing.Any]:
    """A guild text channel (type 0); `guild_id` is absent inside GUILD_CREATE, as Discord sends it."""
    payload: dict[str, typing.Any] = {
        "id": str(channel_id),
        "type": 0,
        "name": name,
        "position": position,
        "parent_id": None,
        "permission_overwrites": [],
        "topic": None,
        "nsfw": False,
        "last_message_id": None,
        "last_pin_timestamp": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    return payload


def voice_state_payload(
    guild_id: int | None,
    user_id: int,
    channel_id: int | None,
    session_id: str,
    *,
    member: Mapping[str, typing.Any] | None = None,
    self_mute: bool = False,
    self_deaf: bool = False,
) -> dict[str, typing.Any]:
    """A voice state: the VOICE_STATE_UPDATE body (with `guild_id` and `member`) or a GUILD_CREATE entry.

    Inside GUILD_CREATE Discord omits `guild_id` and `member`: pass `guild_id=None` and no member.
    """
    payload: dict[str, typing.Any] = {
        "channel_id": None if channel_id is None else str(channel_id),
        "user_id": str(user_id),
        "session_id": session_id,
        "deaf": False,
        "mute": False,
        "self_deaf": self_deaf,
        "self_mute": self_mute,
        "self_video": False,
        "suppress": False,
        "request_to_speak_timestamp": None,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    if member is not None:
        payload["member"] = dict(member)
    return payload


def voice_server_update_payload(guild_id: int, token: str, endpoint: str | None) -> dict[str, typing.Any]:
    """The VOICE_SERVER_UPDATE body; `endpoint` is ``host:port`` (no scheme), or `None` (reallocating)."""
    return {"token": token, "guild_id": str(guild_id), "endpoint": endpoint}


def ready_payload(
    user: Mapping[str, typing.Any],
    session_id: str,
    *,
    guild_ids: Iterable[int] = (),
    application_id: int | None = None,
    shard: tuple[int, int] = (0, 1),
) -> dict[str, typing.Any]:
    """The READY body for a bot: its user, the gateway session id and its guilds (all unavailable)."""
    own_user = {
        **user,
        "bot": True,
        "verified": True,
        "mfa_enabled": False,
        "email": None,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "bio": "",
    }
    return {
        "v": 10,
        "user_settings": {},
        "user": own_user,
        "session_type": "normal",
        "session_id": session_id,
        "resume_gateway_url": "wss://gateway-us-east1-b.discord.gg",
        "relationships": [],
        "private_channels": [],
        "presences": [],
        "guilds": [{"id": str(guild_id), "unavailable": True} for guild_id in guild_ids],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["rotterdam", "milan", "russia", "madrid", "frankfurt"],
        "auth": {},
        "application": {
            "id": str(application_id if application_id is not None else user["id"]),
            "flags": 565248,
        },
        "shard": list(shard),
        "_trace": ['["gateway-prd-us-east1-b-abcd",{"micros":61234}]'],
    }


def guild_create_payload(
    guild_id: int,
    name: str,
    owner_id: int,
    *,
    channels: Sequence[Mapping[str, typing.Any]] = (),
    members: Sequence[Mapping[str, typing.Any]] = (),
    voice_states: Sequence[Mapping[str, typing.Any]] = (),
    available: bool = True,
) -> dict[str, typing.Any]:
    """The GUILD_CREATE body: the guild with its @everyone role, channels, members and voice states.

    `available=True` marks a guild that was listed (unavailable) in READY, so hikari dispatches
    `GuildAvailableEvent`; `available=False` omits the flag, as for a guild the bot was just added to.
    """
    payload: dict[str, typing.Any] = {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "icon_hash": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "widget_enabled": False,
        "widget_channel_id": None,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": [
            {
                "id": str(guild_id),
                "name": "@everyone",
                "description": None,
                "color": 0,
                "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                "hoist": False,
                "icon": None,
                "unicode_emoji": None,
                "position": 0,
                "permissions": "2248473465835073",
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "max_members": 500000,
        "max_presences": None,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "en-US",
        "nsfw": False,
        "nsfw_level": 0,
        "hub_type": None,
        "incidents_data": None,
        "latest_onboarding_question_id": None,
        "home_header": None,
        "inventory_settings": None,
        "version": 1709294400000,
        "lazy": True,
        "large": False,
        "joined_at": _JOINED_AT,
        "member_count": len(members),
        "channels": [dict(channel) for channel in channels],
        "threads": [],
        "members": [dict(member) for member in members],
        "voice_states": [dict(state) for state in voice_states],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "embedded_activities": [],
        "activity_instances": [],
        "application_command_counts": {},
    }
    if available:
        payload["unavailable"] = False
    return payload


# ------------------------------------------------------------------------------------------
# The bot and the shard stand-in
# ------------------------------------------------------------------------------------------


def make_token(bot_id: int = DEFAULT_BOT_ID) -> str:
    """A syntactically valid bot token for `bot_id` (hikari >= 2.6 reads the id from its first segment)."""
    head = base64.b64encode(str(bot_id).encode()).decode().rstrip("=")
    return f"{head}.ZmFrZQ.offline-token-never-sent-to-discord-0000"


def make_bot(
    token: str | None = None,
    *,
    bot_id: int = DEFAULT_BOT_ID,
    intents: hikari.Intents = hikari.Intents.ALL_UNPRIVILEGED,
    cache_settings: hikari.impl.CacheSettings | None = None,
) -> hikari.GatewayBot:
    """A `GatewayBot` that is never started: cache and event manager work, nothing can leave the machine.

    Its REST client is inactive (any call raises `hikari.ComponentStateConflictError`) and points at the
    loopback discard port; member chunking is off; hikari's logging set-up and banner are skipped.
    """
    return hikari.GatewayBot(
        token if token is not None else make_token(bot_id),
        banner=None,
        logs=None,
        suppress_optimization_warning=True,
        intents=intents,
        cache_settings=cache_settings,
        auto_chunk_members=False,
        rest_url=_OFFLINE_REST_URL,
    )


class FakeShard:
    """The minimal shard hikari reads while consuming raw events (`id`, `get_user_id()`, ...).

    Every call that would send something to Discord raises `GatewayOfflineError`.
    """

    def __init__(self, shard_id: int, shard_count: int, user_id: int, intents: hikari.Intents) -> None:
        self.id = shard_id
        """The shard id."""
        self.shard_count = shard_count
        """How many shards the bot runs."""
        self.intents = intents
        """The intents the bot was built with."""
        self.heartbeat_latency = 0.0
        """Always 0.0: there is no heartbeat."""
        self.is_alive = True
        """Always `True`: the fake shard is "connected" while its `FakeDiscord` feeds it."""
        self.is_connected = True
        """Always `True`."""
        self._user_id = hikari.Snowflake(user_id)

    def get_user_id(self) -> hikari.Snowflake:
        """The bot's user id, as a real shard knows it after READY."""
        return self._user_id

    async def update_voice_state(self, *args: object, **kwargs: object) -> None:
        """Refuse: use `FakeVoiceGateway` for voice state updates."""
        raise GatewayOfflineError("FakeShard.update_voice_state would send OP4 to Discord; use FakeVoiceGateway")

    async def request_guild_members(self, *args: object, **kwargs: object) -> None:
        """Refuse: member chunking would ask Discord."""
        raise GatewayOfflineError("FakeShard.request_guild_members would send OP8 to Discord")

    async def update_presence(self, *args: object, **kwargs: object) -> None:
        """Refuse: presence updates would go to Discord."""
        raise GatewayOfflineError("FakeShard.update_presence would send OP3 to Discord")

    def __repr__(self) -> str:
        return f"FakeShard(id={self.id}, shard_count={self.shard_count})"


# ------------------------------------------------------------------------------------------
# Discord's side
# ------------------------------------------------------------------------------------------


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
    """

    def __init__(
        self,
        *,
        bot_id: int = DEFAULT_BOT_ID,
        bot_name: str = "lavalink-test-bot",
        application_id: int | None = None,
        shard_count: int = 1,
        first_id: int = 1_200_000_000_000_000_000,
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
        self._ids = itertools.count(first_id)
        self._shards: dict[int, FakeShard] = {}

    # -- ids and shards --

    def next_id(self) -> int:
        """A fresh snowflake-sized id."""
        return next(self._ids)

    def shard_for(self, guild_id: int) -> FakeShard:
        """The shard of the connected bot that serves `guild_id`."""
        return self._shard_by_id(self._sid(guild_id))

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
        self.session_id = session_id if session_id is not None else secrets.token_hex(16)
        self.sessions.append(self.session_id)
        for shard_id in range(self.shard_count):
            shard = self._shard_by_id(shard_id)
            guild_ids = [gid for gid in self.guilds if self.shard_for(gid) is shard]
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
            session_id = self._require_session() if user_id == self.bot_id else f"{user_id:032x}"[-32:]
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

    def _require_session(self) -> str:
        if self.session_id is None:
            raise GatewayOfflineError("the bot has no gateway session yet; call `await discord.connect(bot)` first")
        return self.session_id


# ------------------------------------------------------------------------------------------
# The voice gateway stand-in
# ------------------------------------------------------------------------------------------


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
        self.calls: list[VoiceCall] = []
        """Every call received, oldest first."""
        self.tokens: dict[int, str] = {}
        """Guild id -> the last voice token sent."""
        self.endpoints: dict[int, str | None] = {}
        """Guild id -> the last endpoint sent."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._region_counter = itertools.count(2)

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
        self.calls.append(
            VoiceCall(
                guild_id=guild_id,
                channel_id=channel_id,
                self_mute=self_mute,
                self_deaf=self_deaf,
                session_id=self.discord.session_id,
            )
        )
        self.discord._require_session()
        if not self.respond:
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
                session_id=discord._require_session(),
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
