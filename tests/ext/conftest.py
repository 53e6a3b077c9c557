"""Fixtures for the extension tests: see `harness`."""

from __future__ import annotations

import collections.abc
import pathlib

import pytest
from harness import World, make_world


@pytest.fixture
async def world(tmp_path: pathlib.Path) -> collections.abc.AsyncIterator[World]:
    async with make_world(tmp_path) as built:
        yield built
