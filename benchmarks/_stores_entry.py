"""Run the stores helper's `benchmarks/bench_stores.py` and print its results as one JSON line.

``python -m benchmarks._stores_entry [--quick]``: keeps the store benchmark in a process of its own; the
quick run measures only the stores that need no server (memory, JSON file, SQLite).
"""

from __future__ import annotations

import json
import sys

from benchmarks.bench_stores import run

__all__: list[str] = []

if __name__ == "__main__":
    quick = "--quick" in sys.argv[1:]
    kinds = ("memory", "json", "sqlite") if quick else ("memory", "json", "sqlite", "redis", "postgres")
    print(json.dumps(run(quick=quick, kinds=kinds)))
