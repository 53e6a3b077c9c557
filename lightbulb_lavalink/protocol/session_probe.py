"""`resumes_session`: whether a node resumes a session for a new connection, that is, whether the session was
waiting for a resume (paused) rather than held by a live connection.

Lavalink and NodeLink both resume only a paused session at the websocket handshake: a ``Session-Id`` of a session
some connection holds gets a fresh session (``ready`` with ``resumed: false``). NodeLink answers REST for a paused
session as for a connected one, so on NodeLink this is the only way to tell them apart.
"""

from __future__ import annotations

import json
import logging
import typing

import aiohttp

from lightbulb_lavalink.errors import LavalinkError, NodeUnavailable, ProtocolError, RequestTimeoutError
from lightbulb_lavalink.protocol.rest import DEFAULT_CLIENT_NAME
from lightbulb_lavalink.protocol.transport import describe_client_error
from lightbulb_lavalink.protocol.websocket import websocket_url
from lightbulb_lavalink.redact import redact_secret

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.clock import Clock

__all__ = ["resumes_session"]

_LOGGER = logging.getLogger("lightbulb_lavalink.protocol.session_probe")


async def resumes_session(
    http: aiohttp.ClientSession,
    base_url: str,
    password: str,
    *,
    user_id: int,
    session_id: str,
    clock: Clock,
    timeout: float,
    client_name: str = DEFAULT_CLIENT_NAME,
) -> bool:
    """Connect to the node asking to resume `session_id`, read its ``ready`` and close at once: whether it
    resumed the session. A session it resumed is paused again by the close (resumable as before, its timeout
    started again); a fresh one it made instead is ended by the close (resuming is off for it).

    Only for a server that replays nothing on a resume (NodeLink): the events a server replays to this connection
    would be lost with it.

    Raises:
        RequestTimeoutError: No handshake and ``ready`` within `timeout` seconds (on `clock`).
        NodeUnavailable: The node cannot be reached, or closed the connection before ``ready``.
        LavalinkError: The node refused the handshake (the password, a header).
        ProtocolError: The first message is not a ``ready``.
    """
    headers = {
        "Authorization": password,
        "User-Id": str(user_id),
        "Client-Name": client_name,
        "Session-Id": session_id,
    }
    try:
        async with clock.timeout(timeout), http.ws_connect(websocket_url(base_url), headers=headers) as ws:
            message = await ws.receive()
    except TimeoutError:
        raise RequestTimeoutError(f"no handshake and ready within {timeout:g} s") from None
    except aiohttp.WSServerHandshakeError as exc:
        # Words only: the exception carries the request, and so the password.
        why = redact_secret(exc.message, password)
        raise LavalinkError(f"the handshake was refused ({exc.status}): {why}") from None
    except aiohttp.ClientError as exc:
        raise NodeUnavailable(describe_client_error(exc, password)) from None
    if message.type is not aiohttp.WSMsgType.TEXT:
        raise NodeUnavailable(f"the node closed the connection before ready ({message.type.name})")
    try:
        data = json.loads(message.data)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the JSON reader goes
        raise ProtocolError("", "the first message is not JSON") from None
    if not isinstance(data, dict) or data.get("op") != "ready":
        raise ProtocolError("op", "the first message is not a ready")
    resumed = data.get("resumed") is True
    _LOGGER.debug("session %s: a new connection %s it", session_id, "resumed" if resumed else "did not resume")
    return resumed
