"""Fixtures for the extension tests: see `ext_world`."""

from __future__ import annotations

import collections.abc
import pathlib
import sys

import pytest
from ext_world import World, make_world

_ROOT = str(pathlib.Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # example_bot lives at the repository root, outside the installed package
    sys.path.append(_ROOT)


@pytest.fixture
async def world(tmp_path: pathlib.Path) -> collections.abc.AsyncIterator[World]:
    async with make_world(tmp_path) as built:
        yield built
