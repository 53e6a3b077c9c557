"""A handoff deploy with real processes, on Redis and PostgreSQL: process A plays 300 guilds, process B of the
same cluster starts with ``handoff``, A exits by itself, and every guild plays under B with its track and queue,
on the same Lavalink session (resumed, not rebuilt).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from .test_reshard import START_TIMEOUT, Deployment, check_one_owner, deployment, plays_once

__all__ = ["deployment"]  # the fixture: Redis, then PostgreSQL, with one FakeLavalink

_LOGGER = logging.getLogger(__name__)


async def test_a_handoff_deploy_moves_every_guild_to_the_new_process(deployment: Deployment) -> None:
    shards = list(range(4))
    old = await deployment.spawn("p0", shards, 4, seed=True)
    await old.ready()
    check_one_owner(deployment, [old])
    await plays_once(deployment, [old])

    started = time.monotonic()
    new = await deployment.spawn("p0", shards, 4, handoff=True)
    await new.ready()
    took = time.monotonic() - started
    assert old.process.stdout is not None
    line = await asyncio.wait_for(old.process.stdout.readline(), START_TIMEOUT)
    assert json.loads(line) == {"handed_off": True, "players": 300}, old.errors()
    assert await asyncio.wait_for(old.process.wait(), 30) == 0, old.errors()  # it exited by itself
    _LOGGER.info("handoff of 300 guilds: new process start to every guild back in %.2f s", took)

    assert new.report["session"] == old.report["session"]  # the same Lavalink session, resumed
    check_one_owner(deployment, [new])
    await plays_once(deployment, [new])
    await new.stop()
