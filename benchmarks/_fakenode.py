"""`FakeLavalink` in its own process, plus a control port to seed players fast (main environment only).

    python -m benchmarks._fakenode

prints ``{"port": N, "control": M}`` and serves until stdin closes. The node is a plain `FakeLavalink` (player
updates and stats every hour, so they do not disturb the measurements); the control server answers
``POST /seed`` with ``{"session_id": ..., "guilds": [...], "tracks": [...]}``: each guild gets a player on that
session, voice connected, playing its track. That builds the "before the restart" state of the resume case
in milliseconds instead of ten thousand REST calls.
"""

from __future__ import annotations

import asyncio
import json
import sys

from aiohttp import web

from lightbulb_lavalink.protocol.codec import decode_track
from lightbulb_lavalink.testing.player import FakeVoice
from lightbulb_lavalink.testing.server import FakeLavalink

__all__ = ["main"]


async def _serve() -> None:
    async with FakeLavalink(player_update_interval=3600.0, stats_interval=3600.0) as node:

        async def seed(request: web.Request) -> web.Response:
            body = await request.json()
            session = node.sessions[body["session_id"]]
            tracks = [decode_track(t) for t in body["tracks"]]
            for gid, track in zip(body["guilds"], tracks, strict=True):
                player = session.get_or_create_player(int(gid))
                player.connect_voice(
                    FakeVoice(token=f"token-{gid}", endpoint="c-rot01.discord.media:443", session_id="voice-bench")
                )
                player.play(track)
            return web.json_response({"players": len(session.players)})

        app = web.Application(client_max_size=1 << 30)
        app.router.add_post("/seed", seed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(json.dumps({"port": node.port, "control": runner.addresses[0][1]}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await runner.cleanup()


def main() -> None:
    """Command-line entry point."""
    asyncio.run(_serve())


if __name__ == "__main__":
    main()
