"""REST errors as real servers answer them: recognised by status code, route and method, never by wording.

Issue 11 items 2 and 4. NodeLink answers 401 "Unauthorized" for a missing *and* a wrong password, and words its
404s "The provided sessionId doesn't exist."; Lavalink says 401 (missing) / 403 (wrong) and "Session not found".
"""

from __future__ import annotations

import json
import typing

import pytest
from aiohttp import web

from lightbulb_lavalink.errors import (
    AuthenticationError,
    PlayerNotFoundError,
    RestError,
    SessionNotFoundError,
)
from lightbulb_lavalink.protocol.player import PlayerUpdate
from lightbulb_lavalink.protocol.rest import RestClient

from .transcripts import Exchange, Transcript, serve_app, serving

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

SESSION = "unknownsession00"
GUILD = 1200000000000000001


@pytest.fixture(scope="module")
def errors() -> Transcript:
    return Transcript.load("09_errors")


async def answered(exchange: Exchange, password: str, call: Callable[[RestClient], Awaitable[object]]) -> RestError:
    """What `call` raises against a node that answers `exchange`'s recorded answer."""
    async with serve_app(serving(exchange)) as url, RestClient(url, password, timeout=5) as rest:
        with pytest.raises(RestError) as raised:
            await call(rest)
    return raised.value


# -- item 2: a 401 says what the request could tell --------------------------------------------------------------


@pytest.mark.parametrize("label", ["wrong password", "no Authorization header"])
async def test_a_401_for_a_password_we_sent_says_the_node_refused_it(errors: Transcript, label: str) -> None:
    """NodeLink (and many proxies) answer 401 "Unauthorized" to a wrong password: we sent one, so it was refused."""
    recorded = errors.exchange(label, route="/v4/info")
    assert recorded.status == 401 and recorded.response_body == "Unauthorized"
    error = await answered(recorded, "a-wrong-password", lambda rest: rest.info())
    assert isinstance(error, AuthenticationError) and error.status == 401
    assert "refused the password" in error.message
    assert "missing" not in error.message and "header" not in error.message


async def test_a_401_when_no_password_is_configured_says_it_was_missing(errors: Transcript) -> None:
    recorded = errors.exchange("no Authorization header", route="/v4/info")
    error = await answered(recorded, "", lambda rest: rest.info())
    assert isinstance(error, AuthenticationError)
    assert "no password" in error.message and "refused the password" not in error.message


async def test_a_403_from_lavalink_says_the_node_refused_the_password() -> None:
    async def forbidden(request: web.Request) -> web.StreamResponse:
        return web.Response(status=403)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forbidden)
    async with serve_app(app) as url, RestClient(url, "wrong", timeout=5) as rest:
        with pytest.raises(AuthenticationError) as raised:
            await rest.stats()
    assert raised.value.status == 403 and "refused the password" in raised.value.message


# -- item 4: 404s by route and method -----------------------------------------------------------------------------

SESSION_ROUTES: dict[tuple[str, str], Callable[[RestClient], Awaitable[object]]] = {
    ("GET", f"/v4/sessions/{SESSION}/players"): lambda rest: rest.get_players(SESSION),
    ("GET", f"/v4/sessions/{SESSION}/players/{GUILD}"): lambda rest: rest.get_player(SESSION, GUILD),
    ("PATCH", f"/v4/sessions/{SESSION}/players/{GUILD}"): (
        lambda rest: rest.update_player(SESSION, GUILD, PlayerUpdate(volume=50))
    ),
    ("DELETE", f"/v4/sessions/{SESSION}/players/{GUILD}"): lambda rest: rest.destroy_player(SESSION, GUILD),
    ("PATCH", f"/v4/sessions/{SESSION}"): lambda rest: rest.update_session(SESSION, resuming=True),
}


@pytest.mark.parametrize(("method", "route"), list(SESSION_ROUTES), ids=[" ".join(k) for k in SESSION_ROUTES])
async def test_nodelink_404s_for_an_unknown_session_are_session_not_found(
    errors: Transcript, method: str, route: str
) -> None:
    """Every session route NodeLink answered 404 "The provided sessionId doesn't exist." for."""
    recorded = errors.exchange("unknown session", method=method, route=route)
    assert recorded.status == 404 and "Session not found" not in json.dumps(recorded.response_body)
    error = await answered(recorded, "pw", SESSION_ROUTES[method, route])
    assert isinstance(error, SessionNotFoundError)
    assert error.message == "The provided sessionId doesn't exist."  # what the server said is kept
    assert (error.method, error.path) == (method, route)


def _not_found(message: str | None) -> Exchange:
    body = None if message is None else {"timestamp": 0, "status": 404, "error": "Not Found", "message": message}
    return Exchange(
        index=0, label=None, method="GET", path="/", request_body=None, status=404,
        response_headers={"Content-Type": "application/json"}, response_body=body,
    )  # fmt: skip


@pytest.mark.parametrize("message", ["Session not found", "Player not found", "Player not found.", None])
async def test_a_404_on_a_session_route_means_the_session_whatever_its_wording(message: str | None) -> None:
    """PATCH creates a player and DELETE of a missing one is fine: on those routes a 404 can only be the session."""
    for call in (
        lambda rest: rest.update_player(SESSION, GUILD, PlayerUpdate(paused=True)),
        lambda rest: rest.destroy_player(SESSION, GUILD),
        lambda rest: rest.get_players(SESSION),
        lambda rest: rest.update_session(SESSION, timeout=30),
    ):
        error = await answered(_not_found(message), "pw", call)
        assert isinstance(error, SessionNotFoundError) and not isinstance(error, PlayerNotFoundError)


@pytest.mark.parametrize(
    "message", ["Session not found", "Player not found", "The provided sessionId doesn't exist.", None]
)
async def test_a_404_for_one_player_is_both_a_missing_player_and_maybe_a_missing_session(message: str | None) -> None:
    """``GET …/players/{guild}``: Lavalink answers 404 for a missing player and for a missing session alike."""
    error = await answered(_not_found(message), "pw", lambda rest: rest.get_player(SESSION, GUILD))
    assert isinstance(error, PlayerNotFoundError) and isinstance(error, SessionNotFoundError)


async def test_a_404_elsewhere_is_a_plain_rest_error() -> None:
    """NodeLink has no route planner: its 404 is not about a session (02: ``GET /v4/routeplanner/status``)."""
    recorded = Transcript.load("02_rest_info_stats_session").exchange(route="/v4/routeplanner/status")
    assert recorded.status == 404
    error = await answered(recorded, "pw", lambda rest: rest.routeplanner_status())
    assert type(error) is RestError and error.status == 404
