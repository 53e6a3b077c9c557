"""`FakeLavalink` in its own process, plus a control port to seed players fast (main environment only).

    python -m benchmarks._fakenode [PLAYER_UPDATE_INTERVAL]

prints ``{"port": N, "control": M}`` and serves until stdin closes. The node is a plain `FakeLavalink` (player
updates every `PLAYER_UPDATE_INTERVAL` seconds, by default every hour, and stats every hour, so they do not
disturb the measurements; the handoff case asks for a steady stream of updates); the control server answers
``POST /seed`` with ``{"session_id": ..., "guilds": [...], "tracks": [...]}`` (and optionally ``"spread"``: seconds
over which to start them): each guild gets a player on that session, voice connected, playing its track. That
builds the "before the restart" state of the resume case in milliseconds instead of ten thousand REST calls.
``GET /timings`` answers ``{"get_players_ms": [...]}``: how long the node took to build each ``GET .../players``
answer, on its own clock (a client busy with other work meanwhile reads the answer later than it came).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import typing

from aiohttp import web

from lightbulb_lavalink.protocol.codec import decode_track
from lightbulb_lavalink.testing import routes
from lightbulb_lavalink.testing.player import FakeVoice
from lightbulb_lavalink.testing.server import FakeLavalink

__all__ = ["main"]


def _time_get_players() -> list[float]:
    """Record how long the node takes to build each players answer (milliseconds, in order)."""
    took: list[float] = []
    original = routes._Routes.get_players

    async def timed(self: typing.Any, request: web.Request) -> web.Response:
        started = time.perf_counter()
        try:
            return await original(self, request)
        finally:
            took.append((time.perf_counter() - started) * 1000)

    routes._Routes.get_players = timed  # type: ignore[method-assign]
    return took


async def _serve(player_update_interval: float) -> None:
    took = _time_get_players()
    async with FakeLavalink(player_update_interval=player_update_interval, stats_interval=3600.0) as node:

        async def seed(request: web.Request) -> web.Response:
            body = await request.json()
            session = node.sessions[body["session_id"]]
            tracks = [decode_track(t) for t in body["tracks"]]
            # ``spread``: seconds over which the players start, so that their updates come evenly rather than in
            # one burst per interval (as on a real node, where players are created one by one).
            pause = float(body.get("spread", 0.0)) / max(1, len(tracks))
            for gid, track in zip(body["guilds"], tracks, strict=True):
                player = session.get_or_create_player(int(gid))
                player.connect_voice(
                    FakeVoice(token=f"token-{gid}", endpoint="c-rot01.discord.media:443", session_id="voice-bench")
                )
                player.play(track)
                if pause:
                    await asyncio.sleep(pause)
            return web.json_response({"players": len(session.players)})

        async def timings(_: web.Request) -> web.Response:
            return web.json_response({"get_players_ms": took})

        app = web.Application(client_max_size=1 << 30)
        app.router.add_post("/seed", seed)
        app.router.add_get("/timings", timings)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(json.dumps({"port": node.port, "control": runner.addresses[0][1]}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()


def main() -> None:
    """Command-line entry point."""
    asyncio.run(_serve(float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0))


if __name__ == "__main__":
    main()
