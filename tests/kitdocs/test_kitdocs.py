"""Every Python block of the kit's guides (kitdocs/) runs, and the tutorial's files are the ones in the repository.

A block whose first line is ``# file: PATH`` must be that file, verbatim; any other block is a complete
program: run with pytest when it holds tests, else with Python, from the repository root.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
GUIDES = sorted((ROOT / "kitdocs").glob("*.md"))
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def blocks() -> list[tuple[str, str]]:
    found = []
    for guide in GUIDES:
        for number, match in enumerate(_BLOCK.finditer(guide.read_text(encoding="utf-8")), 1):
            found.append((f"{guide.name}#{number}", match.group(1)))
    return found


@pytest.mark.parametrize(("where", "code"), blocks(), ids=[where for where, _ in blocks()])
def test_the_block_runs(where: str, code: str, tmp_path: pathlib.Path) -> None:
    first = code.splitlines()[0]
    if first.startswith("# file: "):
        path = ROOT / first.removeprefix("# file: ").strip()
        assert path.read_text(encoding="utf-8") == code.split("\n", 1)[1], f"{where} differs from {path}"
        return
    holds_tests = re.search(r"^(class Test|def test_|async def test_)", code, re.MULTILINE) is not None
    script = tmp_path / ("test_block.py" if holds_tests else "block.py")
    script.write_text(code, encoding="utf-8")
    command = (
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
        if holds_tests
        else [
            sys.executable,
            str(script),
        ]
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{where} failed:\n{done.stdout}\n{done.stderr}"
