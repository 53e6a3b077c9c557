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
"""

from __future__ import annotations

import asyncio
import logging
import typing

import hikari

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import LavalinkError, SettingsError
from lightbulb_lavalink.ext import presentation, startup
from lightbulb_lavalink.ext.config import resolve_settings
from lightbulb_lavalink.ext.runtime import ExtensionRuntime
from lightbulb_lavalink.stores import SessionStore

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

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
"""``bot.d.lavalink``: the `LavalinkClient` while the extension is loaded."""
PLUGIN_NAME: typing.Final[str] = "lavalink"
"""The name of the plugin `load` adds."""
_RUNTIME_KEY: typing.Final[str] = "_lightbulb_lavalink_runtime"
_CLOSING_KEY: typing.Final[str] = "_lightbulb_lavalink_closing"


def _datastore(bot: hikari.GatewayBot) -> typing.Any:
    datastore = getattr(bot, "d", None)
    if datastore is None:
        raise LavalinkError(f"lightbulb_lavalink.ext.lightbulb2 needs a lightbulb.BotApp, not {type(bot).__name__}")
    return datastore


def load(bot: hikari.GatewayBot) -> None:
    """Set the extension up in `bot` (``bot.load_extensions`` calls this); a no-op if it already is.

    Raises:
        SettingsError: ``bot.d.lavalink_settings`` or the environment is invalid (naming the field): lightbulb
            then reports the extension as not loaded.
        LavalinkError: `bot` is not a `lightbulb.BotApp`.
    """
    datastore = _datastore(bot)
    if datastore.get(_RUNTIME_KEY) is not None:
        return
    try:
        resolved = resolve_settings(datastore.get(SETTINGS_KEY), registered_as=f"bot.d.{SETTINGS_KEY}")
        store = datastore.get(STORE_KEY)
        if store is not None and not isinstance(store, SessionStore):
            raise SettingsError(f"bot.d.{STORE_KEY}", f"expected a SessionStore, got {type(store).__name__}")
    except LavalinkError as exc:
        _LOGGER.error("lightbulb-lavalink was not loaded: %s", exc)
        raise
    owner_ids: Callable[[], Awaitable[typing.Any]] = typing.cast("typing.Any", bot).fetch_owner_ids
    runtime = ExtensionRuntime(
        bot,
        LavalinkClient(bot, resolved.settings, store=store, voice_gateway=datastore.get(VOICE_GATEWAY_KEY)),
        settings_source=resolved.source,
        fetch_owner_ids=owner_ids,
        after=datastore.pop(_CLOSING_KEY, None),
    )
    typing.cast("typing.Any", bot).add_plugin(_build_plugin(bot, runtime))
    datastore[_RUNTIME_KEY] = runtime
    datastore[CLIENT_KEY] = runtime.client
    _LOGGER.info("lightbulb-lavalink loaded (settings from %s)", resolved.source)
    if runtime.bot_ready:
        typing.cast("typing.Any", bot).create_task(runtime.start(), name="lightbulb-lavalink start")


def unload(bot: hikari.GatewayBot) -> None:
    """Take back everything `load` set up (``bot.unload_extensions`` calls this); a no-op if not loaded.

    The client closes in the background, keeping sessions resumable; `wait_closed(bot)` waits for it, and a
    later `load` waits for it before starting, so it resumes what this one saved.
    """
    datastore = _datastore(bot)
    runtime: ExtensionRuntime | None = datastore.pop(_RUNTIME_KEY, None)
    if runtime is None:
        return
    if datastore.get(CLIENT_KEY) is runtime.client:
        datastore.pop(CLIENT_KEY)
    typing.cast("typing.Any", bot).remove_plugin(PLUGIN_NAME)  # its remove hook closes the client
    _LOGGER.info("lightbulb-lavalink unloaded; Lavalink sessions stay resumable")


async def wait_closed(bot: hikari.GatewayBot) -> None:
    """Wait until the client an `unload` closed has finished closing (returns at once if none is closing)."""
    closing = _datastore(bot).get(_CLOSING_KEY)
    if closing is not None:
        await asyncio.shield(closing)


def _build_plugin(bot: hikari.GatewayBot, runtime: ExtensionRuntime) -> typing.Any:
    """The plugin for one bot: lifecycle listeners, the ``/lavalink`` group, the closing remove hook."""
    plugin = lightbulb.Plugin(PLUGIN_NAME, "Lavalink nodes, saved sessions and session resuming")
    plugin.listener(hikari.StartedEvent, runtime.on_started)
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

    async def answer(ctx: typing.Any, make: Callable[[], Awaitable[hikari.Embed]], *, defer: bool = False) -> None:
        ephemeral = hikari.MessageFlag.EPHEMERAL
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
            embed = await make()
        except LavalinkError as exc:
            _LOGGER.warning("/lavalink %s failed: %s", ctx.command.name, exc)
            embed = presentation.error_embed("Lavalink", str(exc))
        await ctx.respond(embed=embed, flags=ephemeral)

    async def group_callback(ctx: typing.Any) -> None:
        """``/lavalink``: only its subcommands are invoked."""

    group = _command(group_callback, "lavalink", "Lavalink nodes, saved sessions and session resuming", group=True)

    async def status(ctx: typing.Any) -> None:
        await answer(ctx, runtime.status_embed)

    async def sessions(ctx: typing.Any) -> None:
        await answer(ctx, lambda: runtime.sessions_embed(ctx.author.id, ctx.guild_id), defer=True)

    async def resume_info(ctx: typing.Any) -> None:
        await answer(ctx, lambda: runtime.resume_info_embed(ctx.author.id, ctx.options.guild, ctx.guild_id), defer=True)

    async def nodes(ctx: typing.Any) -> None:
        await answer(ctx, runtime.nodes_embed, defer=True)

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
