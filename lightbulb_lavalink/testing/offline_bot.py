"""A real `hikari.GatewayBot` that is never started, and the stand-in shard hikari reads while fed payloads."""

from __future__ import annotations

__all__ = ["DEFAULT_BOT_ID", "FakeShard", "GatewayOfflineError", "make_bot", "make_token"]

import base64
import typing

import hikari

DEFAULT_BOT_ID: typing.Final[int] = 1_180_000_000_000_000_001
"""The user id (and application id) `make_bot` and `FakeDiscord` use when given none."""

_OFFLINE_REST_URL: typing.Final[str] = "http://127.0.0.1:9/api/v10"
"""Where the offline bot's REST client points: the loopback discard port, so nothing leaves the machine."""


class GatewayOfflineError(RuntimeError):
    """Something tried to reach Discord through the fake gateway, or used it before `connect()`."""


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
