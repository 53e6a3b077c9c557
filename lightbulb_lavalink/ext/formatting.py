"""How the `/lavalink` embeds write values: ids, track times, durations, uptimes, sizes, Discord timestamps."""

from __future__ import annotations

import datetime

__all__ = [
    "discord_time",
    "format_bytes",
    "format_duration",
    "format_ms",
    "format_uptime",
    "plural",
    "short_id",
]


def short_id(session_id: str | None, length: int = 8) -> str:
    """The first `length` characters of a session id (with an ellipsis), or ``none``."""
    if not session_id:
        return "none"
    return session_id if len(session_id) <= length else session_id[:length] + "…"


def format_ms(ms: int | None) -> str:
    """A track position or length: ``3:07`` or ``1:02:03``; ``live`` for `None`."""
    if ms is None:
        return "live"
    seconds = max(0, int(ms)) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def format_duration(seconds: float) -> str:
    """A short duration: ``340 ms``, ``2.5 s``, ``3 min 20 s``."""
    if seconds < 1:
        return f"{max(0.0, seconds) * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes} min {secs} s"


def format_uptime(ms: int) -> str:
    """An uptime from milliseconds, two largest units: ``3d 4h``, ``2h 5m``, ``5m 3s``, ``12s``."""
    seconds = max(0, int(ms)) // 1000
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    return " ".join(f"{value}{unit}" for value, unit in parts[:2])


def format_bytes(count: int) -> str:
    """A byte count in binary units: ``512 MiB``, ``1.5 GiB`` (``over 1 PiB`` for what no node has)."""
    if count >= 1024**5:
        return "over 1 PiB"  # as a float it may not even fit
    value = float(max(0, count))
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit in ("B", "KiB", "MiB") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def discord_time(when: datetime.datetime, style: str = "R") -> str:
    """A Discord timestamp (``<t:1700000000:R>``), shown to each reader in their own time zone."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return f"<t:{int(when.timestamp())}:{style}>"


def plural(count: int, word: str) -> str:
    """``1 node``, ``2 nodes``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
