"""Where the HTTP layer meets ours: node URLs checked, aiohttp's errors put in words, the answer size bounded.

aiohttp's errors carry the request they belong to, headers (the node password) included, in their repr. The
REST client and the websocket handshake turn them into our errors with `describe_client_error` and never chain
them, so that no error, log line or embed can show a password.
"""

from __future__ import annotations

import typing

import aiohttp
import yarl

from lightbulb_lavalink.errors import ProtocolError, SettingsError
from lightbulb_lavalink.redact import redact_secret, redact_url

__all__ = ["DEFAULT_MAX_RESPONSE_SIZE", "describe_client_error", "node_url", "read_body"]

DEFAULT_MAX_RESPONSE_SIZE: typing.Final[int] = 32 * 1024 * 1024
"""The largest answer a node may send unless told otherwise (32 MiB): a REST body or a websocket message.
`LavalinkSettings.max_response_size` sets it."""
_ERROR_BODY_LIMIT: typing.Final = 64 * 1024  # an error answer's message is short: the rest is not read


def node_url(text: str, schemes: tuple[str, ...], field: str) -> yarl.URL:
    """`text` as a node URL with one of `schemes` and a host; `SettingsError` (never showing a password) if not.

    A user name or password in it is refused: the password is given on its own and sent as the
    ``Authorization`` header, and a URL holding one would be printed in errors and logs.
    """
    shown = redact_url(str(text))
    try:
        url: yarl.URL | None = yarl.URL(text)
    except (ValueError, TypeError):  # its message quotes the text: not kept, not even as the context
        url = None
    if url is None:
        raise SettingsError(field, f"{shown!r} is not a URL (a port that is not a number?)")
    host, user, password = url.host, url.raw_user, url.raw_password
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)
    if url.scheme not in schemes or not host:
        raise SettingsError(field, f"expected an {wanted} URL with a host, got {shown!r}")
    if user is not None or password is not None:
        raise SettingsError(field, f"{shown!r}: give the password on its own, not in the URL")
    return url


def describe_client_error(exc: aiohttp.ClientError, *secrets: str) -> str:
    """An aiohttp error in words safe to show anywhere: what kind of failure and what the server answered.

    Never the error's repr, which carries the request and its headers (the node password among them), nor the
    URLs it holds unredacted; `secrets` are scrubbed from what is left.
    """
    if isinstance(exc, aiohttp.TooManyRedirects):
        text = f"too many redirects ({len(exc.history)}, the last {exc.status} {exc.message})"
    elif isinstance(exc, aiohttp.ClientResponseError):
        text = f"{type(exc).__name__}: {exc.status} {exc.message}"
    elif isinstance(exc, aiohttp.InvalidURL):
        text = f"invalid URL {redact_url(str(exc.url))}"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return redact_secret(text, *secrets)


async def read_body(resp: aiohttp.ClientResponse, limit: int, *, truncate: bool, where: str) -> bytes:
    """The answer's body, reading no more than `limit` bytes.

    A larger success answer is a `ProtocolError` saying so (`where`: the request), the connection closed with
    the rest unread; one announcing a larger ``Content-Length`` is refused before any reading. An error answer
    (`truncate`) is cut to 64 KiB, all its message needs.
    """
    limit = min(limit, _ERROR_BODY_LIMIT) if truncate else limit
    declared = resp.content_length
    body = bytearray()
    if declared is None or declared <= limit or truncate:
        async for chunk in resp.content.iter_any():
            body += chunk
            if len(body) > limit:
                break
        else:
            return bytes(body)
    resp.close()  # the rest is never read
    if truncate:
        return bytes(body[:limit])
    size = f"{declared} bytes" if declared is not None and declared > limit else f"more than {limit} bytes"
    raise ProtocolError(
        "", f"{where}: the answer is too large ({size}; max_response_size is {limit} bytes); it was not read"
    )
