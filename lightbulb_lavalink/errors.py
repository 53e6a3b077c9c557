"""The exception types raised by lightbulb-lavalink, in one leaf module every layer may import."""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "HandoffError",
    "LavalinkError",
    "MusicUnavailableError",
    "NodeUnavailable",
    "PlayerNotFoundError",
    "PlayerOrSessionNotFoundError",
    "ProtocolError",
    "RequestTimeoutError",
    "RestError",
    "SessionExpired",
    "SessionNotFoundError",
    "SettingsError",
    "StartupAborted",
    "StoreError",
    "TrackDecodeError",
    "UserDataError",
    "VoiceTimeoutError",
]


class LavalinkError(Exception):
    """Base class of every error this library raises on purpose."""


class SettingsError(LavalinkError, ValueError):
    """A setting is missing or invalid; `field` names it (e.g. ``nodes[0].port``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"invalid setting {field!r}: {problem}")
        self.field = field
        """The dotted name of the offending setting."""
        self.problem = problem
        """What is wrong with it, in words."""


class ProtocolError(LavalinkError, ValueError):
    """A node sent a payload that does not follow the Lavalink v4 protocol.

    `where` is the dotted path of the offending value inside the payload (``"track.info.length"``).
    """

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"malformed Lavalink payload at {where or '<root>'}: {problem}")
        self.where = where
        """Dotted path of the offending value, ``""`` for the payload itself."""
        self.problem = problem
        """What is wrong with it."""


class TrackDecodeError(LavalinkError, ValueError):
    """An encoded track blob could not be decoded (bad base64, truncated, bad modified UTF-8)."""


class RestError(LavalinkError):
    """A Lavalink REST call answered with an error status.

    Carries what the server said: `status`, `message` (from its error JSON, or the reason phrase), `path`.
    """

    def __init__(self, status: int, message: str, path: str, *, method: str = "GET", error: str = "") -> None:
        super().__init__(f"{method} {path} failed with {status}: {message}")
        self.status = status
        """The HTTP status code."""
        self.message = message
        """The server's message (``"Session not found"``), or the reason phrase when it gave none."""
        self.path = path
        """The request path, without the query string."""
        self.method = method
        """The HTTP method."""
        self.error = error
        """The reason phrase the server put in its error JSON (``"Not Found"``), if any."""


class AuthenticationError(RestError):
    """The node refused the password (401 or 403), or none was configured; 401 on the websocket handshake.

    Lavalink answers 401 when the password is missing and 403 when it is wrong; NodeLink and many proxies answer
    401 for both, so the message says what the request itself can tell: whether a password was sent.
    """


class SessionNotFoundError(RestError):
    """A 404 on a session's route: the session id is unknown, expired, or paused awaiting a resume.

    Recognised by the route and method, whatever the server's wording (Lavalink: ``Session not found``; NodeLink:
    ``The provided sessionId doesn't exist.``).
    """


class PlayerNotFoundError(RestError):
    """A 404 on ``GET /v4/sessions/{id}/players/{guild}``: the session has no player for that guild."""


class PlayerOrSessionNotFoundError(PlayerNotFoundError, SessionNotFoundError):
    """A 404 on ``GET /v4/sessions/{id}/players/{guild}``: no such player, or no such session.

    Lavalink answers that route with 404 for both (only its wording tells them apart, and other servers word it
    differently), so the error is both: catch whichever you act on.
    """


class RequestTimeoutError(LavalinkError, TimeoutError):
    """A REST request or websocket handshake took longer than its timeout."""


class NodeUnavailable(LavalinkError):
    """No node can serve the request: unreachable, not yet ready, or none configured."""


class SessionExpired(LavalinkError):
    """A session that was expected to resume was gone (timeout passed or the node restarted)."""


class VoiceTimeoutError(LavalinkError, TimeoutError):
    """Discord did not send the voice state and voice server updates in time after a join."""


class StoreError(LavalinkError):
    """A session store could not be read or written (corrupt file, unreachable server)."""


class HandoffError(LavalinkError):
    """A handoff deploy could not take the cluster over: the store cannot carry one (SQLite, JSON, memory), no
    running process answered, or the sessions did not come back in time. The old process, if any, keeps running."""


class UserDataError(LavalinkError, TypeError, ValueError):
    """A track's user data is not strict JSON (RFC 8259), so it could neither be saved nor sent to Lavalink.

    The message names the offending key path (``user_data['when']: datetime is not JSON``). Both a
    `TypeError` (a value of the wrong type) and a `ValueError` (a value out of range: NaN, a lone surrogate).
    """


class MusicUnavailableError(LavalinkError):
    """The lightbulb extension is loaded degraded: it could not start (a bad setting, a store it cannot open).

    Raised where a command asks for the `LavalinkClient` (dependency injection); the extension answers such a
    command with an ephemeral "Music is unavailable: <reason>". `reason` never holds a secret.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"music is unavailable: {reason}")
        self.reason = reason
        """Why the extension could not start, as a person fixing it reads it."""


class StartupAborted(SystemExit):
    """The extension could not start and ``fail_fast`` is set: the load fails and, unless caught, the process
    exits with this message (a `SystemExit`, so that lightbulb does not log it and carry on)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"lightbulb-lavalink cannot start: {reason}")
        self.reason = reason
        """Why the extension could not start (never a secret)."""
