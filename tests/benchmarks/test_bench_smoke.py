"""Smoke test of the benchmark runner: a tiny `--quick` run writes results.json; no timing is asserted."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_quick_run_writes_every_requested_case(tmp_path: pathlib.Path) -> None:
    output = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--no-peers",
            "--only",
            "decode,memory",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(output.read_text(encoding="utf-8"))
    assert results["quick"] is True
    assert results["errors"] == {}
    assert {"cpu", "cores", "python"} <= results["machine"].keys()
    cases = {case["key"]: case for case in results["cases"]}
    assert set(cases) == {"decode", "memory"}
    for case in cases.values():
        ours = next(row for row in case["rows"] if row["subject"] == "ours")
        assert ours["values"] and ours["median"] > 0, case["key"]
    # Our decoder was checked field by field against the protocol document's reference on every vector.
    assert not [note for note in cases["decode"]["notes"] if "WRONG" in note or "ours cannot" in note]
    assert {target["name"] for target in results["targets"]} >= {
        "decoding >= 3x Lavalink.py",
        "10,000 players synced in < 1 s",
    }
    # The table went to stdout and README.md was left alone (quick runs never touch it).
    assert "decode_track" in proc.stdout
