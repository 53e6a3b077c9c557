"""`EventRecorder`: what a test bot keeps of the events it dispatched, and futures for the ones still to come."""

from __future__ import annotations

import asyncio
import typing

import attrs
import hikari

if typing.TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["EventRecorder"]

E = typing.TypeVar("E", bound=hikari.Event)


@attrs.define(kw_only=True)
class EventRecorder:
    """Every event handed to `receive`, in order; `expect` gives a future for one to come (nothing is polled)."""

    seen: list[hikari.Event] = attrs.field(factory=list)
    _waiters: list[tuple[type[hikari.Event], Callable[[typing.Any], bool], asyncio.Future[typing.Any]]] = attrs.field(
        factory=list
    )

    def of_type(self, kind: type[E]) -> list[E]:
        """The events of `kind` received so far."""
        return [e for e in self.seen if isinstance(e, kind)]

    def receive(self, event: hikari.Event) -> None:
        """Record an event the bot dispatched and hand it to the `expect` futures waiting for it."""
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
        """A future for the next `kind` event matching `predicate`; with `seen`, one already received counts too.

        Create it before whatever should cause the event: the future resolves when it comes.
        """
        future: asyncio.Future[E] = asyncio.get_running_loop().create_future()
        if seen:
            for event in self.of_type(kind):
                if predicate(event):
                    future.set_result(event)
                    return future
        self._waiters.append((kind, predicate, future))
        return future
