"""Helpers shared by every subject driver (ours, the baselines and the peers): stdlib + aiohttp only.

A driver is a subprocess that measures one subject and prints one JSON line on stdout.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import sys
import time
import typing

import aiohttp

__all__ = ["BOT_ID", "PASSWORD", "TOKEN", "Counter", "emit", "main", "rss_bytes", "time_calls", "timed_push"]

BOT_ID: typing.Final = 1_000_000_000_000_000_001
"""The bot user id every subject connects as."""
PASSWORD: typing.Final = "youshallnotpass"
TOKEN: typing.Final = base64.b64encode(str(BOT_ID).encode()).decode().rstrip("=") + ".GbEnCh.benchmark-token-never-used"
"""A well-formed bot token for a `hikari.GatewayBot` that is never started."""


class Counter:
    """Counts messages that reached user code and resolves a future when the expected number arrived."""

    def __init__(self) -> None:
        self.count = 0
        self.target = -1
        self.done: asyncio.Future[None] | None = None

    def arm(self, target: int) -> asyncio.Future[None]:
        """Start counting from zero towards `target`."""
        self.count = 0
        self.target = target
        self.done = asyncio.get_running_loop().create_future()
        return self.done

    def hit(self, *_: object) -> None:
        """One more message reached user code."""
        self.count += 1
        if self.count == self.target and self.done is not None and not self.done.done():
            self.done.set_result(None)

    async def ahit(self, *_: object) -> None:
        """`hit` as a coroutine, for libraries that only accept async hooks."""
        self.hit()


async def timed_push(port: int, counter: Counter, count: int, *, limit: float = 600.0) -> float:
    """Ask the push server for `count` messages and return the seconds until all of them reached user code."""
    done = counter.arm(count)
    gc.collect()
    async with aiohttp.ClientSession() as http:
        start = time.perf_counter()
        async with http.post(f"http://127.0.0.1:{port}/bench/push", params={"count": str(count)}) as resp:
            resp.raise_for_status()
        try:
            await asyncio.wait_for(done, limit)
        except TimeoutError:
            raise RuntimeError(f"only {counter.count} of {count} messages reached user code in {limit} s") from None
        return time.perf_counter() - start


def time_calls(
    fn: typing.Callable[[str], object], vectors: typing.Sequence[str], calls: int, rounds: int
) -> list[float]:
    """Nanoseconds per call of `fn` over `calls` calls cycling through `vectors`, once per round."""
    workload = [vectors[i % len(vectors)] for i in range(calls)]
    for v in workload[: min(calls, 2000)]:  # warm-up
        fn(v)
    out: list[float] = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter_ns()
        for v in workload:
            fn(v)
        out.append((time.perf_counter_ns() - start) / calls)
    return out


def rss_bytes() -> int:
    """This process's resident set size in bytes (Linux)."""
    with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def emit(result: dict[str, typing.Any]) -> None:
    """Print the driver's result as the last stdout line."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


Handler = typing.Callable[[dict[str, typing.Any]], typing.Any]


def main(handlers: dict[str, Handler], argv: list[str] | None = None) -> None:
    """Driver entry point: ``python -m <driver> <operation> '<json parameters>'``.

    Runs ``handlers[operation](parameters)`` (awaited when it is a coroutine function, in a fresh event loop)
    and prints what it returns as one JSON line.
    """
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in handlers:
        raise SystemExit(f"usage: {sys.argv[0]} {{{','.join(handlers)}}} '<json parameters>'")
    params: dict[str, typing.Any] = json.loads(args[1]) if len(args) > 1 else {}
    handler = handlers[args[0]]
    result = asyncio.run(handler(params)) if asyncio.iscoroutinefunction(handler) else handler(params)
    emit(result)
