"""Strict JSON for track user data: the check a `Track` runs on the user data it is given, and the repair the
session stores and the REST client fall back on when non-JSON data got in some other way."""

from __future__ import annotations

import collections.abc
import json
import math
import typing

from lightbulb_lavalink.errors import UserDataError

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "checked_user_data", "strict_json", "without_non_json"]

MAX_DEPTH: typing.Final[int] = 64
"""How deeply user data may nest objects and arrays (a reader's recursion limit must never be what fails)."""
MAX_INT_DIGITS: typing.Final[int] = 640
"""The most decimal digits an integer in user data may have: the lowest limit Python can be set to convert
(`sys.set_int_max_str_digits`), so every process can write it and read it back."""

_INT_BOUND: typing.Final[int] = 10**MAX_INT_DIGITS


class _NotJSON(Exception):
    """Raised deep inside `_strict`; each level on the way out adds its key, outermost last."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.keys: list[str | int] = []


def checked_user_data(data: typing.Mapping[str, typing.Any], where: str = "user_data") -> dict[str, typing.Any]:
    """Return a fresh plain copy of `data` if it is strict JSON (RFC 8259), else raise `UserDataError`.

    Strict JSON: objects (any mapping) with string keys, arrays (lists, and tuples, copied as lists), strings
    that UTF-8 can carry (no lone surrogate), finite floats, ints of at most `MAX_INT_DIGITS` digits, booleans
    and ``None``, nested at most `MAX_DEPTH` deep, with no object or array inside itself. The copy is the
    caller's own: changing `data` later does not change it. The error names the offending key path, e.g.
    ``user_data['when']: datetime is not JSON``; it is both a `TypeError` and a `ValueError`.
    """
    if type(data) is not dict and not isinstance(data, collections.abc.Mapping):
        raise UserDataError(f"{where}: {_kind(data)} is not a JSON object (give a dict)")
    try:
        copied = _strict(data, 0, set())
    except _NotJSON as exc:
        raise UserDataError(f"{where}{_path(reversed(exc.keys))}: {exc.reason}") from None
    return typing.cast("dict[str, typing.Any]", copied)


def strict_json(value: object) -> bool:
    """Whether Python's `json` writes `value` as strict JSON (no ``NaN``/``Infinity``) that UTF-8 can carry.

    Looser than `checked_user_data` where `json` is (int, float, bool and ``None`` keys are written as strings,
    ints up to Python's digit limit), and as cheap as one `json.dumps`.
    """
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        if not text.isascii():
            text.encode("utf-8")
    except (TypeError, ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        return False
    return True


def without_non_json(data: object, where: str = "user_data") -> tuple[dict[str, typing.Any], list[str]]:
    """Return `data` as strict JSON and what was removed to make it so (one line per problem, key path first).

    `data` itself comes back, untouched, when `strict_json` says it is fine. Otherwise a copy comes back
    holding every part `checked_user_data` accepts: an object entry whose key or value is not JSON is left
    out, an array item that is not JSON becomes ``null`` (so the other items keep their index), and anything
    that is not a mapping at all becomes ``{}``. Never raises.
    """
    if isinstance(data, dict) and strict_json(data):
        return data, []
    problems: list[str] = []
    if not isinstance(data, collections.abc.Mapping):
        problems.append(f"{where}: {_kind(data)} is not a JSON object")
        return {}, problems
    return typing.cast("dict[str, typing.Any]", _repair(data, where, 0, set(), problems)), problems


def _kind(value: object) -> str:
    if isinstance(value, float):
        return repr(value)  # nan, inf, -inf
    if isinstance(value, int):
        return f"int of more than {MAX_INT_DIGITS} digits"
    return type(value).__name__


def _path(keys: typing.Iterable[str | int]) -> str:
    return "".join(f"[{key!r}]" for key in keys)


def _scalar_problem(value: object) -> str | None:
    """Why the non-container `value` is not JSON, or ``None`` if it is."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return _value_text_problem(value)
    if isinstance(value, int):
        return None if -_INT_BOUND < value < _INT_BOUND else f"{_kind(value)} is not JSON every reader takes"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r} is not JSON"
    return f"{_kind(value)} is not JSON"


def _text_problem(text: str) -> str | None:
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"lone surrogate {text[exc.start]!r} at index {exc.start}, which UTF-8 cannot carry"
    return None


def _value_text_problem(text: str) -> str | None:
    problem = _text_problem(text)
    return None if problem is None else f"str with a {problem}, is not JSON"


def _key_problem(key: object) -> str | None:
    if not isinstance(key, str):
        return f"key {key!r} is {type(key).__name__}, not a string"
    problem = _text_problem(key)
    return None if problem is None else f"key {key!r} has a {problem}"


def _strict(value: typing.Any, depth: int, active: set[int]) -> typing.Any:
    """A plain copy of `value`, or `_NotJSON` naming the first problem (the keys are added on the way out)."""
    kind = type(value)
    if kind is str:
        if not value.isascii():
            problem = _value_text_problem(value)
            if problem is not None:
                raise _NotJSON(problem)
        return value
    if kind is int:
        if -_INT_BOUND < value < _INT_BOUND:
            return value
        raise _NotJSON(f"{_kind(value)} is not JSON every reader takes")
    if value is None or kind is bool or (kind is float and math.isfinite(value)):
        return value
    if kind is dict or (kind is not list and kind is not tuple and isinstance(value, collections.abc.Mapping)):
        _enter(value, depth, active)
        out: dict[str, typing.Any] = {}
        for key, item in value.items():
            if (type(key) is not str or not key.isascii()) and (problem := _key_problem(key)) is not None:
                raise _NotJSON(problem)
            if (type(item) is int and -_INT_BOUND < item < _INT_BOUND) or (type(item) is str and item.isascii()):
                out[key] = item  # the usual user data (ids, names): no call
                continue
            try:
                out[key] = _strict(item, depth + 1, active)
            except _NotJSON as exc:
                exc.keys.append(key)
                raise
        active.discard(id(value))  # on failure the whole walk is abandoned, `active` with it
        return out
    if kind is list or kind is tuple:
        _enter(value, depth, active)
        items = []
        for index, item in enumerate(value):
            try:
                items.append(_strict(item, depth + 1, active))
            except _NotJSON as exc:
                exc.keys.append(index)
                raise
        active.discard(id(value))
        return items
    problem = _scalar_problem(value)
    if problem is not None:
        raise _NotJSON(problem)
    return value  # a subclass of str, int or float: `json` writes it as its base type


def _enter(container: object, depth: int, active: set[int]) -> None:
    if id(container) in active:
        raise _NotJSON(f"{type(container).__name__} containing itself is not JSON")
    if depth >= MAX_DEPTH:
        raise _NotJSON(f"nesting deeper than {MAX_DEPTH} levels is not JSON every reader takes")
    active.add(id(container))


_DROP: typing.Final = object()


def _repair(value: typing.Any, path: str, depth: int, active: set[int], problems: list[str]) -> typing.Any:
    """`value` with what is not JSON removed (recorded in `problems`), or `_DROP` if nothing of it is."""
    if isinstance(value, collections.abc.Mapping) or type(value) in (list, tuple):
        try:
            _enter(value, depth, active)
        except _NotJSON as exc:
            problems.append(f"{path}: {exc.reason}")
            return _DROP
        try:
            if isinstance(value, collections.abc.Mapping):
                out: dict[str, typing.Any] = {}
                for key, item in value.items():
                    problem = _key_problem(key)
                    if problem is not None:
                        problems.append(f"{path}: {problem}")
                        continue
                    kept = _repair(item, f"{path}[{key!r}]", depth + 1, active, problems)
                    if kept is not _DROP:
                        out[key] = kept
                return out
            items = []
            for index, item in enumerate(value):
                kept = _repair(item, f"{path}[{index}]", depth + 1, active, problems)
                items.append(None if kept is _DROP else kept)
            return items
        finally:
            active.discard(id(value))
    problem = _scalar_problem(value)
    if problem is not None:
        problems.append(f"{path}: {problem}")
        return _DROP
    return value
