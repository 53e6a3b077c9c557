"""Private helpers that read typed values out of decoded JSON and raise `ProtocolError` with a dotted path."""

from __future__ import annotations

import math
import types
import typing

from lightbulb_lavalink.errors import ProtocolError
from lightbulb_lavalink.protocol.deviations import note

__all__ = [
    "EMPTY_MAPPING",
    "as_float",
    "at",
    "fail",
    "get_bool",
    "get_choice",
    "get_float",
    "get_guild_id",
    "get_int",
    "get_object",
    "get_str",
    "json_type",
    "loose_bool",
    "loose_float",
    "loose_int",
    "loose_object",
    "loose_str",
    "loose_str_list",
    "make_twin",
    "opt_object",
    "opt_str",
    "require_object",
    "unreadable",
]

EMPTY_MAPPING: typing.Final[typing.Mapping[str, typing.Any]] = types.MappingProxyType({})
"""The one shared, immutable empty mapping handed out for absent `pluginInfo` / `userData`."""

_JSON_TYPES: typing.Final[typing.Mapping[type, str]] = types.MappingProxyType(
    {
        dict: "an object",
        list: "an array",
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        type(None): "null",
    }
)


def json_type(value: object) -> str:
    """Name the JSON type of `value` for an error message (``"a string"``, ``"null"``)."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def at(where: str, key: str | int) -> str:
    """Join a dotted path: ``at("track", "info")`` is ``"track.info"``; list indexes read ``tracks[2]``."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def fail(where: str, expected: str, value: object) -> typing.NoReturn:
    """Raise the `ProtocolError` for a value of the wrong type."""
    raise ProtocolError(where, f"expected {expected}, got {json_type(value)}")


def require_object(data: object, where: str) -> dict[str, typing.Any]:
    """Return `data` if it is a JSON object, else raise."""
    if type(data) is not dict:
        fail(where, "an object", data)
    return data


def _missing(where: str, key: str) -> typing.NoReturn:
    raise ProtocolError(at(where, key), "missing")


def get_str(data: dict[str, typing.Any], key: str, where: str) -> str:
    """Return the required string `data[key]`."""
    try:
        value = data[key]
    except KeyError:
        _missing(where, key)
    if type(value) is not str:
        fail(at(where, key), "a string", value)
    return value


def opt_str(data: dict[str, typing.Any], key: str, where: str) -> str | None:
    """Return the nullable string `data[key]`; a missing key reads as ``None``."""
    value = data.get(key)
    if value is not None and type(value) is not str:
        fail(at(where, key), "a string or null", value)
    return value


def get_int(data: dict[str, typing.Any], key: str, where: str) -> int:
    """Return the required integer `data[key]` (a boolean is refused)."""
    try:
        value = data[key]
    except KeyError:
        _missing(where, key)
    if type(value) is not int and (not isinstance(value, int) or isinstance(value, bool)):
        fail(at(where, key), "an integer", value)
    return int(value)


def get_float(data: dict[str, typing.Any], key: str, where: str, default: float | None = None) -> float:
    """Return the number `data[key]` as a float; `default` (when given) replaces a missing key."""
    try:
        value = data[key]
    except KeyError:
        if default is None:
            _missing(where, key)
        return default
    if type(value) is float:
        return value
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        fail(at(where, key), "a number", value)
    return as_float(value)


def as_float(value: int | float) -> float:
    """A JSON number as a float: an integer too large for one (``1`` followed by 400 zeros) is infinite, as
    ``1e400`` already is, rather than an `OverflowError`."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def get_bool(data: dict[str, typing.Any], key: str, where: str) -> bool:
    """Return the required boolean `data[key]`."""
    try:
        value = data[key]
    except KeyError:
        _missing(where, key)
    if type(value) is not bool:
        fail(at(where, key), "a boolean", value)
    return value


_Choice = typing.TypeVar("_Choice")


def get_choice(
    data: dict[str, typing.Any], key: str, where: str, choices: typing.Mapping[str, _Choice], what: str
) -> _Choice:
    """Return the member of `choices` (an enum's values, say) that the required string `data[key]` names."""
    value = get_str(data, key, where)
    try:
        return choices[value]
    except KeyError:
        raise ProtocolError(at(where, key), f"unknown {what} {value[:40]!r}") from None


def get_object(data: dict[str, typing.Any], key: str, where: str) -> dict[str, typing.Any]:
    """Return the required object `data[key]`."""
    try:
        value = data[key]
    except KeyError:
        _missing(where, key)
    if type(value) is not dict:
        fail(at(where, key), "an object", value)
    return value


def opt_object(data: dict[str, typing.Any], key: str, where: str) -> dict[str, typing.Any] | None:
    """Return the object `data[key]`, or ``None`` when the key is missing, null or an empty object."""
    value = data.get(key)
    if value is None:
        return None
    if type(value) is not dict:
        fail(at(where, key), "an object", value)
    return value or None


def get_guild_id(data: dict[str, typing.Any], key: str, where: str) -> int:
    """Return the snowflake sent as a decimal string (``"guildId": "987654321"``) as an int."""
    try:
        value = data[key]
    except KeyError:
        _missing(where, key)
    if type(value) is not str:
        fail(at(where, key), "a snowflake string", value)
    if not (value.isascii() and value.isdigit()) or len(value) > 20:
        raise ProtocolError(at(where, key), f"expected a snowflake string, got {value[:32]!r}")
    return int(value)


# -- loose readers: a field the library does not need. Missing or null, it reads as None (noted as missing unless
# `optional`: the protocol itself may leave it out); of the wrong type, it reads as None and is noted as malformed.
# Either way the message is kept (DESIGN.md, "Liberal in what we accept").


def unreadable(where: str, expected: str, value: object) -> None:
    """Note a value of the wrong type that costs only its own field."""
    note(where, f"expected {expected}, got {json_type(value)}; read as unknown", malformed=True)


def _absent(data: dict[str, typing.Any], key: str, where: str, optional: bool) -> bool:
    value = data.get(key)
    if value is not None:
        return False
    if not optional:
        note(at(where, key), "missing; read as unknown" if key not in data else "null; read as unknown")
    return True


def loose_int(data: dict[str, typing.Any], key: str, where: str, *, optional: bool = False) -> int | None:
    """The integer `data[key]`, or ``None`` when it is missing, null or not an integer."""
    if _absent(data, key, where, optional):
        return None
    value = data[key]
    if type(value) is int:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    unreadable(at(where, key), "an integer", value)
    return None


def loose_float(data: dict[str, typing.Any], key: str, where: str, *, optional: bool = False) -> float | None:
    """The number `data[key]` as a float, or ``None`` when it is missing, null or not a number."""
    if _absent(data, key, where, optional):
        return None
    value = data[key]
    if type(value) is float:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    unreadable(at(where, key), "a number", value)
    return None


def loose_str(data: dict[str, typing.Any], key: str, where: str, *, optional: bool = False) -> str | None:
    """The string `data[key]`, or ``None`` when it is missing, null or not a string."""
    if _absent(data, key, where, optional):
        return None
    value = data[key]
    if type(value) is str:
        return value
    unreadable(at(where, key), "a string", value)
    return None


def loose_bool(data: dict[str, typing.Any], key: str, where: str, *, optional: bool = False) -> bool | None:
    """The boolean `data[key]`, or ``None`` when it is missing, null or not a boolean."""
    if _absent(data, key, where, optional):
        return None
    value = data[key]
    if type(value) is bool:
        return value
    unreadable(at(where, key), "a boolean", value)
    return None


def loose_object(
    data: dict[str, typing.Any], key: str, where: str, *, optional: bool = False
) -> dict[str, typing.Any] | None:
    """The object `data[key]`, or ``None`` when it is missing, null or not an object."""
    if _absent(data, key, where, optional):
        return None
    value = data[key]
    if type(value) is dict:
        return value
    unreadable(at(where, key), "an object", value)
    return None


def loose_str_list(data: dict[str, typing.Any], key: str, where: str) -> tuple[str, ...]:
    """The array of strings `data[key]`; entries that are not strings are left out, anything else reads as ``()``."""
    value = data.get(key)
    if type(value) is not list:
        if value is None:
            note(at(where, key), "missing; read as empty")
        else:
            unreadable(at(where, key), "an array", value)
        return ()
    items = tuple(item for item in value if type(item) is str)
    if len(items) != len(value):
        note(at(at(where, key), 0), "entries that are not strings left out", malformed=True)
    return items


def make_twin(cls: type) -> typing.Any:
    """Return a plain class with exactly `cls`'s slots, for building frozen slotted instances fast.

    Fill an ``object.__new__(twin)`` with plain attribute stores, then assign ``obj.__class__ = cls``:
    CPython allows it because both classes have the same layout. Validate the values first: nothing else does.
    """
    slots = cls.__dict__.get("__slots__")
    if not isinstance(slots, tuple) or "__dict__" in slots or "__weakref__" in slots:
        raise TypeError(f"{cls.__name__} is not a plain slotted class")
    return type(f"_{cls.__name__}Twin", (), {"__slots__": slots, "__module__": cls.__module__})
