"""A restart holds the garbage collector off while it rebuilds the guilds, and gives it back once synced."""

from __future__ import annotations

import asyncio
import gc
import typing

import pytest

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.node import NodeState
from lightbulb_lavalink.stores import MemoryStore
from lightbulb_lavalink.testing.gateway import FakeVoiceGateway, make_bot

from .conftest import HeldGetPlayers, World
from .test_resume import play_everywhere

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.stores import StoreKey


async def test_the_collector_waits_during_a_restarts_sync_and_runs_again_after(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert gc.isenabled()
    first = await world.boot()
    assert gc.isenabled(), "given back once the first node is synced"
    await play_everywhere(world, first)
    await world.stop(first)

    hold = HeldGetPlayers(monkeypatch)
    second = await world.boot(wait=False)
    await asyncio.wait_for(hold.held.wait(), 5)
    assert not gc.isenabled(), "the resumed sync rebuilds every guild with the collector held off"
    hold.release()
    await second.client.wait_ready(5)
    assert gc.isenabled()
    await world.stop(second)
    assert gc.isenabled()


class _SlowStore(MemoryStore):
    """A store whose session read waits for `gate` (a database slow to answer at boot)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.reading = asyncio.Event()

    async def get_session(self, key: StoreKey) -> str | None:
        self.reading.set()
        await self.gate.wait()
        return await super().get_session(key)


@pytest.mark.parametrize("phase", ["store opening", "store read"])
async def test_a_client_closed_while_it_starts_stays_closed(world: World, phase: str) -> None:
    """The bot stops while the client is still starting: `start()` returns without an error, no node connects
    after the close, and the collector runs (`start()` raised a bare AssertionError, or connected the nodes of a
    client already closed)."""
    store = _SlowStore()
    opened = asyncio.Event()
    if phase == "store opening":
        original_open = store.open

        async def slow_open() -> None:
            opened.set()
            await store.gate.wait()
            await original_open()

        store.open = slow_open  # type: ignore[method-assign]
    bot = make_bot(bot_id=world.discord.bot_id)
    await world.discord.connect(bot)
    client = LavalinkClient(bot, world.settings(), store=store, voice_gateway=FakeVoiceGateway(world.discord))
    start = asyncio.create_task(client.start())
    await asyncio.wait_for((opened if phase == "store opening" else store.reading).wait(), 5)

    await client.close()
    store.gate.set()
    await asyncio.wait_for(start, 5)
    assert not client.started
    assert all(node.state is NodeState.DISCONNECTED for node in client.nodes.values())
    assert world.lavalink.sessions == {}, "a node connected after the client was closed"
    assert gc.isenabled()
    await client.close()
