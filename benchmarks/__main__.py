"""``python -m benchmarks``: every case, ours against the peers and the bare baselines, in one run.

    python -m benchmarks                 # the full run (make bench), about 6-8 minutes on 2 cores
    python -m benchmarks --quick         # a smoke run with tiny workloads (< 60 s)
    python -m benchmarks --only decode,websocket --rounds 3

Prints the table and the targets of issue 6, writes `benchmarks/results.json` and, after a full run, the table
in `benchmarks/README.md`. The peers run in their own environment, `benchmarks/.peers/venv`, built on first use
(see `benchmarks._peers`); ``--no-peers`` skips them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import time
import traceback
import typing
from pathlib import Path

from benchmarks import _harness
from benchmarks._harness import INFO, CaseResult, Context, evaluate_targets, render_table, run_json, write_results
from benchmarks._peers import ensure_peers_env, installed_versions

SECTIONS: typing.Final = ("decode", "websocket", "resume", "memory", "startup", "stores", "rejoin", "handoff")
_MODULES: typing.Final = {
    "decode": "benchmarks.bench_decode",
    "websocket": "benchmarks.bench_websocket",
    "resume": "benchmarks.bench_resume",
    "memory": "benchmarks.bench_memory",
    "startup": "benchmarks.bench_startup",
    "rejoin": "benchmarks.bench_rejoin",
    "handoff": "benchmarks.bench_handoff",
}
BENCH_DIR: typing.Final = Path(__file__).resolve().parent
RESULTS: typing.Final = BENCH_DIR / "results.json"
README: typing.Final = BENCH_DIR / "README.md"
_BEGIN, _END = "<!-- results:begin -->", "<!-- results:end -->"


def _stores(ctx: Context) -> list[CaseResult]:
    """The stores helper's `benchmarks/bench_stores.py`, run in its own process, as two cases."""
    args = ["--quick"] if ctx.quick else []
    result = run_json(ctx.main_python, "benchmarks._stores_entry", args, timeout=300)
    workload = result["workload"]
    raw = CaseResult(key="stores_raw", title="store put_guild", unit="writes/s", higher_is_better=True)
    capacity = CaseResult(key="stores_writer", title="store SnapshotWriter capacity", unit="writes/s",
                          higher_is_better=True)  # fmt: skip
    raw.notes.append(
        f"back-to-back put_guild of {workload['guilds']:,} guild snapshots (track + {workload['queue_tracks']}"
        "-track queue), by benchmarks/bench_stores.py."
    )
    paced: list[str] = []
    for kind, row in result["stores"].items():
        if "skipped" in row:
            raw.unsupported[kind] = capacity.unsupported[kind] = "skipped: " + row["skipped"]
            continue
        raw.row(kind, INFO).values.append(row["raw_put_guild_per_s"])
        capacity.row(kind, INFO).values.append(row["writer_capacity_per_s"])
        paced.append(f"{kind} {row['writer_writes_per_s']:,.0f} writes/s, loop lag <= {row['loop_lag_ms_max']} ms")
    capacity.notes.append(
        f"{workload['guilds']:,} busy guilds changing {workload['updates_per_guild_per_s']:g}x/s through the "
        "SnapshotWriter (1 s coalescing): " + "; ".join(paced) + "."
    )
    return [raw, capacity]


def _readme_block(cases: list[CaseResult], targets: list[_harness.Target], meta: dict[str, typing.Any]) -> str:
    machine = meta["machine"]
    lines = [
        f"Latest full run: {meta['date']} on {machine['cpu']} ({machine['cores']} cores, "
        f"load average {', '.join(f'{x:.2f}' for x in machine['load_average'] or [])} at the start), "
        f"Python {machine['python']}, {meta['duration_s']:.0f} s. `ours x` = how many times better ours is "
        "than that row (> 1: ours is better).",
        "",
        render_table(cases, markdown=True),
        "",
        "| target | status | measured |",
        "|---|---|---|",
        *(f"| {t.name} | {t.status} | {t.detail} |" for t in targets),
    ]
    return "\n".join(lines)


def _update_readme(block: str) -> None:
    if not README.exists():
        return
    text = README.read_text(encoding="utf-8")
    if _BEGIN not in text or _END not in text:
        return
    pattern = re.compile(re.escape(_BEGIN) + ".*?" + re.escape(_END), re.S)
    README.write_text(pattern.sub(lambda _: f"{_BEGIN}\n{block}\n{_END}", text), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; the exit status is 0 unless a section crashed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny workloads, one round: a smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="measured rounds per subject (default 5, quick 1)")
    parser.add_argument("--only", default="", help=f"comma-separated sections of: {', '.join(SECTIONS)}")
    parser.add_argument("--no-peers", action="store_true", help="measure ours and the baselines only")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write results.json")
    parser.add_argument("--no-readme", action="store_true", help="do not update the table in README.md")
    args = parser.parse_args(argv)
    sections = [s for s in args.only.split(",") if s] or list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    ctx = Context(quick=args.quick, rounds=args.rounds or (1 if args.quick else 5), peers_python=None)
    machine = _harness.machine_info()
    if not args.no_peers:
        ctx.peers_python = ensure_peers_env(ctx.log)
        if ctx.peers_python:
            ctx.peer_versions = installed_versions(ctx.peers_python)
    versions = {"ours": installed_versions(ctx.main_python), "peers_env": ctx.peer_versions}
    try:
        import importlib.metadata as md

        versions["ours"]["lightbulb-lavalink"] = md.version("lightbulb-lavalink")
    except Exception:
        pass
    cases: list[CaseResult] = []
    errors: dict[str, str] = {}
    for section in sections:
        ctx.log(f"== {section}")
        t0 = time.perf_counter()
        try:
            if section == "stores":
                cases += _stores(ctx)
            else:
                cases += importlib.import_module(_MODULES[section]).run(ctx)
        except Exception as exc:
            errors[section] = "".join(traceback.format_exception_only(exc)).strip()
            ctx.log(f"{section} crashed:\n{traceback.format_exc()}")
        ctx.log(f"== {section} took {time.perf_counter() - t0:.0f} s")
    targets = evaluate_targets(cases)
    duration = time.perf_counter() - started
    print()
    print(render_table(cases))
    print()
    for case in cases:
        for note in case.notes:
            print(f"* {case.title}: {note}")
    print()
    width = max(len(t.name) for t in targets)
    for t in targets:
        print(f"{t.name.ljust(width)}  {t.status.upper():12}  {t.detail}")
    for section, error in errors.items():
        print(f"!! {section} crashed: {error}")
    print(f"\n{len(cases)} cases in {duration:.0f} s; results in {args.output}")
    write_results(
        args.output, cases, targets, machine=machine, versions=versions, quick=args.quick, duration=duration,
        errors=errors,
    )  # fmt: skip
    if not args.quick and not args.only and not args.no_readme:
        meta = json.loads(args.output.read_text(encoding="utf-8"))
        _update_readme(_readme_block(cases, targets, meta))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
