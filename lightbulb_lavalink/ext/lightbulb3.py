"""The lightbulb 3 extension: `loader` builds the `LavalinkClient`, wires it to the bot and adds `/lavalink`.

```python
client = lightbulb.client_from_app(bot)
await client.load_extensions("lightbulb_lavalink")

@loader.command
class Play(lightbulb.SlashCommand, name="play", description="..."):
    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, lavalink: LavalinkClient) -> None: ...
```

Settings: a `LavalinkSettings` (or a mapping) registered in the DEFAULT DI context, else the ``LAVALINK_*``
environment variables, else the defaults. A `SessionStore` registered there is used instead of the settings'
store URL (the bot owns it: the extension never closes it). A `VoiceGateway` registered there replaces the
bot's own voice state updates (the offline test kit, `lightbulb_lavalink.testing.OfflineBot`, does this).

When the extension cannot start (bad settings, a store it cannot open) it says why once in the log and loads
degraded: every command asking for `LavalinkClient` (or the `/lavalink` commands) answers "Music is
unavailable: <reason>", ephemerally. With ``fail_fast`` set (``LAVALINK_FAIL_FAST=1``) the load raises
`StartupAborted` (a `SystemExit`) instead.

Everything the extension sets up in a client is kept in that client's DI (`LavalinkClient` and the
`LavalinkExtension` runtime), so two bots in one process share nothing.
"""

from __future__ import annotations

import logging
import typing

import hikari
import lightbulb

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import LavalinkError, MusicUnavailableError, StartupAborted
from lightbulb_lavalink.ext import _di, presentation, startup
from lightbulb_lavalink.ext.runtime import ExtensionRuntime
from lightbulb_lavalink.settings import LavalinkSettings
from lightbulb_lavalink.stores import SessionStore
from lightbulb_lavalink.voice import VoiceGateway

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = ["LavalinkExtension", "LavalinkLoadable", "lavalink_group", "lavalink_of", "loader"]

_LOGGER = logging.getLogger("lightbulb_lavalink.ext.lightbulb3")

SETTINGS_SOURCE: typing.Final[str] = "LavalinkSettings registered in lightbulb's DI"
STORE_SOURCE: typing.Final[str] = "SessionStore registered in lightbulb's DI"
_UNAVAILABLE_PRIORITY: typing.Final[int] = 1_000
"""The "music is unavailable" error handler runs before the bot's own handlers."""


class LavalinkExtension(ExtensionRuntime):
    """The extension's state in one lightbulb client, injectable as ``extension: LavalinkExtension``."""


class LavalinkLoadable(lightbulb.Loadable):
    """Builds the `LavalinkClient` on load and takes everything back on unload; both idempotent.

    On load: find the settings, build the client, make `LavalinkClient` and `LavalinkExtension` injectable,
    listen for `StartedEvent`/`StoppingEvent`, and start the client at once if the bot is already ready.
    On unload: remove the listeners and the DI registrations, then close the client (sessions stay
    resumable: Lavalink keeps playing, and the next load resumes).
    """

    __slots__ = ()

    async def load(self, client: lightbulb.Client) -> None:
        """Set the extension up in `client` (a no-op if it already is, degraded or not).

        A failure to start (a bad setting, a store that cannot be opened) is logged once and the extension loads
        degraded: its commands, and the bot's commands that need the `LavalinkClient`, answer that music is
        unavailable.

        Raises:
            StartupAborted: The extension cannot start and ``fail_fast`` is set.
        """
        manager = client.di
        if await _di.lookup(manager, startup.Unavailable) is not None:
            return
        if await _di.lookup(manager, LavalinkExtension) is not None:
            return
        app = getattr(client, "app", None)
        if not isinstance(app, hikari.GatewayBot):
            raise LavalinkError(
                f"lightbulb-lavalink needs a gateway bot (hikari.GatewayBot), not {type(app).__name__}: "
                "Lavalink follows the bot's voice states through the gateway"
            )
        registered = await _di.lookup(manager, LavalinkSettings)
        try:
            prepared = await startup.prepare(
                registered,
                registered_as=SETTINGS_SOURCE,
                store=await _di.lookup(manager, SessionStore),
                store_registered_as=STORE_SOURCE,
            )
        except LavalinkError as exc:
            if startup.fail_fast_wanted(registered):
                _LOGGER.error("lightbulb-lavalink cannot start (fail_fast is set): %s", exc)
                raise StartupAborted(str(exc)) from None
            _LOGGER.error("lightbulb-lavalink cannot start; music commands will say so: %s", exc)
            _degrade(manager, str(exc))
            return
        voice_gateway = await _di.lookup(manager, VoiceGateway)  # type: ignore[type-abstract]
        resolved = prepared.resolved
        lavalink = LavalinkClient(app, resolved.settings, store=prepared.store, voice_gateway=voice_gateway)
        runtime = LavalinkExtension(
            app,
            lavalink,
            settings_source=resolved.source,
            owned_store=prepared.store if prepared.owns_store else None,
            on_start_failed=lambda reason: _degrade_started(manager, runtime, reason),
        )
        _di.provide(manager, LavalinkExtension, runtime)
        _di.provide(manager, LavalinkClient, runtime.client)
        runtime.subscribe()
        _LOGGER.info(
            "lightbulb-lavalink loaded (settings from %s, store %s from %s)",
            resolved.source,
            prepared.store.url,
            prepared.store_source,
        )
        if runtime.bot_ready:
            await runtime.start()

    async def unload(self, client: lightbulb.Client) -> None:
        """Take back all `load` set up in `client`, closing the client resumably (a no-op if not loaded)."""
        manager = client.di
        unavailable = await _di.lookup(manager, startup.Unavailable)
        if unavailable is not None:
            for typ in (LavalinkClient, LavalinkExtension, startup.Unavailable):
                _di.withdraw(manager, typ)
            if unavailable.runtime is not None:  # loaded, but its client could not start
                unavailable.runtime.unsubscribe()
                await unavailable.runtime.close()
            return
        runtime = await _di.lookup(manager, LavalinkExtension)
        if runtime is None:
            return
        runtime.unsubscribe()
        _di.withdraw(manager, LavalinkClient)
        _di.withdraw(manager, LavalinkExtension)
        await runtime.close()
        _LOGGER.info("lightbulb-lavalink unloaded; Lavalink sessions stay resumable")


async def lavalink_of(client: lightbulb.Client) -> LavalinkClient | None:
    """The `LavalinkClient` the extension built in `client`, or `None` when it is not loaded.

    Raises `MusicUnavailableError` (saying why) when the extension is loaded degraded.
    """
    unavailable = await _di.lookup(client.di, startup.Unavailable)
    if unavailable is not None:
        raise MusicUnavailableError(unavailable.reason)
    return await _di.lookup(client.di, LavalinkClient)


def _degrade(manager: typing.Any, reason: str, runtime: LavalinkExtension | None = None) -> None:
    """Load degraded: asking for the client (or the runtime) raises `MusicUnavailableError` saying why."""

    def unavailable() -> typing.NoReturn:
        raise MusicUnavailableError(reason)

    _di.provide(manager, startup.Unavailable, startup.Unavailable(reason=reason, runtime=runtime))
    _di.provide_factory(manager, LavalinkClient, unavailable)
    _di.provide_factory(manager, LavalinkExtension, unavailable)


def _degrade_started(manager: typing.Any, runtime: LavalinkExtension, reason: str) -> None:
    """Loaded, but the client could not start (a failed handoff deploy): degraded as a failed load is, the runtime
    kept for unload."""
    _di.withdraw(manager, LavalinkClient)
    _di.withdraw(manager, LavalinkExtension)
    _degrade(manager, reason, runtime)


async def _on_unavailable(exc: lightbulb.exceptions.ExecutionPipelineFailedException) -> bool:
    """Error handler: a command that needed music while the extension is degraded gets the reason."""
    cause = startup.unavailable_cause(exc)
    if cause is None:
        return False
    await exc.context.respond(startup.unavailable_text(cause.reason), ephemeral=True)
    return True


# -- /lavalink -------------------------------------------------------------------------------------------


async def _answer(
    ctx: lightbulb.Context,
    extension: LavalinkExtension,
    make: Callable[[], Awaitable[hikari.Embed]],
    *,
    defer: bool = False,
) -> None:
    """Refuse who may not ask; otherwise answer ephemerally with `make()`'s embed."""
    member = ctx.member
    if not await extension.is_allowed(ctx.user.id, member.permissions if member is not None else None):
        await ctx.respond(presentation.REFUSAL, ephemeral=True)
        return
    if defer:
        await ctx.defer(ephemeral=True)
    try:
        embed = await make()
    except LavalinkError as exc:
        _LOGGER.warning("/lavalink %s failed: %s", ctx.command_data.name, exc)
        embed = presentation.error_embed("Lavalink", str(exc))
    await ctx.respond(embed=embed, ephemeral=True)


lavalink_group = lightbulb.Group("lavalink", "Lavalink nodes, saved sessions and session resuming")
"""The ``/lavalink`` command group (for the bot's owners and members with Manage Server)."""


@lavalink_group.register
class Status(lightbulb.SlashCommand, name="status", description="Each node: connection, session, last resume and load"):
    """``/lavalink status``."""

    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, extension: LavalinkExtension) -> None:
        """Show every node's status."""
        await _answer(ctx, extension, extension.status_embed)


@lavalink_group.register
class Sessions(lightbulb.SlashCommand, name="sessions", description="What the session store holds, per node and guild"):
    """``/lavalink sessions``."""

    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, extension: LavalinkExtension) -> None:
        """Show the stored sessions and guild snapshots (owners: every guild; others: this guild)."""
        await _answer(ctx, extension, lambda: extension.sessions_embed(ctx.user.id, ctx.guild_id), defer=True)


@lavalink_group.register
class ResumeInfo(lightbulb.SlashCommand, name="resume-info", description="One guild's saved snapshot and live player"):
    """``/lavalink resume-info [guild]``."""

    guild = lightbulb.string("guild", "The guild id (default: this guild)", default=None)

    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, extension: LavalinkExtension) -> None:
        """Show one guild's snapshot beside its live player."""
        await _answer(
            ctx, extension, lambda: extension.resume_info_embed(ctx.user.id, self.guild, ctx.guild_id), defer=True
        )


@lavalink_group.register
class Nodes(
    lightbulb.SlashCommand,
    name="nodes",
    description="Lavalink version, sources, filters and plugins of each node",
):
    """``/lavalink nodes``."""

    @lightbulb.invoke
    async def invoke(self, ctx: lightbulb.Context, extension: LavalinkExtension) -> None:
        """Ask every node for its info."""
        await _answer(ctx, extension, extension.nodes_embed, defer=True)


loader = lightbulb.Loader()
"""Load with ``await client.load_extensions("lightbulb_lavalink")`` (or this module's path)."""
loader.add(LavalinkLoadable())
loader.command(lavalink_group)
loader.error_handler(_on_unavailable, priority=_UNAVAILABLE_PRIORITY)
