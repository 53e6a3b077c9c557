"""Case 5, start-up: ``import`` time, and a fresh ``ready`` to the first ``play`` on loopback.

Import: a fresh interpreter per round runs ``t = perf_counter(); import X; print(perf_counter() - t)``, so only
the import is timed (not the interpreter's own start). Baselines: `aiohttp` and `hikari`, which every
hikari-based client imports anyway.

First play: a fresh process per round connects to a `FakeLavalink` in its own process (`benchmarks._fakenode`),
waits for the library's ``ready``, creates a player for a guild and plays a track (one ``PATCH``), and stops the
clock when the node's ``TrackStartEvent`` reaches user code. No voice connection is made for anyone (that would
need Discord): our player is made as the resume coordinator makes one (`Player(client._hub, node, guild_id)`),
hikari-ongaku's gets its channel id set directly, Lavalink.py needs neither. The connect-to-``ready`` time is
recorded too (in results.json).

Driver usage: ``python -m benchmarks.bench_startup first_play '{"port": ...}'``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import typing

from benchmarks._drive import BOT_ID, PASSWORD, TOKEN, main
from benchmarks._harness import BASELINE, OURS, PEER, ROOT, CaseResult, Context, ServerProcess, run_json
from benchmarks._vectors import fast_encoded, reference_decode

__all__ = ["FIRST_TRACK", "run"]

FIRST_GUILD: typing.Final = 1_150_000_000_000_000_000
FIRST_TRACK: typing.Final = fast_encoded("firstplay01", "The first track played (Official Audio)", "Opener", 600_000)
"""The track every subject plays (a valid version 3 youtube blob)."""


async def first_play(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Ours: connect, ready, then a player plays the track until `TrackStartEvent` reaches a listener."""
    import hikari

    from lightbulb_lavalink import events
    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.protocol.tracks import Track
    from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings

    bot = hikari.GatewayBot(TOKEN, banner=None, suppress_optimization_warning=True, logs="WARNING")
    settings = LavalinkSettings(
        nodes=[NodeSettings(name="bench", host="127.0.0.1", port=params["port"], password=PASSWORD)],
        store="memory://",
    )
    client = LavalinkClient(bot, settings)
    started: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def on_start(event: events.TrackStartEvent) -> None:
        if not started.done():
            started.set_result(time.perf_counter())

    bot.event_manager.subscribe(events.TrackStartEvent, on_start)
    t0 = time.perf_counter()
    await client.start(BOT_ID)
    await client.wait_ready(10)
    ready = time.perf_counter()
    node = client.nodes["bench"]
    player = Player(client._hub, node, FIRST_GUILD)
    client._hub.add_player(player)
    await player.play(Track.from_payload(params["track"]))
    end = await asyncio.wait_for(started, 10)
    await client.close()
    return {"connect_ms": (ready - t0) * 1000, "ready_to_play_ms": (end - ready) * 1000}


def _payload(encoded: str) -> dict[str, typing.Any]:
    """The track JSON a node's load result would carry for `encoded`, as every subject builds it from JSON."""
    d = reference_decode(encoded)
    info = {
        "identifier": d["identifier"], "isSeekable": not d["isStream"], "author": d["author"], "length": d["length"],
        "isStream": d["isStream"], "position": d["position"], "title": d["title"], "uri": d["uri"],
        "sourceName": d["sourceName"], "artworkUrl": d["artworkUrl"], "isrc": d["isrc"],
    }  # fmt: skip
    return {"encoded": encoded, "info": info, "pluginInfo": {}, "userData": {}}


def _import_once(python: str, module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([python, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    return float(out.stdout.strip().splitlines()[-1]) * 1000


def run(ctx: Context) -> list[CaseResult]:
    """Both start-up cases."""
    rounds = 3 if ctx.quick else max(ctx.rounds, 7)
    imports = CaseResult(
        key="import",
        title="import time",
        unit="ms",
        higher_is_better=False,
        notes=[f"import in a fresh interpreter, {rounds} rounds after one warm-up (bytecode cached)."],
    )
    subjects = [("ours", OURS, ctx.main_python, "lightbulb_lavalink")]
    if ctx.peers_python:
        subjects += [
            (ctx.peer_label("lavalink", "Lavalink.py"), PEER, ctx.peers_python, "lavalink"),
            (ctx.peer_label("hikari-ongaku", "hikari-ongaku"), PEER, ctx.peers_python, "ongaku"),
        ]
    subjects += [
        ("baseline: import aiohttp", BASELINE, ctx.main_python, "aiohttp"),
        ("baseline: import hikari", BASELINE, ctx.main_python, "hikari"),
    ]
    for label, _kind, python, module in subjects:
        try:
            _import_once(python, module)  # warm-up: compile and cache bytecode
        except (subprocess.SubprocessError, ValueError) as exc:
            ctx.log(f"import: {label} failed: {exc}")
            imports.row(label, _kind).note = "failed"
    ctx.log("import time")
    for _ in range(rounds):
        for label, kind, python, module in subjects:
            row = imports.row(label, kind)
            if row.note == "failed":
                continue
            row.values.append(_import_once(python, module))

    play = CaseResult(
        key="first_play",
        title="ready -> first play",
        unit="ms",
        higher_is_better=False,
        notes=["fresh process per round; ready, create a player, play one track, TrackStartEvent in user code."],
    )
    players = [("ours", OURS, ctx.main_python, "benchmarks.bench_startup")]
    if ctx.peers_python:
        players += [
            (ctx.peer_label("lavalink", "Lavalink.py"), PEER, ctx.peers_python, "benchmarks.peers.lavalinkpy"),
            (ctx.peer_label("hikari-ongaku", "hikari-ongaku"), PEER, ctx.peers_python,
             "benchmarks.peers.hikari_ongaku"),
        ]  # fmt: skip
    track = _payload(FIRST_TRACK)
    connect = CaseResult(key="connect", title="connect -> ready", unit="ms", higher_is_better=False)
    with ServerProcess("benchmarks._fakenode", []) as fake:
        for rnd in range(rounds):
            ctx.log(f"first play: round {rnd + 1}/{rounds}")
            for label, kind, python, module in players:
                row, crow = play.row(label, kind), connect.row(label, kind)
                if row.note.startswith("failed"):
                    continue
                try:
                    r = run_json(python, module, ["first_play", json.dumps({"port": fake.port, "track": track})])
                except RuntimeError as exc:
                    ctx.log(f"first play: {label} failed: {exc}")
                    row.note = "failed: " + str(exc).splitlines()[-1]
                    continue
                row.values.append(r["ready_to_play_ms"])
                crow.values.append(r["connect_ms"])
    return [imports, play, connect]


if __name__ == "__main__":
    main({"first_play": first_play})
