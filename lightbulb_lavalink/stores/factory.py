"""`open_store(url)`: the store a URL names, chosen by its scheme."""

from __future__ import annotations

import typing
import urllib.parse

from lightbulb_lavalink.errors import SettingsError
from lightbulb_lavalink.redact import redact_url

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.stores.base import SessionStore

__all__ = ["DEFAULT_STORE_URL", "STORE_SCHEMES", "open_store"]

DEFAULT_STORE_URL = "sqlite:///lavalink_sessions.db"
"""The store used when none is configured: a SQLite file in the working folder."""

STORE_SCHEMES = ("memory", "json", "sqlite", "redis", "rediss", "postgresql", "postgres")
"""The URL schemes `open_store` understands."""


def open_store(url: str, **options: typing.Any) -> SessionStore:
    """Build the store `url` names; `options` go to its constructor. Does no I/O: call `open()` next.

    ``memory://``, ``json:///sessions.json``, ``sqlite:///relative.db`` or ``sqlite:////abs/path.db``
    (query options ``timeout``, ``synchronous``), ``redis://[:password@]host:port/db?prefix=...`` (also
    ``rediss://``), ``postgresql://user:password@host:port/db?schema=...&table=...`` (also ``postgres://``).
    Raises `SettingsError` (field ``store``) for a malformed URL, an unknown scheme or option, or a missing
    optional dependency, with the ``pip install`` line that fixes it.
    """
    if not isinstance(url, str) or "://" not in url:
        raise SettingsError("store", f"expected a URL such as {DEFAULT_STORE_URL!r}, got {redact_url(str(url))!r}")
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        if scheme == "memory":
            from lightbulb_lavalink.stores.memory import MemoryStore

            if parts.netloc or parts.path or parts.query:
                raise SettingsError("store", f"write 'memory://' (no path, no options), not {redact_url(url)!r}")
            return MemoryStore(**options)
        if scheme in {"json", "sqlite"}:
            return _open_file_store(scheme, parts, url, options)
        if scheme in {"redis", "rediss"}:
            from lightbulb_lavalink.stores.redis_store import RedisStore

            return RedisStore(url, **options)
        if scheme in {"postgresql", "postgres"}:
            from lightbulb_lavalink.stores.postgres import PostgresStore

            return PostgresStore(url, **options)
    except TypeError as exc:  # an option the store does not take
        raise SettingsError("store", f"bad option for a {scheme} store: {exc}") from None
    known = ", ".join(STORE_SCHEMES)
    problem = f"unknown store scheme {parts.scheme!r} in {redact_url(url)!r}; use one of {known}"
    raise SettingsError("store", problem)


def _open_file_store(
    scheme: str, parts: urllib.parse.SplitResult, url: str, options: dict[str, typing.Any]
) -> SessionStore:
    if parts.netloc or not parts.path.startswith("/") or len(parts.path) < 2:
        raise SettingsError(
            "store",
            f"{redact_url(url)!r}: a {scheme} URL has three slashes then the path: "
            f"'{scheme}:///relative/file' or '{scheme}:////absolute/file'",
        )
    path = urllib.parse.unquote(parts.path[1:])
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    if scheme == "json":
        from lightbulb_lavalink.stores.jsonfile import JSONFileStore

        if query:
            raise SettingsError("store", f"a json store takes no URL options, got {sorted(query)}")
        return JSONFileStore(path, **options)

    from lightbulb_lavalink.stores.sqlite import SQLiteStore

    unknown = sorted(set(query) - {"timeout", "synchronous"})
    if unknown:
        raise SettingsError("store", f"unknown sqlite URL options {unknown}; known: synchronous, timeout")
    merged: dict[str, typing.Any] = {}
    if "timeout" in query:
        try:
            merged["timeout"] = float(query["timeout"])
        except ValueError:
            problem = f"sqlite timeout must be a number of seconds, got {query['timeout']!r}"
            raise SettingsError("store", problem) from None
    if "synchronous" in query:
        merged["synchronous"] = query["synchronous"]
    merged.update(options)
    return SQLiteStore(path, **merged)
