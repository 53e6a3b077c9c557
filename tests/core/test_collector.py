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


async def test_the_limit_gives_the_collector_back_even_if_nothing_releases_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from lightbulb_lavalink import collector

    gc.enable()
    monkeypatch.setattr(collector, "LIMIT", 0.0)
    pause = CollectorPause()
    pause.hold()
    assert not gc.isenabled()
    # The limit is a timer of the loop's own (a safety net on real time, not the client's clock): one scheduled
    # after it, for the same moment, runs after it.
    after = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_later(0.0, after.set_result, None)
    await after
    assert gc.isenabled() and not pause.held
