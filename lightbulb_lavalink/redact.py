"""Keeping secrets out of what we print: the one place URLs and messages lose their passwords.

A leaf module, like `errors`: every layer may import it. Every URL that reaches an error, a log line, a repr or
an embed goes through `redact_url`; every text that comes from elsewhere (an HTTP library's error, what a
node or a database server answered) and may quote a password we know goes through `redact_secret`.
"""

from __future__ import annotations

import re
import typing
import urllib.parse

__all__ = ["MASK", "redact_secret", "redact_url"]

MASK: typing.Final = "***"
"""What a hidden secret is shown as."""

_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.-]*):(/*)")
_KNOWN_SCHEMES = frozenset(
    {"http", "https", "ws", "wss", "redis", "rediss", "unix", "postgres", "postgresql", "sqlite", "json", "memory"}
)
_FILE_SCHEMES = frozenset({"sqlite", "json"})  # a path, never a host and port (``sqlite:///C:/x.db``)
_SECRET_KEYS = frozenset({"password", "passwd", "pass", "pwd", "sslpassword", "secret", "token", "auth"})
_PARAM = re.compile(r"[?&;]([^=&;?#]*)=")
_AUTHORITY_END = re.compile(r"[/?#]")


def redact_url(url: str) -> str:
    """`url` with every place a password may sit replaced by ``***``; safe on malformed URLs and typos.

    When in doubt it hides more, never less:

    - everything between the scheme and the **last** ``@`` (the user info, however many ``/ ? # :`` an unescaped
      password holds): ``redis://***@host:6379/0``;
    - the value of a password parameter (``password``, ``sslpassword``, ``pass``, ...) and everything after it,
      as an unescaped ``&`` or ``#`` may be part of it: ``postgresql://host/db?password=***``;
    - a port that is not a number, and everything after it, which is a password written where the port goes
      (``http://host:password``): ``http://host:***``.

    Scheme typos (``redis:/u:pw@host``, ``redis:///u:pw@host``, no scheme at all) are read the same way.
    """
    text = str(url)
    match = _SCHEME.match(text)
    scheme = ""
    if match is not None and (match.group(2) or match.group(1).lower() in _KNOWN_SCHEMES):
        scheme = match.group(1).lower()
        prefix, rest = text[: match.end()], text[match.end() :]
    else:
        prefix, rest = "", text  # ``user:pw@host`` or ``host:pw``: no scheme, all authority
    rest = _redact_params(rest)
    _, at, hostpart = rest.rpartition("@")
    if scheme not in _FILE_SCHEMES:
        hostpart = _redact_port(hostpart)
    return prefix + (MASK + "@" if at else "") + hostpart


def _redact_params(rest: str) -> str:
    for param in _PARAM.finditer(rest):
        if urllib.parse.unquote(param.group(1)).strip().lower() in _SECRET_KEYS:
            return rest[: param.end()] + MASK
    return rest


def _redact_port(hostpart: str) -> str:
    end = _AUTHORITY_END.search(hostpart)
    authority = hostpart if end is None else hostpart[: end.start()]
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            return hostpart  # an unclosed IPv6 address: no port to read
        colon = close + 1 if authority[close + 1 : close + 2] == ":" else -1
    else:
        colon = authority.find(":")
    if colon < 0:
        return hostpart
    port = authority[colon + 1 :]
    if not port or (port.isascii() and port.isdigit()):
        return hostpart
    return hostpart[:colon] + ":" + MASK


def redact_secret(text: str, *secrets: str | None) -> str:
    """`text` with each of `secrets` (as given and percent-encoded) replaced by ``***``.

    For text that comes from elsewhere and might quote a password we know: a node's error message, a close
    reason, a database driver's error.
    """
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote(secret)}:
            text = text.replace(form, MASK)
    return text
