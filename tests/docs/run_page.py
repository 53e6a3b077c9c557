"""Run the Python blocks of one Markdown page, and read any page's code blocks, for tests/docs.

``python tests/docs/run_page.py PAGE.md [SHOWN_AS]``: the page's runnable blocks are executed in order in one
module namespace (``__name__`` is ``"__docs__"``, so ``if __name__ == "__main__":`` parts do not run), each
compiled with the page's name and line numbers, so a traceback points at the Markdown line that failed. Right
after a block that defines (or redefines) a top-level ``async def main()``, ``main()`` is awaited in a new
event loop. Exit status 0 when every block ran. The convention is described in test_code_blocks.py.

It imports nothing from the package, so that it reads pages the same way in the tests and in the subprocess.
"""

from __future__ import annotations

import asyncio
import inspect
import pathlib
import re
import sys
import types
import typing

if typing.TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

__all__ = ["MARKER", "Block", "blocks_of", "markers_before", "run"]

MAIN_TIMEOUT: typing.Final = 120.0
"""Seconds one ``main()`` may take."""

MARKER: typing.Final = re.compile(r"^\s*<!--\s*(?P<name>[a-z-]+)\s*(?::(?P<value>.*?))?\s*-->\s*$")
"""A marker: an HTML comment alone on a line, ``<!-- not-run: reason -->`` or ``<!-- type-checked -->``."""

_FENCE: typing.Final = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\n]*)$")
_PYTHON: typing.Final = frozenset({"python", "py", "python3"})


class Block(typing.NamedTuple):
    """One fenced code block."""

    page: str
    """The page, as given to `blocks_of`."""
    line: int
    """The 1-based line of the page where the block's code starts (the line after the opening fence)."""
    language: str
    """The first word of the fence's info string (``python`` for ```` ```python title="bot.py" ````)."""
    code: str
    """The code, dedented by the fence's indentation."""
    markers: dict[str, str]
    """The markers on the lines right above the fence: name -> value (``""`` when the marker has none)."""

    @property
    def is_python(self) -> bool:
        """Whether the block is Python."""
        return self.language in _PYTHON

    @property
    def runs(self) -> bool:
        """Whether tests/docs runs it: Python and not marked ``not-run``."""
        return self.is_python and "not-run" not in self.markers


def markers_before(lines: list[str], index: int) -> dict[str, str]:
    """The markers on the lines right above `lines[index]` (blank lines between them allowed)."""
    found: dict[str, str] = {}
    i = index - 1
    while i >= 0:
        text = lines[i]
        if not text.strip():
            i -= 1
            continue
        match = MARKER.match(text)
        if match is None:
            break
        found[match["name"]] = (match["value"] or "").strip()
        i -= 1
    return found


def blocks_of(page: str, text: str) -> list[Block]:
    """Every fenced code block of `text`, in order (fences inside admonitions or tabs included)."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        language = (opening["info"].split() or [""])[0].lower()
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(fence) and set(stripped) == {fence[0]}:
                break
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        blocks.append(Block(page, i + 2, language, "\n".join(body) + "\n", markers_before(lines, i)))
        i = j + 1
    return blocks


async def _run_main(main: Callable[[], Coroutine[typing.Any, typing.Any, object]]) -> None:
    await asyncio.wait_for(main(), MAIN_TIMEOUT)


def run(page: pathlib.Path, shown_as: str) -> int:
    """Run `page`'s runnable blocks, as the module docstring says; return how many ran."""
    module = types.ModuleType("__docs__")
    module.__file__ = shown_as
    sys.modules["__docs__"] = module
    namespace = module.__dict__
    ran = 0
    for block in blocks_of(shown_as, page.read_text(encoding="utf-8")):
        if not block.runs:
            continue
        before = namespace.get("main")
        exec(compile("\n" * (block.line - 1) + block.code, shown_as, "exec"), namespace)
        ran += 1
        main = namespace.get("main")
        if main is not before and inspect.iscoroutinefunction(main):
            asyncio.run(_run_main(main))
    return ran


if __name__ == "__main__":
    path = pathlib.Path(sys.argv[1])
    count = run(path, sys.argv[2] if len(sys.argv) > 2 else str(path))
    sys.stdout.write(f"ran {count} block(s) of {path}\n")
