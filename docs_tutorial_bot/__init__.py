"""The tutorial bot of the lightbulb-lavalink documentation (docs/tutorial.md)."""
