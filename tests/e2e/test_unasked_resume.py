"""A node that says `resumed: true` for a session we never asked to resume (issue 10 item 6) is not believed:
the session is treated as new, players it lists for guilds we never had are not adopted, nothing rejoins voice."""

from __future__ import annotations

import json
import typing

from aiohttp import web

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeVoiceGateway, make_bot

STRANGER = 1300000000000000001  # a guild this bot never had
SESSION = "notyoursession01"


class LyingNode:
    """Answers every websocket with a `ready` that claims a resumed session, and lists a player of a stranger."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> LyingNode:
        app = web.Application()
        app.router.add_get("/v4/websocket", self._websocket)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": "ready", "resumed": True, "sessionId": SESSION}))
        async for _ in ws:
            pass
        return ws

    async def _rest(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path))
        if request.path == f"/v4/sessions/{SESSION}" and request.method == "PATCH":
            return web.json_response({"resuming": True, "timeout": 60})
        if request.path == f"/v4/sessions/{SESSION}/players":
            player: dict[str, typing.Any] = {
                "guildId": str(STRANGER),
                "track": None,
                "volume": 100,
                "paused": False,
                "state": {"time": 0, "position": 0, "connected": True, "ping": 1},
                "voice": {"token": "t", "endpoint": "e", "sessionId": "s", "channelId": "1"},
                "filters": {},
            }
            return web.json_response([player])
        return web.json_response({"status": 404, "message": "Not Found", "path": request.path}, status=404)


async def test_a_resumed_ready_for_a_session_never_asked_for_is_a_new_session() -> None:
    discord = FakeDiscord()
    await discord.add_guild(members=2)
    bot = make_bot(bot_id=discord.bot_id)
    await discord.connect(bot)
    voice = FakeVoiceGateway(discord)
    async with LyingNode() as node:
        settings = LavalinkSettings(
            nodes=(NodeSettings(name="main", host="127.0.0.1", port=node.port),), store="memory://"
        )
        client = LavalinkClient(bot, settings, voice_gateway=voice)
        try:
            await client.start()
            await client.wait_ready(5)
            main = client.nodes["main"]
            assert main.last_sync is not None and main.last_sync.kind == "fresh"
            assert client.get_player(STRANGER) is None  # never adopted
            assert ("GET", f"/v4/sessions/{SESSION}/players") not in node.requests  # nothing was synced
            assert not voice.calls  # nothing rejoined voice
        finally:
            await client.close()
            await voice.close()
