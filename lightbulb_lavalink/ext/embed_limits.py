"""Keeping embeds within Discord's limits: clipped texts, joined lines and fields that say what was left out."""

from __future__ import annotations

import typing

if typing.TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import hikari

__all__ = ["DESCRIPTION_LIMIT", "FIELD_LIMIT", "add_fields", "clip", "embed_size", "join_lines"]

FIELD_LIMIT: typing.Final[int] = 1024
"""Characters in a field value."""
DESCRIPTION_LIMIT: typing.Final[int] = 4096
"""Characters in an embed description."""
_MAX_FIELDS: typing.Final[int] = 25
_EMBED_LIMIT: typing.Final[int] = 6000
_FOOTER_RESERVE: typing.Final[int] = 100
_MORE_RESERVE: typing.Final[int] = 80
_LINE_LIMIT: typing.Final[int] = 300


def clip(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def join_lines(lines: Iterable[str], limit: int) -> str:
    """Join `lines` within `limit` characters; when some do not fit, the last line says how many were cut."""
    lines = [clip(line, _LINE_LIMIT) for line in lines]
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        after = len(lines) - index - 1
        reserve = len(f"\n… ({after} more lines)") if after else 0
        needed = len(line) + (1 if out else 0)
        if used + needed + reserve > limit:
            out.append(f"… ({len(lines) - index} more lines)")
            break
        out.append(line)
        used += needed
    return "\n".join(out) or "\u200b"


def embed_size(embed: hikari.Embed) -> int:
    """Characters Discord counts against an embed's 6000 (title, description, fields, footer)."""
    size = len(embed.title or "") + len(embed.description or "")
    size += sum(len(field.name) + len(field.value) for field in embed.fields)
    return size + (len(embed.footer.text or "") if embed.footer is not None else 0)


def add_fields(embed: hikari.Embed, fields: Sequence[tuple[str, str]], *, what: str) -> None:
    """Add fields within Discord's limits (25 fields, 6000 characters); a last one counts those left out."""
    budget = _EMBED_LIMIT - _FOOTER_RESERVE - embed_size(embed)
    clipped = [(clip(name, 256), clip(value, FIELD_LIMIT) or "\u200b") for name, value in fields]
    for index, (name, value) in enumerate(clipped):
        left = len(clipped) - index
        cost = len(name) + len(value)
        last_slot = len(embed.fields) == _MAX_FIELDS - 1
        if (left > 1 and (last_slot or cost + _MORE_RESERVE > budget)) or cost > budget:
            embed.add_field(f"… and {left} more {what}", "Not shown: they do not fit in one message.")
            return
        embed.add_field(name, value)
        budget -= cost
