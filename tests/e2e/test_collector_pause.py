"""A restart holds the garbage collector off while it rebuilds the guilds, and gives it back once synced."""

from __future__ import annotations

import asyncio
import gc
import typing

from .conftest import HeldGetPlayers, World
from .test_resume import play_everywhere

if typing.TYPE_CHECKING:
    import pytest


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
