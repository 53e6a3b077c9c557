"""Driver for hikari-ongaku, run in the peers' environment (hikari 2.5, which ongaku pins).

ongaku hangs off a `hikari.GatewayBot`; here the bot is never started: its own user is put in the cache
(what a READY would do), the session handler is started directly (what `StartedEvent` does), players are
created by `client.create_player`, and user code is a listener on the bot's event manager.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
import typing

import hikari
import ongaku
from ongaku.abc.session import SessionStatus

from benchmarks._drive import BOT_ID, PASSWORD, TOKEN, Counter, main, rss_bytes, timed_push
from benchmarks._pushserver import guild_ids
from benchmarks._vectors import distinct_playlist_text

FIRST_GUILD = 1_150_000_000_000_000_000


def _bot() -> hikari.GatewayBot:
    bot = hikari.GatewayBot(TOKEN, banner=None, suppress_optimization_warning=True, logs="WARNING")
    me = bot.entity_factory.deserialize_my_user(
        {"id": str(BOT_ID), "username": "bench", "discriminator": "0", "avatar": None, "bot": True,
         "mfa_enabled": False, "flags": 0, "global_name": "bench"}
    )  # fmt: skip
    bot._cache.set_me(me)
    return bot


async def _connect(bot: hikari.GatewayBot, port: int) -> ongaku.Client:
    client = ongaku.Client(bot, logs="WARNING")
    session = client.create_session("bench", host="127.0.0.1", port=port, password=PASSWORD)
    ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def on_ready(event: ongaku.ReadyEvent) -> None:
        if not ready.done():
            ready.set_result(None)

    bot.event_manager.subscribe(ongaku.ReadyEvent, on_ready)
    await client.session_handler.start()
    await asyncio.wait_for(ready, 10)
    for _ in range(100):  # the status flips right after the handshake; ready is already here
        if session.status is SessionStatus.CONNECTED:
            break
        await asyncio.sleep(0.001)
    return client


async def websocket(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Messages per second from the push server to listeners of ongaku's hikari events."""
    port, guilds, messages, warmup = params["port"], params["guilds"], params["messages"], params["warmup"]
    bot = _bot()
    client = await _connect(bot, port)
    for gid in guild_ids(guilds):
        client.create_player(gid)
    counter = Counter()
    for event in (ongaku.PlayerUpdateEvent, ongaku.TrackStartEvent, ongaku.TrackEndEvent):
        bot.event_manager.subscribe(event, counter.ahit)
    if warmup:
        await timed_push(port, counter, warmup)
    seconds = await timed_push(port, counter, messages)
    await client.session_handler.stop()
    await client._get_client_session().close()
    return {"seconds": seconds, "messages": messages, "rate": messages / seconds}


async def memory(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Resident bytes per queued track: every guild loads a playlist (built as ongaku does) and queues it."""
    guilds, per_guild = params["guilds"], params["tracks"]
    bot = _bot()
    client = ongaku.Client(bot, logs="WARNING")
    session = client.create_session("bench", host="127.0.0.1", port=1, password=PASSWORD)
    players = [ongaku.Player(session, gid) for gid in guild_ids(guilds)]
    builder = client.entity_builder
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    for g, player in enumerate(players):
        response = json.loads(distinct_playlist_text(g, per_guild))
        player.add(builder.build_playlist(response["data"]))
    elapsed = time.perf_counter() - start
    gc.collect()
    after = rss_bytes()
    queued = sum(len(p.queue) for p in players)
    return {
        "bytes": after - before,
        "tracks": queued,
        "per_track": (after - before) / queued,
        "seconds": elapsed,
    }


async def first_play(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Connect, ready, then a player plays the track until `TrackStartEvent` reaches a listener."""
    bot = _bot()
    t0 = time.perf_counter()
    client = await _connect(bot, params["port"])
    t_ready = time.perf_counter()
    started: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def on_start(event: ongaku.TrackStartEvent) -> None:
        if not started.done():
            started.set_result(time.perf_counter())

    bot.event_manager.subscribe(ongaku.TrackStartEvent, on_start)
    player = client.create_player(FIRST_GUILD)
    player._channel_id = hikari.Snowflake(FIRST_GUILD + 1)  # as if connected: voice needs Discord
    track = client.entity_builder.build_track(params["track"])
    await player.play(track)
    end = await asyncio.wait_for(started, 10)
    await client.session_handler.stop()
    await client._get_client_session().close()
    return {"connect_ms": (t_ready - t0) * 1000, "ready_to_play_ms": (end - t_ready) * 1000}


if __name__ == "__main__":
    main({"websocket": websocket, "memory": memory, "first_play": first_play})
