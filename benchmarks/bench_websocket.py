"""Case 1, websocket throughput: messages per second from the node until each updated its player and reached
user code.

The push server (`benchmarks._pushserver`, its own process) pre-frames the stream (90% player updates,
10% track events, 1,000 guilds) and writes it to the socket in one go, so only the client side is measured.
Every subject creates its 1,000 players first (playing a track), then one warm-up push, then the measured one.

Subjects: ours (a `LavalinkClient` on a never-started `hikari.GatewayBot`, user code = listeners subscribed
on the bot's event manager), Lavalink.py and hikari-ongaku (their own hooks, see `benchmarks.peers`), and the
bare baseline: an aiohttp websocket receive loop calling `json.loads` and a counter, in both environments.

Driver usage (one subject, prints JSON): ``python -m benchmarks.bench_websocket ours '{"port": ...}'``.
"""

from __future__ import annotations

import asyncio
import json
import typing

import aiohttp

from benchmarks._drive import BOT_ID, PASSWORD, TOKEN, Counter, main, timed_push
from benchmarks._harness import BASELINE, INFO, OURS, PEER, CaseResult, Context, ServerProcess, run_json
from benchmarks._pushserver import guild_ids
from benchmarks._vectors import track_payload

__all__ = ["run"]

GUILDS: typing.Final = 1000


async def ours(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Our client: `LavalinkClient` with 1,000 players, user code = hikari listeners of our events."""
    import hikari

    from lightbulb_lavalink import events
    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.protocol.tracks import Track
    from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings

    port, guilds, messages, warmup = params["port"], params["guilds"], params["messages"], params["warmup"]
    bot = hikari.GatewayBot(TOKEN, banner=None, suppress_optimization_warning=True, logs="WARNING")
    settings = LavalinkSettings(
        nodes=[NodeSettings(name="bench", host="127.0.0.1", port=port, password=PASSWORD)], store="memory://"
    )
    client = LavalinkClient(bot, settings)
    node = client.nodes["bench"]
    counter = Counter()
    if params.get("listeners", True):
        for event in (events.PlayerUpdateEvent, events.TrackStartEvent, events.TrackEndEvent):
            bot.event_manager.subscribe(event, counter.ahit)
    else:
        # Nobody listens: the stream only updates the players. The count is taken where the library is done with
        # a message (its node's handler, wrapped before the connection reads it), one call per message.
        handle = node.on_message
        hit = counter.hit

        async def then_count(rest: typing.Awaitable[None]) -> None:
            await rest
            hit()

        def counted(message: typing.Any) -> typing.Awaitable[None] | None:
            rest = handle(message)
            if rest is None:
                hit()
                return None
            return then_count(rest)

        node.on_message = counted  # type: ignore[method-assign]
    await client.start(BOT_ID)
    await client.wait_ready(10)
    current = Track.from_payload(track_payload(0))
    for gid in guild_ids(guilds):
        player = Player(client._hub, node, gid)
        player.track = current  # playing, as it would be after play()
        client._hub.add_player(player)
    if warmup:
        await timed_push(port, counter, warmup)
    profile = params.get("profile")  # a path: write cProfile stats of the measured push there
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    seconds = await timed_push(port, counter, messages)
    if profile:
        profiler.disable()
        profiler.dump_stats(profile)
    await client.close()
    return {"seconds": seconds, "messages": messages, "rate": messages / seconds}


async def baseline(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """The floor: an aiohttp websocket receive loop, `json.loads`, a dict lookup of the op, a counter call."""
    port, messages, warmup = params["port"], params["messages"], params["warmup"]
    counter = Counter()
    loads = json.loads
    text = aiohttp.WSMsgType.TEXT
    headers = {"Authorization": PASSWORD, "User-Id": str(BOT_ID), "Client-Name": "bench-baseline/1.0"}
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(f"http://127.0.0.1:{port}/v4/websocket", headers=headers, autoping=True)

        async def receive() -> None:
            hit = counter.hit
            while True:
                msg = await ws.receive()
                if msg.type is not text:
                    return
                data = loads(msg.data)
                if data["op"] in ("playerUpdate", "event"):
                    hit(data)

        task = asyncio.create_task(receive())
        if warmup:
            await timed_push(port, counter, warmup)
        seconds = await timed_push(port, counter, messages)
        await ws.close()
        await task
    return {"seconds": seconds, "messages": messages, "rate": messages / seconds}


def run(ctx: Context) -> list[CaseResult]:
    """Measure every subject, interleaved round by round, against one push server."""
    messages = 20_000 if ctx.quick else 200_000
    slow_messages = 200 if ctx.quick else 1_000  # hikari-ongaku: see the note
    case = CaseResult(
        key="websocket",
        title="websocket throughput",
        unit="msg/s",
        higher_is_better=True,
        notes=[
            f"{messages:,} pre-framed messages over one connection (90% playerUpdate, 5% TrackStartEvent, "
            f"5% TrackEndEvent 'replaced'), {GUILDS:,} guilds with a player each; counted in user code.",
        ],
    )
    subjects: list[tuple[str, str, str, str, int, str]] = [
        ("ours", OURS, ctx.main_python, "benchmarks.bench_websocket", messages, ""),
        ("ours, no listener", INFO, ctx.main_python, "benchmarks.bench_websocket", messages,
         "no listener: players updated, no event reaches user code"),
        ("baseline: aiohttp ws + json.loads (our env)", BASELINE, ctx.main_python,
         "benchmarks.bench_websocket", messages, ""),
    ]  # fmt: skip
    if ctx.peers_python:
        subjects += [
            (ctx.peer_label("lavalink", "Lavalink.py"), PEER, ctx.peers_python, "benchmarks.peers.lavalinkpy",
             messages, ""),
            (ctx.peer_label("hikari-ongaku", "hikari-ongaku"), PEER, ctx.peers_python,
             "benchmarks.peers.hikari_ongaku", slow_messages, f"{slow_messages:,} messages"),
            ("baseline: aiohttp ws + json.loads (peers' env)", BASELINE, ctx.peers_python,
             "benchmarks.bench_websocket", messages, ""),
        ]  # fmt: skip
        case.notes.append(
            "hikari-ongaku subscribes two listeners per player on the bot's event manager, so every message "
            f"runs ~{GUILDS:,} listener tasks: it gets {slow_messages:,} messages to fit the time budget."
        )
    with ServerProcess("benchmarks._pushserver", ["--guilds", str(GUILDS), "--messages", str(messages)]) as server:
        for rnd in range(ctx.rounds):
            for label, kind, python, module, count, note in subjects:
                op = "ours" if kind in (OURS, INFO) else ("baseline" if kind == BASELINE else "websocket")
                params = {
                    "listeners": kind == OURS,
                    "port": server.port,
                    "guilds": GUILDS,
                    "messages": count,
                    "warmup": max(count // 10, 100),
                }
                row = case.row(label, kind, note)
                ctx.log(f"websocket round {rnd + 1}/{ctx.rounds}: {label}")
                try:
                    result = run_json(python, module, [op, json.dumps(params)], timeout=300)
                except (RuntimeError, OSError) as exc:
                    ctx.log(f"websocket: {label} failed: {exc}")
                    row.note = (row.note + "; " if row.note else "") + "failed: " + str(exc).splitlines()[0]
                    continue
                row.values.append(result["rate"])
    case.rows = [r for r in case.rows if r.values] + [r for r in case.rows if not r.values]
    return [case]


if __name__ == "__main__":
    main({"ours": ours, "baseline": baseline})
