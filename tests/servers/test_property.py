"""Liberal in what we accept, as properties over payload shapes (hypothesis).

1. Any JSON object whose needed fields are valid parses, whatever the rest holds (missing, null, any JSON).
2. Damaging one field we do not need costs that field and nothing else: every other value reads as before.

"Needed" is what the library cannot act without: the op, the guild, the track's blob, a playerUpdate's position and
connection, a stats frame's player counts, a ready's session. A damaged field inside a *unit* may cost the unit
(a player state without its position is no state; a band without its index leaves the equalizer shorter).
"""

from __future__ import annotations

import copy
import json
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightbulb_lavalink.errors import ProtocolError
from lightbulb_lavalink.protocol.info import Info
from lightbulb_lavalink.protocol.loading import LoadResult
from lightbulb_lavalink.protocol.messages import UnknownMessage, parse_message
from lightbulb_lavalink.protocol.player import PlayerInfo
from lightbulb_lavalink.protocol.stats import Stats

from . import samples

Path = tuple[typing.Any, ...]

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _message(raw: dict[str, typing.Any]) -> typing.Any:
    return parse_message(json.dumps(raw))


class Kind(typing.NamedTuple):
    parse: typing.Callable[[typing.Any], typing.Any]
    sample: dict[str, typing.Any]
    needed: tuple[Path, ...]
    """Paths whose damage may make the payload unusable (their ancestors too)."""
    units: tuple[Path, ...] = ()
    """Subtrees that a damage inside may cost whole."""


TRACK_NEEDED: tuple[Path, ...] = (("track", "encoded"),)
KINDS: dict[str, Kind] = {
    "ready": Kind(_message, samples.MESSAGES["ready"], (("op",), ("resumed",), ("sessionId",))),
    "playerUpdate": Kind(
        _message,
        samples.MESSAGES["playerUpdate"],
        (("op",), ("guildId",), ("state", "position"), ("state", "connected")),
    ),
    "stats": Kind(_message, samples.STATS, (("op",), ("players",), ("playingPlayers",))),
    **{
        name: Kind(_message, samples.MESSAGES[name], (("op",), ("type",), ("guildId",), *TRACK_NEEDED))
        for name in ("TrackStartEvent", "TrackEndEvent", "TrackExceptionEvent", "TrackStuckEvent")
    },
    "WebSocketClosedEvent": Kind(
        _message, samples.MESSAGES["WebSocketClosedEvent"], (("op",), ("type",), ("guildId",))
    ),
    "player": Kind(
        PlayerInfo.from_payload,
        samples.PLAYER,
        (("guildId",), ("track", "encoded")),
        units=(("state",), ("filters", "equalizer")),
    ),
    "info": Kind(Info.from_payload, samples.INFO_PAYLOAD, (), units=(("plugins",), ("sourceManagers",), ("filters",))),
    "rest stats": Kind(
        Stats.from_payload, {k: v for k, v in samples.STATS.items() if k != "op"}, (("players",), ("playingPlayers",))
    ),
    "track result": Kind(
        LoadResult.from_payload, {"loadType": "track", "data": samples.TRACK}, (("loadType",), ("data", "encoded"))
    ),
    "error result": Kind(LoadResult.from_payload, {"loadType": "error", "data": samples.EXCEPTION}, (("loadType",),)),
}


def canonical(kind: Kind) -> dict[str, typing.Any]:
    """The sample as the model writes it back (the reference every damaged copy is compared with)."""
    payload = kind.parse(copy.deepcopy(kind.sample)).to_payload()
    assert kind.parse(copy.deepcopy(payload)).to_payload() == payload
    return typing.cast("dict[str, typing.Any]", payload)


def paths(node: typing.Any, prefix: Path = ()) -> list[Path]:
    """Every path below `node` (not the root)."""
    found: list[Path] = []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in children:
        found.append((*prefix, key))
        found.extend(paths(value, (*prefix, key)))
    return found


def leaves(node: typing.Any, prefix: Path = ()) -> dict[Path, typing.Any]:
    if isinstance(node, dict) and node:
        return {p: v for key, value in node.items() for p, v in leaves(value, (*prefix, key)).items()}
    if isinstance(node, list) and node:
        return {p: v for i, value in enumerate(node) for p, v in leaves(value, (*prefix, i)).items()}
    return {prefix: node}


def under(path: Path, prefix: Path) -> bool:
    return path[: len(prefix)] == prefix


def lookup(node: typing.Any, path: Path) -> typing.Any:
    for key in path:
        node = node[key]
    return node


def damage(payload: dict[str, typing.Any], path: Path, value: typing.Any) -> dict[str, typing.Any]:
    """A copy with the value at `path` replaced (`...`: the key removed, or the list entry set to null)."""
    result = copy.deepcopy(payload)
    parent = lookup(result, path[:-1])
    if value is ... and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = None if value is ... else value
    return result


def is_needed(kind: Kind, path: Path) -> bool:
    return any(under(needed, path) for needed in kind.needed)


def exempt(kind: Kind, path: Path) -> Path:
    """What a damage at `path` may cost: the smallest unit around it, else the path itself."""
    units = [unit for unit in kind.units if under(path, unit)]
    return min(units, key=len) if units else path


WITH_OPTIONAL = [name for name, kind in KINDS.items() if any(not is_needed(kind, p) for p in paths(kind.sample))]


@pytest.mark.parametrize("name", WITH_OPTIONAL)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaging_a_field_we_do_not_need_costs_only_that_field(name: str, data: st.DataObject) -> None:
    kind = KINDS[name]
    reference = canonical(kind)
    path = data.draw(st.sampled_from([p for p in paths(reference) if not is_needed(kind, p)]), label="path")
    value = data.draw(st.just(...) | json_values, label="damage")
    parsed = kind.parse(damage(reference, path, value))  # must not raise
    assert not isinstance(parsed, UnknownMessage)
    written = parsed.to_payload()
    cost = exempt(kind, path)
    for leaf, expected in leaves(reference).items():
        if under(leaf, cost):
            continue
        assert lookup(written, leaf) == expected, f"damaging {path} changed {leaf}"


@pytest.mark.parametrize("name", WITH_OPTIONAL)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_object_whose_needed_fields_are_valid_parses(name: str, data: st.DataObject) -> None:
    kind = KINDS[name]
    payload = canonical(kind)
    optional = [p for p in paths(payload) if not is_needed(kind, p)]
    for path in data.draw(st.lists(st.sampled_from(optional), max_size=8, unique=True), label="paths"):
        try:
            parent = lookup(payload, path[:-1])
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier damage removed or replaced what held it
        if not isinstance(parent, (dict, list)):
            continue
        payload = damage(payload, path, data.draw(st.just(...) | json_values, label="damage"))
    extra = data.draw(st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=3), label="extra")
    payload = {**{k: v for k, v in extra.items() if not any(p[:1] == (k,) for p in paths(payload))}, **payload}
    kind.parse(payload)  # must not raise


@pytest.mark.parametrize("name", list(KINDS))
def test_damaging_a_needed_field_is_the_only_way_to_be_refused(name: str) -> None:
    """The reverse: the needed fields really are needed (each, broken, makes the payload unusable)."""
    kind = KINDS[name]
    reference = canonical(kind)
    for path in kind.needed:
        if path[:1] == ("op",):
            continue  # another op is another message, not a refusal
        try:
            parsed = kind.parse(damage(reference, path, ...))
        except ProtocolError:
            continue
        assert isinstance(parsed, UnknownMessage), f"{path} is not needed after all"
