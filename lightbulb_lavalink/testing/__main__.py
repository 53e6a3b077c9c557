"""Run a `FakeLavalink` node on its own: ``python -m lightbulb_lavalink.testing --port 2333``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import typing

from lightbulb_lavalink.testing.server import FakeLavalink

__all__ = ["main"]

_LOGGER = logging.getLogger("lightbulb_lavalink.testing")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lightbulb_lavalink.testing",
        description="Run an emulated Lavalink v4 node until Ctrl-C (SIGINT) or SIGTERM.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=2333, help="port to listen on (default: %(default)s)")
    parser.add_argument("--password", default="youshallnotpass", help="the Authorization password")
    parser.add_argument(
        "--version", dest="lavalink_version", default=None, help="version to emulate (default: 4.2.2; NodeLink 3.7.0)"
    )
    parser.add_argument(
        "--flavour", default="lavalink", choices=("lavalink", "nodelink"), help="the server to answer as"
    )
    parser.add_argument("--time-scale", type=float, default=1.0, help="emulated seconds per real second")
    parser.add_argument("--player-update-interval", type=float, default=5.0, help="seconds between playerUpdates")
    parser.add_argument("--stats-interval", type=float, default=60.0, help="seconds between stats ops")
    parser.add_argument("--log-level", default="INFO", help="logging level (default: %(default)s)")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not available on Windows
            loop.add_signal_handler(sig, stop.set)
    async with FakeLavalink(
        password=args.password,
        host=args.host,
        port=args.port,
        version=args.lavalink_version,
        flavour=args.flavour,
        time_scale=args.time_scale,
        player_update_interval=args.player_update_interval,
        stats_interval=args.stats_interval,
    ) as node:
        server = "NodeLink" if node.flavour == "nodelink" else "Lavalink"
        _LOGGER.info("serving %s %s on %s (websocket at /v4/websocket)", server, node.version, node.url)
        await stop.wait()
        _LOGGER.info("shutting down")


def main(argv: typing.Sequence[str] | None = None) -> int:
    """Parse `argv`, serve until interrupted, return the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:  # a second Ctrl-C, or a platform without signal handlers
        return 130
    except OSError as exc:
        _LOGGER.error("cannot serve on %s:%s: %s", args.host, args.port, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
