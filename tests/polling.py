"""Waiting in tests for what nothing announces (a socket closing, a server answering, a task getting its turn):
`eventually` polls a check until it holds, and fails naming what it waited for after a time limit.

A hang guard, never a speed test: where the code under test dispatches an event or the test drives a
`ManualClock`, wait for that instead.
"""

from __future__ import annotations

import asyncio
import inspect
import typing

import pytest

__all__ = ["eventually"]

POLL_INTERVAL: typing.Final = 0.01
"""Seconds between two checks."""


async def eventually(
    check: typing.Callable[[], bool | typing.Awaitable[bool]], what: str = "condition", *, timeout: float = 15.0
) -> None:
    """Poll `check` (a function or a coroutine function) until it holds; fail naming `what` after `timeout` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for: {what}")
        await asyncio.sleep(POLL_INTERVAL)
