"""Player filters: parsing, replacement, per-version output and the disabled-filter check (§5.8)."""

from __future__ import annotations

import aiohttp
import pytest

from lightbulb_lavalink.testing import FakeLavalink

from .conftest import Api, Connect, NodeFactory, RawSocket, open_session

GUILD = 987654321


@pytest.fixture
async def session(node: FakeLavalink, connect: Connect) -> tuple[RawSocket, str]:
    return await open_session(connect, node)


# --- filters --------------------------------------------------------------------------------------------


FILTERS = {
    "volume": 0.8,
    "equalizer": [{"band": 0, "gain": 0.2}, {"band": 3}],
    "timescale": {"speed": 1.2},
    "karaoke": None,
    "lowPass": {},
    "pluginFilters": {"echo": {"delay": 1}},
}


async def test_filters_output_every_sub_field_from_4_1(api: Api, session: tuple[RawSocket, str]) -> None:
    sock, session_id = session
    _, player = await api.patch_player(session_id, GUILD, {"filters": FILTERS})
    assert player["filters"] == {
        "volume": 0.8,
        "equalizer": [{"band": 0, "gain": 0.2}, {"band": 3, "gain": 1.0}],
        "timescale": {"speed": 1.2, "pitch": 1.0, "rate": 1.0},
        "lowPass": {"smoothing": 20.0},
    }
    assert (await sock.recv())["op"] == "playerUpdate"
    _, player = await api.patch_player(session_id, GUILD, {"filters": {"rotation": {"rotationHz": 0.5}}})
    assert player["filters"] == {"rotation": {"rotationHz": 0.5}}  # replaces all
    _, player = await api.patch_player(session_id, GUILD, {"filters": {}})
    assert player["filters"] == {}


async def test_filters_omit_defaults_in_4_0(
    make_node: NodeFactory, http: aiohttp.ClientSession, connect: Connect
) -> None:
    node = await make_node(version="4.0.8")
    _, session_id = await open_session(connect, node)
    _, player = await Api(node, http).patch_player(session_id, 1, {"filters": FILTERS})
    assert player["filters"] == {
        "volume": 0.8,
        "equalizer": [{"band": 0, "gain": 0.2}, {"band": 3}],
        "timescale": {"speed": 1.2},
        "lowPass": {},
    }


async def test_filter_output_key_order(api: Api, session: tuple[RawSocket, str]) -> None:
    _, session_id = session
    body: dict[str, object] = {
        name: {} for name in ("lowPass", "channelMix", "rotation", "distortion", "vibrato", "tremolo")
    }
    _, player = await api.patch_player(session_id, GUILD, {"filters": {**body, "volume": 1.0}})
    assert list(player["filters"]) == [
        "volume", "tremolo", "vibrato", "distortion", "rotation", "channelMix", "lowPass",
    ]  # fmt: skip
