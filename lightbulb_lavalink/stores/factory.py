"""`open_store(url)`: the store a URL names, chosen by its scheme."""

from __future__ import annotations

import typing
import urllib.parse

from lightbulb_lavalink.errors import SettingsError
from lightbulb_lavalink.redact import redact_url
from lightbulb_lavalink.stores.base import check_path, check_seconds, split_url

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.stores.base import SessionStore

__all__ = ["DEFAULT_STORE_URL", "STORE_SCHEMES", "check_store_url", "open_store"]

DEFAULT_STORE_URL = "sqlite:///lavalink_sessions.db"
"""The store used when none is configured: a SQLite file in the working folder."""

STORE_SCHEMES = ("memory", "json", "sqlite", "redis", "rediss", "postgresql", "postgres")
"""The URL schemes `open_store` understands."""


def open_store(url: str, **options: typing.Any) -> SessionStore:
    """Build the store `url` names; `options` go to its constructor. Does no I/O: call `open()` next.

    ``memory://``, ``json:///sessions.json``, ``sqlite:///relative.db`` or ``sqlite:////abs/path.db``
    (query options ``timeout``, ``synchronous``), ``redis://[:password@]host:port/db?prefix=...`` (also
    ``rediss://``), ``postgresql://user:password@host:port/db?schema=...&table=...`` (also ``postgres://``).
    Raises:
        SettingsError: (field ``store``) A malformed URL, an unknown scheme or option, or a missing optional
            dependency, with the ``pip install`` line that fixes it.
    """
    scheme, parts = _split(url)
    try:
        if scheme == "memory":
            from lightbulb_lavalink.stores.memory import MemoryStore

            return MemoryStore(**options)
        if scheme in {"json", "sqlite"}:
            path, url_options = _file_store_args(scheme, parts, url)
            if scheme == "json":
                from lightbulb_lavalink.stores.jsonfile import JSONFileStore

                return JSONFileStore(path, **options)
            from lightbulb_lavalink.stores.sqlite import SQLiteStore

            return SQLiteStore(path, **{**url_options, **options})
        if scheme in {"redis", "rediss"}:
            from lightbulb_lavalink.stores.redis_store import RedisStore

            return RedisStore(url, **options)
        from lightbulb_lavalink.stores.postgres import PostgresStore

        return PostgresStore(url, **options)
    except TypeError as exc:  # an option the store does not take
        raise SettingsError("store", f"bad option for a {scheme} store: {exc}") from None


def check_store_url(url: str) -> None:
    """Check a store URL as `open_store` reads it, without building the store or importing its driver.

    `LavalinkSettings` calls it, so that a bad store URL is a `SettingsError` (field ``store``) when the
    settings are built rather than a failure at start.

    Raises:
        SettingsError: (field ``store``) The URL is malformed, or its scheme or an option is unknown or invalid.
    """
    scheme, parts = _split(url)
    if scheme in {"json", "sqlite"}:
        path, url_options = _file_store_args(scheme, parts, url)
        check_path(scheme, path)
        if "timeout" in url_options:
            check_seconds("the sqlite timeout", url_options["timeout"], zero_ok=True)
    elif scheme in {"redis", "rediss"}:
        from lightbulb_lavalink.stores.redis_store import parse_redis_url

        parse_redis_url(url)
    elif scheme in {"postgresql", "postgres"}:
        from lightbulb_lavalink.stores.postgres import parse_postgres_url

        parse_postgres_url(url)


def _split(url: str) -> tuple[str, urllib.parse.SplitResult]:
    """The store scheme of `url` and the URL split; `SettingsError` for what no store reads."""
    if not isinstance(url, str) or "://" not in url:
        shown = redact_url(url) if isinstance(url, str) else type(url).__name__
        raise SettingsError("store", f"expected a URL such as {DEFAULT_STORE_URL!r}, got {shown!r}")
    scheme = url.partition("://")[0].lower()
    if scheme not in STORE_SCHEMES:
        known = ", ".join(STORE_SCHEMES)
        raise SettingsError("store", f"unknown store scheme {scheme[:20]!r} in {redact_url(url)!r}; use one of {known}")
    parts = split_url(url)
    if scheme == "memory" and (parts.netloc or parts.path or parts.query or parts.fragment):
        raise SettingsError("store", f"write 'memory://' (no path, no options), not {redact_url(url)!r}")
    return scheme, parts


def _file_store_args(scheme: str, parts: urllib.parse.SplitResult, url: str) -> tuple[str, dict[str, typing.Any]]:
    """The path and URL options of a ``json:///`` or ``sqlite:///`` URL, checked."""
    if parts.netloc or not parts.path.startswith("/") or len(parts.path) < 2:
        raise SettingsError(
            "store",
            f"{redact_url(url)!r}: a {scheme} URL has three slashes then the path: "
            f"'{scheme}:///relative/file' or '{scheme}:////absolute/file'",
        )
    path = check_path(scheme, urllib.parse.unquote(parts.path[1:]))
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    if scheme == "json":
        if query:
            raise SettingsError("store", f"a json store takes no URL options, got {sorted(query)}")
        return path, {}
    unknown = sorted(set(query) - {"timeout", "synchronous"})
    if unknown:
        raise SettingsError("store", f"unknown sqlite URL options {unknown}; known: synchronous, timeout")
    options: dict[str, typing.Any] = {}
    if "timeout" in query:
        try:
            timeout = float(query["timeout"])
        except ValueError:
            shown = query["timeout"][:20]
            raise SettingsError("store", f"the sqlite timeout must be a number of seconds, not {shown!r}") from None
        options["timeout"] = check_seconds("the sqlite timeout", timeout, zero_ok=True)
    if "synchronous" in query:
        synchronous = query["synchronous"]
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            problem = f"sqlite synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous[:20]!r}"
            raise SettingsError("store", problem)
        options["synchronous"] = synchronous
    return path, options
