"""`python -m lightbulb_lavalink demo` shows what it promises: both restarts, every queue back."""

from __future__ import annotations

import io
import subprocess
import sys

from lightbulb_lavalink.demo import run_demo


async def test_the_demo_resumes_and_recovers_every_queue() -> None:
    out = io.StringIO()
    assert await run_demo(out)
    text = out.getvalue()
    assert "RESUMED: 4 players synced" in text
    assert "4 guilds RECOVERED" in text
    assert text.count("every queue back exactly: yes") == 2
    assert "all guilds kept playing" in text
    assert "password" not in text.lower()


def test_the_command_line_lists_the_demo() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lightbulb_lavalink", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    assert "demo" in result.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "lightbulb_lavalink", "dance"], capture_output=True, text=True, timeout=60, check=False
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
