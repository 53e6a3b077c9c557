"""The tutorial bot of the lightbulb-lavalink documentation (kitdocs/tutorial.md)."""
