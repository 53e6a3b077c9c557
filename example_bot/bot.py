"""Start the example music bot: check what it needs, say clearly what is missing, then run.

Needs ``DISCORD_TOKEN`` and a Lavalink node (``LAVALINK_NODES`` or ``LAVALINK_HOST``/``LAVALINK_PORT``/
``LAVALINK_PASSWORD``; a local ``localhost:2333`` node with the default password when unset). Optional:
``DISCORD_GUILD_IDS`` (comma-separated) registers the commands in those guilds only, which Discord shows at
once; ``LAVALINK_STORE`` says where sessions are kept (default ``sqlite:///lavalink_sessions.db``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import typing

import hikari
import lightbulb

from lightbulb_lavalink import LavalinkSettings, SettingsError
from lightbulb_lavalink.check import check_nodes

__all__ = ["ConfigError", "build_bot", "main", "read_config", "setup_client"]

EXTENSIONS = ("lightbulb_lavalink", "example_bot.music")


class ConfigError(Exception):
    """Something the bot needs is missing or wrong; the message says what to do."""


def read_config(environ: typing.Mapping[str, str]) -> tuple[str, LavalinkSettings, list[int]]:
    """The token, the Lavalink settings and the guilds to register commands in; `ConfigError` says what is wrong."""
    problems: list[str] = []
    token = environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        problems.append(
            "DISCORD_TOKEN is not set: create a bot at https://discord.com/developers/applications, copy its token "
            "(Bot > Reset Token) and run `DISCORD_TOKEN=... python -m example_bot`."
        )
    settings = LavalinkSettings()
    try:
        settings = LavalinkSettings.from_env(environ)
    except SettingsError as exc:
        problems.append(f"{exc.field} is wrong: {exc.problem}.")
    guilds: list[int] = []
    for part in environ.get("DISCORD_GUILD_IDS", "").replace(",", " ").split():
        if part.isdigit():
            guilds.append(int(part))
        else:
            problems.append(f"DISCORD_GUILD_IDS must list guild ids (numbers), got {part!r}.")
    if problems:
        raise ConfigError("\n".join(problems))
    return token, settings, guilds


def setup_client(
    bot: hikari.GatewayBot, settings: LavalinkSettings | None = None, guilds: typing.Sequence[int] = ()
) -> lightbulb.Client:
    """The bot's lightbulb 3 client, with lightbulb-lavalink and the music commands loaded when the bot starts.

    Tests call this too, on an offline bot (`lightbulb_lavalink.testing.OfflineBot`).
    """
    client = lightbulb.client_from_app(bot, default_enabled_guilds=guilds)
    if settings is not None:
        client.di.registry_for(lightbulb.di.Contexts.DEFAULT).register_value(LavalinkSettings, settings)

    async def on_starting(_: hikari.StartingEvent) -> None:
        await client.load_extensions(*EXTENSIONS)

    bot.subscribe(hikari.StartingEvent, on_starting)
    bot.subscribe(hikari.StartedEvent, client.start)
    bot.subscribe(hikari.StoppingEvent, client.stop)
    return client


def build_bot(token: str, settings: LavalinkSettings, guilds: typing.Sequence[int] = ()) -> hikari.GatewayBot:
    """The bot: a lightbulb 3 client with lightbulb-lavalink and the music commands, loaded when it starts."""
    bot = hikari.GatewayBot(token, intents=hikari.Intents.ALL_UNPRIVILEGED, logs="INFO")
    setup_client(bot, settings, guilds)
    return bot


def main(environ: typing.Mapping[str, str] | None = None) -> int:
    """Run the bot; returns the exit status (2: something is missing, said on stderr)."""
    env = os.environ if environ is None else environ
    try:
        token, settings, guilds = read_config(env)
    except ConfigError as exc:
        print(f"The bot cannot start:\n{exc}", file=sys.stderr)
        return 2
    problems = [line for line in asyncio.run(check_nodes(settings)) if not line.ok]  # the library's pre-start check
    if len(problems) == len(settings.nodes):
        print("The bot cannot start: no Lavalink node is usable.\n" + "\n".join(map(str, problems)), file=sys.stderr)
        return 2
    for problem in problems:
        logging.getLogger("example_bot").warning("%s (continuing with the other nodes)", problem)
    bot = build_bot(token, settings, guilds)
    try:
        bot.run()
    except hikari.UnauthorizedError:
        print("The bot cannot start: Discord refused DISCORD_TOKEN. Reset the token and try again.", file=sys.stderr)
        return 2
    return 0
