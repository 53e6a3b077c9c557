"""`OfflineBot`: your own bot, started offline against `FakeLavalink` and a fake Discord, driven like a user would.

```python
def build(bot: hikari.GatewayBot) -> lightbulb.Client:   # the function your bot's main() uses too
    client = lightbulb.client_from_app(bot)

    @bot.listen(hikari.StartingEvent)
    async def on_starting(_: hikari.StartingEvent) -> None:
        await client.load_extensions("lightbulb_lavalink", "my_bot.music")

    bot.subscribe(hikari.StartedEvent, client.start)
    bot.subscribe(hikari.StoppingEvent, client.stop)
    return client

async with OfflineBot(build) as world:
    await world.join_voice(world.member)
    reply = await world.invoke("play", query="never gonna give you up")
    assert "Playing" in reply.text
    await world.restart()                                  # a deploy; `crash=True` for a crash
    assert (await world.lavalink()).get_player(world.guild.id) is not None
```

The kit hands your ``build`` a real, never-started `hikari.GatewayBot` whose REST calls go to `FakeDiscordRest`,
then registers in your lightbulb client's DI (DEFAULT context) what points the extension at the fakes: its
`LavalinkSettings`, a `SessionStore` that outlives the bot process, and the `FakeVoiceGateway` (on lightbulb 2,
pass ``bot_class=lightbulb.BotApp``; they go in ``bot.d`` before ``build`` runs). It then plays Discord's
side of the bot's life: `StartingEvent` (load your extensions there, as lightbulb's documentation does), READY
and GUILD_CREATE, `StartedEvent`, and on `restart()` or leaving, `StoppingEvent` and `StoppedEvent`.
"""

from __future__ import annotations

__all__ = ["OfflineBot"]

import asyncio
import inspect
import itertools
import logging
import typing

import hikari

from lightbulb_lavalink.errors import LavalinkError, MusicUnavailableError
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.stores import MemoryStore, SessionStore
from lightbulb_lavalink.testing.discord_rest import FakeDiscordRest, offline_bot, slash_command_payload
from lightbulb_lavalink.testing.fake_discord import FakeDiscord, FakeGuild
from lightbulb_lavalink.testing.process_store import ProcessStore
from lightbulb_lavalink.testing.replies import NoReplyError, Reply, command_options
from lightbulb_lavalink.testing.server import FakeLavalink
from lightbulb_lavalink.testing.voice_gateway import FakeVoiceGateway
from lightbulb_lavalink.voice import VoiceGateway

if typing.TYPE_CHECKING:
    import types
    from collections.abc import Awaitable, Callable, Mapping

    from lightbulb_lavalink.client import LavalinkClient

_LOGGER = logging.getLogger("lightbulb_lavalink.testing.offline")

BOT_ID: typing.Final[int] = 1_180_000_000_000_000_001
"""The offline bot's user and application id."""
OWNER_ID: typing.Final[int] = 1_170_000_000_000_000_007
"""The application owner's user id (as ``GET /oauth2/applications/@me`` answers)."""
NODE_PASSWORD: typing.Final[str] = "offline-node-password"
"""The password of the `FakeLavalink` the kit starts."""
_KIT_SETTINGS: typing.Final[Mapping[str, typing.Any]] = {
    "store": "memory://",  # unused: the kit registers its own store object
    "snapshot_interval": 0.0,  # write each change at once, so that a crash loses only what a real one would
    "reconnect_delay": 0.05,
    "reconnect_max_delay": 0.5,
    "voice_timeout": 5.0,
    "request_timeout": 5.0,
}

Build = typing.Callable[[hikari.GatewayBot], object]
"""Your bot's set-up: given the bot, build the lightbulb client (returned) and subscribe its listeners."""


class OfflineBot:
    """Your bot, offline: `FakeLavalink`, `FakeDiscordRest`, a `FakeDiscord` with one guild, `FakeVoiceGateway`.

    ``async with OfflineBot(build) as world:`` starts everything and the bot, and waits for the node's session;
    leaving stops the bot as a deploy would and closes the fakes it started.
    """

    def __init__(
        self,
        build: Callable[[hikari.GatewayBot], object | Awaitable[object]],
        *,
        settings: Mapping[str, typing.Any] | None = None,
        store: SessionStore | None = None,
        node: FakeLavalink | None = None,
        bot_class: type[hikari.GatewayBot] = hikari.GatewayBot,
        members: int = 3,
        voice_channels: int = 2,
        wait_ready: bool = True,
    ) -> None:
        """
        Args:
            build: your bot's set-up; called with each new bot process (start and every `restart`).
            settings: `LavalinkSettings` fields to change from the kit's (nodes point at the fake node).
            store: the session store that outlives bot processes (default: a `MemoryStore`); the extension opens
                it, the kit closes it at the end.
            node: a `FakeLavalink` of your own (started already, or started and closed by the kit).
            bot_class: ``lightbulb.BotApp`` for a lightbulb 2 bot.
            members: human members of the guild (the first owns it).
            voice_channels: voice channels of the guild.
            wait_ready: whether starting waits for the extension's node sessions (`False` for a bot that
                cannot play, or loads lightbulb-lavalink later).
        """
        self._build = build
        self._overrides = dict(settings or {})
        self._own_node = node is None or not node.running
        self.node: FakeLavalink = node if node is not None else FakeLavalink(password=NODE_PASSWORD)
        """The Lavalink node (``node.requests``, ``node.handshakes``: what your bot sent it)."""
        self.rest = FakeDiscordRest(application_id=BOT_ID, owner_id=OWNER_ID)
        """Discord's REST API as the bot sees it (``rest.requests``: everything the bot sent)."""
        self.discord = FakeDiscord(bot_id=BOT_ID)
        """Discord's gateway side: guilds, members, voice states."""
        self.voice = FakeVoiceGateway(self.discord)
        """Answers the bot's voice joins and leaves as Discord does."""
        self.store: SessionStore = store if store is not None else MemoryStore()
        """The session store every bot process uses; it outlives them, as a file or a database does."""
        self.bot: hikari.GatewayBot | None = None
        """The running bot process (a new object after each `restart`), `None` when stopped."""
        self.client: typing.Any = None
        """What `build` returned for the running bot (your ``lightbulb.Client`` on lightbulb 3)."""
        self.processes = 0
        """How many bot processes were started."""
        self._bot_class = bot_class
        self._members = members
        self._voice_channels = voice_channels
        self._wait_ready = wait_ready
        self._process_store: ProcessStore | None = None
        self._guild: FakeGuild | None = None
        self._ids = itertools.count(1_400_000_000_000_000_000)

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def __aenter__(self) -> typing.Self:
        try:
            if self._own_node:
                await self.node.start()
            await self.rest.start()
            self._guild = await self.discord.add_guild(
                name="Offline Guild", members=self._members, voice_channels=self._voice_channels
            )
            await self.start()
        except BaseException:
            await self._close_fakes()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: types.TracebackType | None
    ) -> None:
        try:
            await self.stop()
        finally:
            await self._close_fakes()

    async def _close_fakes(self) -> None:
        await self.voice.close()
        await self.store.close()
        await self.rest.close()
        if self._own_node:
            await self.node.close()

    @property
    def settings(self) -> LavalinkSettings:
        """The settings the kit gives the extension: one node, ``main``, at the fake node, and your changes."""
        node = NodeSettings(name="main", host=self.node.host, port=self.node.port, password=self.node.password)
        return LavalinkSettings(nodes=(node,), **{**_KIT_SETTINGS, **self._overrides})

    async def start(self) -> None:
        """Start a new bot process: `build`, then StartingEvent, READY and the guilds, StartedEvent; then wait
        for the node's session (unless ``wait_ready=False``). The session store is the one the last process used.

        Raises:
            RuntimeError: A bot process is running already, or (lightbulb 3) `build` loaded lightbulb-lavalink
                or started the client itself instead of leaving that to a `hikari.StartingEvent` listener.
            TypeError: On lightbulb 3, `build` did not return the bot's ``lightbulb.Client``.
            StartupAborted: The extension could not start and the settings say ``fail_fast``.
            NodeUnavailable: The extension's client got no session from the node in time (`wait_ready`).
        """
        if self.bot is not None:
            raise RuntimeError("the bot is running: stop() or restart() it first")
        bot: hikari.GatewayBot = offline_bot(self.rest, BOT_ID, self._bot_class)
        typing.cast("hikari.impl.RESTClientImpl", bot.rest).start()
        self.bot, self.processes = bot, self.processes + 1
        try:
            await self._start(bot)
        except BaseException:
            self.bot = None
            await bot.rest.close()
            raise

    async def _start(self, bot: hikari.GatewayBot) -> None:
        self._process_store = ProcessStore(self.store)
        datastore = getattr(bot, "d", None)
        if datastore is not None:  # lightbulb 2: bot.d, before build loads the extension
            datastore.lavalink_settings = self.settings
            datastore.lavalink_store = self._process_store
            datastore.lavalink_voice_gateway = self.voice
        built = self._build(bot)
        self.client = await built if inspect.isawaitable(built) else built
        if datastore is None:
            await self._register_lightbulb3()
        await _dispatch(bot, hikari.StartingEvent(app=bot))
        await self.discord.connect(bot)
        await _dispatch(bot, hikari.StartedEvent(app=bot))
        await self.discord.settle()
        if self._wait_ready and await self._playable(bot):
            await self.wait_ready()

    async def _playable(self, bot: hikari.GatewayBot) -> bool:
        """Whether the extension is loaded and not degraded (a degraded bot is a state worth testing too)."""
        try:
            return await self._find_lavalink(bot, degraded_ok=False) is not None
        except MusicUnavailableError:
            return False

    async def _register_lightbulb3(self) -> None:
        import lightbulb

        from lightbulb_lavalink.ext import lightbulb3

        client = self.client
        if not isinstance(client, lightbulb.Client):
            raise TypeError(
                f"build must return your lightbulb.Client (or use bot_class=lightbulb.BotApp), not {client!r}"
            )
        if await lightbulb3.lavalink_of(client) is not None or client.di.default_container is not None:
            raise RuntimeError(
                "lightbulb-lavalink was loaded (or the client started) inside build: load your extensions in a "
                "hikari.StartingEvent listener, as lightbulb's documentation does, so that the kit can point "
                "them at the fakes first"
            )
        registry = client.di.registry_for(lightbulb.di.Contexts.DEFAULT)
        registry.register_value(LavalinkSettings, self.settings)
        registry.register_value(SessionStore, self._process_store)
        registry.register_value(VoiceGateway, self.voice)  # type: ignore[type-abstract]

    async def stop(self, *, crash: bool = False) -> None:
        """Stop the bot process: as a deploy does (StoppingEvent, StoppedEvent: your stop hooks run and the
        extension closes resumably), or with `crash` as a killed process: no event, the websocket cut, and
        nothing more written to the store."""
        bot, self.bot = self.bot, None
        if bot is None:
            return
        try:
            if crash:
                await self._crash(bot)
            else:
                await _dispatch(bot, hikari.StoppingEvent(app=bot))
                await _dispatch(bot, hikari.StoppedEvent(app=bot))
            await self.voice.wait_idle()
        finally:
            self.client = None
            await bot.rest.close()

    async def _crash(self, bot: hikari.GatewayBot) -> None:
        assert self._process_store is not None
        self._process_store.crash()
        lavalink = await self._find_lavalink(bot)
        await self.node.drop_connections()
        # What the dead process held is released as the OS would; it can no longer write anything.
        if lavalink is not None:
            await lavalink.close()
        stop = getattr(self.client, "stop", None)
        if stop is not None and inspect.iscoroutinefunction(stop):
            await stop()

    async def restart(self, *, crash: bool = False) -> None:
        """`stop` (gracefully, or as a `crash`), then `start` a new bot process on the same store and node."""
        await self.stop(crash=crash)
        await self.start()

    async def restart_node(self) -> None:
        """Restart the Lavalink node (every session and player lost), then wait until the bot is back on it."""
        await self.node.restart()
        await self.discord.settle()
        if self.bot is not None and self._wait_ready:
            await self.wait_ready()

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until the extension's client has a session on every node.

        Raises:
            NodeUnavailable: A node has no session within `timeout` seconds.
            LavalinkError: A node failed for good, with that error; or (`lavalink`) no bot runs, or
                lightbulb-lavalink is not loaded in it.
            MusicUnavailableError: The extension loaded degraded.
        """
        lavalink = await self.lavalink()
        # A node restart drops the socket a moment after it returns: wait for the reconnect's ready, not the old one.
        for node in lavalink.nodes.values():
            await node.wait_ready(timeout)
        await lavalink.wait_ready(timeout)

    # -- the bot's state ----------------------------------------------------------------------------------

    async def lavalink(self) -> LavalinkClient:
        """The `LavalinkClient` the extension built in the running bot.

        Raises:
            MusicUnavailableError: The extension loaded degraded (it could not start; the reason is in it).
            LavalinkError: No bot runs, or lightbulb-lavalink is not loaded in it.
        """
        if self.bot is None:
            raise LavalinkError("no bot is running")
        found = await self._find_lavalink(self.bot, degraded_ok=False)
        if found is None:
            raise LavalinkError("lightbulb-lavalink is not loaded in the bot")
        return found

    async def _find_lavalink(self, bot: hikari.GatewayBot, *, degraded_ok: bool = True) -> LavalinkClient | None:
        datastore = getattr(bot, "d", None)
        if datastore is not None:
            found: LavalinkClient | None = datastore.get("lavalink")
            return found
        from lightbulb_lavalink.ext import lightbulb3

        try:
            return await lightbulb3.lavalink_of(self.client)
        except MusicUnavailableError:
            if degraded_ok:
                return None
            raise

    @property
    def guild(self) -> FakeGuild:
        """The guild the bot is in: ``guild.id``, ``guild.member_ids``, ``guild.voice_channel_ids``.

        Raises:
            RuntimeError: The `OfflineBot` is not started (outside ``async with``).
        """
        if self._guild is None:
            raise RuntimeError("the world is not started")
        return self._guild

    @property
    def member(self) -> int:
        """A member who is neither the guild owner nor the application owner: who commands come from."""
        return self.guild.member_ids[-1]

    async def join_voice(self, user: int | None = None, channel: int | None = None) -> None:
        """`user` (default `member`) joins `channel` (default the first voice channel): VOICE_STATE_UPDATE."""
        target = channel if channel is not None else self.guild.voice_channel_ids[0]
        await self.discord.voice_state(self.guild.id, user if user is not None else self.member, target)

    async def leave_voice(self, user: int | None = None) -> None:
        """`user` (default `member`) leaves voice."""
        await self.discord.voice_state(self.guild.id, user if user is not None else self.member, None)

    def bot_channel(self) -> int | None:
        """The voice channel Discord has the bot in, `None` when it is in none."""
        record = self.discord.bot_voice(self.guild.id)
        return record.channel_id if record is not None else None

    # -- commands -----------------------------------------------------------------------------------------

    async def invoke(
        self,
        command: str,
        *,
        user: int | None = None,
        permissions: hikari.Permissions = hikari.Permissions.NONE,
        in_guild: bool = True,
        **options: object,
    ) -> Reply:
        """Run ``/command`` (``"play"``, ``"lavalink status"`` for a subcommand) as `user` (default `member`)
        with `options`, from a real INTERACTION_CREATE; wait until the command finished; return its `Reply`.

        Raises:
            NoReplyError: The bot answered nothing (Discord would show "The application did not respond").
            TypeError: An option is not a `str`, `int`, `float`, `bool` or `Option`.
            RuntimeError: No bot is running (between `stop` and `start`).
        """
        bot = self.bot
        if bot is None:
            raise RuntimeError("no bot is running")
        *path, last = command.split()
        nested = command_options(options)
        for name in [last, *reversed(path[1:])] if path else []:
            kind = 1 if name == last else 2  # the innermost is a subcommand, the ones around it groups
            nested = [{"type": kind, "name": name, "options": nested}]
        top = path[0] if path else last
        interaction_id = next(self._ids)
        payload = slash_command_payload(
            interaction_id=interaction_id,
            application_id=BOT_ID,
            guild_id=self.guild.id if in_guild else None,
            channel_id=self.guild.text_channel_ids[0],
            user_id=user if user is not None else self.member,
            permissions=permissions,
            command=top,
            options=nested,
        )
        shard = self.discord.shard_for(self.guild.id)
        event = bot.event_factory.deserialize_interaction_create_event(
            typing.cast("hikari.api.GatewayShard", shard), payload
        )
        await _dispatch(bot, event)
        await self.discord.settle()
        if not self.rest.answers(interaction_id):
            raise NoReplyError(f"/{command} got no answer: Discord shows 'The application did not respond'")
        return Reply(command=command, answers=tuple(self.rest.answers(interaction_id)))


async def _dispatch(bot: hikari.GatewayBot, event: hikari.Event) -> None:
    """Dispatch `event` and wait for every listener to finish (hikari 2.1 returns the gathering future always)."""
    manager = bot.event_manager
    finished: asyncio.Future[typing.Any] | None
    if "return_tasks" in inspect.signature(manager.dispatch).parameters:
        finished = manager.dispatch(event, return_tasks=True)
    else:  # pragma: no cover - hikari < 2.2 (lightbulb 2)
        finished = manager.dispatch(event)
    if finished is not None:
        await finished
