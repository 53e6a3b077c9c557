"""Fault injection on the emulator's REST API: make chosen requests fail the way real deployments fail.

``node.faults.add("PATCH", "/v4/sessions/*/players/*", status=502, body=NGINX_502_PAGE, content_type="text/html")``
makes the next player PATCH get a proxy's 502 page. A fault matches a method and a path pattern (``*`` is one
path segment, ``**`` any run of segments), optionally one guild, for its next `times` requests (``None``:
until removed). It either refuses the request (the node never sees it) or, with ``apply=True``, lets the node
act first and then replaces its answer, as a proxy that timed out after the node acted. ``hang=True`` holds
the request unanswered until `Fault.release`, `Fault.remove` or the server closes (which cuts it), so the
client's own timeout fires; ``drop_connections=True`` cuts every websocket right after the node acted.

The websocket handshake (``/v4/websocket``) is never faulted: use ``drop_connections(refuse_new=True)``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import typing

import attrs
from aiohttp import web

from lightbulb_lavalink.errors import SettingsError
from lightbulb_lavalink.testing.wire import error_response, parse_long

__all__ = ["NGINX_502_PAGE", "NODELINK_SESSION_NOT_FOUND", "Fault", "FaultHit", "Faults"]

_LOGGER = logging.getLogger("lightbulb_lavalink.testing.faults")
_WEBSOCKET_PATH = "/v4/websocket"

NGINX_502_PAGE: typing.Final[str] = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
"""The page nginx answers with while the node behind it is down (use with ``content_type="text/html"``)."""

NODELINK_SESSION_NOT_FOUND: typing.Final[str] = "The provided sessionId doesn't exist."
"""NodeLink's ``message`` for an unknown session (Lavalink says ``Session not found``), with status 404."""


def _compile(pattern: str) -> re.Pattern[str]:
    """``*`` matches within one path segment, ``**`` across segments; everything else is literal."""
    parts = (re.escape(piece).replace(r"\*", "[^/]*") for piece in pattern.split("**"))
    return re.compile(".*".join(parts))


def _guild_of(request: web.Request) -> int | None:
    """The guild id in the request's path, ``None`` for a route without one (or one that is not a number)."""
    text = request.match_info.get("guild_id")
    return parse_long(text) if text is not None else None


@attrs.frozen(kw_only=True, weakref_slot=False)
class FaultHit:
    """One request a fault fired on."""

    method: str
    """The request method (upper case)."""
    path: str
    """The request path, without the query string."""
    guild_id: int | None
    """The guild in the path, ``None`` for a route without one."""
    applied: bool
    """Whether the node acted on the request before the fault answered (``apply=True``)."""
    held: bool
    """Whether the request was held unanswered (``hang=True``)."""


@attrs.define(weakref_slot=False, eq=False)
class _Record:
    """What one fault has done: its hits, the requests it holds, and who waits for hits."""

    hits: list[FaultHit] = attrs.field(factory=list)
    held: set[asyncio.Future[bool]] = attrs.field(factory=set)
    waiters: list[tuple[int, asyncio.Future[FaultHit]]] = attrs.field(factory=list)

    def add(self, hit: FaultHit) -> None:
        """Add `hit` and wake whoever waits for that many hits."""
        self.hits.append(hit)
        waiting, self.waiters = self.waiters, []
        for count, future in waiting:
            if len(self.hits) < count:
                self.waiters.append((count, future))
            elif not future.done():
                future.set_result(self.hits[count - 1])

    async def wait(self, count: int) -> FaultHit:
        """The `count`-th hit, once there is one."""
        if len(self.hits) >= count:
            return self.hits[count - 1]
        future: asyncio.Future[FaultHit] = asyncio.get_running_loop().create_future()
        self.waiters.append((count, future))
        return await future

    async def hold(self) -> bool:
        """Hold a request until `end_holds`: True when released (answer it), False when cut (do not)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.held.add(future)
        try:
            return await future
        finally:
            self.held.discard(future)

    def end_holds(self, *, answer: bool) -> None:
        """End every hold: the requests get their answer (`answer`) or none (the server is closing)."""
        for future in self.held:
            if not future.done():
                future.set_result(answer)


@attrs.define(kw_only=True, weakref_slot=False, eq=False)
class Fault:
    """A fault made by `Faults.add`: what it matches, what it answers, and what it has done so far."""

    method: str
    """The method it matches (upper case), ``*`` for any."""
    path: str
    """The path pattern it matches (``*`` one segment, ``**`` any run of segments)."""
    guild_id: int | None
    """The only guild it matches, ``None`` for any request (with or without a guild)."""
    status: int
    """The status of its answer."""
    message: str
    """The ``message`` of its Lavalink error JSON (``No message available`` when empty); unused with `body`."""
    body: bytes | None
    """A raw answer body instead of the Lavalink error JSON, ``None`` for the JSON."""
    content_type: str | None
    """The ``Content-Type`` of a raw `body` (``None``: aiohttp's default)."""
    apply: bool
    """Whether the node acts on the request before the fault answers."""
    hang: bool
    """Whether the request is held unanswered until released (or cut when the server closes)."""
    drop_connections: bool
    """Whether every websocket is cut right after the node acted (or would have)."""
    remaining: int | None
    """How many more requests it fires on; ``None`` for every one until `remove()`."""
    _pattern: re.Pattern[str] = attrs.field(alias="pattern", repr=False)
    _record: _Record = attrs.field(alias="record", repr=False)
    _on_remove: typing.Callable[[Fault], None] = attrs.field(alias="on_remove", repr=False)
    _removed: bool = attrs.field(default=False, init=False)

    @property
    def active(self) -> bool:
        """Whether it still matches requests (neither removed nor used up)."""
        return not self._removed and self.remaining != 0

    @property
    def hits(self) -> tuple[FaultHit, ...]:
        """The requests it fired on, in order."""
        return tuple(self._record.hits)

    @property
    def held(self) -> int:
        """How many requests it holds right now (a client that gave up still counts until the release)."""
        return len(self._record.held)

    def matches(self, method: str, path: str, guild_id: int | None) -> bool:
        """Whether a request with this method, path and guild is one this fault fires on."""
        if self.method != "*" and self.method != method.upper():
            return False
        if self.guild_id is not None and guild_id != self.guild_id:
            return False
        return self._pattern.fullmatch(path) is not None

    def release(self) -> None:
        """Answer every request held so far with this fault's answer (the fault stays active)."""
        self._record.end_holds(answer=True)

    def remove(self) -> None:
        """Stop matching requests and answer the held ones with this fault's answer. Idempotent."""
        self._removed = True
        self._on_remove(self)
        self.release()

    async def wait(self, count: int = 1) -> FaultHit:
        """Wait until it has fired `count` times in all (held requests count once held); return that hit."""
        return await self._record.wait(count)

    def answer(self, request: web.Request, *, now_ms: int) -> web.Response:
        """Its answer to `request`: the raw `body`, or a Lavalink (Spring Boot) error JSON with `status`."""
        if self.body is None:
            return error_response(request, self.status, self.message, now_ms=now_ms)
        headers = {"Content-Type": self.content_type} if self.content_type is not None else None
        return web.Response(status=self.status, body=self.body, headers=headers)


_Serve = typing.Callable[[], typing.Awaitable[web.StreamResponse]]


class Faults:
    """The faults of one `FakeLavalink` (``node.faults``): add them, and read what they did.

    Faults are checked in the order they were added; the first active one that matches a request fires.
    """

    def __init__(
        self,
        *,
        now_ms: typing.Callable[[], int],
        drop_connections: typing.Callable[[], typing.Awaitable[None]],
    ) -> None:
        self._now_ms = now_ms
        self._drop_connections = drop_connections
        self._active: list[Fault] = []
        self._records: dict[Fault, _Record] = {}  # every fault ever added: a removed one may still hold requests
        self._hits: list[FaultHit] = []

    @property
    def active(self) -> tuple[Fault, ...]:
        """The faults that still match requests, in the order they were added."""
        return tuple(self._active)

    @property
    def hits(self) -> tuple[FaultHit, ...]:
        """Every request any fault fired on, in order."""
        return tuple(self._hits)

    def add(
        self,
        method: str,
        path: str,
        *,
        guild_id: int | None = None,
        status: int = 500,
        message: str = "",
        body: str | bytes | None = None,
        content_type: str | None = None,
        apply: bool = False,
        hang: bool = False,
        drop_connections: bool = False,
        times: int | None = 1,
    ) -> Fault:
        """Make the next `times` requests matching `method` (``*``: any) and `path` fail; return the handle.

        The answer is `status` with a Lavalink error JSON carrying `message`, or the raw `body` (``str`` is
        sent as UTF-8) with `content_type`, e.g. an HTML page, ``""`` or ``'{"foo": 1}'`` with status 200.
        `guild_id` limits it to one guild's player routes. `apply`, `hang` and `drop_connections`: see the
        module docstring. Bad arguments raise `SettingsError` naming the parameter.
        """
        if not method.strip():
            raise SettingsError("method", "must be an HTTP method or '*'")
        if not path.startswith("/"):
            raise SettingsError("path", f"must start with '/', got {path!r}")
        if not 100 <= status <= 599:
            raise SettingsError("status", f"must be an HTTP status (100-599), got {status!r}")
        if body is not None and message:
            raise SettingsError("message", "is the error JSON's message: it cannot go with a raw body")
        if times is not None and times < 1:
            raise SettingsError("times", f"must be at least 1, or None for every request, got {times!r}")
        record = _Record()
        fault = Fault(
            method=method.strip().upper(),
            path=path,
            guild_id=guild_id,
            status=status,
            message=message,
            body=body.encode() if isinstance(body, str) else body,
            content_type=content_type,
            apply=apply,
            hang=hang,
            drop_connections=drop_connections,
            remaining=times,
            pattern=_compile(path),
            record=record,
            on_remove=self._discard,
        )
        self._records[fault] = record
        self._active.append(fault)
        return fault

    def _discard(self, fault: Fault) -> None:
        if fault in self._active:
            self._active.remove(fault)

    def clear(self) -> None:
        """Remove every fault, answering the requests they hold."""
        for fault in list(self._active):
            fault.remove()

    def take(self, request: web.Request) -> Fault | None:
        """The fault that fires on `request`, counted as used; ``None`` when none matches."""
        if not self._active or request.path == _WEBSOCKET_PATH:
            return None
        guild_id = _guild_of(request)
        for fault in self._active:
            if fault.matches(request.method, request.path, guild_id):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._discard(fault)
                return fault
        return None

    async def fire(self, fault: Fault, request: web.Request, serve: _Serve) -> web.StreamResponse:
        """Answer `request` as `fault` says; `serve` is the node's own handling (awaited when applying)."""
        if fault.apply:
            await serve()  # the node acts; its answer is lost, as behind a proxy that gave up
        if fault.drop_connections:
            await self._drop_connections()
        hit = FaultHit(
            method=request.method,
            path=request.path,
            guild_id=_guild_of(request),
            applied=fault.apply,
            held=fault.hang,
        )
        self._hits.append(hit)
        record = self._records[fault]
        record.add(hit)
        _LOGGER.debug("fault fired on %s %s: status %d, hang %s", hit.method, hit.path, fault.status, fault.hang)
        if fault.hang and not await record.hold():
            if request.transport is not None:  # the server is closing: the held request gets no answer
                request.transport.abort()
            return web.Response(status=fault.status)
        return fault.answer(request, now_ms=self._now_ms())

    def close(self) -> None:
        """Cut every held request without an answer: the server is closing (faults stay for a restart)."""
        for record in self._records.values():
            record.end_holds(answer=False)
