"""The client's own dispatch reaches hikari listeners as hikari's dispatch does, without a task per listener.

Every test subscribes real listeners on a real (never-started) `GatewayBot`'s event manager and dispatches
through `LavalinkClient.dispatch`, the path every library event takes.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import typing

import hikari
import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.dispatching import EventDispatcher, ReaderAnswers
from lightbulb_lavalink.player import Player
from lightbulb_lavalink.protocol.messages import TrackEndReason
from lightbulb_lavalink.protocol.player import PlayerState
from tests.core.test_events import GUILD_ID, TRACK
from tests.loop_turns import suspend, turns

if typing.TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    Listener = Callable[[typing.Any], Coroutine[typing.Any, typing.Any, None]]


class World:
    def __init__(self, bot: hikari.GatewayBot) -> None:
        self.bot = bot
        self.client = LavalinkClient(bot)
        self.node = next(iter(self.client.nodes.values()))
        self.player = Player(self.client._hub, self.node, GUILD_ID)

    def update(self, position: int = 1000) -> events.PlayerUpdateEvent:
        state = PlayerState(time=1, position=position, connected=True, ping=5)
        return events.PlayerUpdateEvent(
            app=self.bot, client=self.client, player=self.player, guild_id=self.player.snowflake, node=self.node,
            state=state,
        )  # fmt: skip

    def end(self) -> events.TrackEndEvent:
        return events.TrackEndEvent(
            app=self.bot, client=self.client, player=self.player, track=TRACK, reason=TrackEndReason.FINISHED,
            may_start_next=True, raw_reason="finished", replayed=False,
        )  # fmt: skip


@pytest.fixture
def world(bot: hikari.GatewayBot) -> World:
    return World(bot)


async def test_a_listener_gets_the_event_at_a_later_turn_not_inside_the_dispatch(world: World) -> None:
    got: list[hikari.Event] = []
    done = asyncio.Event()

    async def on_update(event: events.PlayerUpdateEvent) -> None:
        got.append(event)
        done.set()

    world.bot.event_manager.subscribe(events.PlayerUpdateEvent, on_update)
    event = world.update()
    world.client.dispatch(event)
    assert got == []  # the library's handler goes on first, as with hikari's tasks
    await done.wait()
    assert got == [event]


async def test_listeners_of_a_base_class_and_of_the_type_all_get_it_once(world: World) -> None:
    seen: list[str] = []
    both = asyncio.Event()

    def recorder(name: str) -> Listener:
        async def listener(event: hikari.Event) -> None:
            seen.append(name)
            if len(seen) == 3:
                both.set()

        return listener

    manager = world.bot.event_manager
    manager.subscribe(events.TrackEndEvent, recorder("end"))
    manager.subscribe(events.PlayerEvent, recorder("player"))
    manager.subscribe(events.LavalinkEvent, recorder("any"))
    manager.subscribe(events.PlayerUpdateEvent, recorder("update"))  # another type: never called
    world.client.dispatch(world.end())
    await both.wait()
    assert sorted(seen) == ["any", "end", "player"]


async def test_wait_for_and_streams_still_get_the_events(world: World) -> None:
    listened = asyncio.Event()

    async def on_end(_: events.TrackEndEvent) -> None:
        listened.set()

    world.bot.event_manager.subscribe(events.TrackEndEvent, on_end)
    waiting = asyncio.ensure_future(world.bot.event_manager.wait_for(events.TrackEndEvent, timeout=None))
    await turns(1)  # the waiter registers
    assert world.client.heard(events.TrackEndEvent)
    event = world.end()
    world.client.dispatch(event)
    assert await waiting is event
    await listened.wait()  # the listener too, once

    with world.bot.event_manager.stream(events.PlayerUpdateEvent, timeout=None, limit=2) as stream:
        first, second = world.update(1), world.update(2)
        world.client.dispatch(first)
        world.client.dispatch(second)
        assert [await anext(stream), await anext(stream)] == [first, second]


async def test_heard_says_whether_anything_listens_or_waits(world: World) -> None:
    client = world.client
    assert not client.heard(events.PlayerUpdateEvent)

    async def on_any(_: events.LavalinkEvent) -> None:
        pass

    world.bot.event_manager.subscribe(events.LavalinkEvent, on_any)
    assert client.heard(events.PlayerUpdateEvent)  # a listener of a base class hears it
    world.bot.event_manager.unsubscribe(events.LavalinkEvent, on_any)
    assert not client.heard(events.PlayerUpdateEvent)
    waiting = asyncio.ensure_future(world.bot.event_manager.wait_for(events.PlayerUpdateEvent, timeout=None))
    await turns(1)
    assert client.heard(events.PlayerUpdateEvent)
    waiting.cancel()


async def test_a_reader_hears_a_listener_subscribed_by_a_task_that_ran_right_after_its_step(world: World) -> None:
    """The reader's answers are kept until the loop turns: a listener subscribed by another task in the very loop
    iteration of the reader's question, before the reader goes on, is heard at the reader's next question."""
    answers = ReaderAnswers(world.client.heard)
    go_on = asyncio.get_running_loop().create_future()
    said: list[bool] = []

    async def on_update(_: events.PlayerUpdateEvent) -> None:
        pass

    async def reader() -> None:
        said.append(answers.heard(events.PlayerUpdateEvent))
        said.append(answers.heard(events.PlayerUpdateEvent))  # the same step: the kept answer
        await go_on
        said.append(answers.heard(events.PlayerUpdateEvent))

    async def subscriber() -> None:  # scheduled with the reader: it runs in the same iteration, right after
        world.bot.event_manager.subscribe(events.PlayerUpdateEvent, on_update)
        go_on.set_result(None)

    await asyncio.gather(reader(), subscriber())
    assert said == [False, False, True]
    world.bot.event_manager.unsubscribe(events.PlayerUpdateEvent, on_update)
    await turns(1)
    assert not answers.heard(events.PlayerUpdateEvent)


async def test_a_reader_outside_a_loop_asks_every_time(world: World) -> None:
    answers = ReaderAnswers(world.client.heard)

    async def on_update(_: events.PlayerUpdateEvent) -> None:
        pass

    def outside() -> list[bool]:
        said = [answers.heard(events.PlayerUpdateEvent)]
        world.bot.event_manager.subscribe(events.PlayerUpdateEvent, on_update)
        said.append(answers.heard(events.PlayerUpdateEvent))
        return said

    assert await asyncio.get_running_loop().run_in_executor(None, outside) == [False, True]


async def test_a_listener_runs_in_a_task_that_stays_its_own_and_can_time_out(world: World) -> None:
    """asyncio.timeout needs a current task; after the listener suspends, the task is the listener's alone: its
    timeout cancels it and nothing else."""
    tasks: list[asyncio.Task[typing.Any] | None] = []
    timed_out = asyncio.Event()
    later_ran = asyncio.Event()
    never = asyncio.Event()

    async def slow(_: events.TrackEndEvent) -> None:
        tasks.append(asyncio.current_task())
        try:
            async with asyncio.timeout(0.01):
                tasks.append(asyncio.current_task())
                await never.wait()
        except TimeoutError:
            tasks.append(asyncio.current_task())
            timed_out.set()

    async def quick(_: events.TrackEndEvent) -> None:
        later_ran.set()

    world.bot.event_manager.subscribe(events.TrackEndEvent, slow)
    world.bot.event_manager.subscribe(events.TrackEndEvent, quick)
    world.client.dispatch(world.end())
    await later_ran.wait()  # the second listener does not wait for the first one's end
    assert not timed_out.is_set()
    await timed_out.wait()
    assert tasks[0] is not None
    assert tasks == [tasks[0]] * 3


async def test_a_failing_listener_is_reported_as_hikari_does_and_the_others_still_run(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    failures: list[hikari.ExceptionEvent[typing.Any]] = []
    reported = asyncio.Event()
    other_ran = asyncio.Event()

    async def broken(_: events.TrackEndEvent) -> None:
        raise ValueError("listener bug")

    async def fine(_: events.TrackEndEvent) -> None:
        other_ran.set()

    async def on_exception(event: hikari.ExceptionEvent[typing.Any]) -> None:
        failures.append(event)
        reported.set()

    manager = world.bot.event_manager
    manager.subscribe(events.TrackEndEvent, broken)
    manager.subscribe(events.TrackEndEvent, fine)
    manager.subscribe(hikari.ExceptionEvent, on_exception)
    event = world.end()
    world.client.dispatch(event)
    await reported.wait()
    await other_ran.wait()
    assert len(failures) == 1
    assert isinstance(failures[0].exception, ValueError)
    assert failures[0].failed_event is event
    assert failures[0].failed_callback is broken

    # Nobody listens for exceptions: it is logged as an error with its traceback, once.
    manager.unsubscribe(hikari.ExceptionEvent, on_exception)
    other_ran.clear()
    with caplog.at_level(logging.ERROR, logger="lightbulb_lavalink.dispatching"):
        world.client.dispatch(world.end())
        await other_ran.wait()
        await turns()
    errors = [r for r in caplog.records if r.name == "lightbulb_lavalink.dispatching"]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert "TrackEndEvent" in errors[0].getMessage()


async def test_a_failure_after_suspending_is_reported_too(world: World) -> None:
    reported = asyncio.Event()
    failures: list[BaseException] = []
    go_on = asyncio.Event()

    async def fails_later(_: events.TrackEndEvent) -> None:
        await go_on.wait()
        raise KeyError("later")

    async def on_exception(event: hikari.ExceptionEvent[typing.Any]) -> None:
        failures.append(event.exception)
        reported.set()

    world.bot.event_manager.subscribe(events.TrackEndEvent, fails_later)
    world.bot.event_manager.subscribe(hikari.ExceptionEvent, on_exception)
    world.client.dispatch(world.end())
    await turns()
    go_on.set()
    await reported.wait()
    assert [type(f) for f in failures] == [KeyError]


async def test_each_listener_has_its_own_context(world: World) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    seen: list[str] = []
    done = asyncio.Event()

    async def first(_: events.TrackEndEvent) -> None:
        seen.append(var.get())
        var.set("first")

    async def second(_: events.TrackEndEvent) -> None:
        seen.append(var.get())
        var.set("second")
        await suspend()  # suspends: it keeps its own context after
        seen.append(var.get())
        done.set()

    world.bot.event_manager.subscribe(events.TrackEndEvent, first)
    world.bot.event_manager.subscribe(events.TrackEndEvent, second)
    var.set("dispatcher's")
    world.client.dispatch(world.end())
    await done.wait()
    assert seen == ["dispatcher's", "dispatcher's", "second"]
    assert var.get() == "dispatcher's"


async def test_a_listener_that_suspends_does_not_hold_back_later_events(world: World) -> None:
    order: list[int] = []
    release = asyncio.Event()
    second_seen = asyncio.Event()

    async def on_update(event: events.PlayerUpdateEvent) -> None:
        order.append(event.state.position)
        if event.state.position == 1:
            await release.wait()
            order.append(-1)
        else:
            second_seen.set()

    world.bot.event_manager.subscribe(events.PlayerUpdateEvent, on_update)
    world.client.dispatch(world.update(1))
    world.client.dispatch(world.update(2))
    await second_seen.wait()
    assert order == [1, 2]
    release.set()
    await turns()
    assert order == [1, 2, -1]


async def test_close_ends_listeners_still_running(world: World) -> None:
    """What the client started, close ends: a listener blocked for good is cancelled, and close returns."""
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def stuck(_: events.TrackEndEvent) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    world.bot.event_manager.subscribe(events.TrackEndEvent, stuck)
    dispatcher = EventDispatcher(world.bot.event_manager)
    dispatcher.dispatch(world.end())
    await started.wait()
    await dispatcher.drain()
    assert cancelled.is_set()


async def test_another_event_manager_gets_every_event_through_its_own_dispatch(world: World) -> None:
    class Recording:  # not hikari's own implementation
        def __init__(self) -> None:
            self.dispatched: list[hikari.Event] = []

        def dispatch(self, event: hikari.Event) -> None:
            self.dispatched.append(event)

    manager = Recording()
    dispatcher = EventDispatcher(typing.cast("hikari.api.EventManager", manager))
    assert dispatcher.heard(events.PlayerUpdateEvent)  # it cannot tell: it is asked
    event = world.update()
    dispatcher.dispatch(event)
    assert manager.dispatched == [event]


async def test_a_listener_sees_the_events_in_dispatch_order_while_another_type_is_waited_for(world: World) -> None:
    """A `wait_for` on one event type sends that type through hikari's own dispatch: a listener of both types
    must still see them in the order they were dispatched, even when another listener of the first suspends."""
    seen: list[str] = []
    both = asyncio.Event()
    never = asyncio.Event()

    async def slow(_: events.TrackEndEvent) -> None:
        await never.wait()

    async def on_end(_: events.TrackEndEvent) -> None:
        seen.append("end")

    async def on_update(_: events.PlayerUpdateEvent) -> None:
        seen.append("update")
        both.set()

    manager = world.bot.event_manager
    manager.subscribe(events.TrackEndEvent, slow)
    manager.subscribe(events.TrackEndEvent, on_end)
    manager.subscribe(events.PlayerUpdateEvent, on_update)
    waiting = asyncio.ensure_future(manager.wait_for(events.PlayerUpdateEvent, timeout=None))
    await turns(1)
    world.client.dispatch(world.end())
    world.client.dispatch(world.update())
    await both.wait()
    await turns()
    assert seen == ["end", "update"]
    await waiting
    await world.client._dispatcher.drain()


async def test_a_listener_sees_the_events_in_dispatch_order_when_a_listener_dispatches(world: World) -> None:
    """A listener that dispatches (the library's sync paths do: a queue emptied by a command) starts a new batch:
    the rest of the current batch must still reach each listener before it."""
    seen: list[str] = []
    both = asyncio.Event()
    never = asyncio.Event()

    async def dispatching(_: events.TrackEndEvent) -> None:
        world.client.dispatch(world.update())
        await never.wait()

    async def on_end(_: events.TrackEndEvent) -> None:
        seen.append("end")

    async def on_update(_: events.PlayerUpdateEvent) -> None:
        seen.append("update")
        both.set()

    manager = world.bot.event_manager
    manager.subscribe(events.TrackEndEvent, dispatching)
    manager.subscribe(events.TrackEndEvent, on_end)
    manager.subscribe(events.PlayerUpdateEvent, on_update)
    world.client.dispatch(world.end())
    await both.wait()
    await turns()
    assert seen == ["end", "update"]
    await world.client._dispatcher.drain()


class _ListenerAbort(BaseException):
    """A BaseException that is neither a cancellation nor an exit: asyncio lets it end the task."""


async def test_a_listener_raising_a_base_exception_does_not_take_the_others_down(world: World) -> None:
    """hikari runs each listener in a task of its own: one raising a BaseException ends that task only."""
    other_ran = asyncio.Event()

    async def aborts(_: events.TrackEndEvent) -> None:
        raise _ListenerAbort

    async def fine(_: events.TrackEndEvent) -> None:
        other_ran.set()

    world.bot.event_manager.subscribe(events.TrackEndEvent, aborts)
    world.bot.event_manager.subscribe(events.TrackEndEvent, fine)
    loop = asyncio.get_running_loop()
    handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda *_: None)  # the ended task's exception, never retrieved
    try:
        world.client.dispatch(world.end())
        async with asyncio.timeout(1):
            await other_ran.wait()
    finally:
        await world.client._dispatcher.drain()
        loop.set_exception_handler(handler)


async def test_a_listener_that_closes_the_client_is_not_cancelled_by_that_close(world: World) -> None:
    """A listener that ends with ``await client.close()`` goes on after it: the close ends the other listeners
    still running, not the one that called it."""
    dispatcher = EventDispatcher(world.bot.event_manager)
    after: list[str] = []
    done = asyncio.Event()

    async def closes(_: events.TrackEndEvent) -> None:
        await suspend()
        try:
            await dispatcher.drain()
            after.append("went on")
        finally:
            done.set()

    world.bot.event_manager.subscribe(events.TrackEndEvent, closes)
    dispatcher.dispatch(world.end())
    await asyncio.wait_for(done.wait(), 1)
    assert after == ["went on"]
