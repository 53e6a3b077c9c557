"""Case 8, deploy gap: a handoff deploy against stop-then-start, 1,000 playing guilds, real processes.

`FakeLavalink` runs in its own process (`benchmarks._fakenode`), sending a ``playerUpdate`` per player every
second (1,000 messages a second); the store is a real Redis server shared by the bot processes (one cluster).
A first bot process opens a session, the node is seeded with 1,000 players (playing hour-long tracks, voice
connected) and the store with their snapshots (10 queued tracks each). Then, round after round, the running
process is replaced by a new one:

- **handoff**: the new process starts with ``handoff=True`` while the old one runs; the old one lets its session
  go when asked and exits by itself once the new one confirms.
- **stop-then-start**: the old process closes (the session left resumable), then the new process is launched
  and starts normally: Python start-up, imports, store read, resume.

The **gap** is the wall time (one machine, one clock) from the last Lavalink event a listener of the old
process handled (a `PlayerEvent`: mostly ``PlayerUpdateEvent``) to the first one a listener of the new process
handled. A real bot's stop-then-start adds its Discord connection (READY for every shard) on top, which is not
emulated here. Every round checks that all 1,000 guilds came back with their 10 queued tracks.

Driver usage: ``python -m benchmarks.bench_handoff bot '{...}'`` (one bot process; see `bot`) and ``cleanup``.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import logging
import os
import subprocess
import sys
import time
import typing
import uuid

import aiohttp

from benchmarks._drive import BOT_ID, PASSWORD, TOKEN, main
from benchmarks._harness import INFO, MAIN_PYTHON, OURS, ROOT, CaseResult, Context, ServerProcess, run_json
from benchmarks._pushserver import guild_ids
from benchmarks._vectors import fast_encoded

__all__ = ["run"]

QUEUED: typing.Final = 10
NODE: typing.Final = "bench"
CLUSTER: typing.Final = "bench"
STORE: typing.Final = os.environ.get("BENCH_HANDOFF_STORE", "redis://127.0.0.1:6379/15")
"""The shared store the bot processes use (a Redis or PostgreSQL URL; a unique prefix or table is added)."""
_LINE_TIMEOUT: typing.Final = 120.0
UPDATE_INTERVAL: typing.Final = 1.0
"""Seconds between two ``playerUpdate`` ops of one player on the node."""


def _settings(port: int, store: str) -> typing.Any:
    from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings

    return LavalinkSettings(
        nodes=[NodeSettings(name=NODE, host="127.0.0.1", port=port, password=PASSWORD)],
        store=store,
        cluster=CLUSTER,
        resume_timeout=600,
        handoff_timeout=30.0,
    )


def _blob(guild: int, i: int) -> str:
    return fast_encoded(f"h{guild:05d}q{i:03d}", f"Handoff track {i} of guild {guild} (Live)",
                        f"Artist {guild % 71}", 3_600_000)  # fmt: skip


def _say(line: dict[str, typing.Any]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


async def _seed(client: typing.Any, params: dict[str, typing.Any]) -> None:
    """The first process: N players on the node and N snapshots in the store."""
    from lightbulb_lavalink.snapshot import GuildSnapshot, QueueSnapshot, TrackSnapshot

    ids = guild_ids(params["players"])
    current = {gid: _blob(g, 999) for g, gid in enumerate(ids)}
    body = {
        "session_id": client.nodes[NODE].session_id,
        "guilds": ids,
        "tracks": [current[gid] for gid in ids],
        "spread": UPDATE_INTERVAL,  # the players' updates come evenly, not in one burst a second
    }
    async with aiohttp.ClientSession() as http, http.post(f"http://127.0.0.1:{params['control']}/seed", json=body) as r:
        r.raise_for_status()
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
    # The players are the session's, adopted with empty queues: read the store again as a restart would.
    await client.close()
    await client.start(BOT_ID)
    await client.wait_ready(60)


async def bot(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """One bot process. ``mode``: ``seed`` (the first), ``handoff`` or ``restart`` (start normally). Prints
    ``{"ready": ...}`` once its first event was handled, then serves until ``stop`` on stdin (it closes) or until
    a new process took its cluster over; the last line says when it handled its last event."""
    import hikari

    from lightbulb_lavalink import events
    from lightbulb_lavalink.client import LavalinkClient

    faulthandler.dump_traceback_later(_LINE_TIMEOUT * 2, exit=True)  # a hung process says where, and ends
    bot = hikari.GatewayBot(TOKEN, banner=None, suppress_optimization_warning=True, logs="WARNING")
    if os.environ.get("BENCH_HANDOFF_LOG"):  # what each process did when, on stderr
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(f"%(asctime)s.%(msecs)03d {params['mode']} %(name)s: %(message)s"))
        logging.getLogger("lightbulb_lavalink").addHandler(handler)
        logging.getLogger("lightbulb_lavalink").setLevel(logging.INFO)
    client = LavalinkClient(bot, _settings(params["port"], params["store"]))
    seen: dict[str, float] = {}
    first: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def on_event(_: events.PlayerEvent) -> None:
        now = time.time()
        seen["last"] = now
        if not first.done():
            first.set_result(now)

    bot.event_manager.subscribe(events.PlayerEvent, on_event)
    mode = params["mode"]
    launched = time.time()
    profile = os.environ.get("BENCH_HANDOFF_PROFILE") if mode != "seed" else None  # cProfile: start to first event
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    await client.start(BOT_ID, handoff=mode == "handoff")
    if mode == "seed":
        await client.wait_ready(60)
        await _seed(client, params)
    first_event = await asyncio.wait_for(first, 60)
    if profile:
        profiler.disable()
        profiler.dump_stats(f"{profile}.{mode}")
    complete = sum(1 for p in client.players.values() if len(p.queue) == QUEUED and p.track is not None)
    _say({"ready": True, "first_event": first_event, "launched": launched, "complete": complete})
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    stop = asyncio.ensure_future(reader.readline())
    handed = asyncio.ensure_future(client.wait_handed_off())
    took: list[float] = []

    async def on_handed_off(event: events.HandoffCompletedEvent) -> None:
        took.append(event.took)

    bot.event_manager.subscribe(events.HandoffCompletedEvent, on_handed_off)
    await asyncio.wait((stop, handed), return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    handed.cancel()
    transport.close()
    handed_off = client.handed_off
    await client.close()
    return {"last_event": seen.get("last"), "handed_off": handed_off, "handoff_took": took[0] if took else None}


async def cleanup(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Drop what the rounds wrote to the store."""
    store = params["store"]
    if store.startswith("redis"):
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(store.split("?")[0])
        try:
            keys = [key async for key in client.scan_iter(match=f"{params['name']}:*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()
    else:
        import asyncpg

        conn = await asyncpg.connect(store.split("?")[0])
        try:
            for kind in ("sessions", "guilds", "migrations", "owners", "releases"):
                await conn.execute(f'DROP TABLE IF EXISTS "{params["name"]}_{kind}"')
        finally:
            await conn.close()
    return {"ok": True}


class _Bot:
    """A bot process driven by the runner: JSON lines out, ``stop`` in."""

    def __init__(self, params: dict[str, typing.Any], mode: str) -> None:
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen(
            [MAIN_PYTHON, "-m", "benchmarks.bench_handoff", "bot", json.dumps({**params, "mode": mode})],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=sys.stderr, text=True, env=env,
        )  # fmt: skip

    def line(self) -> dict[str, typing.Any]:
        assert self.proc.stdout is not None
        while True:
            text = self.proc.stdout.readline()
            if not text:
                raise RuntimeError(f"a bot process exited ({self.proc.wait()}) before saying what it did")
            if text.startswith("{"):
                result: dict[str, typing.Any] = json.loads(text)
                return result

    def stop(self) -> dict[str, typing.Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        return self.ended()

    def ended(self) -> dict[str, typing.Any]:
        last = self.line()
        if self.proc.wait(timeout=_LINE_TIMEOUT) != 0:
            raise RuntimeError(f"a bot process failed ({self.proc.returncode})")
        return last

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _gap(old_end: dict[str, typing.Any], new_ready: dict[str, typing.Any], players: int) -> float:
    if new_ready["complete"] != players:
        raise RuntimeError(f"only {new_ready['complete']}/{players} guilds came back with their queue")
    if old_end["last_event"] is None:
        raise RuntimeError("the old process handled no event")
    return (float(new_ready["first_event"]) - float(old_end["last_event"])) * 1000


def run(ctx: Context) -> list[CaseResult]:
    """Seed once, then `rounds` handoffs and `rounds` stop-then-starts, each replacing the running process."""
    players = 100 if ctx.quick else 1_000
    case = CaseResult(
        key="handoff",
        title=f"deploy gap, {players:,} playing guilds",
        unit="ms",
        higher_is_better=False,
        notes=[
            f"{players:,} players each playing with {QUEUED} queued tracks, a playerUpdate per player every second, "
            "Redis store; wall time from the last Lavalink event a listener of the old process handled to the "
            "first one a listener of the new process handled. 'stop-then-start' launches the new process after "
            "the old one closed (Python start-up included; a real bot also waits for Discord's READY then). "
            "Target: a handoff under 200 ms.",
        ],
    )
    handoff = case.row("ours: handoff deploy", OURS)
    took = case.row("handoff: request to the new process's confirmation", INFO)
    restart = case.row("ours: stop-then-start", INFO)
    name = f"bench_handoff_{uuid.uuid4().hex[:10]}"
    store = f"{STORE}{'&' if '?' in STORE else '?'}{'prefix' if STORE.startswith('redis') else 'table'}={name}"
    try:  # the store must answer: dropping nothing yet is how to ask it
        run_json(ctx.main_python, "benchmarks.bench_handoff", ["cleanup", json.dumps({"store": store, "name": name})])
    except RuntimeError as exc:
        ctx.log(f"handoff: the store {STORE} does not answer: {exc}")
        handoff.note = f"skipped: no store at {STORE} (set BENCH_HANDOFF_STORE)"
        return [case]
    with ServerProcess("benchmarks._fakenode", [str(UPDATE_INTERVAL)]) as fake:
        params = {"port": fake.port, "control": fake.info["control"], "store": store, "players": players}
        running: _Bot | None = None
        try:
            ctx.log(f"handoff {players:,}: seeding the first process")
            running = _Bot(params, "seed")
            running.line()
            for rnd in range(ctx.rounds):
                ctx.log(f"handoff {players:,}: handoff {rnd + 1}/{ctx.rounds}")
                new = _Bot(params, "handoff")
                old_end = running.ended()  # it exits by itself once handed off
                ready = new.line()
                if not old_end["handed_off"]:
                    raise RuntimeError("the old process exited without handing off")
                handoff.values.append(_gap(old_end, ready, players))
                took.values.append(float(old_end["handoff_took"]) * 1000)
                running = new
            for rnd in range(ctx.rounds):
                ctx.log(f"handoff {players:,}: stop-then-start {rnd + 1}/{ctx.rounds}")
                old_end = running.stop()
                new = _Bot(params, "restart")
                ready = new.line()
                restart.values.append(_gap(old_end, ready, players))
                running = new
            running.stop()
            running = None
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
            ctx.log(f"handoff: failed: {exc}")
            handoff.note = "failed: " + str(exc).splitlines()[-1]
        finally:
            if running is not None:
                running.kill()
            try:
                args = ["cleanup", json.dumps({"store": store, "name": name})]
                run_json(ctx.main_python, "benchmarks.bench_handoff", args)
            except RuntimeError as exc:
                ctx.log(f"handoff: cleanup failed: {exc}")
    return [case]


if __name__ == "__main__":
    main({"bot": bot, "cleanup": cleanup})
