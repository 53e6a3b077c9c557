"""Command line: ``python -m lightbulb_lavalink demo`` and ``python -m lightbulb_lavalink check``."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(
        prog="python -m lightbulb_lavalink",
        description="lightbulb-lavalink: Lavalink v4 for hikari bots, with complete session resuming.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "demo",
        help="show a bot restart and a Lavalink restart with every queue kept (no Discord, no Lavalink needed)",
    )
    commands.add_parser(
        "check",
        help="check the settings (LAVALINK_* variables), every node and the store, as the bot would use them",
    )
    args = parser.parse_args(argv)
    if args.command == "check":
        from lightbulb_lavalink.check import main as check_main

        return check_main()
    if args.command == "demo":
        from lightbulb_lavalink.demo import main as demo_main

        return demo_main()
    parser.error(f"unknown command {args.command!r}")
    return 2  # pragma: no cover - parser.error exits


if __name__ == "__main__":
    sys.exit(main())
