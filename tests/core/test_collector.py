"""The garbage collector is held off while a restart rebuilds its guilds, and always given back."""

from __future__ import annotations

import gc
import typing

import pytest

from lightbulb_lavalink.collector import CollectorPause

if typing.TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


async def test_a_pause_holds_the_collector_off_until_released() -> None:
    gc.enable()
    pause = CollectorPause()
    pause.hold()
    assert pause.held and not gc.isenabled()
    pause.hold()  # no-op while held
    pause.release()
    assert not pause.held and gc.isenabled()
    pause.release()  # no-op when not held
    assert gc.isenabled()


async def test_a_pause_never_turns_on_a_collector_the_bot_turned_off() -> None:
    gc.disable()
    pause = CollectorPause()
    pause.hold()
    pause.release()
    assert not gc.isenabled()


async def test_two_clients_pausing_at_once_leave_the_collector_on() -> None:
    gc.enable()
    first, second = CollectorPause(), CollectorPause()
    first.hold()
    second.hold()
    first.release()
    second.release()
    assert gc.isenabled()


def test_the_limit_gives_the_collector_back_even_if_nothing_releases_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not even an event loop: a test that closed its loop with the client still started must not leave the
    process without a collector. The limit runs on a timer thread of its own (real time, not the client's clock)."""
    import threading

    from lightbulb_lavalink import collector

    gc.enable()
    monkeypatch.setattr(collector, "LIMIT", 0.0)
    pause = CollectorPause()
    pause.hold()
    limits = [t for t in threading.enumerate() if t.name == "lightbulb-lavalink-collector-limit"]
    for limit in limits:
        limit.join(5)
    assert gc.isenabled() and not pause.held
