"""Case 3, track decoding: nanoseconds per `decode_track` call over the encoded-track vectors.

The workload cycles through the six vectors of the protocol document (§6.3: v2 and v3, an ISRC, a stream with
source bytes, old LavaSrc extra fields) and four version 3 blobs with long non-ASCII titles (CJK, Greek, emoji
written as surrogate pairs, NUL), 100,000 calls per round. Every subject is first checked on each vector; the
timed workload is the vectors that every subject decodes, so the ratios compare the same work.

Subjects: ours (`lightbulb_lavalink.protocol.codec.decode_track`, returning a `Track`), Lavalink.py
(`lavalink.decode_track`, the only peer that decodes locally: hikari-ongaku, mafic and wavelink ask the node
over REST), the bare baseline (`base64` + `struct` into a tuple) and the protocol document's §6.2 pure-Python
reference.

Driver usage: ``python -m benchmarks.bench_decode {ours,baseline,reference} '{"vectors": [...], ...}'``.
"""

from __future__ import annotations

import json
import typing

from benchmarks._drive import main, time_calls
from benchmarks._harness import BASELINE, OURS, PEER, CaseResult, Context, run_json
from benchmarks._vectors import PROTOCOL_VECTORS, bare_decode, decode_vectors, reference_decode

__all__ = ["run"]

_LABELS: typing.Final = [
    "v3 youtube",
    "v2 docs",
    "v3 deezer isrc",
    "v2 http stream",
    "v2 old LavaSrc spotify",
    "v3 synthetic http",
] + [f"v3 long non-ASCII #{i}" for i in range(4)]


def _check(decode: typing.Callable[[str], object], vectors: list[str]) -> dict[int, str]:
    failures: dict[int, str] = {}
    for i, v in enumerate(vectors):
        try:
            decode(v)
        except Exception as exc:
            failures[i] = f"{type(exc).__name__}: {exc}"
    return failures


def _time(decode: typing.Callable[[str], object], params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    vectors: list[str] = params["vectors"]
    failures = _check(decode, vectors)
    if params.get("check_only"):
        return {"failures": failures}
    usable = [v for i, v in enumerate(vectors) if i not in failures]
    return {
        "ns_per_call": time_calls(decode, usable, params["calls"], params["rounds"]),
        "failures": failures,
    }


def ours(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Our `decode_track`, checked field by field against the §6.2 reference before it is timed."""
    from lightbulb_lavalink.protocol.codec import decode_track

    result = _time(decode_track, params)
    wrong: dict[int, str] = {}
    for i, v in enumerate(params["vectors"]):
        if i in result["failures"]:
            continue
        ref, info = reference_decode(v), decode_track(v).info
        got = (
            info.title,
            info.author,
            info.length,
            info.identifier,
            info.uri,
            info.source_name,
            info.position,
        )
        want = tuple(ref[k] for k in ("title", "author", "length", "identifier", "uri", "sourceName", "position"))
        if got != want:
            wrong[i] = f"decoded {got!r}, expected {want!r}"
    result["wrong"] = wrong
    return result


def baseline(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """The bare baseline: `base64` + `struct`."""
    return _time(bare_decode, params)


def reference(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """The protocol document's pure-Python reference decoder."""
    return _time(reference_decode, params)


def run(ctx: Context) -> list[CaseResult]:
    """Check every subject on every vector, then time the common vectors."""
    vectors = decode_vectors()
    calls = 10_000 if ctx.quick else 100_000
    rounds = ctx.rounds
    case = CaseResult(key="decode", title="decode_track", unit="ns/call", higher_is_better=False)
    subjects: list[tuple[str, str, str, str, str]] = [
        ("ours", OURS, ctx.main_python, "benchmarks.bench_decode", "ours"),
        ("baseline: base64 + struct", BASELINE, ctx.main_python, "benchmarks.bench_decode", "baseline"),
        (
            "baseline: protocol §6.2 reference",
            BASELINE,
            ctx.main_python,
            "benchmarks.bench_decode",
            "reference",
        ),
    ]
    if ctx.peers_python:
        subjects.insert(
            1,
            (
                ctx.peer_label("lavalink", "Lavalink.py"),
                PEER,
                ctx.peers_python,
                "benchmarks.peers.lavalinkpy",
                "decode",
            ),
        )
        for name in ("hikari-ongaku", "mafic", "wavelink"):
            case.unsupported[ctx.peer_label(name, name)] = "no local decoder (decodes over REST)"
    failures: dict[str, dict[int, str]] = {}
    for label, _kind, python, module, op in subjects:
        params = {"vectors": vectors, "check_only": True}
        try:
            failures[label] = {
                int(k): v for k, v in run_json(python, module, [op, json.dumps(params)])["failures"].items()
            }
        except RuntimeError as exc:
            ctx.log(f"decode: {label} failed: {exc}")
            failures[label] = {i: "driver failed" for i in range(len(vectors))}
    bad = sorted({i for f in failures.values() for i in f})
    common = [v for i, v in enumerate(vectors) if i not in bad]
    case.notes.append(
        f"{calls:,} calls per round cycling over {len(common)} vectors: "
        + ", ".join(_LABELS[i] for i in range(len(vectors)) if i not in bad)
        + "."
    )
    for label, f in failures.items():
        if f:
            case.notes.append(f"{label} cannot decode: " + "; ".join(f"{_LABELS[i]} ({msg})" for i, msg in f.items()))
    for label, kind, python, module, op in subjects:
        row = case.row(label, kind)
        if len(failures[label]) == len(vectors):
            row.note = "failed"
            continue
        ctx.log(f"decode: {label}")
        params = {"vectors": common, "calls": calls, "rounds": rounds}
        try:
            result = run_json(python, module, [op, json.dumps(params)], timeout=600)
        except RuntimeError as exc:
            ctx.log(f"decode: {label} failed: {exc}")
            row.note = "failed"
            continue
        row.values = result["ns_per_call"]
        for i, msg in result.get("wrong", {}).items():
            case.notes.append(f"{label} decodes {_LABELS[vectors.index(common[int(i)])]} WRONG: {msg}")
    assert len(PROTOCOL_VECTORS) == 6
    return [case]


if __name__ == "__main__":
    main({"ours": ours, "baseline": baseline, "reference": reference})
