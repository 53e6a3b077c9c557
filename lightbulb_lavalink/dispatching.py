"""Delivering the library's events to the bot's listeners without a task per listener, nor any work when unheard.

hikari's event manager runs every listener of every event in an `asyncio.Task` of its own, which costs more than
the library spends on the websocket message that caused the event (a `playerUpdate` every few seconds per
playing guild). `EventDispatcher` delivers to the same listeners (whatever subscribed on the bot's event
manager: `bot.listen`, `subscribe`, streams, lightbulb's listeners) with what a listener can observe unchanged:

- it runs after the code that dispatched has returned, at a later turn of the loop, never inside the library's
  own handling of a message;
- it runs inside a task: `asyncio.current_task()` is never `None`, and `asyncio.timeout` and `TaskGroup` work. All
  the listeners reached in one turn start in one task, one after the other; a listener that suspends keeps that
  task for itself and the rest move on in a new one (as Python 3.12's eager tasks do, per listener);
- each listener runs in its own copy of the context (`contextvars`), as a task of its own would;
- an exception is logged and dispatched as a `hikari.ExceptionEvent`, as hikari does;
- `bot.wait_for`: while anything waits for an event's type, the event goes through hikari's own dispatch;
- a listener sees the events in the order they were dispatched: every listener reached starts in dispatch order,
  whichever way each event goes (a suspended listener's rest, hikari's own tasks, a batch dispatched meanwhile).

When nothing listens or waits, `heard` says so and the library does not even build the event.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import typing

import hikari
from hikari.impl import event_manager_base

if typing.TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Generator

    _Callback = Callable[[hikari.Event], Coroutine[typing.Any, typing.Any, None]]
    _Call = tuple[_Callback | None, hikari.Event]  # `None`: the event goes through hikari's own dispatch
    _Tables = tuple[dict[type[typing.Any], list[_Callback]], dict[type[typing.Any], typing.Any]]

__all__ = ["EventDispatcher", "ReaderAnswers"]

_LOGGER = logging.getLogger("lightbulb_lavalink.dispatching")


def _tables(manager: hikari.api.EventManager) -> _Tables | None:
    """hikari's listener and waiter tables, when `manager` is hikari's own event manager, else `None`.

    They are private to hikari (the event manager tells listeners publicly but not `wait_for` waiters): any
    other manager, or a hikari whose tables look different, gets every event through its own `dispatch`.
    """
    if not isinstance(manager, event_manager_base.EventManagerBase):
        return None
    listeners = getattr(manager, "_listeners", None)
    waiters = getattr(manager, "_waiters", None)
    if type(listeners) is not dict or type(waiters) is not dict:
        return None
    return listeners, waiters


class _Resumed:
    """A coroutine that already ran up to its first suspension, awaited to go on (in the awaiting task)."""

    __slots__ = ("_context", "_coro", "_first")

    def __init__(
        self, coro: Coroutine[typing.Any, typing.Any, None], context: contextvars.Context, first: object
    ) -> None:
        self._coro = coro
        self._context = context
        self._first = first

    def __await__(self) -> Generator[typing.Any, typing.Any, None]:
        coro, run, value = self._coro, self._context.run, self._first
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # thrown in by the task (a cancellation): the listener decides
                try:
                    value = run(coro.throw, exc)
                except StopIteration:
                    return
            else:
                try:
                    value = run(coro.send, sent)
                except StopIteration:
                    return


class EventDispatcher:
    """Dispatches events to the listeners of one bot's event manager (see the module's description). Owned by
    the client; `drain` ends what it started."""

    __slots__ = ("_bases", "_batch", "_keys", "_manager", "_tables", "_tasks")

    def __init__(self, manager: hikari.api.EventManager) -> None:
        self._manager = manager
        self._tables = _tables(manager)
        # Live views of the tables' keys (a view follows its dict): what `heard` scans.
        self._keys = None if self._tables is None else (self._tables[0].keys(), self._tables[1].keys())
        self._batch: list[_Call] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._bases: dict[type[hikari.Event], typing.Sequence[type[hikari.Event]]] = {}

    def heard(self, event_type: type[hikari.Event]) -> bool:
        """Whether anything listens or waits for `event_type` (or a base of it): if not, it need not be built."""
        keys = self._keys
        if keys is None:
            return True
        bases = self._bases.get(event_type)
        if bases is None:
            bases = self._bases[event_type] = tuple(event_type.dispatches())
        # Two C-level scans of the live key views.
        return not (keys[0].isdisjoint(bases) and keys[1].isdisjoint(bases))

    def dispatch(self, event: hikari.Event) -> None:
        """Deliver `event` to every listener of its type and bases, at the loop's next turn."""
        tables = self._tables
        if tables is None:
            self._manager.dispatch(event)
            return
        listeners, waiters = tables
        found: list[_Callback] | None = None
        for cls in event.dispatches():
            if cls in waiters:  # hikari resolves its waiters (and runs the listeners too), in the batch's order
                self._pending().append((None, event))
                return
            callbacks = listeners.get(cls)
            if callbacks:
                found = list(callbacks) if found is None else found + callbacks
        if not found:
            return
        batch = self._pending()
        for callback in found:
            batch.append((callback, event))

    async def drain(self) -> None:
        """Cancel the listeners still running (they had every turn of the client's close to finish) and await
        them; a listener that closes the client is not one of them (it goes on once the close returns)."""
        current = asyncio.current_task()
        while tasks := tuple(t for t in self._tasks if t is not current):
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- internals ------------------------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[typing.Any, typing.Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro, name="lightbulb-lavalink listeners")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _pending(self) -> list[_Call]:
        """The batch not started yet, which what is dispatched now joins (a new one, with its task, if none)."""
        batch = self._batch
        if batch is None:
            batch = self._batch = []
            self._spawn(self._run_batch(batch))
        return batch

    def _move_on(self, rest: list[_Call]) -> None:
        """The running batch cannot go on in its task (a listener keeps it, or hikari just made tasks that must
        start first): `rest` starts in a new task, followed by the batch dispatched meanwhile (its own task, made
        earlier, finds it empty), so that every listener still sees the events in the order they were
        dispatched."""
        pending = self._batch
        if pending:
            rest.extend(pending)
            pending.clear()
        if rest:
            self._batch = rest
            self._spawn(self._run_batch(rest))

    async def _run_batch(self, batch: list[_Call]) -> None:
        if self._batch is batch:
            self._batch = None  # what is dispatched from now on starts a batch of its own
        await self._run(batch)

    async def _run(self, batch: list[_Call]) -> None:
        for index, (callback, event) in enumerate(batch):
            if callback is None:  # something waits for it: hikari's dispatch, whose tasks start before the rest
                self._manager.dispatch(event)
                self._move_on(batch[index + 1 :])
                return
            context = contextvars.copy_context()
            try:
                coro = context.run(callback, event)
                first = context.run(coro.send, None)
            except StopIteration:
                continue
            except asyncio.CancelledError:  # the listener cancelled itself
                continue
            except Exception as exc:  # the user's listener: reported as hikari reports it
                self._failed(callback, event, exc)
                continue
            except BaseException:  # it ends this task, as it would end the listener's own task with hikari
                self._move_on(batch[index + 1 :])
                raise
            # It suspended: this task is the listener's from now on, the rest of the batch goes on in a new one.
            self._move_on(batch[index + 1 :])
            try:
                await _Resumed(coro, context, first)
            except Exception as exc:
                self._failed(callback, event, exc)
            return

    def _failed(self, callback: _Callback, event: hikari.Event, exc: Exception) -> None:
        trio = (type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None)
        failed = hikari.ExceptionEvent(exception=exc, failed_event=event, failed_callback=callback)
        heard = bool(self._manager.get_listeners(hikari.ExceptionEvent, polymorphic=True))
        log = _LOGGER.debug if heard else _LOGGER.error
        log("a listener of %s failed: %s", type(event).__name__, getattr(callback, "__name__", callback), exc_info=trio)
        self._manager.dispatch(failed)


class ReaderAnswers:
    """`EventDispatcher.heard` for one task that asks for every message it reads (a node's websocket reader),
    answered from a table kept until the loop turns.

    Sound for that one task only: no other code runs before its step ends (it asks between its own suspensions), and
    the callback scheduled at the first question of a step runs before the task's next step (a task's next step is
    always scheduled after what it scheduled itself), so a listener subscribed or a `wait_for` started meanwhile by
    anyone else is seen at the next step. Code of that same step must not subscribe between two questions.
    """

    __slots__ = ("_answers", "_heard", "_valid")

    def __init__(self, heard: Callable[[type[hikari.Event]], bool]) -> None:
        """Answer from `heard` (`EventDispatcher.heard`, or the client's)."""
        self._heard = heard
        self._answers: dict[type[hikari.Event], bool] = {}
        self._valid = False

    def heard(self, event_type: type[hikari.Event]) -> bool:
        """Whether anything listens or waits for `event_type` (as `EventDispatcher.heard`, see the class)."""
        if self._valid:
            answer = self._answers.get(event_type)
            if answer is not None:
                return answer
        else:
            try:
                asyncio.get_running_loop().call_soon(self._forget)
            except RuntimeError:  # no loop: nothing runs between two questions, but nothing would say the step ended
                return self._heard(event_type)
            self._answers.clear()
            self._valid = True
        answer = self._answers[event_type] = self._heard(event_type)
        return answer

    def _forget(self) -> None:
        self._valid = False
