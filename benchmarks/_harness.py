"""The benchmark harness: results, medians, ratios to ours, targets, the table, machine info, results.json."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import typing
from pathlib import Path

__all__ = [
    "ROOT",
    "CaseResult",
    "Context",
    "Row",
    "ServerProcess",
    "Target",
    "evaluate_targets",
    "machine_info",
    "render_table",
    "run_json",
    "write_results",
]

ROOT: typing.Final = Path(__file__).resolve().parent.parent
"""The repository root (the working directory of every subprocess)."""
BENCH_DIR: typing.Final = ROOT / "benchmarks"
MAIN_PYTHON: typing.Final = sys.executable

OURS: typing.Final = "ours"
PEER: typing.Final = "peer"
BASELINE: typing.Final = "baseline"
INFO: typing.Final = "info"


@dataclasses.dataclass
class Row:
    """One subject's measurements in one case: ours, a peer library or a bare baseline."""

    subject: str
    """Who was measured, with its version for peers."""
    kind: str
    """`"ours"`, `"peer"`, `"baseline"` or `"info"` (a breakdown of ours, no ratio)."""
    values: list[float] = dataclasses.field(default_factory=list)
    """One value per round."""
    note: str = ""
    """Anything the reader must know (a smaller workload, vectors it could not decode, ...)."""

    @property
    def median(self) -> float | None:
        """The median over rounds, or `None` when nothing was measured."""
        return statistics.median(self.values) if self.values else None


@dataclasses.dataclass
class CaseResult:
    """One benchmark case: the rows of every subject that supports it, and those that do not."""

    key: str
    """Stable identifier (`websocket`, `decode`, `resume_10000`, ...)."""
    title: str
    """What is measured, in words."""
    unit: str
    """The unit of every value (`msg/s`, `ns/call`, `ms`, `B/track`, ...)."""
    higher_is_better: bool
    """Whether a larger value is better (rates) or worse (times, bytes)."""
    rows: list[Row] = dataclasses.field(default_factory=list)
    """The measured subjects, ours first."""
    unsupported: dict[str, str] = dataclasses.field(default_factory=dict)
    """Subjects that cannot do this at all, with the reason."""
    notes: list[str] = dataclasses.field(default_factory=list)
    """Workload details printed under the case."""

    def row(self, subject: str, kind: str, note: str = "") -> Row:
        """The row for `subject`, created on first use."""
        for row in self.rows:
            if row.subject == subject:
                return row
        row = Row(subject=subject, kind=kind, note=note)
        self.rows.append(row)
        return row

    def ours(self) -> Row | None:
        """Our row, if measured."""
        return next((r for r in self.rows if r.kind == OURS and r.values), None)

    def advantage(self, row: Row) -> float | None:
        """How many times better ours is than `row` (> 1: ours is better)."""
        ours = self.ours()
        if (
            row.kind == INFO
            or ours is None
            or ours.median is None
            or row.median is None
            or row.median == 0
            or ours.median == 0
        ):
            return None
        return ours.median / row.median if self.higher_is_better else row.median / ours.median

    def to_json(self) -> dict[str, typing.Any]:
        """Plain data for results.json."""
        return {
            "key": self.key,
            "title": self.title,
            "unit": self.unit,
            "higher_is_better": self.higher_is_better,
            "rows": [
                {
                    "subject": r.subject,
                    "kind": r.kind,
                    "median": r.median,
                    "values": r.values,
                    "ours_advantage": self.advantage(r),
                    "note": r.note,
                }
                for r in self.rows
            ],
            "unsupported": self.unsupported,
            "notes": self.notes,
        }


@dataclasses.dataclass
class Target:
    """One target of issue 6, evaluated on this run's numbers."""

    name: str
    """The target as the issue states it."""
    status: str = "not measured"
    """`"met"`, `"missed"` or `"not measured"`."""
    detail: str = ""
    """The numbers behind the status."""


@dataclasses.dataclass
class Context:
    """What every case runner gets: the mode, the interpreters and a logger."""

    quick: bool
    """Smoke run: tiny workloads, one round."""
    rounds: int
    """Measured rounds per subject (medians are over these)."""
    peers_python: str | None
    """The peers' interpreter (`benchmarks/.peers/venv/bin/python`), or `None` when peers are skipped."""
    peer_versions: dict[str, str] = dataclasses.field(default_factory=dict)
    """Installed peer versions by distribution name."""
    main_python: str = MAIN_PYTHON
    """Our interpreter (the one running the harness)."""

    def log(self, message: str) -> None:
        """Progress on stderr, so stdout stays the table."""
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def peer_label(self, dist: str, name: str) -> str:
        """`name` with the installed version of `dist`."""
        version = self.peer_versions.get(dist)
        return f"{name} {version}" if version else name


def run_json(
    python: str,
    module: str,
    args: typing.Sequence[str],
    *,
    timeout: float = 300.0,
    env: dict[str, str] | None = None,
) -> dict[str, typing.Any]:
    """Run ``python -m module args`` from the repository root and return the JSON of its last stdout line.

    Raises `RuntimeError` with the tail of stderr when the process fails or prints no JSON.
    """
    full_env = dict(os.environ)
    full_env.pop("PYTHONPATH", None)
    full_env["PYTHONHASHSEED"] = "0"
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [python, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{module} {' '.join(args)} exited {proc.returncode}:\n{tail}")
    result: dict[str, typing.Any] = json.loads(lines[-1])
    return result


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total() -> int | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def machine_info() -> dict[str, typing.Any]:
    """Where the numbers come from: CPU, cores, memory, OS, Python and the load when measured."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_bytes": _mem_total(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "load_average": list(load) if load else None,
    }


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100_000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render_table(cases: typing.Sequence[CaseResult], *, markdown: bool = False) -> str:
    """The results as one table: per case, each subject's median, spread and how many times better ours is."""
    lines: list[str] = []
    header = ("case", "subject", "median", "unit", "min - max", "ours x")
    rows: list[tuple[str, ...]] = []
    for case in cases:
        for row in case.rows:
            adv = case.advantage(row) if row.kind != OURS else None
            spread = (
                f"{_fmt(min(row.values), case.unit)} - {_fmt(max(row.values), case.unit)}"
                if len(row.values) > 1
                else ""
            )
            subject = row.subject + (f" ({row.note})" if row.note else "")
            rows.append(
                (
                    case.title,
                    subject,
                    _fmt(row.median, case.unit),
                    case.unit,
                    spread,
                    f"{adv:.2f}" if adv else "",
                )
            )
        for subject, reason in case.unsupported.items():
            rows.append((case.title, subject, "n/a", "", "", reason))
    if markdown:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---", "---", "---:", "---", "---:", "---:"]) + "|")
        for r in rows:
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    widths[0] = min(widths[0], 44)
    widths[1] = min(widths[1], 60)

    def fmt_line(cells: typing.Sequence[str]) -> str:
        out = []
        for i, c in enumerate(cells):
            c = c if len(c) <= widths[i] else c[: widths[i] - 1] + "~"
            out.append(c.rjust(widths[i]) if i in (2, 4, 5) else c.ljust(widths[i]))
        return "  ".join(out).rstrip()

    lines.append(fmt_line(header))
    lines.append(fmt_line(["-" * w for w in widths]))
    previous = None
    for r in rows:
        cells = list(r)
        if r[0] == previous:
            cells[0] = ""
        previous = r[0]
        lines.append(fmt_line(cells))
    return "\n".join(lines)


def _find(cases: typing.Sequence[CaseResult], key: str) -> CaseResult | None:
    return next((c for c in cases if c.key == key), None)


def _peer_rows(case: CaseResult) -> list[Row]:
    return [r for r in case.rows if r.kind == PEER and r.median is not None]


def evaluate_targets(cases: typing.Sequence[CaseResult]) -> list[Target]:
    """Check the targets of issues 6 and 13 against this run's medians."""
    targets: list[Target] = []

    ws = _find(cases, "websocket")
    t1 = Target("websocket throughput >= 3x Lavalink.py, a listener per event (issue 13; issue 6 asked 2x)")
    t2 = Target("websocket throughput >= the best peer")
    t3 = Target("websocket cost per message with no listener within 1.5x of the bare baseline")
    if ws is not None and (ours := ws.ours()) is not None and ours.median:
        lp = next((r for r in _peer_rows(ws) if r.subject.startswith("Lavalink.py")), None)
        if lp is not None and lp.median:
            ratio = ours.median / lp.median
            t1.status, t1.detail = (
                ("met" if ratio >= 3 else "missed"),
                f"{ratio:.2f}x ({ours.median:,.0f} vs {lp.median:,.0f} msg/s)",
            )
        peers = _peer_rows(ws)
        if peers:
            best = max(peers, key=lambda r: r.median or 0.0)
            assert best.median is not None
            t2.status = "met" if ours.median >= best.median else "missed"
            t2.detail = f"{ours.median / best.median:.2f}x the best peer ({best.subject}, {best.median:,.0f} msg/s)"
        base = next((r for r in ws.rows if r.kind == BASELINE and r.median), None)
        quiet = next((r for r in ws.rows if r.kind == INFO and r.subject.startswith("ours, no listener")), None)
        if base is not None and base.median and quiet is not None and quiet.median:
            ours_us, base_us = 1e6 / quiet.median, 1e6 / base.median
            ratio = ours_us / base_us
            t3.status = "met" if ratio <= 1.5 else "missed"
            t3.detail = f"{ours_us:.1f} us vs {base_us:.1f} us per message = {ratio:.2f}x the baseline"
    targets += [t1, t2, t3]

    dec = _find(cases, "decode")
    t4 = Target("decoding >= 3x Lavalink.py")
    if dec is not None and (ours := dec.ours()) is not None:
        lp = next((r for r in _peer_rows(dec) if r.subject.startswith("Lavalink.py")), None)
        if lp is not None and (adv := dec.advantage(lp)) is not None:
            t4.status, t4.detail = (
                ("met" if adv >= 3 else "missed"),
                f"{adv:.2f}x ({ours.median:,.0f} vs {lp.median:,.0f} ns/call)",
            )
    targets.append(t4)

    mem = _find(cases, "memory")
    t5 = Target("memory per queued track <= half the best peer's")
    if mem is not None and (ours := mem.ours()) is not None and ours.median:
        peers = _peer_rows(mem)
        if peers:
            best = min(peers, key=lambda r: r.median or float("inf"))
            assert best.median is not None
            ratio = ours.median / best.median
            t5.status = "met" if ratio <= 0.5 else "missed"
            t5.detail = f"{ours.median:,.0f} vs {best.median:,.0f} B/track ({best.subject}) = {ratio:.2f}x"
    targets.append(t5)

    res = _find(cases, "resume_10000")
    t6 = Target("10,000 players synced in < 1 s")
    if res is not None and (ours := res.ours()) is not None and ours.median is not None:
        t6.status = "met" if ours.median < 1000 else "missed"
        t6.detail = f"{ours.median:,.0f} ms on the client side"
        info = {r.subject: r.median for r in res.rows if r.kind == INFO and r.median is not None}
        if info:
            t6.detail += " (" + "; ".join(f"{k}: {v:,.0f} ms" for k, v in info.items()) + ")"
    targets.append(t6)

    wall = _find(cases, "resume_10000_wall")
    t7 = Target("restart to resumed, 10,000 players, < 1 s end to end (issue 13)")
    if wall is not None and (ours := wall.ours()) is not None and ours.median is not None:
        t7.status = "met" if ours.median < 1000 else "missed"
        t7.detail = f"{ours.median:,.0f} ms from start() to SessionResumedEvent (store read, handshake, sync)"
    targets.append(t7)

    for key, size in (("rejoin_1x1000", "1 shard x 1,000"), ("rejoin_8x1000", "8 shards x 1,000")):
        rejoin = _find(cases, key)
        target = Target(f"restart to every guild audible, {size}, within 10% of Discord's floor")
        floor = next((r for r in rejoin.rows if r.kind == BASELINE and r.median), None) if rejoin else None
        if rejoin is not None and (ours := rejoin.ours()) is not None and ours.median is not None and floor:
            assert floor.median is not None
            ratio = ours.median / floor.median
            complete = not ours.note.startswith("INCOMPLETE")
            target.status = "met" if ratio <= 1.1 and complete else "missed"
            target.detail = f"{ours.median:,.0f} s vs the floor's {floor.median:,.0f} s = {ratio:.3f}x"
            if not complete:
                target.detail += f" ({ours.note})"
        targets.append(target)

    gap = _find(cases, "handoff")
    t8 = Target("handoff deploy, 1,000 playing guilds: gap < 200 ms (issue 14)")
    if gap is not None and (ours := gap.ours()) is not None and ours.median is not None and "1,000" in gap.title:
        t8.status = "met" if ours.median < 200 else "missed"
        t8.detail = f"{ours.median:,.0f} ms from the old process's last event to the new one's first"
        restart = next((r for r in gap.rows if r.subject.endswith("stop-then-start") and r.median), None)
        if restart is not None and restart.median is not None:
            t8.detail += f" (stop-then-start: {restart.median:,.0f} ms)"
    targets.append(t8)
    return targets


def write_results(
    path: Path,
    cases: typing.Sequence[CaseResult],
    targets: typing.Sequence[Target],
    *,
    machine: dict[str, typing.Any],
    versions: dict[str, typing.Any],
    quick: bool,
    duration: float,
    errors: dict[str, str],
) -> None:
    """Write results.json: date, machine, versions, every case with its rounds, the targets and any errors."""
    data = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "duration_s": round(duration, 1),
        "machine": machine,
        "versions": versions,
        "cases": [c.to_json() for c in cases],
        "targets": [dataclasses.asdict(t) for t in targets],
        "errors": errors,
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


class ServerProcess:
    """A helper server in a subprocess: prints ``{"port": N}`` when listening, stops when stdin closes."""

    def __init__(self, module: str, args: typing.Sequence[str], *, python: str = MAIN_PYTHON) -> None:
        self.module = module
        self.args = list(args)
        self.python = python
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0

    def __enter__(self) -> ServerProcess:
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen(
            [self.python, "-m", self.module, *self.args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=sys.stderr,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("{"):
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"{self.module} did not start: {line!r}")
        self.info: dict[str, typing.Any] = json.loads(line)
        self.port = int(self.info["port"])
        return self

    def __exit__(self, *exc: object) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
