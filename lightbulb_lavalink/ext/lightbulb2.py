"""The lightbulb 2 extension: `load(bot)` puts the `LavalinkClient` at ``bot.d.lavalink``, adds `/lavalink`.

```python
bot = lightbulb.BotApp(token)
bot.d.lavalink_settings = LavalinkSettings(...)   # optional (a mapping works too)
bot.d.lavalink_store = RedisStore.from_client(my_redis)  # optional: the bot's own store wins over the URL
bot.load_extensions("lightbulb_lavalink")

@bot.command
@lightbulb.command("play", "...")
@lightbulb.implements(lightbulb.SlashCommand)
async def play(ctx: lightbulb.SlashContext) -> None:
    lavalink: LavalinkClient = ctx.bot.d.lavalink
```

Everything goes through one `lightbulb.Plugin` built per bot (its started/stopping listeners and the
``/lavalink`` group), so two bots in one process share nothing. lightbulb 2 loads and unloads extensions
synchronously: the client starts in the background when loaded into a running bot, and `unload` closes it in
the background (sessions stay resumable); `wait_closed(bot)` waits for that close.

When the extension cannot start it says why once in the log and loads degraded, as with lightbulb 3: a bad
setting is known at load, a store that cannot be opened when the bot starts (lightbulb 2 loads synchronously, so
the store is opened then). ``bot.d.lavalink`` is then an `UnavailableLavalink`: a command touching it fails with
`MusicUnavailableError`, and the person who ran it is answered "Music is unavailable: <reason>", ephemerally, as
the ``/lavalink`` commands answer. With ``fail_fast`` set (``LAVALINK_FAIL_FAST=1``) the failure raises
`StartupAborted` (a `SystemExit`) instead: from `load`, or from the bot's start, which ends ``bot.run()``.
"""

from __future__ import annotations

import asyncio
import logging
import typing

import attrs
import hikari

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import LavalinkError, MusicUnavailableError, SettingsError, StartupAborted, StoreError
from lightbulb_lavalink.ext import presentation, startup
from lightbulb_lavalink.ext.config import resolve_settings
from lightbulb_lavalink.ext.runtime import ExtensionRuntime
from lightbulb_lavalink.stores import SessionStore, open_store

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    # This module is type-checked in the lightbulb 3 environment, where lightbulb 2's API does not exist.
    lightbulb: typing.Any
else:
    import lightbulb

__all__ = [
    "CLIENT_KEY",
    "PLUGIN_NAME",
    "SETTINGS_KEY",
    "STORE_KEY",
    "VOICE_GATEWAY_KEY",
    "UnavailableLavalink",
    "load",
    "unload",
    "wait_closed",
]

_LOGGER = logging.getLogger("lightbulb_lavalink.ext.lightbulb2")

SETTINGS_KEY: typing.Final[str] = "lavalink_settings"
"""``bot.d.lavalink_settings``: the `LavalinkSettings` (or a mapping) the bot wants; optional."""
STORE_KEY: typing.Final[str] = "lavalink_store"
"""``bot.d.lavalink_store``: a `SessionStore` of the bot's own, used instead of the settings' store URL; optional.
The bot owns it: the extension opens it (idempotent) but never closes it."""
VOICE_GATEWAY_KEY: typing.Final[str] = "lavalink_voice_gateway"
"""``bot.d.lavalink_voice_gateway``: a `VoiceGateway` replacing the bot's own voice state updates; optional
(tests put `lightbulb_lavalink.testing.gateway.FakeVoiceGateway` here)."""
CLIENT_KEY: typing.Final[str] = "lavalink"
"""``bot.d.lavalink``: the `LavalinkClient` while the extension is loaded (an `UnavailableLavalink` while it is
loaded degraded)."""
PLUGIN_NAME: typing.Final[str] = "lavalink"
"""The name of the plugin `load` adds."""
_RUNTIME_KEY: typing.Final[str] = "_lightbulb_lavalink_runtime"
_CLOSING_KEY: typing.Final[str] = "_lightbulb_lavalink_closing"
_DEGRADED_KEY: typing.Final[str] = "_lightbulb_lavalink_degraded"


class UnavailableLavalink:
    """What ``bot.d.lavalink`` holds while the extension is loaded degraded (it could not start): any attribute
    of the client a command touches raises `MusicUnavailableError` saying why, and the extension answers that
    command with "Music is unavailable: <reason>"."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason: str = reason
        """Why the extension could not start (no secret in it)."""

    def __repr__(self) -> str:
        return f"UnavailableLavalink(reason={self.reason!r})"

    def __getattr__(self, name: str) -> typing.NoReturn:
        if name.startswith("__"):  # a protocol probe (copy, pickle, hasattr): not a command touching the client
            raise AttributeError(name)
        raise MusicUnavailableError(self.reason)


@attrs.define(kw_only=True, weakref_slot=False)
class _Degraded:
    """The extension is loaded degraded in one bot: why, and the error listener answering music commands."""

    reason: str
    listener: Callable[[typing.Any], Coroutine[typing.Any, typing.Any, None]]


def _datastore(bot: hikari.GatewayBot) -> typing.Any:
    datastore = getattr(bot, "d", None)
    if datastore is None:
        raise LavalinkError(f"lightbulb_lavalink.ext.lightbulb2 needs a lightbulb.BotApp, not {type(bot).__name__}")
    return datastore


def load(bot: hikari.GatewayBot) -> None:
    """Set the extension up in `bot` (``bot.load_extensions`` calls this); a no-op if it already is, degraded or not.

    A bad setting (in ``bot.d.lavalink_settings`` or the environment) is logged once and the extension loads
    degraded: its commands, and the bot's commands that touch ``bot.d.lavalink``, answer that music is unavailable.
    A store that cannot be opened does the same when the bot starts.

    Raises:
        StartupAborted: The settings are bad and ``fail_fast`` is set: lightbulb reports the extension as not loaded.
        LavalinkError: `bot` is not a `lightbulb.BotApp`.
    """
    datastore = _datastore(bot)
    if datastore.get(_RUNTIME_KEY) is not None or datastore.get(_DEGRADED_KEY) is not None:
        return
    configured = datastore.get(SETTINGS_KEY)
    try:
        resolved = resolve_settings(configured, registered_as=f"bot.d.{SETTINGS_KEY}")
        own_store = datastore.get(STORE_KEY)
        if own_store is not None and not isinstance(own_store, SessionStore):
            raise SettingsError(f"bot.d.{STORE_KEY}", f"expected a SessionStore, got {type(own_store).__name__}")
        store = own_store if own_store is not None else open_store(resolved.settings.store)
    except LavalinkError as exc:
        if startup.fail_fast_wanted(configured):
            _LOGGER.error("lightbulb-lavalink cannot start (fail_fast is set): %s", exc)
            raise StartupAborted(str(exc)) from None
        _LOGGER.error("lightbulb-lavalink cannot start; music commands will say so: %s", exc)
        typing.cast("typing.Any", bot).add_plugin(_build_plugin(bot, None))
        _degrade(bot, str(exc))
        return
    owner_ids: Callable[[], Awaitable[typing.Any]] = typing.cast("typing.Any", bot).fetch_owner_ids
    settings = resolved.settings
    runtime = ExtensionRuntime(
        bot,
        LavalinkClient(bot, settings, store=store, voice_gateway=datastore.get(VOICE_GATEWAY_KEY)),
        settings_source=resolved.source,
        fetch_owner_ids=owner_ids,
        after=datastore.pop(_CLOSING_KEY, None),
        owned_store=store if own_store is None else None,
        on_start_failed=lambda reason: _degrade(bot, reason),
    )
    typing.cast("typing.Any", bot).add_plugin(_build_plugin(bot, runtime))
    datastore[_RUNTIME_KEY] = runtime
    datastore[CLIENT_KEY] = runtime.client
    _LOGGER.info("lightbulb-lavalink loaded (settings from %s)", resolved.source)
    if runtime.bot_ready:
        typing.cast("typing.Any", bot).create_task(_start(bot, runtime), name="lightbulb-lavalink start")


async def _start(bot: hikari.GatewayBot, runtime: ExtensionRuntime) -> None:
    """The bot is ready: open the store (else load degraded, or with ``fail_fast`` raise `StartupAborted`), then
    start the client."""
    if _datastore(bot).get(_DEGRADED_KEY) is not None:
        return
    client = runtime.client
    try:
        await startup.open_within(
            client.store, owned=runtime.owned_store is not None, timeout=client.settings.request_timeout
        )
    except StoreError as exc:
        if client.settings.fail_fast:
            _LOGGER.error("lightbulb-lavalink cannot start (fail_fast is set): %s", exc)
            raise StartupAborted(str(exc)) from None
        _LOGGER.error("lightbulb-lavalink cannot start; music commands will say so: %s", exc)
        _degrade(bot, str(exc))
        return
    await runtime.start()


def _degrade(bot: hikari.GatewayBot, reason: str) -> None:
    """Load degraded: ``bot.d.lavalink`` raises `MusicUnavailableError`, and a command that fails with it is
    answered with the reason."""
    datastore = _datastore(bot)

    async def on_command_error(event: typing.Any) -> None:
        cause = startup.unavailable_cause(event.exception)
        if cause is not None:
            flags = hikari.MessageFlag.EPHEMERAL if isinstance(event.context, lightbulb.ApplicationContext) else None
            await event.context.respond(startup.unavailable_text(cause.reason), flags=flags or hikari.UNDEFINED)
            return
        # Listening made lightbulb take every command error as handled: one the bot has no listener of its own for
        # is raised again, so hikari logs it with its traceback as it would have without this listener.
        if not any(each is not on_command_error for each in bot.event_manager.get_listeners(type(event))):
            raise event.exception

    bot.event_manager.subscribe(lightbulb.CommandErrorEvent, on_command_error)
    datastore[_DEGRADED_KEY] = _Degraded(reason=reason, listener=on_command_error)
    datastore[CLIENT_KEY] = UnavailableLavalink(reason)


def unload(bot: hikari.GatewayBot) -> None:
    """Take back everything `load` set up (``bot.unload_extensions`` calls this); a no-op if not loaded.

    The client closes in the background, keeping sessions resumable; `wait_closed(bot)` waits for it, and a
    later `load` waits for it before starting, so it resumes what this one saved.
    """
    datastore = _datastore(bot)
    runtime: ExtensionRuntime | None = datastore.pop(_RUNTIME_KEY, None)
    degraded: _Degraded | None = datastore.pop(_DEGRADED_KEY, None)
    if runtime is None and degraded is None:
        return
    if degraded is not None:
        bot.event_manager.unsubscribe(lightbulb.CommandErrorEvent, degraded.listener)
    current = datastore.get(CLIENT_KEY)
    if isinstance(current, UnavailableLavalink) or (runtime is not None and current is runtime.client):
        datastore.pop(CLIENT_KEY)
    typing.cast("typing.Any", bot).remove_plugin(PLUGIN_NAME)  # its remove hook closes the client
    _LOGGER.info("lightbulb-lavalink unloaded; Lavalink sessions stay resumable")


async def wait_closed(bot: hikari.GatewayBot) -> None:
    """Wait until the client an `unload` closed has finished closing (returns at once if none is closing)."""
    closing = _datastore(bot).get(_CLOSING_KEY)
    if closing is not None:
        await asyncio.shield(closing)


def _build_plugin(bot: hikari.GatewayBot, runtime: ExtensionRuntime | None) -> typing.Any:
    """The plugin for one bot: lifecycle listeners, the ``/lavalink`` group, the closing remove hook (without
    `runtime`, loaded degraded: only the group, answering that music is unavailable)."""
    plugin = lightbulb.Plugin(PLUGIN_NAME, "Lavalink nodes, saved sessions and session resuming")

    if runtime is not None:

        async def on_started(_: hikari.StartedEvent) -> None:
            await _start(bot, runtime)

        plugin.listener(hikari.StartedEvent, on_started)
        plugin.listener(hikari.StoppingEvent, runtime.on_stopping)

        def on_remove() -> None:
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # no loop: the bot never ran, so the client never started
                return
            _datastore(bot)[_CLOSING_KEY] = typing.cast("typing.Any", bot).create_task(
                runtime.close(), name="lightbulb-lavalink close"
            )

        plugin.remove_hook(on_remove)

    async def answer(
        ctx: typing.Any, make: Callable[[ExtensionRuntime], Awaitable[hikari.Embed]], *, defer: bool = False
    ) -> None:
        ephemeral = hikari.MessageFlag.EPHEMERAL
        degraded: _Degraded | None = _datastore(bot).get(_DEGRADED_KEY)
        if degraded is not None or runtime is None:
            reason = degraded.reason if degraded is not None else "the extension could not start"
            await ctx.respond(startup.unavailable_text(reason), flags=ephemeral)
            return
        member = ctx.interaction.member
        if not await runtime.is_allowed(ctx.author.id, member.permissions if member is not None else None):
            await ctx.respond(presentation.REFUSAL, flags=ephemeral)
            return
        if runtime.unavailable is not None:  # the client could not start (a failed handoff deploy)
            await ctx.respond(startup.unavailable_text(runtime.unavailable), flags=ephemeral)
            return
        if defer:
            await ctx.respond(hikari.ResponseType.DEFERRED_MESSAGE_CREATE, flags=ephemeral)
        try:
            embed = await make(runtime)
        except LavalinkError as exc:
            _LOGGER.warning("/lavalink %s failed: %s", ctx.command.name, exc)
            embed = presentation.error_embed("Lavalink", str(exc))
        await ctx.respond(embed=embed, flags=ephemeral)

    async def group_callback(ctx: typing.Any) -> None:
        """``/lavalink``: only its subcommands are invoked."""

    group = _command(group_callback, "lavalink", "Lavalink nodes, saved sessions and session resuming", group=True)

    async def status(ctx: typing.Any) -> None:
        await answer(ctx, lambda rt: rt.status_embed())

    async def sessions(ctx: typing.Any) -> None:
        await answer(ctx, lambda rt: rt.sessions_embed(ctx.author.id, ctx.guild_id), defer=True)

    async def resume_info(ctx: typing.Any) -> None:
        await answer(ctx, lambda rt: rt.resume_info_embed(ctx.author.id, ctx.options.guild, ctx.guild_id), defer=True)

    async def nodes(ctx: typing.Any) -> None:
        await answer(ctx, lambda rt: rt.nodes_embed(), defer=True)

    group.child(_command(status, "status", "Each node: connection, session, last resume and load"))
    group.child(_command(sessions, "sessions", "What the session store holds, per node and guild"))
    group.child(
        _command(
            resume_info,
            "resume-info",
            "One guild's saved snapshot and live player",
            options=[lightbulb.option("guild", "The guild id (default: this guild)", required=False, default=None)],
        )
    )
    group.child(_command(nodes, "nodes", "Lavalink version, sources, filters and plugins of each node"))
    plugin.command(group)
    return plugin


def _command(
    callback: Callable[[typing.Any], Awaitable[None]],
    name: str,
    description: str,
    *,
    group: bool = False,
    options: typing.Sequence[typing.Any] = (),
) -> typing.Any:
    """A lightbulb 2 slash command (or group) from `callback`: the decorator stack, applied as calls."""
    kind = lightbulb.SlashCommandGroup if group else lightbulb.SlashSubCommand
    command: typing.Any = lightbulb.implements(kind)(callback)
    command = lightbulb.command(name, description)(command)
    for option in options:
        command = option(command)
    return command
