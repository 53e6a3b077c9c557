"""``python -m example_bot``: run the example music bot (see example_bot/README.md)."""

from __future__ import annotations

from example_bot.bot import main

raise SystemExit(main())
