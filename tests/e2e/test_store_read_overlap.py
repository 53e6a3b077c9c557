"""A restart reads its saved guilds while it connects: the node is asked for its players before the read is over,
and nothing is claimed (nor saved over a queue) until it is."""

from __future__ import annotations

import asyncio
import typing

import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.node import NodeState
from lightbulb_lavalink.stores import SQLiteStore
from lightbulb_lavalink.testing.gateway import FakeVoiceGateway, make_bot

from .conftest import BotProcess, HeldGetPlayers, World
from .test_resume import assert_queue, lavalink_players, play_everywhere

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.snapshot import GuildSnapshot
    from lightbulb_lavalink.stores import StoreKey


class _GatedGuildRead(SQLiteStore):
    """The world's SQLite file, whose guild read waits for `gate` (and fails while `failing`)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.gate = asyncio.Event()
        self.reading = asyncio.Event()
        self.failed = asyncio.Event()
        self.failing = False

    async def get_guilds(self, key: StoreKey) -> dict[int, GuildSnapshot]:
        self.reading.set()
        if self.failing:
            self.failed.set()
            raise StoreError("the database went away")
        await self.gate.wait()
        return await super().get_guilds(key)


async def _restart(world: World, store: SQLiteStore) -> BotProcess:
    """A new bot process on `store`, started without waiting for its node."""
    bot = make_bot(bot_id=world.discord.bot_id)
    await world.discord.connect(bot)
    voice = FakeVoiceGateway(world.discord)
    process = BotProcess(bot=bot, client=LavalinkClient(bot, world.settings(), store=store, voice_gateway=voice),
                         voice=voice, seen=[])  # fmt: skip

    async def record(event: events.LavalinkEvent) -> None:
        process.receive(event)

    bot.event_manager.subscribe(events.LavalinkEvent, record)
    world.processes.append(process)
    await process.client.start()
    return process


def _path(world: World) -> str:
    return world.store_url.removeprefix("sqlite:///")


async def test_the_node_is_asked_for_its_players_while_the_saved_guilds_are_still_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await world.boot()
    plan = await play_everywhere(world, first)
    await world.stop(first)
    store = _GatedGuildRead(_path(world))
    hold = HeldGetPlayers(monkeypatch)

    second = await _restart(world, store)
    await asyncio.wait_for(hold.held.wait(), 5)

    assert not store.gate.is_set(), "the players were asked for before the saved guilds were read"
    client = second.client
    assert client.nodes["main"].state is NodeState.SYNCING
    assert client.players == {}, "nothing is claimed before the saved guilds are read"
    store.gate.set()
    hold.release()
    await client.wait_ready(5)
    resumed = await asyncio.wait_for(second.expect(events.SessionResumedEvent, seen=True), 5)
    assert sorted(resumed.guild_ids) == sorted(plan)
    for gid, planned in plan.items():
        assert_queue(client.get_player(gid), planned[0], planned[1:])


async def test_a_guild_read_that_fails_after_the_session_ids_brings_every_guild_back_once_the_store_answers(
    world: World,
) -> None:
    first = await world.boot()
    plan = await play_everywhere(world, first)
    await world.stop(first)
    store = _GatedGuildRead(_path(world))
    store.failing = True

    second = await _restart(world, store)
    await asyncio.wait_for(store.failed.wait(), 5)

    client = second.client
    node = client.nodes["main"]
    assert node.last_error is not None and "waiting for the session store" in node.last_error
    assert client.players == {}
    store.failing = False
    store.gate.set()
    await client.wait_ready(5)
    await asyncio.wait_for(second.expect(events.SessionResumedEvent, seen=True), 5)
    for gid, planned in plan.items():
        assert_queue(client.get_player(gid), planned[0], planned[1:])
    assert node.last_error is None


async def test_a_guild_left_while_the_saved_guilds_are_read_is_not_brought_back(world: World) -> None:
    first = await world.boot()
    plan = await play_everywhere(world, first)
    await world.stop(first)
    store = _GatedGuildRead(_path(world))
    left = world.guilds[0].id

    second = await _restart(world, store)
    await asyncio.wait_for(store.reading.wait(), 5)
    await second.client.leave(left)
    store.gate.set()
    await second.client.wait_ready(5)

    resumed = await asyncio.wait_for(second.expect(events.SessionResumedEvent, seen=True), 5)
    assert left not in resumed.guild_ids
    assert second.client.get_player(left) is None
    for gid, planned in plan.items():
        if gid != left:
            assert_queue(second.client.get_player(gid), planned[0], planned[1:])
    await second.expect(events.ResumeCompletedEvent, seen=True)
    assert left not in lavalink_players(world, second), "its player on the node is destroyed"


async def test_a_client_closed_while_its_ready_waits_for_the_saved_guilds_closes_at_once_and_keeps_them(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the races' tests: the ready waited for a guild read the close had cancelled, and the close for the
    ready (10 s, until the websocket task was cancelled)."""
    first = await world.boot()
    plan = await play_everywhere(world, first)
    await world.stop(first)
    store = _GatedGuildRead(_path(world))
    hold = HeldGetPlayers(monkeypatch)
    second = await _restart(world, store)
    await asyncio.wait_for(hold.held.wait(), 5)

    hold.release()
    await asyncio.wait_for(world.stop(second), 2)
    assert not second.client._hub._tasks  # nothing left running

    third = await world.boot()
    await asyncio.wait_for(third.expect(events.SessionResumedEvent, seen=True), 5)
    for gid, planned in plan.items():
        assert_queue(third.client.get_player(gid), planned[0], planned[1:])


class _BrokenGuildRead(_GatedGuildRead):
    """A store of the bot's own that breaks its contract: its guild read raises something else than StoreError."""

    async def get_guilds(self, key: StoreKey) -> dict[int, GuildSnapshot]:
        if self.failing:
            self.failed.set()
            raise ConnectionResetError("connection reset by peer")
        return await SQLiteStore.get_guilds(self, key)


async def test_a_guild_read_that_fails_with_an_unexpected_error_still_brings_every_guild_back_once_it_works(
    world: World,
) -> None:
    """The read used to end in its background task: the ready went on as if the client were closing, claimed
    nothing, and the node was ready with every saved queue ignored (a new play would have saved over it)."""
    first = await world.boot()
    plan = await play_everywhere(world, first)
    await world.stop(first)
    store = _BrokenGuildRead(_path(world))
    store.failing = True

    second = await _restart(world, store)
    await asyncio.wait_for(store.failed.wait(), 5)

    client = second.client
    node = client.nodes["main"]
    assert node.last_error is not None and "connection reset by peer" in node.last_error
    assert node.state is not NodeState.READY
    store.failing = False
    await client.wait_ready(5)
    await asyncio.wait_for(second.expect(events.SessionResumedEvent, seen=True), 5)
    for gid, planned in plan.items():
        assert_queue(client.get_player(gid), planned[0], planned[1:])
