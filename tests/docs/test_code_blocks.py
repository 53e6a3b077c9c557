"""Every Python code block of the README and of docs/ runs, so that none can rot.

The convention (also in docs/contributing.md):

- Every ```` ```python ```` block of ``README.md`` and ``docs/**/*.md`` is run. A page's blocks run in order in
  one module namespace, as if the page were one file: a later block may use what an earlier one defined.
  ``__name__`` is ``"__docs__"``, so a block may end with ``if __name__ == "__main__": bot.run()``.
- A block that defines a top-level ``async def main()`` has it awaited right after that block, in a new event
  loop (each example of a page can have its own ``main``).
- Blocks run in a subprocess per page, in an empty temporary folder (files a page creates go there), with
  ``DISCORD_TOKEN`` set to an offline token (`lightbulb_lavalink.testing.offline_bot.make_token`) and no
  ``LAVALINK_*`` variables. Nothing may reach Discord or a real Lavalink: examples that need a node use
  `FakeLavalink`, those that need Discord ``lightbulb_lavalink.testing.gateway`` (``make_bot``, ``FakeDiscord``,
  ``FakeVoiceGateway``).
- A block that must not run (a peer library's code, a fragment) has ``<!-- not-run: why -->`` on the line above
  its fence; the reason is required.
- A block with ``<!-- type-checked -->`` above its fence must also pass ``mypy --strict`` on its own, copied
  verbatim into a file (the README's quickstart).
- A block whose first line is ``# file: PATH`` shows a file of the repository: the rest of the block must be
  that file exactly (the tutorial's bot and its tests, which tests/tutorial runs in CI). It runs like any other.
"""

from __future__ import annotations

import difflib
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

from lightbulb_lavalink.testing.offline_bot import make_token

from .run_page import MARKER, Block, blocks_of

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNNER = pathlib.Path(__file__).resolve().parent / "run_page.py"
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
KNOWN_MARKERS = frozenset({"not-run", "type-checked"})
PAGE_TIMEOUT = 300.0
FILE_LINE = re.compile(r"^# file: (?P<path>\S+)\s*$")
TUTORIAL = ROOT / "docs" / "tutorial.md"
TUTORIAL_FILES = sorted(
    [
        *(ROOT / "docs_tutorial_bot").glob("*.py"),
        *(ROOT / "tests" / "tutorial").glob("test_*.py"),
    ]
)


def _name(page: pathlib.Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _blocks(page: pathlib.Path) -> list[Block]:
    return blocks_of(_name(page), page.read_text(encoding="utf-8"))


RUNNABLE = [page for page in PAGES if any(block.runs for block in _blocks(page))]


def _run_page(page: pathlib.Path, tmp_path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LAVALINK_")}
    env["DISCORD_TOKEN"] = make_token()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(RUNNER), str(page), _name(page)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT,
        check=False,
    )


@pytest.mark.parametrize("page", RUNNABLE, ids=_name)
def test_the_python_blocks_of_the_page_run(page: pathlib.Path, tmp_path: pathlib.Path) -> None:
    result = _run_page(page, tmp_path)
    assert result.returncode == 0, f"a code block of {_name(page)} failed:\n{result.stderr[-6000:]}"


def test_the_guides_and_the_readme_have_blocks_that_run() -> None:
    names = {_name(page) for page in RUNNABLE}
    assert {
        "README.md",
        "docs/guides/lightbulb3.md",
        "docs/guides/resuming.md",
        "docs/guides/events.md",
        "docs/guides/testing.md",
        "docs/tutorial.md",
    } <= names


def _file_blocks(page: pathlib.Path) -> list[tuple[Block, pathlib.Path, str]]:
    """The page's ``# file: PATH`` blocks: the block, the repository file it shows, and what it shows of it."""
    found = []
    for block in _blocks(page):
        first, _, rest = block.code.partition("\n")
        match = FILE_LINE.match(first)
        if block.is_python and match is not None:
            found.append((block, ROOT / match["path"], rest))
    return found


def test_every_file_block_is_that_file_exactly() -> None:
    problems = []
    for page in PAGES:
        for block, path, shown in _file_blocks(page):
            where = f"{block.page}:{block.line}"
            if not path.is_file():
                problems.append(f"{where}: shows {path.relative_to(ROOT)}, which is not in the repository")
                continue
            actual = path.read_text(encoding="utf-8")
            if shown != actual:
                diff = difflib.unified_diff(
                    actual.splitlines(), shown.splitlines(), str(path.relative_to(ROOT)), where, lineterm=""
                )
                problems.append("\n".join(diff))
    assert not problems, "a # file: block differs from the file it shows:\n" + "\n".join(problems)


def test_the_tutorial_shows_every_file_of_its_bot_and_tests() -> None:
    shown = {path for _, path, _ in _file_blocks(TUTORIAL)}
    missing = [path.relative_to(ROOT).as_posix() for path in TUTORIAL_FILES if path not in shown]
    assert not missing, f"docs/tutorial.md does not show {missing}: a reader could not rebuild the bot"


def test_every_block_left_out_says_why() -> None:
    unexplained = [
        f"{block.page}:{block.line}"
        for page in PAGES
        for block in _blocks(page)
        if "not-run" in block.markers and not block.markers["not-run"]
    ]
    assert not unexplained, f"<!-- not-run: why --> needs its reason: {unexplained}"


def test_every_marker_is_known_and_stands_above_a_python_block() -> None:
    problems = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        fences = {block.line - 2 for block in _blocks(page) if block.is_python}  # 0-based index of each fence
        for index, text in enumerate(lines):
            comment = text.strip()
            if not (comment.startswith("<!--") and comment.endswith("-->")):
                continue
            match = MARKER.match(text)
            if match is None or match["name"] not in KNOWN_MARKERS:
                if "run" in comment or "check" in comment:  # a misspelt marker would silently do nothing
                    problems.append(f"{_name(page)}:{index + 1}: unknown marker {comment}")
                continue
            after = index + 1
            while after < len(lines) and (not lines[after].strip() or MARKER.match(lines[after])):
                after += 1
            if after not in fences:
                problems.append(f"{_name(page)}:{index + 1}: {comment} is not right above a python block")
    assert not problems, "\n".join(problems)


def test_the_readme_starts_with_make_demo_and_make_test() -> None:
    first = _blocks(ROOT / "README.md")[0]
    commands = [line.split("#", 1)[0].strip() for line in first.code.splitlines()]
    assert commands == ["make demo", "make test"]


def test_the_type_checked_blocks_pass_mypy_strict(tmp_path: pathlib.Path) -> None:
    marked = [block for page in PAGES for block in _blocks(page) if "type-checked" in block.markers]
    assert any(block.page == "README.md" for block in marked), "the README's quickstart must be type-checked"
    files = []
    for number, block in enumerate(marked):
        path = tmp_path / f"block_{number}.py"
        path.write_text(block.code, encoding="utf-8")
        files.append(str(path))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"), *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT,
        check=False,
    )
    where = {f"block_{n}.py": f"{b.page}:{b.line}" for n, b in enumerate(marked)}
    assert result.returncode == 0, f"mypy --strict on {where}:\n{result.stdout}"


def test_a_broken_block_fails_and_names_its_line(tmp_path: pathlib.Path) -> None:
    page = tmp_path / "broken.md"
    page.write_text(
        textwrap.dedent(
            """\
            # A page

            ```python
            answer = 42
            ```

            <!-- not-run: shows a peer library -->
            ```python
            import some_peer_library
            ```

            ```python
            async def main() -> None:
                assert answer == 41, "the docs are wrong"
            ```
            """
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(page), "broken.md"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT,
        check=False,
    )
    assert result.returncode != 0
    assert 'File "broken.md", line 14' in result.stderr
    assert "the docs are wrong" in result.stderr
    assert "some_peer_library" not in result.stderr
