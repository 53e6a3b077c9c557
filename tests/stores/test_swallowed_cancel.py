"""A cancellation the database driver swallows still ends the task that was cancelled.

redis-py (and at times asyncpg) turns a cancellation that lands as one of its own timeouts fires into a result or
a timeout error. A client task that polls the store in a loop (the release inbox, the snapshot writer) then goes
on for ever and the client's close() waits for it: seen as a process that never stopped in the reshard test.
The driver calls are replaced by ones that swallow the cancellation, as the drivers do; the store is real.
"""

from __future__ import annotations

import asyncio
import typing

import pytest

from lightbulb_lavalink.stores import PostgresStore, RedisStore, StoreKey
from tests.stores.conftest import require_server
from tests.stores.helpers import DATABASE_URL, REDIS_URL, unique

KEY = StoreKey(bot_id=1, node="main")


def swallowing(result: object, reached: asyncio.Event) -> typing.Callable[..., typing.Awaitable[object]]:
    """A driver call that waits for ever and, cancelled, returns `result` as if it had answered."""

    async def call(*_: object, **__: object) -> object:
        reached.set()
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            return result
        raise AssertionError("unreachable")

    return call


class SwallowingPool:
    """The bot's asyncpg pool, whose `fetchval` swallows a cancellation once `swallow` is set."""

    def __init__(self, pool: object) -> None:
        self._pool = pool
        self.swallow = False
        self.reached = asyncio.Event()

    def __getattr__(self, name: str) -> object:
        if name == "fetchval" and self.swallow:
            return swallowing(None, self.reached)
        return getattr(self._pool, name)


async def assert_cancel_ends_it(call: typing.Awaitable[object], reached: asyncio.Event) -> None:
    task = asyncio.ensure_future(call)
    await reached.wait()  # the call is in the driver
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_redis(server_status: dict[str, str | None]) -> None:
    await require_server("redis", server_status)
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        store = RedisStore.from_client(client, prefix=unique("cancel"))
        await store.open()
        reached = asyncio.Event()
        client.get = swallowing(None, reached)  # type: ignore[method-assign]
        await assert_cancel_ends_it(store.get_session(KEY), reached)
    finally:
        await client.aclose()


async def test_postgres(server_status: dict[str, str | None]) -> None:
    await require_server("postgres", server_status)
    import asyncpg

    pool = await asyncpg.create_pool(DATABASE_URL, min_size=1, max_size=2)
    table = unique("cancel")
    try:
        proxy = SwallowingPool(pool)
        store = PostgresStore.from_pool(typing.cast("asyncpg.Pool", proxy), table=table)
        await store.open()
        proxy.swallow = True
        await assert_cancel_ends_it(store.get_session(KEY), proxy.reached)
    finally:
        async with pool.acquire() as conn:
            for kind in ("sessions", "guilds", "migrations", "owners", "releases"):
                await conn.execute(f'DROP TABLE IF EXISTS "public"."{table}_{kind}"')
        await pool.close()
