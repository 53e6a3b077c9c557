"""Helpers shared by the protocol tests: the §6.3 blob, JSON fuzzing strategies, a loopback HTTP server."""

from __future__ import annotations

import contextlib
import copy
import socket
import typing

from aiohttp import web
from hypothesis import strategies as st

PASSWORD = "s3cret-pass"

BLOB = (  # protocol §6.3, version 3, position 0
    "QAAAzgMAMUJsZWVkIEl0IE91dCBbT2ZmaWNpYWwgTXVzaWMgVmlkZW9dIC0gTGlua2luIFBhcmsAC0xpbmtpbiBQYXJrAAAAAAAClCgAC09"
    "udXVZY3FoekNFAAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9T251dVljcWh6Q0UBADRodHRwczovL2kueXRpbWcuY29tL3"
    "ZpL09udXVZY3FoekNFL21heHJlc2RlZmF1bHQuanBnAAAHeW91dHViZQAAAAAAAAAA"
)

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def damaged(payload: typing.Any) -> st.SearchStrategy[typing.Any]:
    """A valid payload with one nested value replaced by arbitrary JSON, or one key removed."""
    paths: list[tuple[typing.Any, ...]] = []

    def walk(node: typing.Any, path: tuple[typing.Any, ...]) -> None:
        paths.append(path)
        children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in children:
            walk(value, (*path, key))

    walk(payload, ())

    def apply(path: tuple[typing.Any, ...], value: typing.Any, delete: bool) -> typing.Any:
        if not path:
            return value
        result = copy.deepcopy(payload)
        parent = result
        for key in path[:-1]:
            parent = parent[key]
        if delete and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        return result

    return st.builds(apply, st.sampled_from(paths), json_values, st.booleans())


def free_port() -> int:
    """A loopback port nothing listens on (for "node unreachable" tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve_app(app: web.Application) -> typing.AsyncIterator[str]:
    """Serve `app` on a free loopback port for the block; yields its ``http://host:port`` URL."""
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()
