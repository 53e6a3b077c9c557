"""Benchmarks of lightbulb-lavalink against the Python Lavalink clients in use: ``python -m benchmarks``."""
