"""The tutorial bot: `build` sets a bot up (the tests call it too); `python -m docs_tutorial_bot.bot` runs it."""

from __future__ import annotations

import os

import hikari
import lightbulb


def build(bot: hikari.GatewayBot) -> lightbulb.Client:
    """Make the lightbulb client and load the extensions when the bot starts."""
    client = lightbulb.client_from_app(bot)

    async def on_starting(_: hikari.StartingEvent) -> None:
        await client.load_extensions("lightbulb_lavalink", "docs_tutorial_bot.music")

    bot.subscribe(hikari.StartingEvent, on_starting)
    bot.subscribe(hikari.StartedEvent, client.start)
    bot.subscribe(hikari.StoppingEvent, client.stop)
    return client


def main() -> None:
    """Run the bot: DISCORD_TOKEN, and the LAVALINK_* variables (see `python -m lightbulb_lavalink check`)."""
    bot = hikari.GatewayBot(os.environ["DISCORD_TOKEN"], intents=hikari.Intents.ALL_UNPRIVILEGED)
    build(bot)
    bot.run()


if __name__ == "__main__":
    main()
