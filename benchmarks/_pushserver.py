"""A tiny Lavalink v4 look-alike that pushes pre-framed websocket messages as fast as the socket drains.

Run as a subprocess (stdlib + aiohttp only, so either environment can start it):

    python -m benchmarks._pushserver --guilds 1000 --messages 200000

It prints one JSON line ``{"port": N}`` once listening and serves until its stdin closes. A client
connects to ``/v4/websocket`` as to Lavalink (it gets a ``ready`` and a ``stats`` op), creates its players,
then calls ``POST /bench/push?count=N``: the server writes the first N messages of the stream, already
framed, straight to the socket in one write, so the server costs almost nothing while the client is being
measured. The stream is player updates and track events for every guild in turn (see `message_stream`).
Enough REST is answered for clients to get going (session PATCH, players, info, version, stats).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import typing

from aiohttp import web

from benchmarks._vectors import track_payload

__all__ = ["GUILD_BASE", "guild_ids", "main", "message_stream"]

GUILD_BASE: typing.Final = 1_100_000_000_000_000_000
"""The first guild id; guild `i` is ``GUILD_BASE + i * 4_194_304`` (snowflake-looking)."""
SESSION_ID: typing.Final = "benchpush0000001"
_DISTINCT_TRACKS: typing.Final = 50
_CYCLE: typing.Final = 20


def guild_ids(guilds: int) -> list[int]:
    """The guild ids the stream talks about, in stream order."""
    return [GUILD_BASE + i * 4_194_304 for i in range(guilds)]


def message_stream(guilds: int, count: int) -> list[str]:
    """`count` serialized messages: for each guild in turn, cycles of 20 of which one `TrackStartEvent`,
    18 `playerUpdate` and one `TrackEndEvent` of the track that start started (reason ``replaced``, so nobody's
    queue advances).

    90% player updates and 10% track events, the mix a busy node sends; guilds are out of step with each
    other, so every window of `guilds` messages holds that mix.
    """
    ids = guild_ids(guilds)
    tracks = [json.dumps(track_payload(i), separators=(",", ":")) for i in range(_DISTINCT_TRACKS)]
    now = int(time.time() * 1000)
    out: list[str] = []
    for i in range(count):
        rnd, g = divmod(i, guilds)
        phase = (rnd + g) % _CYCLE  # guilds out of step, so any 1,000 messages hold the same mix
        gid = ids[g]
        if phase == 0 or phase == _CYCLE - 1:
            # The song of this guild's cycle: its end names the track its start started, as a node's does.
            track = tracks[(g + (rnd + g) // _CYCLE) % _DISTINCT_TRACKS]
            if phase == 0:
                out.append(f'{{"op":"event","type":"TrackStartEvent","guildId":"{gid}","track":{track}}}')
            else:
                out.append(
                    f'{{"op":"event","type":"TrackEndEvent","guildId":"{gid}","track":{track},"reason":"replaced"}}'
                )
        else:
            out.append(
                f'{{"op":"playerUpdate","state":{{"time":{now + i},"position":{phase * 5000 + g % 1000},'
                f'"connected":true,"ping":{g % 50}}},"guildId":"{gid}"}}'
            )
    return out


def _frame(text: str) -> bytes:
    data = text.encode()
    n = len(data)
    if n < 126:
        head = bytes((0x81, n))
    elif n < 65536:
        head = bytes((0x81, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + n.to_bytes(8, "big")
    return head + data


_STATS = (
    '{"op":"stats","frameStats":null,"players":0,"playingPlayers":0,"uptime":1000,'
    '"memory":{"free":1,"used":1,"allocated":2,"reservable":4},"cpu":{"cores":2,"systemLoad":0.0,"lavalinkLoad":0.0}}'
)
_INFO = {
    "version": {"semver": "4.2.2", "major": 4, "minor": 2, "patch": 2, "preRelease": None, "build": None},
    "buildTime": 0,
    "git": {"branch": "main", "commit": "0" * 40, "commitTime": 0},
    "jvm": "21",
    "lavaplayer": "2.2.4",
    "sourceManagers": ["youtube", "http"],
    "filters": ["volume", "equalizer"],
    "plugins": [],
}


class _Server:
    def __init__(self, password: str, frames: list[bytes]) -> None:
        self.password = password
        self.frames = frames
        self.transport: asyncio.Transport | None = None
        self.ws: web.WebSocketResponse | None = None
        self.players: dict[str, dict[str, typing.Any]] = {}

    def _auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != self.password:
            raise web.HTTPUnauthorized()

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        self._auth(request)
        ws = web.WebSocketResponse(compress=False, autoping=True, max_msg_size=0)
        ws.headers["Session-Resumed"] = "false"
        await ws.prepare(request)
        self.ws, self.transport = ws, request.transport
        await ws.send_str(f'{{"op":"ready","resumed":false,"sessionId":"{SESSION_ID}"}}')
        await ws.send_str(_STATS)
        async for _ in ws:  # clients send nothing in v4; drain until closed
            pass
        return ws

    async def push(self, request: web.Request) -> web.Response:
        count = int(request.query.get("count", len(self.frames)))
        if self.transport is None or self.transport.is_closing():
            raise web.HTTPConflict(text="no websocket")
        self.transport.write(b"".join(self.frames[:count]))
        return web.json_response({"pushed": count})

    async def session(self, request: web.Request) -> web.Response:
        self._auth(request)
        body = await request.json()
        return web.json_response({"resuming": bool(body.get("resuming", False)), "timeout": body.get("timeout", 60)})

    async def players_list(self, request: web.Request) -> web.Response:
        self._auth(request)
        return web.json_response(list(self.players.values()))

    async def player(self, request: web.Request) -> web.Response:
        self._auth(request)
        gid = request.match_info["guild"]
        player = self.players.setdefault(gid, _player_json(gid))
        if request.method == "PATCH":
            body = await request.json()
            track = body.get("track", {})
            encoded = track.get("encoded", body.get("encodedTrack", ...))
            if encoded is None:
                player["track"] = None
            elif isinstance(encoded, str):
                player["track"] = {
                    "encoded": encoded,
                    "info": track_payload(0)["info"],
                    "pluginInfo": {},
                    "userData": {},
                }
            for key in ("volume", "paused", "filters"):
                if key in body:
                    player[key] = body[key]
            if "voice" in body:
                player["voice"] = body["voice"]
        elif request.method == "DELETE":
            self.players.pop(gid, None)
            return web.Response(status=204)
        return web.json_response(player)

    async def info(self, request: web.Request) -> web.Response:
        self._auth(request)
        return web.json_response(_INFO)

    async def version(self, request: web.Request) -> web.Response:
        self._auth(request)
        return web.Response(text="4.2.2")

    async def stats(self, request: web.Request) -> web.Response:
        self._auth(request)
        data = json.loads(_STATS)
        del data["op"]
        return web.json_response(data)

    async def fallback(self, request: web.Request) -> web.Response:
        print(f"pushserver: unhandled {request.method} {request.path_qs}", file=sys.stderr)
        return web.json_response(
            {
                "timestamp": 0,
                "status": 404,
                "error": "Not Found",
                "message": "Not Found",
                "path": request.path,
            },
            status=404,
        )


def _player_json(gid: str) -> dict[str, typing.Any]:
    return {
        "guildId": gid,
        "track": None,
        "volume": 100,
        "paused": False,
        "state": {"time": int(time.time() * 1000), "position": 0, "connected": False, "ping": -1},
        "voice": {"token": "", "endpoint": "", "sessionId": ""},
        "filters": {},
    }


async def _serve(args: argparse.Namespace) -> None:
    frames = [_frame(m) for m in message_stream(args.guilds, args.messages)]
    server = _Server(args.password, frames)
    app = web.Application()
    app.router.add_get("/v4/websocket", server.websocket)
    app.router.add_post("/bench/push", server.push)
    app.router.add_patch("/v4/sessions/{session}", server.session)
    app.router.add_get("/v4/sessions/{session}/players", server.players_list)
    app.router.add_route("*", "/v4/sessions/{session}/players/{guild}", server.player)
    app.router.add_get("/v4/info", server.info)
    app.router.add_get("/version", server.version)
    app.router.add_get("/v4/stats", server.stats)
    app.router.add_route("*", "/{tail:.*}", server.fallback)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"port": port}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guilds", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--password", default="youshallnotpass")
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
