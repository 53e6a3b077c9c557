"""What the extension sets up in one bot, whichever lightbulb major loaded it: client, lifecycle, access rule.

`ExtensionRuntime` owns the `LavalinkClient` built on load, starts it when the bot is ready (`StartedEvent`,
or at once when loaded into a bot that already runs) and closes it, keeping sessions resumable, when the bot
stops or the extension is unloaded. It also answers the `/lavalink` commands. One runtime per bot: the
lightbulb glue keeps it in the bot's own DI container or datastore, never in a module.
"""

from __future__ import annotations

import asyncio
import logging
import typing

import hikari

from lightbulb_lavalink.errors import HandoffError, LavalinkError
from lightbulb_lavalink.events import HandoffCompletedEvent
from lightbulb_lavalink.ext import access, presentation, reports

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.stores import SessionStore

__all__ = ["ExtensionRuntime"]

_LOGGER = logging.getLogger("lightbulb_lavalink.ext.runtime")


class ExtensionRuntime:
    """The extension's state in one bot: its `LavalinkClient`, the listeners driving it, the access rule."""

    def __init__(
        self,
        app: hikari.GatewayBot,
        client: LavalinkClient,
        *,
        settings_source: str,
        fetch_owner_ids: Callable[[], Awaitable[Iterable[hikari.Snowflakeish]]] | None = None,
        after: Awaitable[None] | None = None,
        owned_store: SessionStore | None = None,
        on_start_failed: Callable[[str], None] | None = None,
    ) -> None:
        """`on_start_failed`: told why when the client cannot start (the lightbulb glue then answers music commands
        with that reason, as for an extension loaded degraded)."""
        self.app: hikari.GatewayBot = app
        """The bot."""
        self.client: LavalinkClient = client
        """The Lavalink client this extension built."""
        self.settings_source: str = settings_source
        """Where the settings came from (``environment``, ``defaults``, or the registration's name)."""
        self._owned_store = owned_store
        self._fetch_owner_ids = fetch_owner_ids
        self._after = after
        self._owner_ids: frozenset[int] | None = None
        self._subscribed = False
        self._lock = asyncio.Lock()
        self._on_start_failed = on_start_failed
        self.unavailable: str | None = None
        """Why the client could not start (no secret in it), or `None`: music commands answer with it."""

    def __repr__(self) -> str:
        return f"ExtensionRuntime(client={self.client!r}, settings_source={self.settings_source!r})"

    # -- lifecycle ----------------------------------------------------------------------------------------

    def subscribe(self) -> None:
        """Listen for the bot starting and stopping (idempotent)."""
        if self._subscribed:
            return
        events = self.app.event_manager
        events.subscribe(hikari.StartedEvent, self.on_started)
        events.subscribe(hikari.StoppingEvent, self.on_stopping)
        events.subscribe(HandoffCompletedEvent, self.on_handed_off)
        self._subscribed = True

    def unsubscribe(self) -> None:
        """Remove every listener `subscribe` added (idempotent)."""
        if not self._subscribed:
            return
        events = self.app.event_manager
        events.unsubscribe(hikari.StartedEvent, self.on_started)
        events.unsubscribe(hikari.StoppingEvent, self.on_stopping)
        events.unsubscribe(HandoffCompletedEvent, self.on_handed_off)
        self._subscribed = False

    @property
    def owned_store(self) -> SessionStore | None:
        """The store the extension opened from the settings' URL (and closes on `close`); `None` when the client
        uses the bot's own store, which its owner closes."""
        return self._owned_store

    @property
    def bot_ready(self) -> bool:
        """Whether the bot knows its own user (it received READY): the client can start now."""
        return self.app.get_me() is not None

    async def start(self) -> None:
        """Start the client (resuming saved sessions); never raises, so the bot keeps running.

        Waits first for the previous client of this bot to finish closing (a reload), so that it resumes the
        sessions that client saved. A client that cannot start (a handoff deploy that failed: the old process keeps
        the sessions) leaves the extension degraded, as a failed load does: logged once, and every music command
        answers that music is unavailable and why; with ``fail_fast`` the bot stops instead.
        """
        async with self._lock:
            if self._after is not None:
                after, self._after = self._after, None
                try:
                    await after
                except Exception:
                    _LOGGER.exception("the previous Lavalink client did not close cleanly")
            if self.client.started:
                return
            try:
                await self.client.start()
            except LavalinkError as exc:
                failed: str | None = self._start_failed(exc)
            else:
                failed = self.unavailable = None
                _LOGGER.info(
                    "Lavalink client started with nodes %s (settings from %s)",
                    ", ".join(self.client.nodes) or "none",
                    self.settings_source,
                )
        if failed is not None and self.client.settings.fail_fast and self.app.is_alive:
            await self.app.close()  # outside the lock: the bot's close closes this runtime, which takes it

    def _start_failed(self, exc: LavalinkError) -> str:
        if isinstance(exc, HandoffError):
            reason = f"the handoff failed ({exc}); the running process keeps playing: stop this one and deploy again"
        else:
            reason = f"the Lavalink client could not start: {exc}"
        self.unavailable = reason
        if self.client.settings.fail_fast:
            _LOGGER.error("lightbulb-lavalink cannot start (fail_fast is set: stopping the bot): %s", reason)
        else:
            _LOGGER.error("lightbulb-lavalink cannot start; music commands will say so: %s", reason)
        if self._on_start_failed is not None:
            self._on_start_failed(reason)
        return reason

    async def close(self) -> None:
        """Close the client, keeping every session resumable (Lavalink keeps playing meanwhile), then the store
        the extension opened (the client opens it again if the bot starts again); the bot's own store stays open."""
        async with self._lock:
            await self.client.close()
            if self._owned_store is not None:
                await self._owned_store.close()

    async def on_started(self, _: hikari.StartedEvent) -> None:
        """Listener: the bot is connected, start the client."""
        await self.start()

    async def on_stopping(self, _: hikari.StoppingEvent) -> None:
        """Listener: the bot is stopping, close the client resumably."""
        await self.close()

    async def on_handed_off(self, event: HandoffCompletedEvent) -> None:
        """Listener: a new process of this cluster took the Lavalink sessions over (a handoff deploy, started with
        ``LAVALINK_HANDOFF=true``): this process has nothing left to play, so the bot stops (`hikari.GatewayBot.close`),
        which ends ``bot.run()``."""
        if event.client is not self.client:
            return
        _LOGGER.info("handed over to %s: stopping the bot", event.successor)
        if self.app.is_alive:
            await self.app.close()

    # -- access -------------------------------------------------------------------------------------------

    async def owner_ids(self) -> frozenset[int]:
        """The bot's owners (application owner or team members), fetched once; empty if Discord cannot say."""
        if self._owner_ids is None:
            try:
                if self._fetch_owner_ids is not None:
                    owners = frozenset(int(owner) for owner in await self._fetch_owner_ids())
                else:
                    owners = access.owner_ids_of(await self.app.rest.fetch_application())
            except (hikari.HTTPError, hikari.ComponentStateConflictError) as exc:
                _LOGGER.warning("could not fetch the bot's owners: %s", exc)
                return frozenset()
            self._owner_ids = owners
        return self._owner_ids

    async def is_allowed(self, user_id: hikari.Snowflakeish, permissions: hikari.Permissions | None) -> bool:
        """Whether this user may use `/lavalink`: Manage Server (checked first: no request needed) or an owner."""
        return access.has_manage_permission(permissions) or await self.is_owner(user_id)

    async def is_owner(self, user_id: hikari.Snowflakeish) -> bool:
        """Whether `user_id` owns the bot (application owner or team member): owners see every guild."""
        return int(user_id) in await self.owner_ids()

    # -- the /lavalink answers ----------------------------------------------------------------------------

    async def status_embed(self) -> hikari.Embed:
        """The `/lavalink status` embed."""
        embed = presentation.status_embed(reports.status_view(self.client))
        embed.set_footer(f"Settings from {self.settings_source}")
        return embed

    async def sessions_embed(self, user_id: hikari.Snowflakeish, guild_id: hikari.Snowflakeish | None) -> hikari.Embed:
        """The `/lavalink sessions` embed for `user_id` asking in `guild_id`: owners see every guild, others only
        that one (none outside a guild)."""
        only_guild = None if await self.is_owner(user_id) else int(guild_id or 0)
        return presentation.sessions_embed(await reports.sessions_view(self.client, only_guild=only_guild))

    async def resume_info_embed(
        self, user_id: hikari.Snowflakeish, guild: str | int | None, current_guild: hikari.Snowflakeish | None
    ) -> hikari.Embed:
        """The `/lavalink resume-info` embed for `guild` (an id as typed), else the guild it was used in.

        Only the bot's owners may look at a guild other than the one it was used in.
        """
        if guild is None or guild == "":
            if current_guild is None:
                return presentation.error_embed("Resume info", "Give a guild id: this is not a guild.")
            guild_id = int(current_guild)
        else:
            try:
                guild_id = int(str(guild).strip())
            except ValueError:
                return presentation.error_embed("Resume info", f"`{guild}` is not a guild id (a number).")
        elsewhere = current_guild is None or guild_id != int(current_guild)
        if elsewhere and not await self.is_owner(user_id):
            return presentation.error_embed("Resume info", "Only the bot's owners can look at other guilds.")
        return presentation.resume_info_embed(await reports.resume_info_view(self.client, guild_id))

    async def nodes_embed(self) -> hikari.Embed:
        """The `/lavalink nodes` embed (asks every node for `/v4/info`)."""
        return presentation.nodes_embed(await reports.nodes_view(self.client))
