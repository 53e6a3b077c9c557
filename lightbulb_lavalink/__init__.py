"""Lavalink v4 for hikari bots, shipped as a hikari-lightbulb extension, with complete session resuming."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
