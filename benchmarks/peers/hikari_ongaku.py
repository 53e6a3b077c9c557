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


def _bot() -> hikari.GatewayBot:
    bot = hikari.GatewayBot(TOKEN, banner=None, suppress_optimization_warning=True)
    me = bot.entity_factory.deserialize_my_user(
        {"id": str(BOT_ID), "username": "bench", "discriminator": "0", "avatar": None, "bot": True,
         "mfa_enabled": False, "flags": 0, "global_name": "bench"}
    )  # fmt: skip
    bot._cache.set_me(me)
    return bot


async def websocket(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Messages per second from the push server to listeners of ongaku's hikari events."""
    port, guilds, messages, warmup = params["port"], params["guilds"], params["messages"], params["warmup"]
    bot = _bot()
    client = ongaku.Client(bot, logs="WARNING")
    session = client.create_session("bench", host="127.0.0.1", port=port, password=PASSWORD)
    await client.session_handler.start()
    for _ in range(500):
        if session.status is SessionStatus.CONNECTED and session.session_id:
            break
        await asyncio.sleep(0.01)
    else:
        raise RuntimeError("ongaku did not connect")
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


if __name__ == "__main__":
    main({"websocket": websocket, "memory": memory})
