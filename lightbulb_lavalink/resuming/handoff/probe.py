"""Whether a live connection holds a node's session: what a new process checks when the running one did not let
its sessions go (it may not run at all, or run without handing over)."""

from __future__ import annotations

import logging
import typing

import aiohttp

from lightbulb_lavalink.errors import HandoffError, LavalinkError, NodeUnavailable, SessionNotFoundError, StoreError
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.protocol.session_probe import resumes_session

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.client import LavalinkClient

__all__ = ["saved_sessions_held"]

_LOGGER = logging.getLogger("lightbulb_lavalink.resuming.handoff")


async def saved_sessions_held(client: LavalinkClient) -> bool:
    """Whether a live connection holds any of the sessions the store saved for `client`'s nodes.

    Raises:
        HandoffError: The store cannot be read, or a node cannot tell (see `held_elsewhere`).
    """
    try:
        sessions = {name: await client.store.get_session(client.store_key(name)) for name in client.nodes}
    except StoreError as exc:
        raise HandoffError(f"cannot read the saved sessions: {exc}") from None
    return await held_elsewhere(client, sessions)


async def held_elsewhere(client: LavalinkClient, sessions: dict[str, str | None]) -> bool:
    """Whether a live connection holds any of `sessions` (node name → session id). Lavalink answers a session's
    routes while one is connected, and 404 while it is paused or gone. NodeLink answers them for a paused session
    too: there a new connection asking to resume it tells (it resumes a paused session, never a held one), and is
    closed at once, leaving the session paused again (NodeLink replays nothing on a resume: nothing is lost). A
    node that cannot be reached at all holds nothing: the process starts as it would without a handoff.

    Raises:
        HandoffError: A node does not answer in time, or answers with an error (it cannot be told whether the
            session is held).
    """
    for name, session_id in sessions.items():
        if session_id is not None and await _held(client, name, session_id):
            return True
    return False


async def _held(client: LavalinkClient, name: str, session_id: str) -> bool:
    settings = client.nodes[name].settings
    rest = RestClient(settings.url, settings.password, timeout=client.settings.request_timeout)
    try:
        await rest.update_session(session_id)  # an empty PATCH: changes nothing
        info = await rest.request_json("GET", "/v4/info")
    except SessionNotFoundError:
        return False
    except NodeUnavailable as exc:
        # Down (no connection at all): nothing is connected to it from here either, and a start without
        # handoff would not wait for it; the node resumes the session once it is back.
        _LOGGER.warning("node %r cannot be reached (%s): counting session %s as not held", name, exc, session_id)
        return False
    except LavalinkError as exc:
        raise HandoffError(f"cannot tell whether node {name!r} holds session {session_id}: {exc}") from None
    finally:
        await rest.close()
    if not (isinstance(info, dict) and info.get("isNodelink") is True):
        return True  # Lavalink: a paused session would have answered 404
    try:
        async with aiohttp.ClientSession() as http:
            resumed = await resumes_session(
                http,
                settings.url,
                settings.password,
                user_id=client.bot_id or 0,
                session_id=session_id,
                clock=client.clock,
                timeout=client.settings.request_timeout,
            )
    except LavalinkError as exc:
        raise HandoffError(f"cannot tell whether node {name!r} holds session {session_id}: {exc}") from None
    if resumed:
        _LOGGER.info("node %r (NodeLink): session %s waits for a resume: no connection holds it", name, session_id)
    return not resumed
