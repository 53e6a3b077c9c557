"""What a `FakeLavalink` received: every REST request and websocket handshake, with the password hidden."""

from __future__ import annotations

__all__ = ["HandshakeRecord", "RequestRecord", "TrafficLog", "redacted_headers"]

import json
import typing

import attrs

from lightbulb_lavalink.redact import MASK

if typing.TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from aiohttp import web

_SECRET_HEADERS: typing.Final = frozenset({"authorization"})


def redacted_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """`headers` as a plain dict, the ``Authorization`` value (the node password) replaced by ``***``."""
    return {name: MASK if name.lower() in _SECRET_HEADERS else value for name, value in headers.items()}


def parse_body(raw: bytes) -> typing.Any:
    """A request body as the node read it: JSON when it is JSON, else its text, `None` when empty."""
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


@attrs.frozen(kw_only=True, weakref_slot=False)
class RequestRecord:
    """One REST request the node received (answered, refused or failed)."""

    method: str
    """The HTTP method."""
    path: str
    """The path, without the query string (``/v4/sessions/abc/players/123``)."""
    query: dict[str, str]
    """The query parameters."""
    body: typing.Any
    """The JSON body, parsed (text when not JSON, `None` without one)."""
    headers: dict[str, str]
    """The request headers; ``Authorization`` shows ``***``."""
    password_ok: bool
    """Whether the ``Authorization`` header held the node's password."""
    status: int | None = None
    """The status the node answered with (`None` while the request is being served or when cut)."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class HandshakeRecord:
    """One websocket handshake (``GET /v4/websocket``) the node received."""

    headers: dict[str, str]
    """The request headers (``User-Id``, ``Client-Name``, ``Session-Id``...); ``Authorization`` shows ``***``."""
    password_ok: bool
    """Whether the ``Authorization`` header held the node's password."""
    user_id: str | None
    """The ``User-Id`` header."""
    client_name: str | None
    """The ``Client-Name`` header."""
    session_id: str | None
    """The ``Session-Id`` header: the session the client asked to resume (`None`: a fresh session)."""
    resumed: bool
    """Whether the node resumed that session."""
    status: int
    """101 when the websocket opened, else the refusal status (401 wrong password, 400 bad headers)."""


class TrafficLog:
    """What one node received: its REST requests and websocket handshakes, in order, the password hidden."""

    def __init__(self, *, password: Callable[[], str]) -> None:
        self.requests: list[RequestRecord] = []
        """Every REST request, oldest first."""
        self.handshakes: list[HandshakeRecord] = []
        """Every websocket handshake, oldest first."""
        self._password = password

    def record_request(self, request: web.Request, body: typing.Any) -> int:
        """Log a REST request as it arrives; returns its index in `requests`."""
        self.requests.append(
            RequestRecord(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                body=body,
                headers=redacted_headers(request.headers),
                password_ok=request.headers.get("Authorization") == self._password(),
            )
        )
        return len(self.requests) - 1

    def record_status(self, index: int, status: int) -> None:
        """Note the status the node answered the logged request `index` with."""
        if 0 <= index < len(self.requests):
            self.requests[index] = attrs.evolve(self.requests[index], status=status)

    def record_handshake(self, request: web.Request, status: int, *, resumed: bool = False) -> None:
        """Log a websocket handshake and how it ended (101: opened)."""
        headers = request.headers
        self.handshakes.append(
            HandshakeRecord(
                headers=redacted_headers(headers),
                password_ok=headers.get("Authorization") == self._password(),
                user_id=headers.get("User-Id"),
                client_name=headers.get("Client-Name"),
                session_id=headers.get("Session-Id") or None,
                resumed=resumed,
                status=status,
            )
        )

    def requests_to(self, method: str, path_prefix: str = "") -> list[RequestRecord]:
        """The logged requests with this method whose path starts with `path_prefix`."""
        return [r for r in self.requests if r.method == method.upper() and r.path.startswith(path_prefix)]

    def clear(self) -> None:
        """Forget everything logged so far."""
        self.requests.clear()
        self.handshakes.clear()
