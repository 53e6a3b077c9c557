"""Wire helpers of the emulator: compact JSON, Spring-style error bodies and strict request-body readers."""

from __future__ import annotations

import http
import json
import re
import typing

from aiohttp import web

__all__ = [
    "HttpError",
    "dumps",
    "error_response",
    "java_stack_trace",
    "parse_long",
    "read_bool",
    "read_float",
    "read_int",
    "read_object",
    "read_str",
]

_LONG_MIN = -(2**63)
_LONG_MAX = 2**63 - 1
_INT_MIN = -(2**31)
_INT_MAX = 2**31 - 1
_LONG_TEXT = re.compile(r"^[+-]?\d{1,19}$")


def dumps(payload: object) -> str:
    """Serialize like Lavalink: compact separators, keys in insertion order, non-ASCII kept as is."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class HttpError(Exception):
    """An error the emulator answers with a Spring Boot error JSON body (protocol §4.2)."""

    def __init__(self, status: int, message: str, *, exception: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status."""
        self.message = message
        """The ``message`` field of the body."""
        self.exception = exception or _default_exception(status)
        """The Java exception class named in the ``trace`` field."""


def _default_exception(status: int) -> str:
    if status >= 500:
        return "java.lang.RuntimeException"
    return "org.springframework.web.server.ResponseStatusException"


def java_stack_trace(exception: str, message: str, frames: typing.Sequence[str] = ()) -> str:
    """A plausible Java stack trace text (``Class: message`` then tab-indented ``at`` lines)."""
    lines = [f"{exception}: {message}" if message else exception]
    lines.extend(
        f"\tat {frame}"
        for frame in (
            *frames,
            "lavalink.server.io.RequestHandler.handle(RequestHandler.kt:42)",
            "java.base/java.lang.Thread.run(Thread.java:1583)",
        )
    )
    return "\n".join(lines) + "\n"


def error_response(
    request: web.Request, status: int, message: str, *, exception: str | None = None, now_ms: int
) -> web.Response:
    """Spring Boot's JSON error body, keys in order ``timestamp status error [trace] message path``.

    ``trace`` is present only when the query has a ``trace`` parameter whose value is not ``false``.
    """
    body: dict[str, object] = {
        "timestamp": now_ms,
        "status": status,
        "error": _reason(status),
    }
    trace = request.query.get("trace")
    if trace is not None and trace != "false":
        exc = exception or _default_exception(status)
        body["trace"] = java_stack_trace(
            exc, message, ("lavalink.server.io.SpringErrorController.error(SpringErrorController.kt:30)",)
        )
    body["message"] = message or "No message available"
    body["path"] = request.path
    return web.Response(status=status, text=dumps(body), content_type="application/json")


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def parse_long(text: str) -> int | None:
    """`text` as Java's ``Long.parseLong`` reads it (sign, decimal digits, in range), ``None`` if it fails."""
    if _LONG_TEXT.match(text) is None:
        return None
    value = int(text)
    return value if _LONG_MIN <= value <= _LONG_MAX else None


# --- strict readers for request bodies (kotlinx.serialization semantics: explicit null is an error) ---


def _bad(where: str, problem: str) -> HttpError:
    return HttpError(400, f"Failed to read request: {problem} at '{where}'")


def read_object(value: object, where: str) -> dict[str, typing.Any]:
    """A JSON object, or 400."""
    if not isinstance(value, dict):
        raise _bad(where, "expected a JSON object")
    return typing.cast("dict[str, typing.Any]", value)


def read_str(value: object, where: str) -> str:
    """A JSON string (not null), or 400."""
    if not isinstance(value, str):
        raise _bad(where, "expected a string")
    return value


def read_bool(value: object, where: str) -> bool:
    """A JSON boolean (not null), or 400."""
    if not isinstance(value, bool):
        raise _bad(where, "expected a boolean")
    return value


def read_int(value: object, where: str, *, bits: int = 64) -> int:
    """A JSON integer fitting a Java long (or int with ``bits=32``), or 400."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(where, "expected an integer")
    low, high = (_INT_MIN, _INT_MAX) if bits == 32 else (_LONG_MIN, _LONG_MAX)
    if not low <= value <= high:
        raise _bad(where, "number out of range")
    return value


def read_float(value: object, where: str) -> float:
    """A JSON number (integers accepted), or 400."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(where, "expected a number")
    return float(value)
