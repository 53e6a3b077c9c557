"""Driver for Lavalink.py (`lavalink` on PyPI), run in the peers' environment.

Lavalink.py needs no Discord library: `lavalink.Client(user_id)` plus `add_node` connects to the node, players
are created locally by `player_manager.create(guild_id, node=...)`, and user code is an event hook registered
with `client.add_event_hook(hook, event=...)`.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
import typing

import lavalink

from benchmarks._drive import BOT_ID, PASSWORD, Counter, main, rss_bytes, time_calls, timed_push
from benchmarks._pushserver import guild_ids
from benchmarks._vectors import distinct_playlist_text, track_payload

FIRST_GUILD = 1_150_000_000_000_000_000


async def _connect(
    port: int,
) -> tuple[lavalink.Client[lavalink.DefaultPlayer], lavalink.Node, asyncio.Future[None]]:
    client: lavalink.Client[lavalink.DefaultPlayer] = lavalink.Client(BOT_ID)
    ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def on_ready(event: lavalink.NodeReadyEvent) -> None:
        if not ready.done():
            ready.set_result(None)

    client.add_event_hook(on_ready, event=lavalink.NodeReadyEvent)
    node = client.add_node("127.0.0.1", port, PASSWORD, "eu", "bench")
    return client, node, ready


async def websocket(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Messages per second from the push server to Lavalink.py's event hooks, players updated on the way."""
    port, guilds, messages, warmup = params["port"], params["guilds"], params["messages"], params["warmup"]
    client, node, ready = await _connect(port)
    await asyncio.wait_for(ready, 10)
    current = track_payload(0)
    for gid in guild_ids(guilds):
        player = client.player_manager.create(gid, node=node)
        player.current = lavalink.AudioTrack(current, 0)  # playing, as it would be after play()
    counter = Counter()
    for event in (lavalink.PlayerUpdateEvent, lavalink.TrackStartEvent, lavalink.TrackEndEvent):
        client.add_event_hook(counter.ahit, event=event)
    if warmup:
        await timed_push(port, counter, warmup)
    seconds = await timed_push(port, counter, messages)
    await asyncio.sleep(0)
    await client.close()
    return {"seconds": seconds, "messages": messages, "rate": messages / seconds}


def decode(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Nanoseconds per `lavalink.decode_track` call; vectors it cannot decode are reported, not timed."""
    vectors: list[str] = params["vectors"]
    failures: dict[int, str] = {}
    for i, v in enumerate(vectors):
        try:
            lavalink.decode_track(v)
        except Exception as exc:
            failures[i] = f"{type(exc).__name__}: {exc}"
    if params.get("check_only"):
        return {"failures": failures}
    usable = [v for i, v in enumerate(vectors) if i not in failures]
    return {
        "ns_per_call": time_calls(lavalink.decode_track, usable, params["calls"], params["rounds"]),
        "failures": failures,
    }


async def memory(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Resident bytes per queued track: each guild loads a playlist as Lavalink.py parses it and queues it."""
    guilds, per_guild = params["guilds"], params["tracks"]
    client: lavalink.Client[lavalink.DefaultPlayer] = lavalink.Client(BOT_ID)
    node = client.add_node("127.0.0.1", 1, PASSWORD, "eu", "bench", connect=False)
    players = [client.player_manager.create(gid, node=node) for gid in guild_ids(guilds)]
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    for g, player in enumerate(players):
        result = lavalink.LoadResult.from_dict(json.loads(distinct_playlist_text(g, per_guild)))
        for track in result.tracks:
            player.add(track)
    elapsed = time.perf_counter() - start
    gc.collect()
    after = rss_bytes()
    queued = sum(len(p.queue) for p in players)
    await client.close()
    return {
        "bytes": after - before,
        "tracks": queued,
        "per_track": (after - before) / queued,
        "seconds": elapsed,
    }


async def first_play(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Connect, ready, then a player plays the track until `TrackStartEvent` reaches a hook."""
    t0 = time.perf_counter()
    client, node, ready = await _connect(params["port"])
    await asyncio.wait_for(ready, 10)
    t_ready = time.perf_counter()
    started: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def on_start(event: lavalink.TrackStartEvent) -> None:
        if not started.done():
            started.set_result(time.perf_counter())

    client.add_event_hook(on_start, event=lavalink.TrackStartEvent)
    player = client.player_manager.create(FIRST_GUILD, node=node)
    track = lavalink.AudioTrack(params["track"], 0)
    await player.play(track)
    end = await asyncio.wait_for(started, 10)
    await client.close()
    return {"connect_ms": (t_ready - t0) * 1000, "ready_to_play_ms": (end - t_ready) * 1000}


if __name__ == "__main__":
    main({"websocket": websocket, "decode": decode, "memory": memory, "first_play": first_play})
