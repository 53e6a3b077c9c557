"""The Lavalink v4 REST client: every endpoint, typed results, errors from `lightbulb_lavalink.errors`."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import typing
import urllib.parse

import aiohttp
import yarl

from lightbulb_lavalink.clock import SYSTEM_CLOCK
from lightbulb_lavalink.errors import (
    AuthenticationError,
    LavalinkError,
    NodeUnavailable,
    PlayerOrSessionNotFoundError,
    ProtocolError,
    RequestTimeoutError,
    RestError,
    SessionNotFoundError,
    SettingsError,
)
from lightbulb_lavalink.protocol.deviations import Deviations
from lightbulb_lavalink.protocol.info import Info, RoutePlannerStatus, SessionInfo
from lightbulb_lavalink.protocol.player import PlayerInfo, PlayerList, PlayerUpdate
from lightbulb_lavalink.protocol.stats import Stats
from lightbulb_lavalink.protocol.tracks import LoadResult, Track
from lightbulb_lavalink.protocol.transport import (
    DEFAULT_MAX_RESPONSE_SIZE,
    describe_client_error,
    node_url,
    read_body,
)
from lightbulb_lavalink.protocol.user_data import without_non_json
from lightbulb_lavalink.redact import redact_secret, redact_url

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.clock import Clock

__all__ = ["DEFAULT_CLIENT_NAME", "OTHER_ROUTE", "RequestObserver", "RestClient", "route_of"]

_LOGGER: typing.Final[logging.Logger] = logging.getLogger("lightbulb_lavalink.protocol.rest")

_T = typing.TypeVar("_T")
_METHODS: typing.Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_NO_TIMEOUT = aiohttp.ClientTimeout(total=None)  # the request's time limit runs on the injected clock instead
_ID_AFTER: typing.Final[typing.Mapping[str, str]] = {"sessions": "{sessionId}", "players": "{guildId}"}


class RequestObserver(typing.Protocol):
    """Told of every request a `RestClient` made (metrics); never told the query, body or headers."""

    def request_done(self, method: str, route: str, seconds: float, error: LavalinkError | None) -> None:
        """`route` (a template: `route_of`) took `seconds` on the client's clock; `error` if it failed."""
        ...


_PLAYER_ROUTE: typing.Final = "/v4/sessions/{sessionId}/players/{guildId}"
_KNOWN_ROUTES: typing.Final = frozenset(
    {
        "/version",
        "/v4/info",
        "/v4/stats",
        "/v4/loadtracks",
        "/v4/decodetrack",
        "/v4/decodetracks",
        "/v4/sessions/{sessionId}",
        "/v4/sessions/{sessionId}/players",
        _PLAYER_ROUTE,
        "/v4/routeplanner/status",
        "/v4/routeplanner/free/address",
        "/v4/routeplanner/free/all",
        # the typed plugin helpers' routes (lightbulb_lavalink.plugins)
        "/v4/loadsearch",
        "/v4/lyrics",
        _PLAYER_ROUTE + "/track/lyrics",
        _PLAYER_ROUTE + "/lyrics/subscribe",
        _PLAYER_ROUTE + "/sponsorblock/categories",
    }
)
# What is left of a path that is none of the known routes: the longest of these it starts with, then ``{other}``.
_OTHER_PREFIXES: typing.Final = (_PLAYER_ROUTE + "/", "/v4/sessions/{sessionId}/", "/v4/", "/")
OTHER_ROUTE: typing.Final[str] = "{other}"
"""What replaces the rest of a path that is none of the known routes (`route_of`)."""


def route_of(path: str) -> str:
    """The route template of a request path, from a bounded set, so that a metric labelled with it gets a bounded
    number of series: ``/v4/sessions/{sessionId}/players/{guildId}`` for the protocol's routes and the typed plugin
    helpers' routes (never their ids); any other path (a plugin's, through ``client.plugins.request``) is cut to
    its known prefix and `OTHER_ROUTE`: ``/v4/{other}``, ``/v4/sessions/{sessionId}/players/{guildId}/{other}``.
    Its ids, titles or tokens never reach a label."""
    parts = path.split("/")
    for i in range(1, len(parts)):
        template = _ID_AFTER.get(parts[i - 1])
        if template is not None and parts[i]:
            parts[i] = template
    templated = "/".join(parts)
    if templated in _KNOWN_ROUTES:
        return templated
    for prefix in _OTHER_PREFIXES:
        if templated.startswith(prefix):
            return prefix + OTHER_ROUTE
    return OTHER_ROUTE


def _client_name() -> str:
    try:
        version = importlib.metadata.version("lightbulb-lavalink")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        version = "0"
    return f"lightbulb-lavalink/{version}"


DEFAULT_CLIENT_NAME: typing.Final[str] = _client_name()
"""The `Client-Name` / `User-Agent` sent unless told otherwise (``lightbulb-lavalink/<version>``)."""

def _quote(value: str | int) -> str:
    """Percent-encode one path segment or query value (``/`` and ``+`` included)."""
    return urllib.parse.quote(str(value), safe="")


def _parse_list(parse: typing.Callable[[typing.Any], _T], data: typing.Any, what: str) -> list[_T]:
    """Parse a JSON array item by item, prefixing a `ProtocolError`'s path with the item index."""
    if not isinstance(data, list):
        raise ProtocolError("", f"expected a JSON array of {what}, got {type(data).__name__}")
    items: list[_T] = []
    for index, item in enumerate(data):
        try:
            items.append(parse(item))
        except ProtocolError as exc:
            where = f"[{index}].{exc.where}" if exc.where else f"[{index}]"
            raise ProtocolError(where, exc.problem) from exc
    return items


def _json_default(value: object) -> typing.Any:
    """Serialize the read-only mappings models hand out (``userData``, ``pluginInfo``) as objects."""
    if isinstance(value, typing.Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class RestClient:
    """An HTTP client for one Lavalink v4 node.

    Every method performs one request and returns the parsed model. Errors: `AuthenticationError` (401/403),
    `SessionNotFoundError` (404 on a session's routes; `PlayerOrSessionNotFoundError` for one player's
    ``GET``), `RestError` (any other status >= 400),
    `RequestTimeoutError` (no answer within `timeout`), `NodeUnavailable` (connection refused, DNS failure,
    connection lost), `ProtocolError` (a success answer that is not what the protocol promises).
    """

    __slots__ = (
        "_auth_headers",
        "_base_url",
        "_clock",
        "_closed",
        "_deviations",
        "_json_headers",
        "_max_response_size",
        "_observer",
        "_owns_session",
        "_password",
        "_session",
        "_timeout",
    )

    def __init__(
        self,
        base_url: str,
        password: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        client_name: str = DEFAULT_CLIENT_NAME,
        clock: Clock = SYSTEM_CLOCK,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        deviations: Deviations | None = None,
        observer: RequestObserver | None = None,
    ) -> None:
        url = node_url(base_url, ("http", "https"), "base_url")
        if not timeout > 0:
            raise SettingsError("timeout", f"must be > 0 seconds, got {timeout!r}")
        if not max_response_size > 0:
            raise SettingsError("max_response_size", f"must be > 0 bytes, got {max_response_size!r}")
        self._max_response_size = max_response_size
        self._base_url = str(url).rstrip("/")
        self._password = password
        self._session = session
        self._owns_session = session is None
        self._timeout = timeout
        self._clock = clock
        self._observer = observer
        self._closed = False
        self._deviations = deviations if deviations is not None else Deviations(f"the node at {self._base_url}")
        self._auth_headers = {"Authorization": password, "User-Agent": client_name}
        self._json_headers = {**self._auth_headers, "Content-Type": "application/json"}

    def __repr__(self) -> str:
        return f"RestClient({self._base_url!r})"

    @property
    def base_url(self) -> str:
        """The node's base URL, e.g. ``http://127.0.0.1:2333`` (no trailing slash)."""
        return self._base_url

    @property
    def timeout(self) -> float:
        """The per-request timeout in seconds."""
        return self._timeout

    @property
    def max_response_size(self) -> int:
        """The largest answer body read, in bytes: a larger one fails the request with a `ProtocolError`."""
        return self._max_response_size

    @property
    def deviations(self) -> Deviations:
        """What the node's answers showed that differs from the protocol and was read anyway (each kind logged
        once); shared with the node's websocket when the node passes its own."""
        return self._deviations

    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
        return self._closed

    async def close(self) -> None:
        """Close the HTTP session if this client created it (a session passed in stays open). Idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session:
            await session.close()

    async def __aenter__(self) -> typing.Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ tracks

    async def load_tracks(self, identifier: str) -> LoadResult:
        """``GET /v4/loadtracks``: resolve a URL or a search (``ytsearch:...``) into tracks."""
        data = await self._request("GET", "/v4/loadtracks", query={"identifier": identifier})
        return self._read(LoadResult.from_payload, data)

    async def decode_track(self, encoded: str) -> Track:
        """``GET /v4/decodetrack``: let the node decode one track blob."""
        data = await self._request("GET", "/v4/decodetrack", query={"encodedTrack": encoded})
        return self._read(Track.from_payload, data)

    async def decode_tracks(self, encoded: typing.Sequence[str]) -> list[Track]:
        """``POST /v4/decodetracks``: decode several blobs in one request (an empty list needs no request)."""
        if not encoded:
            return []
        data = await self._request("POST", "/v4/decodetracks", body=list(encoded))
        return self._read(lambda items: _parse_list(Track.from_payload, items, "tracks"), data)

    # ------------------------------------------------------------------ players

    async def get_players(self, session_id: str) -> list[PlayerInfo]:
        """``GET /v4/sessions/{id}/players``: every player of a (connected) session that could be read.

        An entry that cannot be read is left out with a warning; `get_player_list` says which.
        """
        listing = await self.get_player_list(session_id)
        for entry in listing.unreadable:
            _LOGGER.warning(
                "GET players of session %s on %s: entry %d (guild %s) cannot be read, left out: %s",
                session_id,
                self._base_url,
                entry.index,
                entry.guild_id if entry.guild_id is not None else "unknown",
                entry.reason,
            )
        return list(listing.players)

    async def get_player_list(self, session_id: str) -> PlayerList:
        """``GET /v4/sessions/{id}/players``: the session's players that could be read, and the entries that could
        not (with their guild when readable, and why). Only an answer that is not an array is a `ProtocolError`."""
        data = await self._request("GET", f"/v4/sessions/{_quote(session_id)}/players")
        return self._read(PlayerList.from_payload, data)

    async def get_player(self, session_id: str, guild_id: int) -> PlayerInfo:
        """``GET /v4/sessions/{id}/players/{guild}``; raises `PlayerOrSessionNotFoundError` when the guild has none
        (or the session is gone: a 404 on this route cannot tell which). NodeLink creates the player instead."""
        data = await self._request("GET", self._player_path(session_id, guild_id))
        return self._read(PlayerInfo.from_payload, data)

    async def update_player(
        self, session_id: str, guild_id: int, update: PlayerUpdate, *, no_replace: bool = False
    ) -> PlayerInfo:
        """``PATCH /v4/sessions/{id}/players/{guild}``: create or change a player; returns it as it is now.

        With `no_replace`, a new track in `update` is ignored when one is already playing. Track user data that
        is not JSON (`Track` refuses it, but a dict can be changed in place) is left out of what is sent, with
        a warning, rather than costing the request: see `without_non_json`.
        """
        query = {"noReplace": "true"} if no_replace else None
        body = update.to_payload()
        track = body.get("track")
        if track is not None and "userData" in track:
            track["userData"], left_out = without_non_json(track["userData"], "user_data")
            if left_out:
                _LOGGER.warning(
                    "guild %s: sending the track to Lavalink without its user data that is not JSON: %s",
                    guild_id,
                    "; ".join(left_out),
                )
        data = await self._request("PATCH", self._player_path(session_id, guild_id), query=query, body=body)
        return self._read(PlayerInfo.from_payload, data)

    async def destroy_player(self, session_id: str, guild_id: int) -> None:
        """``DELETE /v4/sessions/{id}/players/{guild}``: stop and remove a player (fine if there is none)."""
        await self._request("DELETE", self._player_path(session_id, guild_id))

    @staticmethod
    def _player_path(session_id: str, guild_id: int) -> str:
        return f"/v4/sessions/{_quote(session_id)}/players/{_quote(int(guild_id))}"

    # ------------------------------------------------------------------ session

    async def update_session(
        self, session_id: str, *, resuming: bool | None = None, timeout: int | None = None
    ) -> SessionInfo:
        """``PATCH /v4/sessions/{id}``: enable/disable resuming and set its timeout in **seconds**.

        Arguments left as None are not sent (the node keeps their current values).
        """
        body: dict[str, typing.Any] = {}
        if resuming is not None:
            body["resuming"] = resuming
        if timeout is not None:
            body["timeout"] = int(timeout)
        data = await self._request("PATCH", f"/v4/sessions/{_quote(session_id)}", body=body)
        return self._read(SessionInfo.from_payload, data)

    # ------------------------------------------------------------------ node

    async def info(self) -> Info:
        """``GET /v4/info``: the node's version, sources, filters and plugins."""
        return self._read(Info.from_payload, await self._request("GET", "/v4/info"))

    async def stats(self) -> Stats:
        """``GET /v4/stats``: the node's current load."""
        return self._read(Stats.from_payload, await self._request("GET", "/v4/stats"))

    async def version(self) -> str:
        """``GET /version``: the server version as plain text (``4.0.8``)."""
        text = await self._request("GET", "/version", text=True)
        if not isinstance(text, str) or not text.strip():
            raise ProtocolError("", "GET /version answered no version")
        return text.strip()

    # ------------------------------------------------------------------ route planner

    async def routeplanner_status(self) -> RoutePlannerStatus | None:
        """``GET /v4/routeplanner/status``: the IP rotation state, None without a route planner."""
        data = await self._request("GET", "/v4/routeplanner/status")
        return None if data is None else self._read(RoutePlannerStatus.from_payload, data)

    async def free_address(self, address: str) -> None:
        """``POST /v4/routeplanner/free/address``: unmark one failing address."""
        await self._request("POST", "/v4/routeplanner/free/address", body={"address": address})

    async def free_all_addresses(self) -> None:
        """``POST /v4/routeplanner/free/all``: unmark every failing address."""
        await self._request("POST", "/v4/routeplanner/free/all")

    # ------------------------------------------------------------------ any endpoint (plugins)

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        query: typing.Mapping[str, str] | None = None,
        json_body: typing.Any = None,
        route: str | None = None,
    ) -> typing.Any:
        """Send one request to any endpoint of the node (a plugin's) and return its decoded JSON answer.

        `path` is the route after the base URL (``/v4/...``), its segments already percent-encoded; `query` values
        are encoded here; `json_body` (when not `None`) is sent as JSON. The answer is `None` for an empty one (204).
        Errors are mapped as for every other method (the password never appears in them). `route` is what the
        observer is told instead of `route_of(path)`: a constant template such as ``/v4/myplugin/users/{userId}``
        (never the path itself, whose ids would make a metric series each).

        Raises:
            ValueError: `method` is not an HTTP method, `path` does not start with ``/``, or `route` is not a
                template starting with ``/`` (nothing is sent).
            AuthenticationError: The node refused the password (401/403).
            RestError: The node answered with another error status (404 included: a plugin's route).
            RequestTimeoutError: The node did not answer within `timeout`.
            NodeUnavailable: The node cannot be reached.
            ProtocolError: The answer is not JSON.
        """
        verb = method.upper()
        if verb not in _METHODS:
            raise ValueError(f"method must be one of {', '.join(sorted(_METHODS))}, got {method!r}")
        if not path.startswith("/") or path.startswith("//") or any(c in path for c in "?#\r\n "):
            raise ValueError(f"path must be a route starting with '/', without query or spaces, got {path!r}")
        if route is not None and (not route.startswith("/") or len(route) > 200 or any(c in route for c in "?#\r\n ")):
            raise ValueError(f"route must be a template starting with '/', without query or spaces, got {route!r}")
        return await self._request(verb, path, query=query, body=json_body, route=route)

    # ------------------------------------------------------------------ machinery

    def _read(self, parse: typing.Callable[[typing.Any], _T], data: typing.Any) -> _T:
        """Parse an answer, noting its deviations from the protocol as this node's."""
        with self._deviations.reading():
            return parse(data)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise NodeUnavailable(f"the REST client for {self._base_url} is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _request(
        self,
        method: str,
        path: str,
        *,
        query: typing.Mapping[str, str] | None = None,
        body: typing.Any = None,
        text: bool = False,
        route: str | None = None,
    ) -> typing.Any:
        """Send one request (timed for the observer, if any, under `route`, by default `route_of(path)`); see
        `_send`."""
        observer = self._observer
        if observer is None:
            return await self._send(method, path, query=query, body=body, text=text)
        label = route_of(path) if route is None else route
        started = self._clock.monotonic()
        try:
            result = await self._send(method, path, query=query, body=body, text=text)
        except LavalinkError as exc:
            observer.request_done(method, label, self._clock.monotonic() - started, exc)
            raise
        observer.request_done(method, label, self._clock.monotonic() - started, None)
        return result

    async def _send(
        self,
        method: str,
        path: str,
        *,
        query: typing.Mapping[str, str] | None = None,
        body: typing.Any = None,
        text: bool = False,
    ) -> typing.Any:
        """Send one request; return the decoded JSON (or text with `text`), None for an empty answer."""
        session = self._get_session()
        raw_url = self._base_url + path
        if query:
            raw_url += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote, safe="")
        url = yarl.URL(raw_url, encoded=True)
        if body is None:
            headers, data = self._auth_headers, None
        else:
            headers, data = self._json_headers, json.dumps(body, separators=(",", ":"), default=_json_default)
        if _LOGGER.isEnabledFor(logging.DEBUG):
            # Never the headers (the password) nor the body (voice tokens): the route is enough to follow.
            _LOGGER.debug("%s %s%s", method, path, f"?{urllib.parse.urlencode(query)}" if query else "")
        # This is where failures of the HTTP layer become ours. An aiohttp error carries the request with its
        # headers (the password): it is described in words and neither chained nor kept as the context.
        failure: LavalinkError | None = None
        try:
            async with (
                self._clock.timeout(self._timeout),
                session.request(
                    method, url, headers=headers, data=data, timeout=_NO_TIMEOUT, allow_redirects=False
                ) as resp,
            ):
                status = resp.status
                where = f"{method} {path} on {self._base_url}"
                payload = await read_body(resp, self._max_response_size, truncate=status >= 300, where=where)
                if status >= 400:
                    raise self._error(method, path, status, resp.reason, payload)
                if 300 <= status < 400:
                    # Lavalink never redirects: following one would send the password elsewhere, or loop.
                    location = redact_url(resp.headers.get("Location", "nowhere"))
                    raise NodeUnavailable(
                        f"{method} {path} on {self._base_url}: the node answered {status}, redirecting to "
                        f"{redact_secret(location, self._password)}; Lavalink never redirects, so check the "
                        "node's address (http or https, host, port)"
                    )
                if _LOGGER.isEnabledFor(logging.DEBUG):
                    _LOGGER.debug("%s %s -> %d (%d bytes)", method, path, status, len(payload))
        except TimeoutError:
            failure = RequestTimeoutError(
                f"{method} {path} on {self._base_url} got no answer within {self._timeout:g} s"
            )
        except aiohttp.ClientConnectorError as exc:
            why = describe_client_error(exc, self._password)
            failure = NodeUnavailable(f"cannot reach the Lavalink node at {self._base_url}: {why}")
        except aiohttp.ClientError as exc:
            why = describe_client_error(exc, self._password)
            failure = NodeUnavailable(f"{method} {path} on {self._base_url} failed: {why}")
        if failure is not None:
            raise failure

        if status == 204 or not payload:
            return None
        if text:
            return payload.decode("utf-8", errors="replace")
        try:
            return json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise ProtocolError("", f"{method} {path} answered {status} with a body that is not JSON: {exc}") from exc

    def _error(self, method: str, path: str, status: int, reason: str | None, payload: bytes) -> RestError:
        """Map an error answer to the most precise `RestError` subclass (a password it quotes hidden).

        Decided by status code, route and method, never by the server's wording (it differs between servers): a
        404 on a session's routes is `SessionNotFoundError`, except ``GET …/players/{guild}``, which Lavalink
        also answers 404 for a guild without a player (`PlayerOrSessionNotFoundError`, both). A 401/403 says
        whether a password was sent: NodeLink and proxies answer 401 for a wrong one as for a missing one.
        """
        message = error = ""
        try:
            data = json.loads(payload) if payload else None
        except ValueError:
            data = None
        if isinstance(data, dict):
            if isinstance(data.get("message"), str):
                message = data["message"]
            if isinstance(data.get("error"), str):
                error = data["error"]
        error = redact_secret(error, self._password)
        if status in (401, 403):
            if self._auth_headers["Authorization"]:
                why = f"the node refused the password ({status} {reason or 'Unauthorized'})"
            else:
                why = f"no password was sent: the node's password setting is empty ({status})"
            return AuthenticationError(
                status, why, path, method=method, error=error or redact_secret(reason or "", self._password)
            )
        message = redact_secret(message or error or reason or "no message", self._password)
        if status == 404:
            route = path.split("/")[1:]  # v4, sessions, {id}[, players[, {guild}]]
            session_route = len(route) >= 3 and route[:2] == ["v4", "sessions"] and bool(route[2])
            if session_route and (len(route) == 3 or (route[3] == "players" and len(route) <= 5)):
                if len(route) == 5 and method == "GET":
                    return PlayerOrSessionNotFoundError(status, message, path, method=method, error=error)
                return SessionNotFoundError(status, message, path, method=method, error=error)
        return RestError(status, message, path, method=method, error=error)
