"""``python -m lightbulb_lavalink check``: before starting a bot, check its settings, every node and the store.

Reads the settings as the extension does with nothing registered (the ``LAVALINK_*`` variables, else the
defaults), then checks each node (reachable, password accepted, Lavalink 4, plugins, resuming accepted) and
the store (opens, reads), one line each. Bots call `check_nodes` / `check_store` themselves before starting
(the example bot does). No line ever holds a password.
"""

from __future__ import annotations

__all__ = ["CheckLine", "check_node", "check_nodes", "check_settings", "check_store", "main", "run_checks"]

import asyncio
import os
import pathlib
import sys
import typing

import aiohttp
import attrs

from lightbulb_lavalink.errors import AuthenticationError, LavalinkError, NodeUnavailable, SettingsError
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.redact import redact_secret
from lightbulb_lavalink.settings import LavalinkSettings, unknown_env_variables
from lightbulb_lavalink.stores import JSONFileStore, SQLiteStore, open_store

if typing.TYPE_CHECKING:
    from collections.abc import Mapping

    from lightbulb_lavalink.settings import NodeSettings
    from lightbulb_lavalink.stores import SessionStore

_PROBE_USER_ID: typing.Final[str] = "1"
"""The ``User-Id`` of the check's throwaway websocket session (it never holds a player)."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class CheckLine:
    """One checked thing: what, whether it is fine, and what was found or what to do."""

    what: str
    """``settings``, ``node 'main' at host:port``, ``store sqlite:///...``, ``LAVALINK_PASWORD``."""
    ok: bool
    """Whether nothing is wrong with it."""
    detail: str
    """What was found (fine) or what is wrong and how to fix it (no secret)."""

    def __str__(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.what}: {self.detail}"


async def check_node(node: NodeSettings, *, resume_timeout: int = 60, timeout: float = 5.0) -> CheckLine:
    """Check one node: reachable, password accepted, Lavalink 4, plugins listed, resuming accepted."""
    where = f"node {node.name!r} at {node.host}:{node.port}"
    async with aiohttp.ClientSession() as http:
        rest = RestClient(node.url, node.password, session=http, timeout=timeout)
        try:
            info = await rest.info()
            resuming = await _resuming(http, rest, node, resume_timeout, timeout)
        except AuthenticationError:
            return CheckLine(
                what=where,
                ok=False,
                detail="refused the password: set the one from its application.yml "
                "(LAVALINK_PASSWORD, or LAVALINK_NODES=name=http://PASSWORD@host:port)",
            )
        except NodeUnavailable:
            return CheckLine(
                what=where,
                ok=False,
                detail="cannot be reached: is Lavalink running there? Set LAVALINK_NODES or "
                "LAVALINK_HOST/LAVALINK_PORT to where it runs",
            )
        except (LavalinkError, aiohttp.ClientError, TimeoutError) as exc:
            why = redact_secret(str(exc) or type(exc).__name__, node.password)
            return CheckLine(what=where, ok=False, detail=f"did not answer as a Lavalink v4 node: {why}")
    version = info.version.semver or "unknown"
    if info.version.major is not None and info.version.major != 4 and "nodelink" not in version.lower():
        return CheckLine(what=where, ok=False, detail=f"runs Lavalink {version}; lightbulb-lavalink needs Lavalink 4")
    plugins = ", ".join(f"{p.name} {p.version}" for p in info.plugins) or "none"
    return CheckLine(what=where, ok=True, detail=f"Lavalink {version}, plugins: {plugins}, {resuming}")


async def _resuming(
    http: aiohttp.ClientSession, rest: RestClient, node: NodeSettings, resume_timeout: int, timeout: float
) -> str:
    """Open a throwaway session, ask the node to keep it resumable as the bot will, then let it go."""
    headers = {"Authorization": node.password, "User-Id": _PROBE_USER_ID, "Client-Name": "lightbulb-lavalink-check"}
    try:
        async with http.ws_connect(
            node.websocket_url, headers=headers, timeout=aiohttp.ClientWSTimeout(ws_close=timeout)
        ) as ws:
            ready = await ws.receive_json(timeout=timeout)
            session_id = str(ready.get("sessionId") or "")
            if ready.get("op") != "ready" or not session_id:
                raise LavalinkError("the websocket sent no ready op")
            answer = await rest.update_session(session_id, resuming=True, timeout=resume_timeout)
            await rest.update_session(session_id, resuming=False)
    except aiohttp.WSServerHandshakeError as exc:
        if exc.status == 401:
            raise AuthenticationError(401, "Unauthorized", "/v4/websocket") from None
        raise LavalinkError(f"the websocket handshake failed with {exc.status}") from None
    if not answer.resuming:
        return "resuming: refused"
    return f"resuming: accepted ({answer.timeout} s)"


async def check_nodes(settings: LavalinkSettings, *, timeout: float = 5.0) -> list[CheckLine]:
    """`check_node` for every node of `settings`, in order."""
    return [await check_node(n, resume_timeout=settings.resume_timeout, timeout=timeout) for n in settings.nodes]


async def check_store(settings: LavalinkSettings, store: SessionStore | None = None) -> CheckLine:
    """Open the store (`store`, else the one the settings name) and read from it; closes it again."""
    try:
        chosen = store if store is not None else open_store(settings.store)
    except SettingsError as exc:
        return CheckLine(what="store", ok=False, detail=str(exc))
    what = f"store {chosen.url}"
    unborn = _file_not_made_yet(chosen)
    if unborn is not None:
        if store is None:
            await chosen.close()
        if not os.access(unborn, os.W_OK | os.X_OK):
            return CheckLine(what=what, ok=False, detail=f"cannot be used: the folder {unborn} is not writable")
        return CheckLine(
            what=what, ok=True, detail="no file yet; the bot creates it at its first start (the folder is writable)"
        )
    try:
        async with asyncio.timeout(settings.request_timeout):
            await chosen.open()
            keys = await chosen.list_keys(0)
            problems = tuple(getattr(chosen, "problems", ()))
    except (LavalinkError, TimeoutError) as exc:
        return CheckLine(what=what, ok=False, detail=f"cannot be used: {exc or 'no answer in time'}")
    finally:
        if store is None:
            await chosen.close()
    if problems:
        return CheckLine(what=what, ok=False, detail=f"opens, but found damage: {problems[0]}")
    return CheckLine(what=what, ok=True, detail=f"opens and reads ({len(keys)} scope(s) saved for bot 0)")


def _file_not_made_yet(store: SessionStore) -> pathlib.Path | None:
    """The existing folder of a file store whose file does not exist yet (a check must not create it), else
    `None` (a file that exists, or a folder that does not: opening says what is wrong)."""
    if not isinstance(store, SQLiteStore | JSONFileStore) or str(store.path) == ":memory:":
        return None
    path = pathlib.Path(store.path)
    if path.exists() or not path.parent.is_dir():
        return None
    return path.parent


def check_settings(environ: Mapping[str, str]) -> tuple[LavalinkSettings | None, list[CheckLine]]:
    """The settings from `environ` as the extension reads them, and a line for them and each unknown variable."""
    lines = [
        CheckLine(
            what=name,
            ok=False,
            detail=f"is not a lightbulb-lavalink variable; did you mean {nearest}?" if nearest else "is unknown",
        )
        for name, nearest in unknown_env_variables(environ)
    ]
    try:
        settings = LavalinkSettings.from_env(environ)
    except SettingsError as exc:
        return None, [*lines, CheckLine(what="settings", ok=False, detail=str(exc))]
    from_env = any(n.startswith("LAVALINK_") and v.strip() for n, v in environ.items())
    source = "the environment" if from_env else "the defaults"
    nodes = ", ".join(node.name for node in settings.nodes)
    return settings, [*lines, CheckLine(what="settings", ok=True, detail=f"from {source}; nodes: {nodes}")]


async def run_checks(environ: Mapping[str, str]) -> list[CheckLine]:
    """Every check, in order: settings (and unknown variables), each node, the store."""
    settings, lines = check_settings(environ)
    if settings is None:
        return lines
    return [*lines, *await check_nodes(settings), await check_store(settings)]


def main(environ: Mapping[str, str] | None = None, out: typing.TextIO | None = None) -> int:
    """Run every check and write one line each; 0 when everything is fine, 1 otherwise."""
    stream = out if out is not None else sys.stdout
    lines = asyncio.run(run_checks(os.environ if environ is None else environ))
    for line in lines:
        stream.write(f"{line}\n")
    failed = sum(not line.ok for line in lines)
    stream.write("everything is ready\n" if not failed else f"{failed} problem(s) found\n")
    return 1 if failed else 0
