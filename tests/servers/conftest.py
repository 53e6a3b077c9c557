"""A real bot (never-started GatewayBot, real LavalinkClient on a `ManualClock`) against a recorded server."""

from __future__ import annotations

import asyncio
import contextlib
import typing

import attrs

from lightbulb_lavalink import events
from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.testing import ManualClock
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeGuild, FakeVoiceGateway, make_bot

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    import hikari

E = typing.TypeVar("E", bound=events.LavalinkEvent)

GUILD = 1200000000000000001
"""The guild the recordings played in."""


@attrs.define
class Bot:
    """One bot process: its client, the clock it runs on, and every lightbulb-lavalink event it dispatched."""

    client: LavalinkClient
    clock: ManualClock
    guild: FakeGuild
    voice: FakeVoiceGateway
    seen: list[hikari.Event] = attrs.field(factory=list)
    _waiters: list[tuple[type[hikari.Event], Callable[[typing.Any], bool], asyncio.Future[typing.Any]]] = attrs.field(
        factory=list
    )

    def of_type(self, kind: type[E]) -> list[E]:
        return [e for e in self.seen if isinstance(e, kind)]

    def receive(self, event: hikari.Event) -> None:
        self.seen.append(event)
        for waiter in list(self._waiters):
            kind, predicate, future = waiter
            if future.done():
                self._waiters.remove(waiter)
            elif isinstance(event, kind) and predicate(event):
                self._waiters.remove(waiter)
                future.set_result(event)

    def expect(
        self, kind: type[E], predicate: Callable[[E], bool] = lambda e: True, *, seen: bool = False
    ) -> asyncio.Future[E]:
        """A future for the next `kind` event matching `predicate`: create it before what should cause it (with
        `seen`, one already dispatched counts too)."""
        future: asyncio.Future[E] = asyncio.get_running_loop().create_future()
        if seen:
            for event in self.of_type(kind):
                if predicate(event):
                    future.set_result(event)
                    return future
        self._waiters.append((kind, predicate, future))
        return future


async def got(future: asyncio.Future[E]) -> E:
    """Await an `expect` future (a real-time safety net only: nothing here waits on time)."""
    async with asyncio.timeout(5):
        return await future


@contextlib.asynccontextmanager
async def bot_on(host: str, port: int, password: str, **settings: typing.Any) -> AsyncIterator[Bot]:
    """A started bot whose one node (``"main"``) is at `host`:`port`; it is in guild `GUILD`."""
    clock = ManualClock()
    discord = FakeDiscord()
    guild = await discord.add_guild(guild_id=GUILD, members=3)
    bot = make_bot(bot_id=discord.bot_id)
    await discord.connect(bot)
    async with FakeVoiceGateway(discord) as voice:
        client = LavalinkClient(
            bot,
            LavalinkSettings(
                nodes=(NodeSettings(name="main", host=host, port=port, password=password),),
                store="memory://",
                reconnect_delay=0.05,
                reconnect_max_delay=0.2,
                **settings,
            ),
            voice_gateway=voice,
            clock=clock,
        )
        process = Bot(client=client, clock=clock, guild=guild, voice=voice)

        async def record(event: events.LavalinkEvent) -> None:
            process.receive(event)

        bot.event_manager.subscribe(events.LavalinkEvent, record)
        await client.start()
        try:
            await client.wait_ready(5)
            yield process
        finally:
            await client.close()
