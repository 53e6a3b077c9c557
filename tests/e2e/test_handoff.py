"""Handoff deploys in one process: two `LavalinkClient`s of one cluster on one `FakeLavalink` and a real shared
store (Redis, PostgreSQL), the new one taking the sessions over from the running one.

Real time (the stores are real servers), but nothing waits by sleeping: each step awaits the event, the future or
the condition it is about.
"""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import typing

import hikari
import pytest

from lightbulb_lavalink import HandoffCompletedEvent, HandoffError, events
from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import LavalinkError, NodeUnavailable
from lightbulb_lavalink.node import NodeState
from lightbulb_lavalink.resuming.handoff import HandoffState
from lightbulb_lavalink.resuming.handoff.releasing import Releaser
from lightbulb_lavalink.stores.handoff import HandoffKind, HandoffMessage
from lightbulb_lavalink.testing import FakeLavalink
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeVoiceGateway, make_bot
from tests.polling import eventually
from tests.stores.conftest import drop_server_data, require_server, server_status
from tests.stores.helpers import DATABASE_URL, REDIS_URL, unique

from .conftest import TIME_SCALE, BotProcess, World, make_tracks
from .test_resume import assert_queue, ids, play_everywhere

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

__all__ = ["server_status"]

LONG = 3_600_000  # an hour-long track: none ends by itself during a test


@contextlib.asynccontextmanager
async def shared_world(kind: str, server_status: dict[str, str | None], **server: typing.Any) -> AsyncIterator[World]:
    """A `World` whose store is a real Redis or PostgreSQL server, under a name no other test uses; `server`:
    how the `FakeLavalink` answers (``flavour="nodelink"``)."""
    await require_server(kind, server_status)
    name = unique("llho")
    store = f"{REDIS_URL}?prefix={name}" if kind == "redis" else f"{DATABASE_URL}?table={name}"
    async with FakeLavalink(time_scale=TIME_SCALE, player_update_interval=1.0, **server) as lavalink:
        discord = FakeDiscord()
        guilds = [await discord.add_guild(members=3) for _ in range(3)]
        world = World(lavalink=lavalink, discord=discord, store_url=store, guilds=guilds)
        try:
            yield world
        finally:
            for process in world.processes:
                await process.client.close()
                await process.voice.close()
            await drop_server_data(kind, name)


@pytest.fixture(params=("redis", "postgres"))
async def shared(request: pytest.FixtureRequest, server_status: dict[str, str | None]) -> AsyncIterator[World]:
    """A `World` whose store is a real Redis or PostgreSQL server, under a name no other test uses."""
    async with shared_world(request.param, server_status) as world:
        yield world


@pytest.fixture
async def nodelink(server_status: dict[str, str | None]) -> AsyncIterator[World]:
    """`shared` on Redis, with a node that answers as NodeLink does (REST answers for a paused session)."""
    async with shared_world("redis", server_status, flavour="nodelink") as world:
        yield world


async def boot_new(
    world: World,
    *,
    between: Callable[[], Awaitable[None]] | None = None,
    after_reading: Callable[[], Awaitable[None]] | None = None,
    **overrides: typing.Any,
) -> BotProcess:
    """The new process of a handoff deploy: its own bot (connected to Discord), client and voice; `start()` asks
    for the handoff. `after_reading` runs once this one read the store, the old one still playing; `between`
    after the old process let go, before this one reads again what it changed and connects."""
    bot = make_bot(bot_id=world.discord.bot_id)
    await world.discord.connect(bot)
    voice = FakeVoiceGateway(world.discord)
    settings = world.settings().with_overrides(**overrides)
    client = LavalinkClient(bot, settings, voice_gateway=voice)
    process = BotProcess(bot=bot, client=client, voice=voice, seen=[])

    async def record(event: events.LavalinkEvent) -> None:
        process.receive(event)

    bot.event_manager.subscribe(events.LavalinkEvent, record)
    if between is not None:
        original = client._start_handed_over

        async def start_after(changed: tuple[int, ...] | None, timeout: float) -> None:
            await between()
            await original(changed, timeout)

        client._start_handed_over = start_after  # type: ignore[method-assign]
    if after_reading is not None:
        read = client._read_before_handoff

        async def read_then() -> None:
            await read()
            await after_reading()

        client._read_before_handoff = read_then  # type: ignore[method-assign]
    world.processes.append(process)
    await client.start(handoff=True)
    return process


def playing(world: World, session_id: str | None) -> dict[int, str]:
    """What each guild's player plays on Lavalink, in `session_id`."""
    assert session_id is not None
    return {g: p.track.info.identifier for g, p in world.lavalink.players_of(session_id).items() if p.track}


async def test_a_handoff_moves_every_guild_to_the_new_process_with_its_queue(shared: World) -> None:
    old = await shared.boot()
    plan = await play_everywhere(shared, old, length=LONG)
    session = old.client.nodes["main"].session_id
    done = old.expect(HandoffCompletedEvent)

    new = await boot_new(shared)

    completed = await asyncio.wait_for(done, 10)
    assert old.client.handed_off and completed.took < 5
    await asyncio.wait_for(old.client.wait_handed_off(), 1)
    node = new.client.nodes["main"]
    assert node.state is NodeState.READY and node.session_id == session  # the same session, resumed
    assert node.last_sync is not None and node.last_sync.kind == "resumed"
    for gid, planned in plan.items():
        assert_queue(new.client.get_player(gid), planned[0], planned[1:])
    assert playing(shared, session) == {g: p[0] for g, p in plan.items()}  # nothing restarted or doubled
    assert not new.of_type(events.TrackStartEvent)
    # One owner: the old process's node is closed and writes nothing any more; the new one answers commands.
    assert old.client.nodes["main"].state is NodeState.DISCONNECTED
    player = new.client.get_player(shared.guilds[0].id)
    assert player is not None
    await player.skip()
    assert playing(shared, session)[shared.guilds[0].id] == plan[shared.guilds[0].id][1]
    assert old.client._hub.writer is None


async def test_a_track_that_ends_during_the_handoff_advances_its_queue_once(shared: World) -> None:
    old = await shared.boot()
    plan = await play_everywhere(shared, old, length=LONG)
    session = old.client.nodes["main"].session_id
    first = shared.guilds[0].id

    async def end_a_track() -> None:
        # The old process let go: the session is paused, Lavalink queues the event for the next connection.
        assert shared.lavalink.sessions[session or ""].paused
        shared.lavalink.players_of(session or "")[first].finish()

    new = await boot_new(shared, between=end_a_track)

    end = await new.wait_for(events.TrackEndEvent, lambda e: e.guild_id == first)
    assert end.replayed and end.track.info.identifier == plan[first][0]
    await eventually(lambda: playing(shared, session).get(first) == plan[first][1], what="the next track playing")
    assert_queue(new.client.get_player(first), plan[first][1], plan[first][2:])
    player = new.client.get_player(first)
    assert player is not None and ids(player.queue.history) == plan[first][:1]
    assert not old.of_type(events.TrackEndEvent)  # handled once, by the new process
    for gid in plan.keys() - {first}:
        assert_queue(new.client.get_player(gid), plan[gid][0], plan[gid][1:])


async def test_what_the_old_process_changes_while_the_new_one_reads_is_not_lost(shared: World) -> None:
    old = await shared.boot()
    plan = await play_everywhere(shared, old, length=LONG)
    first, second = shared.guilds[0].id, shared.guilds[1].id
    extra = make_tracks(shared.lavalink, "late", 1, length=LONG)[0]
    session = old.client.nodes["main"].session_id

    async def change_the_old_one() -> None:
        # The new process has read the store; the old one still plays and answers commands.
        player = old.client.get_player(first)
        assert player is not None
        player.queue.add(extra)
        await old.client.leave(second)

    new = await boot_new(shared, after_reading=change_the_old_one)

    assert_queue(new.client.get_player(first), plan[first][0], [*plan[first][1:], "late-0"])
    assert new.client.get_player(second) is None  # left: not brought back
    await eventually(lambda: second not in shared.lavalink.players_of(session or ""), what="its player destroyed")
    assert set(shared.lavalink.players_of(session or "")) == set(plan) - {second}
    third = shared.guilds[2].id
    assert_queue(new.client.get_player(third), plan[third][0], plan[third][1:])


async def test_a_new_process_that_dies_after_the_release_leaves_the_old_one_playing(shared: World) -> None:
    old = await shared.boot(handoff_timeout=1.0)
    plan = await play_everywhere(shared, old, length=LONG)
    session = old.client.nodes["main"].session_id
    back = old.expect(events.SessionResumedEvent)

    async def die() -> None:
        raise RuntimeError("killed")  # as a crash after the release: nothing connected

    store_type = type(old.client.store)
    original = store_type.publish_handoff

    async def publish(store: typing.Any, bot_id: int, cluster: str, message: typing.Any) -> None:
        if message.kind is not HandoffKind.ABORTED:  # a dead process says nothing more
            await original(store, bot_id, cluster, message)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_type, "publish_handoff", publish)
        with pytest.raises(RuntimeError, match="killed"):
            await boot_new(shared, between=die, handoff_timeout=1.0)

    resumed = await asyncio.wait_for(back, 10)  # at the old process's deadline, it resumes its own session
    assert resumed.session_id == session and resumed.players_synced == len(plan)
    assert not old.client.handed_off and old.client.nodes["main"].state is NodeState.READY
    for gid, planned in plan.items():
        assert_queue(old.client.get_player(gid), planned[0], planned[1:])
    assert playing(shared, session) == {g: p[0] for g, p in plan.items()}
    player = old.client.get_player(shared.guilds[1].id)
    assert player is not None
    await player.skip()  # it answers commands again
    assert playing(shared, session)[shared.guilds[1].id] == plan[shared.guilds[1].id][1]


async def test_a_new_process_that_fails_to_resume_tells_the_old_one_at_once(shared: World) -> None:
    old = await shared.boot(handoff_timeout=30.0)
    plan = await play_everywhere(shared, old, length=LONG)
    session = old.client.nodes["main"].session_id
    back = old.expect(events.SessionResumedEvent)

    async def refuse() -> None:
        raise HandoffError("this process cannot start")

    started = asyncio.get_running_loop().time()
    with pytest.raises(HandoffError, match="cannot start"):
        await boot_new(shared, between=refuse)
    resumed = await asyncio.wait_for(back, 10)
    assert asyncio.get_running_loop().time() - started < 10  # told by ABORTED: not the 30 s deadline
    assert resumed.session_id == session
    for gid, planned in plan.items():
        assert_queue(old.client.get_player(gid), planned[0], planned[1:])
    assert playing(shared, session) == {g: p[0] for g, p in plan.items()}


async def test_a_new_process_that_fails_before_the_release_changes_nothing(shared: World) -> None:
    old = await shared.boot(handoff_timeout=30.0)
    plan = await play_everywhere(shared, old, length=LONG)
    session = old.client.nodes["main"].session_id

    async def cannot_read() -> None:
        raise HandoffError("the store cannot be read")

    started = asyncio.get_running_loop().time()
    with pytest.raises(HandoffError, match="cannot be read"):
        await boot_new(shared, after_reading=cannot_read)
    await eventually(lambda: old.client._handoff.state is HandoffState.RUNNING, what="the old process running on")
    assert asyncio.get_running_loop().time() - started < 10  # told by ABORTED: not the 30 s deadline
    assert old.client._hub.changed is None  # it stopped noting changes
    assert not old.of_type(events.NodeDisconnectedEvent)  # its websocket never closed
    assert old.client.nodes["main"].session_id == session
    for gid, planned in plan.items():
        assert_queue(old.client.get_player(gid), planned[0], planned[1:])
    player = old.client.get_player(shared.guilds[0].id)
    assert player is not None
    await player.skip()
    assert playing(shared, session)[shared.guilds[0].id] == plan[shared.guilds[0].id][1]


async def test_no_process_listening_fails_the_new_one_within_its_deadline(shared: World) -> None:
    old = await shared.boot()
    await play_everywhere(shared, old, length=LONG)
    listening = old.client._handoff.state
    assert listening is HandoffState.RUNNING
    # An old process that does not hand over (an older version): its listener is gone.
    await old.client._hub.cancel_tasks()

    started = asyncio.get_running_loop().time()
    with pytest.raises(HandoffError, match="answered"):
        await boot_new(shared, handoff_timeout=0.5)
    assert asyncio.get_running_loop().time() - started < 5
    assert old.client.nodes["main"].state is NodeState.READY  # untouched


async def test_with_no_process_running_a_handoff_start_is_a_normal_start(shared: World) -> None:
    old = await shared.boot()
    plan = await play_everywhere(shared, old, length=LONG)
    session = old.client.nodes["main"].session_id
    await shared.stop(old)

    new = await boot_new(shared, handoff_timeout=0.5)

    resumed = await new.wait_for(events.SessionResumedEvent)
    assert resumed.session_id == session
    for gid, planned in plan.items():
        assert_queue(new.client.get_player(gid), planned[0], planned[1:])


async def test_a_handoff_on_a_single_process_store_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    async with FakeLavalink() as lavalink:
        discord = FakeDiscord()
        world = World(lavalink=lavalink, discord=discord, store_url=f"sqlite:///{tmp_path / 's.db'}", guilds=[])
        bot = make_bot(bot_id=discord.bot_id)
        await discord.connect(bot)
        client = LavalinkClient(bot, world.settings(), voice_gateway=FakeVoiceGateway(discord))
        with pytest.raises(HandoffError, match="processes share"):
            await asyncio.wait_for(client.start(handoff=True), 5)
        assert not client.started


async def test_a_leave_the_old_process_gets_while_letting_go_fails_clearly(shared: World) -> None:
    """Between the release and the resume the old process writes nothing: a leave it took there would leave the
    voice channel while the new process brings the guild back. It fails (NodeUnavailable, as documented), and the
    guild plays on under the new process."""
    old = await shared.boot()
    plan = await play_everywhere(shared, old, length=LONG)
    second = shared.guilds[1].id
    outcome: list[BaseException | None] = []

    async def leave_on_the_old_one() -> None:
        try:
            await old.client.leave(second)
        except LavalinkError as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    new = await boot_new(shared, between=leave_on_the_old_one)

    assert len(outcome) == 1 and isinstance(outcome[0], NodeUnavailable), outcome
    assert "hand" in str(outcome[0])
    assert_queue(new.client.get_player(second), plan[second][0], plan[second][1:])
    voice = shared.discord.bot_voice(second)
    assert voice is not None and voice.channel_id is not None  # the bot is still in voice there


async def test_the_old_process_shutting_down_after_a_handoff_leaves_the_new_one_playing(shared: World) -> None:
    """A bot that ends with `shutdown()` (leave every guild, end the sessions) must not do so with sessions it
    handed over: the new process holds them."""
    old = await shared.boot()
    plan = await play_everywhere(shared, old, length=LONG)
    session = old.client.nodes["main"].session_id
    new = await boot_new(shared)
    await asyncio.wait_for(old.client.wait_handed_off(), 10)

    await old.client.shutdown()

    assert not old.client.started
    for gid, planned in plan.items():
        assert_queue(new.client.get_player(gid), planned[0], planned[1:])
        voice = shared.discord.bot_voice(gid)
        assert voice is not None and voice.channel_id is not None
    assert playing(shared, session) == {g: p[0] for g, p in plan.items()}
    assert shared.lavalink.sessions[session or ""].resuming


async def test_a_handoff_start_while_the_node_is_down_and_no_process_runs_starts_normally(shared: World) -> None:
    """``LAVALINK_HANDOFF=true`` left set is documented safe: a process booting while no other runs and its node is
    briefly unreachable starts as without it (the nodes reconnect in the background), rather than not at all."""
    old = await shared.boot()
    plan = await play_everywhere(shared, old, length=LONG)
    session = old.client.nodes["main"].session_id
    await shared.stop(old)
    await shared.lavalink.drop_connections(refuse_new=True)

    starting = asyncio.ensure_future(boot_new(shared, handoff_timeout=0.5))
    try:
        new = await asyncio.wait_for(starting, 10)
    finally:
        await shared.lavalink.accept_connections()
    assert new.client.started
    resumed = await new.wait_for(events.SessionResumedEvent)
    assert resumed.session_id == session
    for gid, planned in plan.items():
        assert_queue(new.client.get_player(gid), planned[0], planned[1:])


async def test_a_process_still_taking_over_does_not_answer_another_request(shared: World) -> None:
    """Two deploys at once: B asks while A, which took over, is still waiting for its nodes. A listens already,
    but must not start handing over what it does not hold yet (it would close its nodes under its own start, and
    the first process would take the sessions back beside B); B's request goes unanswered and B fails."""
    old = await shared.boot()
    plan = await play_everywhere(shared, old, length=LONG)
    session = old.client.nodes["main"].session_id
    done = old.expect(HandoffCompletedEvent)
    second: list[asyncio.Future[BotProcess]] = []
    states: list[HandoffState] = []
    original = LavalinkClient.wait_ready
    heard_by_a = asyncio.Event()
    on_request = Releaser._on_request

    def hearing(releaser: Releaser, message: HandoffMessage) -> None:
        on_request(releaser, message)
        if releaser._hub.client is not old.client:
            heard_by_a.set()  # A decided on B's request (it must refuse it)

    async def wait_ready(client: LavalinkClient, timeout: float = 10.0) -> None:
        if client is not old.client and not second:
            # A connected its nodes and listens: B asks now, and A decides on the request before going on.
            second.append(asyncio.ensure_future(boot_new(shared, handoff_timeout=1.0)))
            await heard_by_a.wait()
            states.append(client._handoff.state)
        await original(client, timeout)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Releaser, "_on_request", hearing)
        patch.setattr(LavalinkClient, "wait_ready", wait_ready)
        first = await boot_new(shared, handoff_timeout=5.0)
    await asyncio.wait_for(done, 10)
    assert states == [HandoffState.RUNNING]
    with pytest.raises(HandoffError):
        await asyncio.wait_for(second[0], 10)
    assert first.client.nodes["main"].session_id == session
    assert first.client.nodes["main"].state is NodeState.READY
    for gid, planned in plan.items():
        assert_queue(first.client.get_player(gid), planned[0], planned[1:])


async def test_a_listener_that_closes_the_bot_on_handoff_completed_lets_it_stop(shared: World) -> None:
    """What `HandoffCompletedEvent` says to do (and the extension does): ``await bot.close()`` in its listener.
    hikari's close awaits the `StoppingEvent` listeners, one of which closes the client: the client closing must
    not cancel and wait for the listener that is closing the bot (it waits for the client: the bot never stops)."""
    old = await shared.boot()
    await play_everywhere(shared, old, length=LONG)
    closed = asyncio.Event()

    async def close_the_bot() -> None:  # what hikari's GatewayBot.close does before closing its shards
        await old.bot.event_manager.dispatch(hikari.StoppingEvent(app=old.bot), return_tasks=True)
        closed.set()

    async def on_handed_off(_: HandoffCompletedEvent) -> None:
        await close_the_bot()

    async def on_stopping(_: hikari.StoppingEvent) -> None:
        await old.client.close()

    old.bot.event_manager.subscribe(HandoffCompletedEvent, on_handed_off)
    old.bot.event_manager.subscribe(hikari.StoppingEvent, on_stopping)
    await boot_new(shared)
    await asyncio.wait_for(closed.wait(), 5)
    assert not old.client.started


async def test_a_queue_change_the_old_process_makes_while_writing_its_last_snapshots_is_kept(
    shared: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old process closed its websockets and writes its last snapshots: a ``player.queue.add`` its code makes
    then (a command that was already past the node, a timer of the bot) reaches the new process."""
    old = await shared.boot()
    plan = await play_everywhere(shared, old, length=LONG)
    first = shared.guilds[0].id
    extra = make_tracks(shared.lavalink, "late", 1, length=LONG)[0]
    writer = old.client._hub.writer
    assert writer is not None
    flush = type(writer).flush
    added: list[bool] = []

    async def add_then_flush(self: typing.Any) -> None:
        letting_go = old.client.nodes["main"].state is NodeState.DISCONNECTED  # its websockets are closed
        if self is writer and letting_go and not added:
            player = old.client.get_player(first)
            assert player is not None
            player.queue.add(extra)
            added.append(True)
        await flush(self)

    monkeypatch.setattr(type(writer), "flush", add_then_flush)

    new = await boot_new(shared)

    assert added == [True]
    assert_queue(new.client.get_player(first), plan[first][0], [*plan[first][1:], "late-0"])


async def test_a_change_the_old_process_makes_once_it_let_go_is_refused_never_lost(shared: World) -> None:
    """Once its last snapshots are written nothing the old process changes can reach the new one: every change
    (a queue's, its loop mode, a command) fails with a `NodeUnavailable` that says why, rather than vanish."""
    old = await shared.boot()
    plan = await play_everywhere(shared, old, length=LONG)
    first = shared.guilds[0].id
    extra = make_tracks(shared.lavalink, "late", 1, length=LONG)[0]
    refused: list[str] = []

    async def change_the_old_one() -> None:
        player = old.client.get_player(first)
        assert player is not None
        changes: list[Callable[[], object]] = [
            lambda: player.queue.add(extra),
            lambda: player.queue.clear(),
            lambda: setattr(player.queue, "loop", "queue"),
        ]
        for change in changes:
            with pytest.raises(NodeUnavailable) as caught:
                change()
            refused.append(str(caught.value))
        commands: list[Callable[[], Awaitable[object]]] = [
            player.skip,
            lambda: player.set_volume(50),
            lambda: old.client.load_tracks("late-0"),  # a /play's first step
        ]
        for command in commands:
            with pytest.raises(NodeUnavailable) as caught:
                await command()
            refused.append(str(caught.value))

    new = await boot_new(shared, between=change_the_old_one)

    assert len(refused) == 6 and all("handing its Lavalink sessions over" in why for why in refused), refused
    assert not any("once it is back" in why for why in refused)  # the node never comes back to this process
    assert_queue(new.client.get_player(first), plan[first][0], plan[first][1:])
    await asyncio.wait_for(old.client.wait_handed_off(), 10)
    player = old.client.get_player(first)
    assert player is not None
    with pytest.raises(NodeUnavailable, match="exiting"):
        player.queue.add(extra)


async def test_an_old_process_stopped_while_prepared_leaves_the_new_one_to_start_normally(shared: World) -> None:
    """The old process answered, then stopped (the deploy script, Ctrl-C) before letting go: it writes its last
    snapshots as any clean stop does and says so; the new process starts at once, as with no process running,
    with what the old one changed meanwhile."""
    old = await shared.boot(handoff_timeout=30.0)
    plan = await play_everywhere(shared, old, length=LONG)
    session = old.client.nodes["main"].session_id
    first = shared.guilds[0].id
    extra = make_tracks(shared.lavalink, "late", 1, length=LONG)[0]

    async def stop_the_old_one() -> None:
        player = old.client.get_player(first)
        assert player is not None
        player.queue.add(extra)
        await shared.stop(old)

    started = asyncio.get_running_loop().time()
    new = await boot_new(shared, after_reading=stop_the_old_one, handoff_timeout=30.0)

    assert asyncio.get_running_loop().time() - started < 10  # told at once: not the 30 s deadline
    assert new.client.started
    resumed = await new.wait_for(events.SessionResumedEvent)
    assert resumed.session_id == session
    assert_queue(new.client.get_player(first), plan[first][0], [*plan[first][1:], "late-0"])
    for gid in plan.keys() - {first}:
        assert_queue(new.client.get_player(gid), plan[gid][0], plan[gid][1:])


async def test_an_old_process_killed_while_prepared_leaves_the_new_one_to_start_normally(shared: World) -> None:
    """Killed before letting go, it says nothing: the new process, hearing no ``released`` by its deadline, finds
    nothing holding the sessions and starts normally rather than fail."""
    old = await shared.boot(handoff_timeout=0.5)
    plan = await play_everywhere(shared, old, length=LONG)
    session = old.client.nodes["main"].session_id

    killed: list[object] = []

    async def kill_the_old_one() -> None:
        killed.append(old.client.store)
        await shared.crash(old)

    store_type = type(old.client.store)
    original = store_type.publish_handoff

    async def publish(store: typing.Any, bot_id: int, cluster: str, message: typing.Any) -> None:
        if store not in killed:  # a killed process says nothing more
            await original(store, bot_id, cluster, message)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_type, "publish_handoff", publish)
        new = await boot_new(shared, after_reading=kill_the_old_one, handoff_timeout=0.5)

    resumed = await new.wait_for(events.SessionResumedEvent)
    assert resumed.session_id == session
    for gid, planned in plan.items():
        assert_queue(new.client.get_player(gid), planned[0], planned[1:])


async def test_a_process_busy_with_a_handoff_says_so_at_once(shared: World) -> None:
    """A request to a process that is already handing over (two deploys at once) is answered at once with why:
    the second new process fails fast saying so, not after its deadline with a guess."""
    old = await shared.boot(handoff_timeout=30.0)
    plan = await play_everywhere(shared, old, length=LONG)
    failures: list[BaseException] = []
    elapsed: list[float] = []

    async def a_second_deploy() -> None:
        started = asyncio.get_running_loop().time()
        try:
            await boot_new(shared, handoff_timeout=30.0)
        except HandoffError as exc:
            failures.append(exc)
        elapsed.append(asyncio.get_running_loop().time() - started)

    first = await boot_new(shared, after_reading=a_second_deploy, handoff_timeout=30.0)

    assert len(failures) == 1 and elapsed[0] < 10, (failures, elapsed)
    assert "already handing" in str(failures[0]), failures
    assert "too old" not in str(failures[0])
    await asyncio.wait_for(old.client.wait_handed_off(), 10)
    for gid, planned in plan.items():
        assert_queue(first.client.get_player(gid), planned[0], planned[1:])


async def test_on_nodelink_with_no_process_running_a_handoff_start_is_a_normal_start(nodelink: World) -> None:
    """NodeLink answers REST for a paused session as for a connected one: the new process, hearing no answer,
    asks the node in a way NodeLink does tell apart (a resume of a paused session succeeds, of a connected one
    does not) and starts normally rather than fail."""
    old = await nodelink.boot()
    plan = await play_everywhere(nodelink, old)
    session = old.client.nodes["main"].session_id
    await nodelink.stop(old)

    new = await boot_new(nodelink, handoff_timeout=0.5)

    assert new.client.started
    ready = await new.wait_for(events.NodeReadyEvent)
    assert ready.resumed and ready.session_id == session
    for gid, planned in plan.items():
        assert_queue(new.client.get_player(gid), planned[0], planned[1:])
    assert playing(nodelink, session) == {g: p[0] for g, p in plan.items()}


async def test_on_nodelink_a_running_process_that_does_not_hand_over_still_fails_the_new_one(nodelink: World) -> None:
    old = await nodelink.boot()
    plan = await play_everywhere(nodelink, old)
    session = old.client.nodes["main"].session_id
    await old.client._hub.cancel_tasks()  # an old process that does not hand over: its listener is gone

    with pytest.raises(HandoffError, match="live connection holds"):
        await boot_new(nodelink, handoff_timeout=0.5)
    node = old.client.nodes["main"]
    assert node.state is NodeState.READY and node.session_id == session  # untouched
    assert playing(nodelink, session) == {g: p[0] for g, p in plan.items()}
    player = old.client.get_player(nodelink.guilds[0].id)
    assert player is not None
    await player.skip()  # its connection still works
    assert playing(nodelink, session)[nodelink.guilds[0].id] == plan[nodelink.guilds[0].id][1]
