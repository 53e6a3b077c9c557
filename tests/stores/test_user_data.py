"""User data that is not JSON costs that data, never the guild: each store saves the rest of the guild, and one
bad guild never stops the others from being saved. Checked for every kind of bad value, on every store."""

from __future__ import annotations

import datetime
import decimal
import json
import logging
import math
import typing

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightbulb_lavalink.errors import StoreError, UserDataError
from lightbulb_lavalink.protocol.track import Track
from lightbulb_lavalink.snapshot import GuildSnapshot, QueueSnapshot, TrackSnapshot
from lightbulb_lavalink.stores import SnapshotWriter, StoreKey
from lightbulb_lavalink.stores.base import decode_guilds, encode_snapshot

if typing.TYPE_CHECKING:
    from .conftest import Backend

KEY = StoreKey(bot_id=4243, node="main", cluster="user-data")
STORE_LOG = "lightbulb_lavalink.stores"


class Opaque:
    """An object a bot might put in user data by mistake (a hikari member, say)."""


def _circular() -> dict[str, typing.Any]:
    data: dict[str, typing.Any] = {"requester": 7}
    data["self"] = data
    return data


def _nested(depth: int, leaf: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """`depth` objects, each the ``"d"`` of the one before, the last one `leaf`."""
    data = leaf
    for _ in range(depth - 1):
        data = {"d": data}
    return data


# id -> (the bad track's user data, what the store gives back for it). Whatever Python's json module cannot write
# as strict UTF-8 JSON is left out (an array item becomes null, keeping the others' index); an int key, which
# json writes as a string, comes back as that string.
BAD_USER_DATA: dict[str, tuple[typing.Callable[[], dict[typing.Any, typing.Any]], dict[str, typing.Any]]] = {
    "datetime": (lambda: {"requester": 7, "when": datetime.datetime(2024, 5, 1, 12)}, {"requester": 7}),
    "set": (lambda: {"requester": 7, "tags": {"rock", "pop"}}, {"requester": 7}),
    "nan": (lambda: {"requester": 7, "score": math.nan}, {"requester": 7}),
    "inf": (lambda: {"requester": 7, "score": math.inf}, {"requester": 7}),
    "-inf": (lambda: {"requester": 7, "score": -math.inf}, {"requester": 7}),
    "lone surrogate": (lambda: {"requester": 7, "title": "broken emoji \ud83d"}, {"requester": 7}),
    "lone surrogate key": (lambda: {"requester": 7, "\udc00": 1}, {"requester": 7}),
    "tuple key": (lambda: {"requester": 7, ("a", 1): "x"}, {"requester": 7}),
    "object": (lambda: {"requester": 7, "member": Opaque()}, {"requester": 7}),
    "huge int": (lambda: {"requester": 7, "big": 10**5000}, {"requester": 7}),
    "bytes": (lambda: {"requester": 7, "raw": b"\x00\xff"}, {"requester": 7}),
    "decimal": (lambda: {"requester": 7, "price": decimal.Decimal("1.50")}, {"requester": 7}),
    "circular": (_circular, {"requester": 7}),
    # User data may nest 64 levels (itself the first): the 64th object is kept without what it nests.
    "too deep": (lambda: {"requester": 7, "deep": _nested(3000, {})}, {"requester": 7, "deep": _nested(63, {})}),
    "nested in a list": (
        lambda: {"requester": 7, "info": {"ok": True, "list": [1, math.nan, "x", {"at": datetime.date(2024, 1, 1)}]}},
        {"requester": 7, "info": {"ok": True, "list": [1, None, "x", {}]}},
    ),
    "int key": (lambda: {"requester": 7, 1: "one"}, {"requester": 7, "1": "one"}),
}
KINDS = list(BAD_USER_DATA)


def _track(name: str, **user_data: typing.Any) -> TrackSnapshot:
    return TrackSnapshot(encoded=f"QAAA{name}", user_data={"requester": 7, "title": name, **user_data})


def guild_with_bad_track(guild_id: int, user_data: dict[typing.Any, typing.Any]) -> GuildSnapshot:
    """A playing guild looping its queue, whose second queued track (``queue[1]``) holds `user_data`."""
    return GuildSnapshot(
        guild_id=guild_id,
        node="main",
        channel_id=1_100_000_000_000_000_001,
        track=_track("now"),
        position=61_000,
        paused=True,
        volume=80,
        filters={"timescale": {"speed": 1.25, "pitch": 1.0, "rate": 1.0}},
        queue=QueueSnapshot(
            tracks=(_track("q0"), TrackSnapshot(encoded="QAAAbad", user_data=user_data), _track("q2", n=[1, 2])),
            history=(_track("h0"), _track("h1")),
            loop="queue",
        ),
        updated_at=1_700_000_000.5,
    )


def as_saved(snapshot: GuildSnapshot, index: int, user_data: dict[str, typing.Any]) -> GuildSnapshot:
    """`snapshot` with the user data of ``queue[index]`` replaced: what a store should give back."""
    tracks = list(snapshot.queue.tracks)
    tracks[index] = attrs.evolve(tracks[index], user_data=user_data)
    return attrs.evolve(snapshot, queue=attrs.evolve(snapshot.queue, tracks=tuple(tracks)))


def store_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == STORE_LOG and r.levelno == logging.WARNING]


# -- every kind of bad value, on every store --------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_guild_with_a_non_json_track_is_saved_and_restored_with_everything_else(
    backend: Backend, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    make, kept = BAD_USER_DATA[kind]
    bad = guild_with_bad_track(5, make())
    store = await backend.opened()
    with caplog.at_level(logging.WARNING, STORE_LOG):
        await store.put_guild(KEY, bad)
    restored = await (await backend.opened()).get_guilds(KEY)  # another client on the same data: a restart
    assert restored == {5: as_saved(bad, 1, kept)}
    if kind == "int key":
        assert store_warnings(caplog) == []  # json writes it as a string: nothing was lost
    else:
        (warning,) = store_warnings(caplog)  # one warning, naming the guild and the track's place
        assert "guild 5" in warning and "queue[1]" in warning


async def test_one_batch_saves_every_guild_whatever_their_user_data(backend: Backend) -> None:
    guilds = [guild_with_bad_track(100 + i, BAD_USER_DATA[kind][0]()) for i, kind in enumerate(KINDS)]
    good = [guild_with_bad_track(1, {"requester": 1}), guild_with_bad_track(999, {"requester": 2})]
    store = await backend.opened()
    await store.put_guilds(KEY, [good[0], *guilds, good[1]])
    restored = await (await backend.opened()).get_guilds(KEY)
    assert restored == {
        1: good[0],
        999: good[1],
        **{g.guild_id: as_saved(g, 1, BAD_USER_DATA[kind][1]) for g, kind in zip(guilds, KINDS, strict=True)},
    }


async def test_bad_user_data_anywhere_costs_only_that_data_with_one_warning(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    base = guild_with_bad_track(6, {"requester": 3, "score": math.nan})
    bad = attrs.evolve(
        base,
        track=TrackSnapshot(encoded="QAAAnow", user_data={"requester": 1, "at": datetime.time(1, 2)}),
        queue=attrs.evolve(
            base.queue,
            history=(
                TrackSnapshot(encoded="QAAAh0", user_data={"requester": 2}, plugin_info={"x": {1, 2}, "ok": 1}),
                *base.queue.history[1:],
            ),
        ),
    )
    store = await backend.opened()
    with caplog.at_level(logging.WARNING, STORE_LOG):
        await store.put_guild(KEY, bad)
    (restored,) = (await (await backend.opened()).get_guilds(KEY)).values()
    assert restored.track == TrackSnapshot(encoded="QAAAnow", user_data={"requester": 1})
    assert restored.queue.tracks[1].user_data == {"requester": 3}
    assert restored.queue.history[0] == TrackSnapshot(
        encoded="QAAAh0", user_data={"requester": 2}, plugin_info={"ok": 1}
    )
    assert restored.queue.tracks[::2] == bad.queue.tracks[::2] and restored.queue.history[1:] == bad.queue.history[1:]
    assert restored.queue.loop == "queue" and restored.position == 61_000 and restored.paused
    (warning,) = store_warnings(caplog)
    for named in ("guild 6", "current track", "user_data['at']", "queue[1]", "user_data['score']", "history[0]",
                  "plugin_info['x']"):  # fmt: skip
        assert named in warning


async def test_the_writer_saves_every_guild_it_can_and_stays_healthy(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    # A snapshot whose user data is not JSON is saved without it; one that cannot be saved at all (its filters
    # are not JSON) is the only one left out, and the writer does not treat the store as failing.
    store = await backend.opened()
    writer = SnapshotWriter(store, min_interval=0)
    unsaveable = GuildSnapshot(guild_id=3, node="main", channel_id=None, filters={"volume": math.nan})
    try:
        writer.schedule(KEY, guild_with_bad_track(1, {"requester": 1}))
        writer.schedule(KEY, guild_with_bad_track(2, {"requester": 2, "when": datetime.datetime(2024, 1, 1)}))
        writer.schedule(KEY, unsaveable)
        writer.schedule(KEY, guild_with_bad_track(4, {"requester": 4, "tags": {"x"}}))
        with caplog.at_level(logging.WARNING):
            await writer.flush()
        assert writer.healthy and writer.last_error is None and writer.pending == 0
    finally:
        await writer.close()
    restored = await (await backend.opened()).get_guilds(KEY)
    assert sorted(restored) == [1, 2, 4]
    assert restored[2].queue.tracks[1].user_data == {"requester": 2}
    assert restored[4].queue.tracks[1].user_data == {"requester": 4}
    assert any("guild 3" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)


async def test_a_store_still_refuses_a_snapshot_whose_other_fields_are_not_json(backend: Backend) -> None:
    store = await backend.opened()
    with pytest.raises(StoreError, match="guild 3"):
        await store.put_guilds(KEY, [guild_with_bad_track(1, {}), GuildSnapshot(guild_id=3, node="main",
                                     channel_id=None, filters={"x": math.inf})])  # fmt: skip
    assert await store.get_guilds(KEY) == {}


def test_the_encoding_is_strict_json_every_store_takes() -> None:
    text = encode_snapshot(guild_with_bad_track(5, {"requester": 7, "score": math.nan, "t": "\ud800"}))
    json.loads(text, parse_constant=_refuse_constant)
    text.encode("utf-8")


# -- arbitrary nested user data -----------------------------------------------------------------------------

_REFUSED = object()  # the expected form of a value `Track` refuses


def _refuse_constant(name: str) -> typing.NoReturn:
    raise AssertionError(f"{name} is not JSON")


safe_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.just(10**640 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),  # hypothesis draws no surrogate unless told to
).map(lambda v: (v, v))
bad_leaves = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 10**700]),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=3), st.characters(categories=["Cs"]), st.text(max_size=3)),
    st.datetimes(),
    st.frozensets(st.integers(), max_size=2),
    st.binary(max_size=3),
    st.decimals(allow_nan=False, places=2),
    st.builds(Opaque),
).map(lambda v: (v, _REFUSED))
keys = st.text(max_size=5).map(lambda k: (k, k)) | st.one_of(
    st.integers(-3, 3), st.characters(categories=["Cs"])
).map(lambda k: (k, _REFUSED))


def _array(items: list[tuple[typing.Any, typing.Any]], as_tuple: bool) -> tuple[typing.Any, typing.Any]:
    value = [v for v, _ in items]
    expected = [e for _, e in items]
    return (tuple(value) if as_tuple else value), (_REFUSED if _REFUSED in expected else expected)


_Case = tuple[typing.Any, typing.Any]  # (a value, its JSON form or _REFUSED)


def _object(pairs: list[tuple[_Case, _Case]]) -> _Case:
    value: dict[typing.Any, typing.Any] = {}
    forms: dict[typing.Any, tuple[typing.Any, typing.Any]] = {}
    for (key, key_form), (item, item_form) in pairs:
        value[key] = item
        forms[key] = (key_form, item_form)
    refused = any(k is _REFUSED or v is _REFUSED for k, v in forms.values())
    return value, (_REFUSED if refused else {k: v for k, (_, v) in forms.items()})


def _containers(children: st.SearchStrategy[tuple[typing.Any, typing.Any]]) -> st.SearchStrategy[typing.Any]:
    return st.one_of(
        st.builds(_array, st.lists(children, max_size=4), st.booleans()),
        st.lists(st.tuples(keys, children), max_size=4).map(_object),
    )


def user_data(leaves: st.SearchStrategy[tuple[typing.Any, typing.Any]]) -> st.SearchStrategy[typing.Any]:
    """(user data, its JSON form or `_REFUSED`): an object whose values nest lists, tuples and objects."""
    tree = st.recursive(leaves, _containers, max_leaves=16)
    return st.lists(st.tuples(keys, tree), max_size=5).map(_object)


@given(user_data(safe_leaves))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_json_user_data_is_accepted_and_round_trips_through_every_encoding(case: tuple[typing.Any, typing.Any]) -> None:
    data, expected = case
    if expected is _REFUSED:  # only a refused key can make a tree of safe leaves refused
        with pytest.raises(UserDataError):
            Track(encoded="QAAA", user_data=data)
        return
    track = Track(encoded="QAAA", user_data=data)
    assert track.user_data == expected
    snapshot = guild_with_bad_track(5, dict(track.user_data))
    text = encode_snapshot(snapshot)
    json.loads(text, parse_constant=_refuse_constant)
    assert decode_guilds([(5, text)], "test") == {5: snapshot}


@given(user_data(safe_leaves | bad_leaves))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_any_user_data_is_refused_by_a_track_or_saved_with_the_rest_of_the_guild(
    case: tuple[typing.Any, typing.Any],
) -> None:
    data, expected = case
    if expected is _REFUSED:
        with pytest.raises(UserDataError):
            Track(encoded="QAAA", user_data=data)
    else:
        assert Track(encoded="QAAA", user_data=data).user_data == expected
    snapshot = guild_with_bad_track(5, data)  # as if it got past the check (changed after queueing)
    text = encode_snapshot(snapshot)  # never raises
    json.loads(text, parse_constant=_refuse_constant)
    text.encode("utf-8")
    restored = decode_guilds([(5, text)], "test")[5]
    saved_data = restored.queue.tracks[1].user_data
    assert restored == as_saved(snapshot, 1, saved_data)  # everything else intact
    if expected is not _REFUSED:
        assert saved_data == expected
    # Saving keeps what json writes as strict JSON as it writes it (an int key as its string, an int of 700
    # digits), so what comes back may hold what Track refuses, but never what json could not read back.
