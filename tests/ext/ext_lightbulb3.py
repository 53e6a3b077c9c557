"""The lightbulb 3 side of the harness: a real lightbulb client on a never-started bot, in the world of fakes."""

from __future__ import annotations

import collections.abc
import contextlib
import typing

import attrs
import hikari
import lightbulb
from ext_world import World, settle

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.settings import LavalinkSettings
from lightbulb_lavalink.voice import VoiceGateway

EXTENSION = "lightbulb_lavalink.ext.lightbulb3"


@attrs.define(kw_only=True)
class Running:
    bot: hikari.GatewayBot
    client: lightbulb.Client
    world: World
    last_id: int = 0

    async def lavalink(self) -> LavalinkClient | None:
        """What a command asking for ``lavalink: LavalinkClient`` would get (`None`: not injectable)."""

        @lightbulb.di.with_di
        async def use(lavalink: LavalinkClient | None = lightbulb.di.INJECTED) -> LavalinkClient | None:
            return lavalink

        async with self.client.di.enter_context(lightbulb.di.Contexts.DEFAULT):
            return await use()

    async def started(self) -> None:
        """What happens when the bot has connected: READY, the guilds, then hikari's StartedEvent."""
        await self.world.discord.connect(self.bot)
        await self.bot.event_manager.dispatch(hikari.StartedEvent(app=self.bot), return_tasks=True)
        await settle()

    async def ready_lavalink(self) -> LavalinkClient:
        """`started`, then the extension's client once its node is ready."""
        await self.started()
        lavalink = await self.lavalink()
        assert lavalink is not None
        await lavalink.wait_ready()
        return lavalink

    async def command(self, name: str, **options: typing.Any) -> str:
        """``/name option=value...`` by the guild's last member, without any permission; the text they see."""
        kinds = {str: 3, int: 4}
        payload_options = [{"type": kinds[type(v)], "name": k, "value": v} for k, v in options.items()]
        answer = await self.invoke(None, command=name, options=payload_options, permissions=hikari.Permissions.NONE)
        text: str = answer.text()
        return text

    async def invoke(self, subcommand: str | None, **kwargs: typing.Any) -> typing.Any:
        """Run ``/lavalink <subcommand>`` (or ``command=``) from a real INTERACTION_CREATE; return what is seen."""
        interaction_id, payload = self.world.payload(subcommand, **kwargs)
        self.last_id = interaction_id
        await self.world.discord.feed("INTERACTION_CREATE", payload)
        return await self.world.rest.wait_for_answer(interaction_id)


@contextlib.asynccontextmanager
async def running_bot(
    world: World,
    *,
    settings: LavalinkSettings | typing.Mapping[str, typing.Any] | None = None,
    default_settings: bool = True,
    load: bool = True,
    extensions: typing.Sequence[str] = (EXTENSION,),
) -> collections.abc.AsyncIterator[Running]:
    bot = world.new_bot()
    bot.rest.start()
    client = lightbulb.client_from_app(bot, sync_commands=False)
    registry = client.di.registry_for(lightbulb.di.Contexts.DEFAULT)
    if settings is not None or default_settings:
        registry.register_value(LavalinkSettings, settings if settings is not None else world.settings())  # type: ignore[arg-type]
    registry.register_value(VoiceGateway, world.voice)  # type: ignore[type-abstract]
    running = Running(bot=bot, client=client, world=world)
    try:
        if load:
            await client.load_extensions(*extensions)
        await client.start()
        yield running
    finally:
        loaded = [ext for ext in (*extensions, EXTENSION, "lightbulb_lavalink") if ext in client._extensions]
        await client.unload_extensions(*dict.fromkeys(reversed(loaded)))
        await client.stop()
        await bot.rest.close()


def has_lavalink_group(client: lightbulb.Client) -> bool:
    # By name: lightbulb drops an unloaded extension's module, so a reload builds a new group object.
    return any(command.name == "lavalink" for command in client.registered_commands)  # type: ignore[union-attr]
