"""Track user data must be strict JSON: refused where it is given, with the offending key path named."""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import math
import re
import types
import typing

import attrs
import pytest

from lightbulb_lavalink.errors import LavalinkError, UserDataError
from lightbulb_lavalink.protocol.track import Track

from .helpers import BLOB

TRACK = Track(encoded=BLOB)


class Opaque:
    """Something a bot might keep around (a member object, say) that JSON cannot carry."""


class Colour(enum.IntEnum):
    RED = 1


def circular() -> dict[str, typing.Any]:
    data: dict[str, typing.Any] = {"requester": 1}
    data["self"] = data
    return data


def nested(depth: int) -> dict[str, typing.Any]:
    data: dict[str, typing.Any] = {}
    for _ in range(depth - 1):
        data = {"d": data}
    return data


REFUSED: list[tuple[str, typing.Any, str]] = [  # (id, user data, the message: key path, then why)
    ("datetime", {"requester": 1, "when": datetime.datetime(2024, 5, 1)}, "user_data['when']: datetime is not JSON"),
    ("set", {"tags": {"rock", "pop"}}, "user_data['tags']: set is not JSON"),
    ("nan", {"score": float("nan")}, "user_data['score']: nan is not JSON"),
    ("inf", {"score": float("inf")}, "user_data['score']: inf is not JSON"),
    ("-inf", {"score": float("-inf")}, "user_data['score']: -inf is not JSON"),
    (
        "lone surrogate",
        {"title": "broken \ud83d"},
        "user_data['title']: str with a lone surrogate '\\ud83d' at index 7, which UTF-8 cannot carry, is not JSON",
    ),
    ("lone surrogate key", {"\udc00": 1}, "user_data: key '\\udc00' has a lone surrogate"),
    ("int key", {1: "one"}, "user_data: key 1 is int, not a string"),
    ("tuple key", {("a", 1): "x"}, "user_data: key ('a', 1) is tuple, not a string"),
    ("object", {"member": Opaque()}, "user_data['member']: Opaque is not JSON"),
    ("huge int", {"big": 10**640}, "user_data['big']: int of more than 640 digits is not JSON"),
    ("bytes", {"raw": b"\x00"}, "user_data['raw']: bytes is not JSON"),
    ("decimal", {"price": decimal.Decimal("1.50")}, "user_data['price']: Decimal is not JSON"),
    (
        "deep in lists",
        {"nested": {"list": [1, {"deep": float("nan")}]}},
        "user_data['nested']['list'][1]['deep']: nan is not JSON",
    ),
    ("in a tuple", {"pair": (1, {2})}, "user_data['pair'][1]: set is not JSON"),
    ("circular", circular(), "user_data['self']: dict containing itself is not JSON"),
    ("too deep", nested(65), "nesting deeper than 64 levels"),
    ("not a mapping", [("requester", 1)], "user_data: list is not a JSON object"),
]


@pytest.mark.parametrize(("data", "message"), [pytest.param(d, m, id=i) for i, d, m in REFUSED])
def test_a_track_refuses_user_data_that_is_not_json_naming_the_key_path(data: typing.Any, message: str) -> None:
    with pytest.raises(UserDataError, match=re.escape(message)) as caught:
        Track(encoded=BLOB, user_data=data)
    # One error a caller may catch as a TypeError, a ValueError or any error of this library.
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, ValueError)
    assert isinstance(caught.value, LavalinkError)
    with pytest.raises(UserDataError, match=re.escape(message)):
        TRACK.with_user_data(data)
    with pytest.raises(UserDataError, match=re.escape(message)):
        attrs.evolve(TRACK, user_data=data)


def test_with_user_data_checks_keyword_values_and_the_merge() -> None:
    mine = TRACK.with_user_data(requester=1)
    with pytest.raises(UserDataError, match=re.escape("user_data['when']: datetime is not JSON")):
        mine.with_user_data(when=datetime.datetime(2024, 5, 1))
    with pytest.raises(UserDataError, match=re.escape("user_data['score']: nan is not JSON")):
        mine.with_user_data({"ok": True}, score=float("nan"))
    assert mine.user_data == {"requester": 1}


def test_what_json_can_carry_is_accepted_at_its_limits() -> None:
    data = {
        "big": 10**640 - 1,
        "small": -(10**640) + 1,
        "floats": [0.0, -0.0, 1e308, -1e-308, 5e-324],
        "text": "Ünïcödé ✓ 🎵 \x00 \"quoted\"",
        "flags": [True, False, None],
        "colour": Colour.RED,
        "": "an empty key is a key",
    }
    track = Track(encoded=BLOB, user_data=data)
    assert track.user_data == data
    assert json.loads(json.dumps(dict(track.user_data), allow_nan=False)) == data
    assert Track(encoded=BLOB, user_data=nested(64)).user_data == nested(64)  # the user data object is level 1


def test_tuples_and_mappings_are_kept_as_json_lists_and_objects() -> None:
    track = Track(
        encoded=BLOB,
        user_data={"pair": (1, (2, 3)), "view": types.MappingProxyType({"x": 1}), "seq": [(), {}]},
    )
    assert track.user_data == {"pair": [1, [2, 3]], "view": {"x": 1}, "seq": [[], {}]}
    assert type(track.user_data["pair"]) is list and type(track.user_data["view"]) is dict


def test_a_track_keeps_its_own_copy_of_the_user_data() -> None:
    data: dict[str, typing.Any] = {"requester": 1, "tags": ["rock"]}
    track = Track(encoded=BLOB, user_data=data)
    via_method = TRACK.with_user_data(data)
    data["when"] = datetime.datetime(2024, 5, 1)  # changed after queueing: the tracks do not see it
    data["tags"].append({"not", "json"})
    assert track.user_data == via_method.user_data == {"requester": 1, "tags": ["rock"]}


def test_no_user_data_costs_no_check_and_no_memory() -> None:
    assert Track(encoded=BLOB, user_data={}).user_data is TRACK.user_data
    assert Track(encoded=BLOB, user_data=None).user_data == {}


def test_user_data_read_from_the_wire_is_not_refused() -> None:
    # Liberal in what we accept: a node's (or a stored) payload is JSON already; what Python's json reads from
    # a non-standard ``NaN`` is carried, and repaired when written (see the store and REST tests).
    info = Track(encoded=BLOB).info.to_payload()
    payload = json.loads(json.dumps({"encoded": BLOB, "info": info, "pluginInfo": {}, "userData": {"score": math.nan}}))
    track = Track.from_payload(payload)
    assert track.user_data["score"] != track.user_data["score"]  # NaN
