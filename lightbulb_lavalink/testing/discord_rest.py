"""`FakeDiscordRest`: Discord's HTTP API, as far as answering interactions goes, on 127.0.0.1.

The bot under test is a real `hikari.GatewayBot` whose ``rest_url`` points here (`offline_bot`): hikari builds
every request exactly as it would for Discord, and this server records it and answers as Discord does,
keeping Discord's rules where it answers: an interaction is answered once (a second callback is refused with
Discord's 40060), follow-ups and edits need that answer first (Discord's 10015 "Unknown Webhook" otherwise).
It imports under hikari 2.1 (lightbulb 2) as well as the latest hikari.
"""

from __future__ import annotations

__all__ = [
    "API_PREFIX",
    "EPHEMERAL",
    "Answer",
    "FakeDiscordRest",
    "RecordedRequest",
    "offline_bot",
    "slash_command_payload",
]

import asyncio
import datetime
import itertools
import typing

import attrs
import hikari
from aiohttp import web

from lightbulb_lavalink.testing.gateway_payloads import member_payload, user_payload
from lightbulb_lavalink.testing.offline_bot import make_token

API_PREFIX: typing.Final[str] = "/api/v10"
"""The path prefix hikari puts before every route."""
EPHEMERAL: typing.Final[int] = int(hikari.MessageFlag.EPHEMERAL)
"""The ephemeral message flag, as an int."""
_ALREADY_ACKNOWLEDGED: typing.Final[dict[str, typing.Any]] = {
    "message": "Interaction has already been acknowledged.",
    "code": 40060,
}
_SAFETY_TIMEOUT = 10.0
"""Only so a broken test fails instead of hanging; nothing is timed."""


@attrs.define(kw_only=True, weakref_slot=False)
class RecordedRequest:
    """One request hikari sent to "Discord"."""

    method: str
    """The HTTP method."""
    path: str
    """The route, after ``/api/v10``."""
    query: dict[str, str]
    """The query string."""
    body: typing.Any
    """The JSON body (or the text of another body, `None` without one)."""


@attrs.define(kw_only=True, weakref_slot=False)
class Answer:
    """What the person who ran a command sees: one message (or the deferral) sent for an interaction."""

    kind: str
    """``callback`` (the initial response), ``followup`` (after a deferral) or ``edit``."""
    response_type: int | None
    """The interaction response type for callbacks (4 message, 5 deferred), else `None`."""
    data: dict[str, typing.Any]
    """The message data: content, embeds, flags."""

    @property
    def ephemeral(self) -> bool:
        """Whether only the person who ran the command sees it."""
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)

    @property
    def content(self) -> str:
        """The message text (``""`` without one)."""
        return str(self.data.get("content") or "")

    @property
    def embeds(self) -> list[dict[str, typing.Any]]:
        """The embeds, as Discord receives them (``title``, ``description``, ``fields``, ``footer``...)."""
        return list(self.data.get("embeds") or [])

    def fields(self) -> dict[str, str]:
        """Every embed field as name -> value."""
        return {field["name"]: field["value"] for embed in self.embeds for field in embed.get("fields", [])}

    def text(self) -> str:
        """Everything a person reads in this answer."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields", [])]
            parts.append((embed.get("footer") or {}).get("text") or "")
        return "\n".join(parts)


class FakeDiscordRest:
    """Discord's REST API for interaction answers and the application lookup, recording every request."""

    def __init__(self, *, application_id: int, owner_id: int, team_member_ids: typing.Sequence[int] = ()) -> None:
        self.application_id = application_id
        """The bot's application id."""
        self.owner_id = owner_id
        """The application's owner, as ``GET /oauth2/applications/@me`` says."""
        self.team_member_ids = list(team_member_ids)
        """Members of the team owning the application (none: owned by `owner_id` alone)."""
        self.requests: list[RecordedRequest] = []
        """Every request received, oldest first."""
        self._answers: dict[str, list[Answer]] = {}
        self._tokens: dict[str, str] = {}
        self.commands: dict[str, list[dict[str, typing.Any]]] = {}
        """Application commands set, by scope (``applications/<id>`` or ``applications/<id>/guilds/<id>``)."""
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1_300_000_000_000_000_000)
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def url(self) -> str:
        """The ``rest_url`` to give hikari (``http://127.0.0.1:PORT/api/v10``)."""
        return f"http://127.0.0.1:{self._port}{API_PREFIX}"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = getattr(site, "_server", None)  # aiohttp names the bound port nowhere public
        assert server is not None
        self._port = int(server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscordRest:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # -- what the tests read --

    def answers(self, interaction_id: int) -> list[Answer]:
        """Every answer sent for the interaction so far, oldest first."""
        return list(self._answers.get(str(interaction_id), []))

    async def wait_for_answer(self, interaction_id: int, *, final: bool = True) -> Answer:
        """The last answer to the interaction once one carries a message (not just a deferral); with `final`
        false, once there is any answer.

        Raises:
            TimeoutError: No such answer within 10 seconds.
        """

        def ready() -> bool:
            answers = self._answers.get(str(interaction_id), [])
            return any(a.response_type != 5 for a in answers) if final else bool(answers)

        async with asyncio.timeout(_SAFETY_TIMEOUT), self._changed:
            await self._changed.wait_for(ready)
        return self._answers[str(interaction_id)][-1]

    # -- the API --

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body: typing.Any = None
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
            else:
                body = await request.text()
        path = request.path[len(API_PREFIX) :]
        self.requests.append(RecordedRequest(method=request.method, path=path, query=dict(request.query), body=body))
        parts = path.strip("/").split("/")
        try:
            if request.method == "GET" and path == "/oauth2/applications/@me":
                return web.json_response(self.application_payload())
            if request.method == "POST" and len(parts) == 4 and parts[0] == "interactions" and parts[3] == "callback":
                return await self._callback(parts[1], parts[2], body, with_response="with_response" in request.query)
            if parts[0] == "applications" and parts[-1] == "commands":
                return self._commands(request.method, "/".join(parts[:-1]), body)
            if parts[0] == "webhooks" and len(parts) >= 3:
                return await self._webhook(request.method, parts, body)
        finally:
            async with self._changed:
                self._changed.notify_all()
        return web.json_response({"message": "404: Not Found", "code": 0}, status=404)

    async def _callback(
        self, interaction_id: str, token: str, body: dict[str, typing.Any], *, with_response: bool
    ) -> web.StreamResponse:
        if self._tokens.get(token) == interaction_id:  # Discord takes one initial response per interaction
            return web.json_response(_ALREADY_ACKNOWLEDGED, status=400)
        self._tokens[token] = interaction_id
        data = dict(body.get("data") or {})
        response_type = int(body["type"])
        self._answers.setdefault(interaction_id, []).append(
            Answer(kind="callback", response_type=response_type, data=data)
        )
        if not with_response:  # hikari < 2.3: Discord answers 204
            return web.Response(status=204)
        message = self.message_payload(data)
        payload: dict[str, typing.Any] = {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_id": message["id"],
                "response_message_loading": response_type == 5,
                "response_message_ephemeral": bool(int(data.get("flags") or 0) & EPHEMERAL),
            },
            "resource": {"type": response_type, "message": message},
        }
        return web.json_response(payload)

    def _commands(self, method: str, scope: str, body: typing.Any) -> web.StreamResponse:
        guild = scope.split("/")[3] if "/guilds/" in scope else None

        def declared(command: dict[str, typing.Any]) -> dict[str, typing.Any]:
            return {
                "id": str(next(self._ids)),
                "application_id": str(self.application_id),
                "type": 1,
                "version": str(next(self._ids)),
                "default_member_permissions": None,
                "dm_permission": True,
                "nsfw": False,
                "options": [],
                "description": "",
                **command,
                **({"guild_id": guild} if guild else {}),
            }

        if method == "PUT":  # bulk overwrite (lightbulb 3, and lightbulb 2 for guilds)
            self.commands[scope] = [declared(command) for command in body or []]
        elif method == "POST":  # one command (lightbulb 2, global)
            created = declared(body)
            self.commands.setdefault(scope, []).append(created)
            return web.json_response(created, status=201)
        elif method != "GET":
            return web.json_response({"message": "405: Method Not Allowed", "code": 0}, status=405)
        return web.json_response(self.commands.get(scope, []))

    async def _webhook(self, method: str, parts: list[str], body: typing.Any) -> web.StreamResponse:
        token = parts[2]
        interaction_id = self._tokens.get(token)
        if interaction_id is None:
            return web.json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        if method == "POST" and len(parts) == 3:
            answer = Answer(kind="followup", response_type=None, data=dict(body or {}))
        elif method == "PATCH" and len(parts) == 5 and parts[3] == "messages":
            answer = Answer(kind="edit", response_type=None, data=dict(body or {}))
        else:
            return web.json_response({"message": "405: Method Not Allowed", "code": 0}, status=405)
        self._answers.setdefault(interaction_id, []).append(answer)
        return web.json_response(self.message_payload(answer.data))

    # -- payloads --

    def application_payload(self) -> dict[str, typing.Any]:
        """The ``GET /oauth2/applications/@me`` body: owner and team as configured."""
        owner = user_payload(self.owner_id, "owner")
        team = None
        if self.team_member_ids:
            team = {
                "id": str(next(self._ids)),
                "icon": None,
                "name": "the team",
                "owner_user_id": str(self.owner_id),
                "members": [
                    {
                        "membership_state": 2,
                        "permissions": ["*"],
                        "team_id": "1",
                        "role": "admin",
                        "user": user_payload(member_id, f"member{member_id % 1000}"),
                    }
                    for member_id in self.team_member_ids
                ],
            }
        return {
            "id": str(self.application_id),
            "name": "lavalink-test-bot",
            "icon": None,
            "description": "",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": owner,
            "team": team,
            "summary": "",
            "hook": True,
            "guild_id": None,
            "cover_image": None,
            "terms_of_service_url": None,
            "privacy_policy_url": None,
            "custom_install_url": None,
            "tags": [],
            "install_params": None,
            "approximate_guild_count": 1,
            "approximate_user_install_count": 0,
            "integration_types_config": {"0": {}},
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
        }

    def message_payload(self, data: dict[str, typing.Any]) -> dict[str, typing.Any]:
        """The message object Discord returns for a message sent with `data`."""
        now = datetime.datetime.now(datetime.UTC).isoformat()
        return {
            "id": str(next(self._ids)),
            "type": 20,
            "channel_id": "1",
            "author": user_payload(self.application_id, "lavalink-test-bot", bot=True),
            "content": data.get("content") or "",
            "timestamp": now,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": data.get("embeds") or [],
            "pinned": False,
            "flags": int(data.get("flags") or 0),
            "components": [],
            "application_id": str(self.application_id),
            "webhook_id": str(self.application_id),
        }


def slash_command_payload(
    *,
    interaction_id: int,
    application_id: int,
    guild_id: int | None,
    channel_id: int,
    user_id: int,
    permissions: hikari.Permissions,
    command: str,
    subcommand: str | None = None,
    options: typing.Sequence[dict[str, typing.Any]] = (),
    command_id: int = 1_250_000_000_000_000_001,
) -> dict[str, typing.Any]:
    """An INTERACTION_CREATE body for ``/command [subcommand] ...`` by `user_id`, as Discord sends it."""
    user = user_payload(user_id, f"user{user_id % 10_000}")
    data_options = [dict(option) for option in options]
    if subcommand is not None:
        data_options = [{"type": 1, "name": subcommand, "options": data_options}]
    payload: dict[str, typing.Any] = {
        "id": str(interaction_id),
        "application_id": str(application_id),
        "type": 2,
        "token": f"interaction-token-{interaction_id}",
        "version": 1,
        "locale": "en-US",
        "channel_id": str(channel_id),
        "channel": {"id": str(channel_id), "type": 0 if guild_id else 1, "name": "general", "flags": 0},
        "app_permissions": str(int(hikari.Permissions.all_permissions())),
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild_id)} if guild_id else {"1": str(user_id)},
        "context": 0 if guild_id else 1,
        "attachment_size_limit": 10_485_760,
        "data": {"id": str(command_id), "name": command, "type": 1, "options": data_options},
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
        payload["guild_locale"] = "en-US"
        payload["member"] = {**member_payload(user), "permissions": str(int(permissions))}
    else:
        payload["user"] = user
    return payload


def offline_bot(
    rest: FakeDiscordRest, bot_id: int, bot_class: type[hikari.GatewayBot] = hikari.GatewayBot
) -> typing.Any:
    """A never-started bot (as `testing.gateway.make_bot`) whose REST client talks to `rest`.

    `bot_class` may be a subclass taking the same arguments (lightbulb 2's ``lightbulb.BotApp``). Call
    ``bot.rest.start()`` before it sends anything, and ``await bot.rest.close()`` at the end.
    """
    return bot_class(
        make_token(bot_id),
        banner=None,
        logs=None,
        suppress_optimization_warning=True,
        intents=hikari.Intents.ALL_UNPRIVILEGED,
        auto_chunk_members=False,
        rest_url=rest.url,
    )
