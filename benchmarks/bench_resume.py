"""Case 2, resumed sync: a restarted bot process resumes its Lavalink session with 1,000 / 10,000 players.

Set-up (once per size): a `FakeLavalink` runs in its own process (`benchmarks._fakenode`); a first bot process
starts a `LavalinkClient` (SQLite store, the default) which opens a fresh, resumable session; the node is seeded
with N players, each playing its own track with voice connected, and the store with each guild's snapshot
(current track, position, and 10 distinct queued tracks); that process then closes, keeping the session
resumable, as a bot does on restart.

Each round is a new bot process: a new `hikari.GatewayBot` (never started) and `LavalinkClient` on the same
store. `start()` reads the saved session id and connects with ``Session-Id`` while it reads the snapshots; the node
answers ``resumed: true``; the client fetches the session's players and rebuilds every `Player` and `GuildQueue`.
Measured: the `SyncReport.duration` the client records, from the `ready` op to every player and queue rebuilt (the
target), and the wall time from `start()` to the `SessionResumedEvent` reaching a listener (adds the store read and
the websocket handshake). The node's share is the time it took to build its ``GET /players`` answer, as the fake
node measures it (`benchmarks._fakenode`'s ``/timings``). Every round checks that all N players came back with their
10 queued tracks. The baseline is the floor of any sync: one ``GET /v4/sessions/{id}/players`` and `json.loads` of
the answer.

Driver usage: ``python -m benchmarks.bench_resume {setup,measure} '{...}'``.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import typing
from pathlib import Path

import aiohttp

from benchmarks._drive import BOT_ID, PASSWORD, TOKEN, main
from benchmarks._harness import BASELINE, INFO, OURS, CaseResult, Context, ServerProcess, run_json
from benchmarks._pushserver import guild_ids
from benchmarks._vectors import fast_encoded

__all__ = ["run"]

QUEUED: typing.Final = 10
NODE: typing.Final = "bench"


def _settings(port: int, store: str) -> typing.Any:
    from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings

    return LavalinkSettings(
        nodes=[NodeSettings(name=NODE, host="127.0.0.1", port=port, password=PASSWORD)],
        store=store,
        resume_timeout=3600,
    )


def _blob(guild: int, i: int) -> str:
    return fast_encoded(f"r{guild:05d}q{i:03d}", f"Resume track {i} of guild {guild} (Official Audio)",
                        f"Artist {guild % 89}", 3_600_000)  # fmt: skip


async def setup(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """The bot before its restart: a resumable session with N players on the node and N snapshots stored."""
    import hikari

    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.snapshot import GuildSnapshot, QueueSnapshot, TrackSnapshot

    players, control = params["players"], params["control"]
    bot = hikari.GatewayBot(TOKEN, banner=None, suppress_optimization_warning=True, logs="WARNING")
    client = LavalinkClient(bot, _settings(params["port"], params["store"]))
    await client.start(BOT_ID)
    await client.wait_ready(10)
    session_id = client.nodes[NODE].session_id
    ids = guild_ids(players)
    current = {gid: _blob(g, 999) for g, gid in enumerate(ids)}
    async with aiohttp.ClientSession() as http:
        body = {"session_id": session_id, "guilds": ids, "tracks": [current[gid] for gid in ids]}
        async with http.post(f"http://127.0.0.1:{control}/seed", json=body) as resp:
            resp.raise_for_status()
            seeded = (await resp.json())["players"]
    snapshots = [
        GuildSnapshot(
            guild_id=gid,
            node=NODE,
            channel_id=None,
            track=TrackSnapshot(encoded=current[gid], user_data={}),
            position=1000,
            queue=QueueSnapshot(tracks=tuple(TrackSnapshot(encoded=_blob(g, i), user_data={}) for i in range(QUEUED))),
        )
        for g, gid in enumerate(ids)
    ]
    await client.store.put_guilds(client.store_key(NODE), snapshots)
    await client.close()
    return {"session_id": session_id, "players": seeded}


async def measure(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """One restarted bot process: start, resume, rebuild; report the sync and check every queue."""
    import hikari

    from lightbulb_lavalink import events
    from lightbulb_lavalink.client import LavalinkClient

    players = params["players"]
    answer: dict[str, float] = {}

    async def on_start(_: object, __: object, data: aiohttp.TraceRequestStartParams) -> None:
        if data.url.path.endswith("/players") and "start" not in answer:
            answer["start"] = time.perf_counter()

    async def on_headers(_: object, __: object, data: aiohttp.TraceRequestEndParams) -> None:
        if data.url.path.endswith("/players") and "end" not in answer:
            answer["end"] = time.perf_counter()

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_headers)
    http = aiohttp.ClientSession(trace_configs=[trace])
    bot = hikari.GatewayBot(TOKEN, banner=None, suppress_optimization_warning=True, logs="WARNING")
    client = LavalinkClient(bot, _settings(params["port"], params["store"]), session=http)
    resumed: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def on_resumed(event: events.SessionResumedEvent) -> None:
        if not resumed.done():
            resumed.set_result(time.perf_counter())

    bot.event_manager.subscribe(events.SessionResumedEvent, on_resumed)
    profile = params.get("profile")  # a path: write cProfile stats from start() to the resumed event there
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start = time.perf_counter()
    await client.start(BOT_ID)
    try:
        end = await asyncio.wait_for(resumed, 60)
    except TimeoutError:
        last = client.nodes[NODE].last_sync
        raise RuntimeError(f"no SessionResumedEvent within 60 s (last sync: {last})") from None
    if profile:
        profiler.disable()
        profiler.dump_stats(profile)
    node = client.nodes[NODE]
    report = node.last_sync
    assert report is not None
    complete = sum(1 for p in client.players.values() if len(p.queue) == QUEUED and p.track is not None)
    # How long the node took to build its answer, on its own clock: the client sends the request as the ready comes
    # and reads the answer once it is done with what it does meanwhile (the store read, the claims), so the time
    # from the request to the answer read (`answer`, the trace) holds some of the client's own work.
    async with http.get(f"http://127.0.0.1:{params['control']}/timings") as resp:
        built = (await resp.json())["get_players_ms"][-1] / 1000
    # The client-side floor of any sync: json.loads of the node's answer.
    url = f"http://127.0.0.1:{params['port']}/v4/sessions/{node.session_id}/players"
    async with http.get(url, headers={"Authorization": PASSWORD}) as resp:
        body = await resp.read()
    t0 = time.perf_counter()
    floor_players = len(json.loads(body))
    floor = time.perf_counter() - t0
    await client.close()
    await http.close()
    server = answer.get("end", 0.0) - answer.get("start", 0.0)
    return {
        "kind": report.kind,
        "sync_ms": report.duration * 1000,
        "node_answer_ms": built * 1000,
        "request_to_answer_ms": server * 1000,
        "client_ms": (report.duration - built) * 1000,
        "start_to_event_ms": (end - start) * 1000,
        "players_synced": report.players_synced,
        "complete": complete,
        "expected": players,
        "floor_ms": floor * 1000,
        "floor_players": floor_players,
        "answer_bytes": len(body),
    }


def run(ctx: Context) -> list[CaseResult]:
    """Set up each size once, then resume it `rounds` times from a fresh process."""
    cases: list[CaseResult] = []
    for players in (1_000, 10_000):
        rounds = ctx.rounds if not ctx.quick else 1
        if ctx.quick and players > 1_000:
            for key, title in ((f"resume_{players}", "resumed sync"), (f"resume_{players}_wall", "restart to resumed")):
                skipped = CaseResult(key=key, title=f"{title}, {players:,} players", unit="ms", higher_is_better=False)
                skipped.notes.append("not measured in --quick")
                cases.append(skipped)
            continue
        sync = CaseResult(
            key=f"resume_{players}",
            title=f"resumed sync, {players:,} players",
            unit="ms",
            higher_is_better=False,
            notes=[
                f"{players:,} players each with a playing track and {QUEUED} queued tracks, SQLite store; "
                "ready -> every Player and GuildQueue rebuilt, in a fresh process per round. 'ours' is the "
                "client's share: the sync minus the time the node took to answer GET /players (the emulator is "
                "Python on the same cores; a real Lavalink answers far faster).",
            ],
        )
        wall = CaseResult(
            key=f"resume_{players}_wall",
            title=f"restart to resumed, {players:,} players",
            unit="ms",
            higher_is_better=False,
            notes=["start() -> SessionResumedEvent in a listener: store read, handshake, sync."],
        )
        if ctx.peers_python:
            for case in (sync, wall):
                case.unsupported[ctx.peer_label("lavalink", "Lavalink.py")] = (
                    "no rebuild after a restart: resumes the Session-Id, never fetches players, saves no queue"
                )
                case.unsupported[ctx.peer_label("hikari-ongaku", "hikari-ongaku")] = (
                    "cannot resume: never sends Session-Id when connecting, so a restart gets a new session"
                )
        ours_sync, ours_wall = sync.row("ours", OURS), wall.row("ours", OURS)
        end_to_end = sync.row("ours end to end, node's answer time included", INFO)
        node_answer = sync.row("FakeLavalink building its GET /players answer", INFO)
        base = sync.row("baseline: json.loads of that answer", BASELINE)
        with (
            tempfile.TemporaryDirectory(prefix="bench-resume-") as tmp,
            ServerProcess("benchmarks._fakenode", []) as fake,
        ):
            store = f"sqlite:///{Path(tmp) / 'sessions.db'}"
            params = {"port": fake.port, "control": fake.info["control"], "store": store, "players": players}
            ctx.log(f"resume {players:,}: set-up")
            try:
                run_json(ctx.main_python, "benchmarks.bench_resume", ["setup", json.dumps(params)], timeout=600)
            except RuntimeError as exc:
                ctx.log(f"resume {players:,}: set-up failed: {exc}")
                ours_sync.note = ours_wall.note = "set-up failed: " + str(exc).splitlines()[-1]
                cases += [sync, wall]
                continue
            for rnd in range(rounds):
                ctx.log(f"resume {players:,}: round {rnd + 1}/{rounds}")
                try:
                    r = run_json(
                        ctx.main_python, "benchmarks.bench_resume", ["measure", json.dumps(params)], timeout=600
                    )
                except RuntimeError as exc:
                    ctx.log(f"resume {players:,}: failed: {exc}")
                    ours_sync.note = "failed: " + str(exc).splitlines()[-1]
                    break
                if r["kind"] != "resumed" or r["complete"] != players:
                    ours_sync.note = f"INCOMPLETE: {r['kind']}, {r['complete']}/{players} players with their queue"
                ours_sync.values.append(r["client_ms"])
                end_to_end.values.append(r["sync_ms"])
                node_answer.values.append(r["node_answer_ms"])
                ours_wall.values.append(r["start_to_event_ms"])
                base.values.append(r["floor_ms"])
        cases += [sync, wall]
    return cases


if __name__ == "__main__":
    main({"setup": setup, "measure": measure})
