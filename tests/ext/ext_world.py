"""A world for the extension tests (lightbulb 3 and 2): a FakeLavalink node, Discord faked on loopback, real bots."""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import itertools
import logging
import pathlib
import typing

import attrs
import hikari
import pytest

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.testing import FakeLavalink
from lightbulb_lavalink.testing.discord_rest import FakeDiscordRest, offline_bot, slash_command_payload
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeGuild, FakeVoiceGateway

BOT_ID = 1_180_000_000_000_000_001
OWNER_ID = 1_170_000_000_000_000_007
TEAM_MEMBER_ID = 1_170_000_000_000_000_008
NODE_PASSWORD = "n0de-p4ssw0rd-do-not-show"
BAD_PORT: dict[str, typing.Any] = {
    "nodes": [{"name": "main", "host": "127.0.0.1", "port": 70000, "password": NODE_PASSWORD}]
}
"""Settings the extension cannot start with (``nodes[0].port``)."""

WATCHED_EVENTS: tuple[type[hikari.Event], ...] = (
    hikari.StartedEvent,
    hikari.StoppingEvent,
    hikari.GuildAvailableEvent,
    hikari.VoiceStateUpdateEvent,
    hikari.VoiceServerUpdateEvent,
    hikari.InteractionCreateEvent,
)


def listener_counts(bot: hikari.GatewayBot) -> dict[str, int]:
    """How many listeners each event the extension might listen to has."""
    return {event.__name__: len(bot.event_manager.get_listeners(event)) for event in WATCHED_EVENTS}


def open_sockets(node: FakeLavalink) -> list[str]:
    """Ids of the sessions whose websocket is connected to the node."""
    return [session_id for session_id, session in node.sessions.items() if session.connection is not None]


def failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What was logged as an error."""
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def fail_fast_settings(how: str, monkeypatch: pytest.MonkeyPatch) -> tuple[typing.Any, bool]:
    """Bad settings with ``fail_fast`` set, in the settings (``how="settings"``) or the environment: the settings to
    register (`None`: none) and whether the world's defaults may stand in for none."""
    if how == "settings":
        return {**BAD_PORT, "fail_fast": True}, True
    monkeypatch.setenv("LAVALINK_FAIL_FAST", "yes")
    monkeypatch.setenv("LAVALINK_PORT", "lots")
    return None, False


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@attrs.define(kw_only=True)
class World:
    """Everything a test drives: Discord (gateway and REST), a Lavalink node, the bot and a guild."""

    node: FakeLavalink
    rest: FakeDiscordRest
    discord: FakeDiscord
    voice: FakeVoiceGateway
    guild: FakeGuild
    store: str
    _ids: collections.abc.Iterator[int] = attrs.field(factory=lambda: itertools.count(1_400_000_000_000_000_000))

    def settings(self, **overrides: typing.Any) -> LavalinkSettings:
        values: dict[str, typing.Any] = {
            "nodes": (NodeSettings(name="main", host="127.0.0.1", port=self.node.port, password=NODE_PASSWORD),),
            "store": self.store,
            "resume_timeout": 60,
        }
        values.update(overrides)
        return LavalinkSettings(**values)

    def new_bot(self) -> hikari.GatewayBot:
        bot: hikari.GatewayBot = offline_bot(self.rest, BOT_ID)
        return bot

    def payload(
        self,
        subcommand: str | None,
        *,
        command: str = "lavalink",
        user_id: int | None = None,
        permissions: hikari.Permissions = hikari.Permissions.MANAGE_GUILD,
        options: typing.Sequence[dict[str, typing.Any]] = (),
        in_guild: bool = True,
    ) -> tuple[int, dict[str, typing.Any]]:
        """An INTERACTION_CREATE for ``/command [subcommand]``; returns (interaction id, payload).

        The user defaults to the guild's last member (not its owner, not a bot owner).
        """
        interaction_id = next(self._ids)
        return interaction_id, slash_command_payload(
            interaction_id=interaction_id,
            application_id=BOT_ID,
            guild_id=self.guild.id if in_guild else None,
            channel_id=self.guild.text_channel_ids[0],
            user_id=user_id if user_id is not None else self.guild.member_ids[-1],
            permissions=permissions,
            command=command,
            subcommand=subcommand,
            options=options,
        )


@contextlib.asynccontextmanager
async def make_world(tmp_path: pathlib.Path) -> collections.abc.AsyncIterator[World]:
    """A running FakeLavalink and FakeDiscordRest, a FakeDiscord with one guild, and a FakeVoiceGateway."""
    async with (
        FakeLavalink(password=NODE_PASSWORD, time_scale=20) as node,
        FakeDiscordRest(application_id=BOT_ID, owner_id=OWNER_ID, team_member_ids=[TEAM_MEMBER_ID]) as rest,
    ):
        discord = FakeDiscord(bot_id=BOT_ID)
        guild = await discord.add_guild(name="Music Club", members=3)
        async with FakeVoiceGateway(discord) as voice:
            yield World(
                node=node,
                rest=rest,
                discord=discord,
                voice=voice,
                guild=guild,
                store=f"sqlite:///{tmp_path / 'sessions.db'}",
            )


async def play_something(lavalink: LavalinkClient, world: World) -> None:
    """Once the node is ready: join the world's guild, play a track and queue two more."""
    await lavalink.wait_ready()
    player = await lavalink.join(world.guild.id, world.guild.voice_channel_ids[0])
    tracks = (await lavalink.load_tracks("ytsearch:never gonna give you up")).tracks
    player.queue.extend(tracks[1:3])
    await player.play(tracks[0])
