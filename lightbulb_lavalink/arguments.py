"""Checks of the arguments of public commands: a clear `TypeError`/`ValueError` before anything is sent."""

from __future__ import annotations

import typing

from lightbulb_lavalink.protocol.filters import Filters
from lightbulb_lavalink.protocol.tracks import Track

__all__ = ["check_bool", "check_filters", "check_ms", "check_track", "check_volume"]

_MAX_MS: typing.Final[int] = 2**63 - 1  # a Java long, what Lavalink reads


def check_track(value: object, name: str = "track") -> Track:
    """`value` if it is a `Track`; else `TypeError`."""
    if not isinstance(value, Track):
        raise TypeError(f"{name} must be a Track (from load_tracks), not {type(value).__name__}")
    return value


def check_ms(value: object, name: str) -> int:
    """`value` if it is a whole number of milliseconds, 0 or more; else `TypeError`/`ValueError`."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int of milliseconds, not {type(value).__name__}")
    if not 0 <= value <= _MAX_MS:
        raise ValueError(f"{name} must be between 0 and {_MAX_MS} milliseconds, not {value}")
    return value


def check_bool(value: object, name: str) -> bool:
    """`value` if it is a bool; else `TypeError`."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, not {type(value).__name__}")
    return value


def check_volume(value: object) -> int:
    """`value` if it is an int from 0 to 1000; else `TypeError`/`ValueError`."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"volume must be an int from 0 to 1000, not {type(value).__name__}")
    if not 0 <= value <= 1000:
        raise ValueError(f"volume must be between 0 and 1000 (100 is unchanged), not {value}")
    return value


def check_filters(value: object) -> Filters:
    """`value` if it is a `Filters`; else `TypeError`."""
    if not isinstance(value, Filters):
        raise TypeError(f"filters must be a Filters, not {type(value).__name__}")
    return value
