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
environment variables, else the defaults. A `VoiceGateway` registered there replaces the bot's own voice
state updates (tests pass `lightbulb_lavalink.testing.gateway.FakeVoiceGateway`).

Everything the extension sets up in a client is kept in that client's DI (`LavalinkClient` and the
`LavalinkExtension` runtime), so two bots in one process share nothing.
"""

from __future__ import annotations

import logging
import typing

import hikari
import lightbulb

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.ext import _di, presentation
from lightbulb_lavalink.ext.config import resolve_settings
from lightbulb_lavalink.ext.runtime import ExtensionRuntime
from lightbulb_lavalink.settings import LavalinkSettings
from lightbulb_lavalink.voice import VoiceGateway

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = ["LavalinkExtension", "LavalinkLoadable", "lavalink_group", "loader"]

_LOGGER = logging.getLogger("lightbulb_lavalink.ext.lightbulb3")

SETTINGS_SOURCE: typing.Final[str] = "LavalinkSettings registered in lightbulb's DI"


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
        """Set the extension up in `client` (a no-op if it already is).

        Raises:
            LavalinkError: The client's app is not a `hikari.GatewayBot`, or the settings are invalid
                (`SettingsError`, naming the field): lightbulb then reports the extension as not loaded.
        """
        manager = client.di
        if await _di.lookup(manager, LavalinkExtension) is not None:
            return
        app = getattr(client, "app", None)
        if not isinstance(app, hikari.GatewayBot):
            raise LavalinkError(
                f"lightbulb-lavalink needs a gateway bot (hikari.GatewayBot), not {type(app).__name__}: "
                "Lavalink follows the bot's voice states through the gateway"
            )
        try:
            registered = await _di.lookup(manager, LavalinkSettings)
            resolved = resolve_settings(registered, registered_as=SETTINGS_SOURCE)
        except LavalinkError as exc:
            _LOGGER.error("lightbulb-lavalink was not loaded: %s", exc)
            raise
        voice_gateway = await _di.lookup(manager, VoiceGateway)  # type: ignore[type-abstract]
        lavalink = LavalinkClient(app, resolved.settings, voice_gateway=voice_gateway)
        runtime = LavalinkExtension(app, lavalink, settings_source=resolved.source)
        _di.provide(manager, LavalinkExtension, runtime)
        _di.provide(manager, LavalinkClient, runtime.client)
        runtime.subscribe()
        _LOGGER.info("lightbulb-lavalink loaded (settings from %s)", resolved.source)
        if runtime.bot_ready:
            await runtime.start()

    async def unload(self, client: lightbulb.Client) -> None:
        """Take back all `load` set up in `client`, closing the client resumably (a no-op if not loaded)."""
        manager = client.di
        runtime = await _di.lookup(manager, LavalinkExtension)
        if runtime is None:
            return
        runtime.unsubscribe()
        _di.withdraw(manager, LavalinkClient)
        _di.withdraw(manager, LavalinkExtension)
        await runtime.close()
        _LOGGER.info("lightbulb-lavalink unloaded; Lavalink sessions stay resumable")


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
