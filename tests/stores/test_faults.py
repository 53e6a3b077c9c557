"""Redis and PostgreSQL going away: down at start, cut mid-run, killed. The bot keeps going and the latest
snapshot of every guild is written once the server is back."""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import subprocess
import typing

import pytest

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.stores import RedisStore, SnapshotWriter, StoreKey

from .conftest import drop_server_data, require_server
from .helpers import TcpProxy, eventually, free_port, snapshot, store_behind_proxy, unique

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from lightbulb_lavalink.stores import SessionStore

KEY = StoreKey(11, "main", "cluster-3")
WRITER_LOG = "lightbulb_lavalink.stores.writer"


class Site(typing.NamedTuple):
    proxy: TcpProxy
    store: SessionStore


@pytest.fixture(params=["redis", "postgres"])
async def site(request: pytest.FixtureRequest, server_status: dict[str, str | None]) -> AsyncIterator[Site]:
    """A store whose server sits behind a proxy that is not started yet (a closed port)."""
    kind: str = request.param
    await require_server(kind, server_status)
    name = unique("lltest")
    proxy, store = store_behind_proxy(kind, name, timeout=2.0)
    try:
        yield Site(proxy, store)
    finally:
        await store.close()
        await proxy.stop()
        await drop_server_data(kind, name)


async def _position(store: SessionStore, guild_id: int) -> int | None:
    try:
        guild = (await store.get_guilds(KEY)).get(guild_id)
    except StoreError:
        return None
    return None if guild is None else guild.position


async def test_server_down_at_start_then_cut_mid_run(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    proxy, store = site
    with pytest.raises(StoreError):
        await store.open()  # the server is down when the bot starts: a clear error, the store stays usable
    writer = SnapshotWriter(store, min_interval=0.05, retry_initial=0.05, retry_max=0.2)
    ticks = 0

    async def heartbeat() -> None:  # stands in for the bot playing music meanwhile
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    beating = asyncio.create_task(heartbeat())
    with caplog.at_level(logging.INFO):
        writer.schedule_session(KEY, "session-a")
        for position in range(5):
            writer.schedule(KEY, snapshot(1, position=position))
            writer.schedule(KEY, snapshot(2, position=position))

        async def failing() -> bool:
            return not writer.healthy

        await eventually(failing, "the writer noticing the store is down")
        ticks_at_outage = ticks
        writer.schedule(KEY, snapshot(1, position=100))
        await proxy.start()  # the server comes up

        async def caught_up() -> bool:
            return writer.healthy and writer.pending == 0 and await _position(store, 1) == 100

        await eventually(caught_up, "the latest snapshot written once the server is up")
        assert await _position(store, 2) == 4
        assert await store.get_session(KEY) == "session-a"
        assert ticks > ticks_at_outage

        # Mid-run: the server vanishes (connections cut) while the bot keeps changing state.
        await proxy.stop()
        writer.schedule(KEY, snapshot(1, position=200))
        await eventually(failing, "the writer noticing the cut")
        for position in range(201, 300):
            writer.schedule(KEY, snapshot(1, position=position))
        writer.delete(KEY, 2)
        await proxy.start()
        await eventually(caught_up_to(writer, store, 299), "the latest snapshot written after the cut")
        assert await _position(store, 2) is None
    beating.cancel()
    await asyncio.gather(beating, return_exceptions=True)
    await writer.close()

    ours = [r for r in caplog.records if r.name == WRITER_LOG]
    warnings = [r.getMessage() for r in ours if r.levelno == logging.WARNING]
    recoveries = [r.getMessage() for r in ours if r.levelno == logging.INFO]
    assert not [r for r in caplog.records if r.name != WRITER_LOG and r.levelno >= logging.WARNING]
    assert len(warnings) == 2  # one per outage, however many retries failed
    assert all(store.url in w and "bot keeps running" in w for w in warnings)
    assert len(recoveries) == 2
    assert all("delayed" in r and "guild(s)" in r for r in recoveries)
    assert "2 guild(s)" in recoveries[0]
    assert not [r for r in caplog.records if r.exc_info]  # no traceback, from us or from the drivers


def caught_up_to(
    writer: SnapshotWriter, store: SessionStore, position: int
) -> typing.Callable[[], typing.Awaitable[bool]]:
    async def check() -> bool:
        return writer.healthy and writer.pending == 0 and await _position(store, 1) == position

    return check


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not on PATH")
async def test_redis_server_killed_and_restarted(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]

    async def start_server() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: ASYNC220
        probe = RedisStore(f"redis://127.0.0.1:{port}/0", socket_timeout=1.0)

        async def answers() -> bool:
            try:
                await probe.open()
            except StoreError:
                return False
            return True

        await eventually(answers, "redis-server answering")
        await probe.close()
        return process

    server = await start_server()
    store = RedisStore(f"redis://127.0.0.1:{port}/0", prefix="killtest", socket_timeout=1.0)
    writer = SnapshotWriter(store, min_interval=0.05, retry_initial=0.05, retry_max=0.2)
    try:
        with caplog.at_level(logging.INFO, WRITER_LOG):
            writer.schedule(KEY, snapshot(1, position=1))
            await eventually(caught_up_to(writer, store, 1), "the first write")
            server.send_signal(signal.SIGKILL)
            await asyncio.to_thread(server.wait)
            writer.schedule(KEY, snapshot(1, position=2))

            async def failing() -> bool:
                return not writer.healthy

            await eventually(failing, "the writer noticing the dead server")
            writer.schedule(KEY, snapshot(1, position=3))
            server = await start_server()  # empty: it saved nothing, as a replacement server would be
            await eventually(caught_up_to(writer, store, 3), "the latest snapshot on the restarted server")
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
        assert len([r for r in caplog.records if r.levelno == logging.INFO]) == 1
    finally:
        await writer.close()
        await store.close()
        server.kill()
        await asyncio.to_thread(server.wait)
