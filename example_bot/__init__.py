"""A small music bot on hikari-lightbulb 3 and lightbulb-lavalink: run it with ``python -m example_bot``."""
