"""`exception_texts`: everything an exception shows a person who reads a log or a traceback, to look for secrets in."""

from __future__ import annotations

import traceback

__all__ = ["exception_texts"]


def exception_texts(exc: BaseException) -> list[str]:
    """str, repr, args and formatted traceback of `exc` and of everything chained to it, suppressed context included."""
    texts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), *map(repr, current.args)]
        todo += [current.__cause__, current.__context__]
    return texts
