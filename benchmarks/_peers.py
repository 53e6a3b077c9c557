"""The peers' own environment, `benchmarks/.peers/venv`, created on first use and reused after.

The peer libraries cannot share our environment: hikari-ongaku pins ``hikari~=2.5.0`` and
``aiohttp~=3.13.3`` while we test against hikari 2.6, and mafic/wavelink pull in discord.py. So they get a
virtualenv of their own, built from the same base interpreter as ours, and the peer drivers
(`benchmarks.peers.*`) run there as subprocesses. The environment is rebuilt whenever `REQUIREMENTS` changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing
from pathlib import Path

__all__ = ["PEERS_DIR", "REQUIREMENTS", "ensure_peers_env", "installed_versions"]

PEERS_DIR: typing.Final = Path(__file__).resolve().parent / ".peers"
VENV: typing.Final = PEERS_DIR / "venv"
STAMP: typing.Final = VENV / ".bench-requirements"

REQUIREMENTS: typing.Final[tuple[str, ...]] = (
    "lavalink==5.11.1",  # Lavalink.py
    "hikari-ongaku==1.0.4",
    "mafic==2.11.0",
    "wavelink==3.5.2",
)
"""What the peers' environment holds (pinned, so that runs compare like with like)."""

DISTRIBUTIONS: typing.Final = (
    "lavalink",
    "hikari-ongaku",
    "mafic",
    "wavelink",
    "discord.py",
    "hikari",
    "aiohttp",
)


def _python() -> Path:
    return VENV / "bin" / "python"


def _base_python() -> str:
    # A venv's interpreter makes a venv from its base installation, so ours and the peers' share one CPython.
    return getattr(sys, "_base_executable", None) or sys.executable


def ensure_peers_env(log: typing.Callable[[str], None]) -> str | None:
    """The peers' interpreter, building or updating the environment if needed; `None` if that fails."""
    wanted = "\n".join(REQUIREMENTS)
    python = _python()
    if python.exists() and STAMP.exists() and STAMP.read_text(encoding="utf-8") == wanted:
        return str(python)
    log(f"building the peers' environment in {VENV} ({', '.join(REQUIREMENTS)})")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    try:
        if not python.exists():
            subprocess.run([_base_python(), "-m", "venv", str(VENV)], check=True, env=env)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *REQUIREMENTS],
            check=True,
            env=env,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        log(f"cannot build the peers' environment ({exc}); peers are skipped")
        return None
    STAMP.write_text(wanted, encoding="utf-8")
    return str(python)


def installed_versions(python: str) -> dict[str, str]:
    """The versions installed in `python`'s environment, for `DISTRIBUTIONS` (those present)."""
    code = (
        "import json, importlib.metadata as m\n"
        "out = {}\n"
        f"for d in {list(DISTRIBUTIONS)!r}:\n"
        "    try: out[d] = m.version(d)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {}
    result: dict[str, str] = json.loads(proc.stdout)
    return result
