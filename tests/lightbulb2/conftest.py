"""lightbulb 2 tests: they run only where hikari-lightbulb 2 is installed (``make test-lb2``, in ``.venv-lb2``).

lightbulb 2 and 3 cannot share an environment; under lightbulb 3 this folder is skipped without importing
anything of lightbulb 2. The shared harness (fake Discord REST, the world of fakes) lives in ``tests/ext``.
"""

from __future__ import annotations

import collections.abc
import pathlib
import sys

import lightbulb
import pytest

LIGHTBULB2 = str(lightbulb.__version__).startswith("2.")

if not LIGHTBULB2:
    collect_ignore_glob = ["test_*.py"]

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "ext"))

if LIGHTBULB2:
    from ext_world import World, make_world

    @pytest.fixture
    async def world(tmp_path: pathlib.Path) -> collections.abc.AsyncIterator[World]:
        async with make_world(tmp_path) as built:
            yield built
