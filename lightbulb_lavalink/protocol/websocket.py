"""The Lavalink v4 websocket session: connect, decode every message in order, reconnect and resume."""

from __future__ import annotations

import asyncio
import logging
import typing

import aiohttp

from lightbulb_lavalink.clock import SYSTEM_CLOCK
from lightbulb_lavalink.errors import (
    AuthenticationError,
    LavalinkError,
    NodeUnavailable,
    ProtocolError,
    RequestTimeoutError,
    RestError,
)
from lightbulb_lavalink.protocol.backoff import Backoff
from lightbulb_lavalink.protocol.deviations import Deviations
from lightbulb_lavalink.protocol.messages import ReadyMessage, parse_message
from lightbulb_lavalink.protocol.rest import DEFAULT_CLIENT_NAME
from lightbulb_lavalink.protocol.transport import DEFAULT_MAX_RESPONSE_SIZE, describe_client_error, node_url
from lightbulb_lavalink.redact import redact_secret

if typing.TYPE_CHECKING:
    import random
    from collections.abc import Awaitable

    from lightbulb_lavalink.clock import Clock
    from lightbulb_lavalink.protocol.messages import Message

__all__ = ["Backoff", "WebSocketHandler", "WebSocketSession", "websocket_url"]

_LOGGER: typing.Final[logging.Logger] = logging.getLogger("lightbulb_lavalink.protocol.websocket")

_WEBSOCKET_PATH: typing.Final = "/v4/websocket"
_TEXT: typing.Final = aiohttp.WSMsgType.TEXT
_BINARY: typing.Final = aiohttp.WSMsgType.BINARY
_ABNORMAL_CLOSURE: typing.Final = 1006


class WebSocketHandler(typing.Protocol):
    """What a `WebSocketSession` reports to: its owner (a node)."""

    def on_message(self, message: Message) -> Awaitable[None] | None:
        """Handle one decoded message, in arrival order, one at a time: what it returns (if not `None`) is awaited
        before the next message is read (a slow one slows reading)."""

    async def on_disconnect(self, code: int | None, reason: str, will_reconnect: bool) -> None:
        """An established connection ended (`code` None when the socket died without a close frame)."""

    async def on_fatal(self, error: LavalinkError) -> None:
        """The node refused the handshake for good (wrong password, bad User-Id); no more attempts follow."""

    async def on_connect_failed(self, error: LavalinkError, retry_in: float) -> None:
        """A connection attempt failed (refused, timed out, no ``ready`` after the handshake); the next one
        follows in `retry_in` seconds. Optional: a handler without it is not told."""


def websocket_url(base_url: str) -> str:
    """Turn a node's base URL (``http(s)://host:port[/prefix]``) into its v4 websocket URL."""
    url = node_url(base_url, ("http", "https", "ws", "wss"), "url")
    scheme = {"http": "ws", "https": "wss"}.get(url.scheme, url.scheme)
    path = url.path.rstrip("/")
    if not path.endswith(_WEBSOCKET_PATH):
        path += _WEBSOCKET_PATH
    return str(url.with_scheme(scheme).with_path(path).with_query(None).with_fragment(None))


class WebSocketSession:
    """One client's websocket to one Lavalink node, kept up until `close()`.

    `start()` spawns the task that connects, hands every message to the handler, and reconnects with
    `backoff` after any disconnect, sending ``Session-Id`` = the id of the latest ``ready`` so the node
    resumes the session. A refused handshake (401, 403, 400, or 404: no v4 websocket there) is fatal: no
    more attempts, `handler.on_fatal()` is called and `wait_ready()` raises it.
    """

    def __init__(
        self,
        url: str,
        password: str,
        user_id: int,
        *,
        client_name: str = DEFAULT_CLIENT_NAME,
        session: aiohttp.ClientSession,
        handler: WebSocketHandler,
        session_id: str | None = None,
        backoff: Backoff = Backoff(),  # noqa: B008 - a frozen value, safe to share
        connect_timeout: float = 10.0,
        heartbeat: float | None = 30.0,
        close_timeout: float = 10.0,
        ready_timeout: float | None = None,
        rng: random.Random | None = None,
        clock: Clock = SYSTEM_CLOCK,
        max_message_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        deviations: Deviations | None = None,
    ) -> None:
        self._url = websocket_url(url)
        self._max_message_size = max_message_size
        self._deviations = deviations if deviations is not None else Deviations(f"the node at {self._url}")
        self._clock = clock
        self._password = password
        self._user_id = int(user_id)
        self._client_name = client_name
        self._http = session
        self._handler = handler
        self._session_id = session_id
        self._backoff = backoff
        self._connect_timeout = connect_timeout
        self._ready_timeout = connect_timeout if ready_timeout is None else ready_timeout
        self._heartbeat = heartbeat
        self._close_timeout = close_timeout
        self._rng = rng

        self._task: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._connecting = False
        """Whether a handshake is in flight: `close()` cancels it, as it has nothing to finish."""
        self._awaiting_ready = False
        """Whether the socket is open and its ``ready`` has not come: `close()` cancels that too."""
        self._closing = False
        self._attempt = 0
        self._ready: ReadyMessage | None = None
        self._ready_event = asyncio.Event()
        """Set once `_ready` was handled, or the session closed or failed: what `wait_ready()` waits for."""
        self._wakeup = asyncio.Event()
        self._fatal: LavalinkError | None = None
        self._session_resumed_header: bool | None = None
        self._attempt_started: float | None = None

    def __repr__(self) -> str:
        return f"WebSocketSession({self._url!r}, session_id={self._session_id!r})"

    # ------------------------------------------------------------------ state

    @property
    def url(self) -> str:
        """The websocket URL (``ws://host:port/v4/websocket``)."""
        return self._url

    @property
    def session_id(self) -> str | None:
        """The id of the latest ``ready`` (sent as ``Session-Id`` on the next connection); None before any."""
        return self._session_id

    @session_id.setter
    def session_id(self, value: str | None) -> None:
        # The owner forgets a session that failed to resume, or restores a saved one before `start()`.
        self._session_id = value or None

    @property
    def connected(self) -> bool:
        """Whether the socket is open and its ``ready`` arrived."""
        ws = self._ws
        return ws is not None and not ws.closed and self._ready is not None

    @property
    def ready_message(self) -> ReadyMessage | None:
        """The ``ready`` of the current connection, None while (re)connecting."""
        return self._ready

    @property
    def session_resumed_header(self) -> bool | None:
        """The ``Session-Resumed`` handshake header of this connection (informative: trust ``ready``)."""
        return self._session_resumed_header

    @property
    def attempt_started(self) -> float | None:
        """When (``clock.monotonic()``) the latest connection attempt began, or `None` before the first: at a
        `ready`, the handshake has taken the time since."""
        return self._attempt_started

    @property
    def fatal_error(self) -> LavalinkError | None:
        """The error that stopped the session for good, if any."""
        return self._fatal

    @property
    def running(self) -> bool:
        """Whether the connection task is alive."""
        return self._task is not None and not self._task.done()

    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
        return self._closing

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Spawn the connection task and return at once (no-op if running); `wait_ready()` awaits the node."""
        if self._closing:
            raise NodeUnavailable(f"the websocket session to {self._url} is closed")
        if self.running:
            return
        self._fatal = None
        self._attempt = 0
        self._ready_event.clear()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"lavalink websocket {self._url}")

    async def close(self) -> None:
        """Close the socket with code 1000 and await the task. Idempotent; the session stays resumable.

        A message being handled is finished first (up to `close_timeout` seconds, then the task is cancelled).
        """
        self._closing = True
        self._wakeup.set()  # ends a backoff wait
        self._ready_event.set()  # wakes `wait_ready()` callers: they raise
        task = self._task
        if task is None:
            return
        if task is asyncio.current_task():  # called by the handler: the loop ends once this message is done
            if self._ws is not None and not self._ws.closed:
                await self._ws.close(code=aiohttp.WSCloseCode.OK)
            return
        if (self._connecting or self._awaiting_ready) and not task.done():
            # No session yet, nothing to finish: the socket is dropped without waiting for the node to answer
            # a close frame (one that accepted the websocket and says nothing would keep us 10 s).
            task.cancel()
            await asyncio.wait((task,))
            return
        ws = self._ws
        try:
            if ws is not None and not ws.closed:
                # The receive loop ends by itself once the socket is closed, after the message in hand.
                await ws.close(code=aiohttp.WSCloseCode.OK)
            try:
                async with self._clock.timeout(self._close_timeout):
                    await asyncio.wait((task,))
            except TimeoutError:
                _LOGGER.warning(
                    "websocket %s: still busy %g s after close(); cancelling it",
                    self._url,
                    self._close_timeout,
                )
                task.cancel()
                await asyncio.wait((task,))
        except asyncio.CancelledError:
            task.cancel()
            raise

    async def wait_ready(self, timeout: float | None = None) -> ReadyMessage:
        """Wait for the current connection's ``ready`` (after the handler processed it) and return it.

        Raises `RequestTimeoutError` after `timeout` seconds, the fatal error if the node refused the
        handshake, `NodeUnavailable` if the session is closed.
        """
        try:
            async with self._clock.timeout(timeout):
                while True:
                    await self._ready_event.wait()
                    if self._fatal is not None:
                        raise self._fatal.with_traceback(None)
                    if self._closing:
                        raise NodeUnavailable(f"the websocket session to {self._url} is closed")
                    if self._ready is not None:
                        return self._ready
                    self._ready_event.clear()  # a stale wake-up: the connection it announced is gone
        except TimeoutError:
            raise RequestTimeoutError(f"no ready from {self._url} within {timeout:g} s") from None

    # ------------------------------------------------------------------ machinery

    async def _run(self) -> None:
        self._deviations.bind()  # what this task parses (every message) deviates as this node's
        try:
            while not self._closing:
                try:
                    ws = await self._connect()
                except _FatalHandshake as exc:
                    await self._set_fatal(exc.error)
                    return
                except LavalinkError as exc:
                    await self._wait_before_retry(str(exc), exc)
                    continue
                self._ws = ws
                if self._closing:  # close() ran while the handshake completed
                    break
                try:
                    code, reason = await self._receive(ws)
                except RequestTimeoutError as exc:  # no ready: a failed attempt, not a lost session
                    self._ws = None
                    await ws.close()  # at once: the receive it interrupted marked the socket aborted
                    await self._wait_before_retry(str(exc), exc)
                    continue
                self._ws = None
                self._ready = None
                if not self._closing:
                    self._ready_event.clear()
                will_reconnect = not self._closing
                _LOGGER.log(
                    logging.INFO if will_reconnect else logging.DEBUG,
                    "websocket %s closed (code %s%s)%s",
                    self._url,
                    code,
                    f", {reason}" if reason else "",
                    "; reconnecting" if will_reconnect else "",
                )
                await self._call_handler(self._handler.on_disconnect, code, reason, will_reconnect)
                if not self._closing:
                    await self._wait_before_retry(None)
        except Exception as exc:  # a bug: make it visible and terminal rather than a silent dead task
            _LOGGER.exception("websocket %s: the connection task failed", self._url)
            why = (
                describe_client_error(exc, self._password)
                if isinstance(exc, aiohttp.ClientError)
                else redact_secret(f"{type(exc).__name__}: {exc}", self._password)
            )
            self._fatal = NodeUnavailable(f"the websocket task for {self._url} failed: {why}")
            self._ready_event.set()
        finally:
            self._ready = None
            last, self._ws = self._ws, None
            if last is not None and not last.closed:
                await last.close(code=aiohttp.WSCloseCode.OK)

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        headers = {
            "Authorization": self._password,
            "User-Id": str(self._user_id),
            "Client-Name": self._client_name,
        }
        if self._session_id:
            headers["Session-Id"] = self._session_id
        if _LOGGER.isEnabledFor(logging.DEBUG):
            _LOGGER.debug("connecting to %s (Session-Id %s)", self._url, self._session_id)
        self._connecting = True
        self._attempt_started = self._clock.monotonic()
        # This is where failures of the handshake become ours. An aiohttp error carries the request with its
        # headers (the password): it is described in words and neither chained nor kept as the context.
        failure: LavalinkError | _FatalHandshake | None = None
        try:
            async with self._clock.timeout(self._connect_timeout):
                ws = await self._http.ws_connect(
                    self._url,
                    headers=headers,
                    heartbeat=self._heartbeat,
                    autoping=True,
                    max_msg_size=self._max_message_size,
                )
        except TimeoutError:
            failure = RequestTimeoutError(f"no handshake within {self._connect_timeout:g} s")
        except aiohttp.WSServerHandshakeError as exc:
            failure = self._handshake_refused(exc.status, redact_secret(exc.message, self._password))
        except aiohttp.ClientError as exc:
            failure = NodeUnavailable(describe_client_error(exc, self._password))
        finally:
            self._connecting = False
        if failure is not None:
            raise failure
        response = getattr(ws, "_response", None)
        resumed = response.headers.get("Session-Resumed") if response is not None else None
        self._session_resumed_header = None if resumed is None else resumed.lower() == "true"
        _LOGGER.debug("websocket %s: handshake done (Session-Resumed %s); waiting for ready", self._url, resumed)
        return ws

    def _handshake_refused(self, status: int, message: str) -> LavalinkError | _FatalHandshake:
        if status in (401, 403):
            error: RestError = AuthenticationError(
                status, "the node refused the password (check the node's password)", _WEBSOCKET_PATH, error=message
            )
            return _FatalHandshake(error)
        if status == 400:
            return _FatalHandshake(
                RestError(400, f"the node refused User-Id {self._user_id}", _WEBSOCKET_PATH, error=message)
            )
        if status == 404:
            error = RestError(
                404,
                "no Lavalink v4 websocket here: is it a Lavalink v3 server, or the wrong host or port?",
                _WEBSOCKET_PATH,
                error=message,
            )
            return _FatalHandshake(error)
        return NodeUnavailable(f"handshake answered {status} {message}")

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse) -> tuple[int | None, str]:
        """The hot path: read frames, parse, hand over in order. Returns the close code and reason."""
        on_message = self._handler.on_message
        receive = ws.receive
        parse = parse_message
        logger = _LOGGER
        reason = ""
        # Lavalink sends `ready` first. Until it comes, each read is bounded by what is left of `ready_timeout`
        # (on the injected clock): a node that accepts the websocket and says nothing is a failed attempt.
        self._awaiting_ready = True
        ready_by = self._clock.monotonic() + self._ready_timeout
        while True:
            if self._awaiting_ready:
                try:
                    async with self._clock.timeout(ready_by - self._clock.monotonic()):
                        msg = await receive()
                except TimeoutError:
                    self._awaiting_ready = False
                    raise RequestTimeoutError(f"no ready within {self._ready_timeout:g} s of the handshake") from None
            else:
                msg = await receive()
            kind = msg.type
            if kind is _TEXT or kind is _BINARY:
                try:
                    message = parse(msg.data)
                except ProtocolError as exc:  # logged once per kind: a server that always sends it says it once
                    self._deviations.refused(exc, "websocket message")
                    continue
                except Exception as exc:  # whatever a node sends must not end the connection task
                    what = type(exc).__name__
                    logger.warning("websocket %s: ignoring a message that cannot be read: %s: %s", self._url, what, exc)
                    continue
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("websocket %s <- %r", self._url, message)
                if type(message) is ReadyMessage:
                    await self._on_ready(message)
                    continue
                try:
                    rest = on_message(message)
                    if rest is not None:
                        await rest
                except Exception:
                    logger.exception("websocket %s: the handler failed on %s", self._url, type(message).__name__)
                continue
            if kind is aiohttp.WSMsgType.CLOSE:
                reason = redact_secret(msg.extra or "", self._password)
            elif kind is aiohttp.WSMsgType.ERROR:
                reason = redact_secret(str(msg.data), self._password)
            elif kind is not aiohttp.WSMsgType.CLOSED and kind is not aiohttp.WSMsgType.CLOSING:
                continue  # PING/PONG are answered by aiohttp
            break
        self._awaiting_ready = False
        if not ws.closed:
            await ws.close()
        code = ws.close_code
        if code == _ABNORMAL_CLOSURE:
            code = None
        if self._closing and not reason:
            reason = "closed by the client"
        return code, reason

    async def _on_ready(self, ready: ReadyMessage) -> None:
        # Policy: the latest ready's id is saved before anything acts on it.
        previous = self._session_id
        self._session_id = ready.session_id
        self._ready = ready
        self._awaiting_ready = False
        self._attempt = 0
        _LOGGER.info(
            "websocket %s ready: session %s (%s%s)",
            self._url,
            ready.session_id,
            "resumed" if ready.resumed else "new",
            f", replacing {previous}" if previous and previous != ready.session_id else "",
        )
        try:
            rest = self._handler.on_message(ready)
            if rest is not None:
                await rest
        except Exception:
            _LOGGER.exception("websocket %s: the handler failed on ReadyMessage", self._url)
        finally:
            if self._ready is ready:
                self._ready_event.set()

    async def _wait_before_retry(self, why: str | None, error: LavalinkError | None = None) -> None:
        delay = self._backoff.delay(self._attempt, rng=self._rng)
        self._attempt += 1
        hook = getattr(self._handler, "on_connect_failed", None)  # optional: older handlers lack it
        if error is not None and hook is not None:
            await self._call_handler(hook, error, delay)
        if why is not None:
            _LOGGER.warning(
                "cannot connect to Lavalink at %s: %s; retry %d in %.1f s",
                self._url,
                why,
                self._attempt,
                delay,
            )
        try:
            async with self._clock.timeout(delay):
                await self._wakeup.wait()  # set by close()
        except TimeoutError:
            pass

    async def _set_fatal(self, error: LavalinkError) -> None:
        self._fatal = error
        self._ready_event.set()
        _LOGGER.debug("websocket %s: %s; giving up (the handler reports it)", self._url, error)
        await self._call_handler(self._handler.on_fatal, error)

    async def _call_handler(self, method: typing.Callable[..., typing.Awaitable[None]], *args: object) -> None:
        try:
            await method(*args)
        except Exception:
            _LOGGER.exception("websocket %s: %s failed", self._url, getattr(method, "__name__", method))


class _FatalHandshake(Exception):
    """Internal: the handshake was refused in a way retrying cannot fix."""

    def __init__(self, error: LavalinkError) -> None:
        super().__init__(str(error))
        self.error = error
