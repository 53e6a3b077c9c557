"""The SessionStore contract, one suite for every store: memory, JSON file, SQLite, Redis, PostgreSQL."""

from __future__ import annotations

import asyncio
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.snapshot import GuildSnapshot, QueueSnapshot, TrackSnapshot
from lightbulb_lavalink.stores import SessionStore, StoreKey

from .helpers import snapshot

if typing.TYPE_CHECKING:
    from .conftest import Backend

BOT = 800_000_000_000_000_001
KEY = StoreKey(BOT, "main")


async def test_is_a_session_store_with_a_url(store: SessionStore) -> None:
    assert isinstance(store, SessionStore)
    assert "://" in store.url


async def test_open_and_close_are_idempotent(backend: Backend) -> None:
    store = backend.new()
    await store.open()
    await store.open()
    await store.put_guild(KEY, snapshot(1))
    await store.close()
    await store.close()
    again = await backend.opened()
    assert list(await again.get_guilds(KEY)) == [1]


async def test_session_id_round_trip(store: SessionStore) -> None:
    assert await store.get_session(KEY) is None
    await store.set_session(KEY, "abc123")
    assert await store.get_session(KEY) == "abc123"
    await store.set_session(KEY, "def456")
    assert await store.get_session(KEY) == "def456"
    await store.set_session(KEY, None)
    assert await store.get_session(KEY) is None
    await store.set_session(KEY, None)  # forgetting twice is fine
    assert await store.get_session(KEY) is None


async def test_put_get_replace_delete_guild(store: SessionStore) -> None:
    assert await store.get_guilds(KEY) == {}
    first = snapshot(10, position=1000)
    await store.put_guild(KEY, first)
    assert await store.get_guilds(KEY) == {10: first}
    second = snapshot(10, position=2000, tracks=0)
    await store.put_guild(KEY, second)
    assert await store.get_guilds(KEY) == {10: second}
    await store.delete_guild(KEY, 10)
    assert await store.get_guilds(KEY) == {}
    await store.delete_guild(KEY, 10)  # deleting twice is fine
    await store.delete_guild(KEY, 999)


async def test_put_guilds_writes_all_and_last_repeat_wins(store: SessionStore) -> None:
    await store.put_guilds(KEY, [])
    await store.put_guilds(KEY, (s for s in [snapshot(1), snapshot(2, position=5), snapshot(2, position=7)]))
    guilds = await store.get_guilds(KEY)
    assert sorted(guilds) == [1, 2]
    assert guilds[2].position == 7
    await store.put_guilds(KEY, [snapshot(3)])
    assert sorted(await store.get_guilds(KEY)) == [1, 2, 3]


async def test_unserialisable_snapshot_is_refused_and_its_batch_not_written(store: SessionStore) -> None:
    bad = GuildSnapshot(guild_id=2, node="main", channel_id=None, filters={"x": float("nan")})
    worse = GuildSnapshot(guild_id=3, node="main", channel_id=None, filters={"x": {1, 2}})
    with pytest.raises(StoreError, match="guild 2"):
        await store.put_guild(KEY, bad)
    with pytest.raises(StoreError, match="guild 3"):
        await store.put_guilds(KEY, [snapshot(1), worse])
    assert await store.get_guilds(KEY) == {}


async def test_round_trip_unicode_large_queue_and_odd_values(store: SessionStore) -> None:
    text = "Ünïcödé ✓ 🎵 مرحبا 漢字 e\u0301 \x00 \"quoted\" \\ back\nline"
    tracks = tuple(
        TrackSnapshot(
            encoded=f"QAAA{i:05d}" * 20, user_data={"requester": 2**62 + i, "title": f"{text} #{i}"}
        )
        for i in range(3000)
    )
    big = GuildSnapshot(
        guild_id=2**63 - 1,
        node="nöde ✓",
        channel_id=2**62,
        track=TrackSnapshot(encoded="QAAB", user_data={"nested": {"list": [1, 2.5, None, True, text]}}),
        position=123_456_789,
        paused=True,
        volume=1000,
        filters={"equalizer": [{"band": b, "gain": -0.25} for b in range(15)], "pluginFilters": {}},
        queue=QueueSnapshot(tracks=tracks, history=tracks[:100], loop="track"),
        updated_at=1_700_000_123.456,
    )
    idle = GuildSnapshot(guild_id=5, node="main", channel_id=None, updated_at=1.0)
    await store.put_guilds(KEY, [big, idle])
    assert await store.get_guilds(KEY) == {big.guild_id: big, 5: idle}


async def test_list_keys(store: SessionStore) -> None:
    assert await store.list_keys(BOT) == []
    await store.set_session(StoreKey(BOT, "b-node"), "s1")
    await store.put_guild(StoreKey(BOT, "a-node", "cluster-1"), snapshot(1))
    await store.put_guild(StoreKey(BOT, "a-node"), snapshot(1))
    await store.set_session(StoreKey(BOT + 1, "other-bot-node"), "s2")
    assert await store.list_keys(BOT) == [
        StoreKey(BOT, "a-node"),
        StoreKey(BOT, "b-node"),
        StoreKey(BOT, "a-node", "cluster-1"),
    ]
    # A scope whose session and guilds are all gone is no longer listed.
    await store.set_session(StoreKey(BOT, "b-node"), None)
    await store.delete_guild(StoreKey(BOT, "a-node", "cluster-1"), 1)
    assert await store.list_keys(BOT) == [StoreKey(BOT, "a-node")]
    assert await store.list_keys(BOT + 1) == [StoreKey(BOT + 1, "other-bot-node")]
    assert await store.list_keys(BOT + 2) == []


async def test_keys_with_separators_and_unicode_stay_apart(store: SessionStore) -> None:
    awkward = [
        StoreKey(BOT, "a:b", "c"),
        StoreKey(BOT, "b", "c:a"),
        StoreKey(BOT, "a", "b:c"),
        StoreKey(BOT, "ノード/%2F", ""),
    ]
    for i, key in enumerate(awkward):
        await store.set_session(key, f"session-{i}")
        await store.put_guild(key, snapshot(100 + i))
    for i, key in enumerate(awkward):
        assert await store.get_session(key) == f"session-{i}"
        assert list(await store.get_guilds(key)) == [100 + i]
    assert set(await store.list_keys(BOT)) == set(awkward)


async def test_bot_cluster_and_node_scopes_are_isolated(store: SessionStore) -> None:
    keys = [
        StoreKey(BOT, "main"),
        StoreKey(BOT, "main", "cluster-1"),
        StoreKey(BOT, "backup"),
        StoreKey(BOT + 1, "main"),
    ]
    for i, key in enumerate(keys):
        await store.set_session(key, f"session-{i}")
        await store.put_guild(key, snapshot(42, position=i, node=key.node))  # the same guild everywhere
    for i, key in enumerate(keys):
        assert await store.get_session(key) == f"session-{i}"
        assert (await store.get_guilds(key))[42].position == i
    await store.delete_guild(keys[0], 42)
    await store.set_session(keys[0], None)
    assert await store.get_guilds(keys[0]) == {}
    for i, key in enumerate(keys[1:], start=1):
        assert await store.get_session(key) == f"session-{i}"
        assert (await store.get_guilds(key))[42].position == i


async def test_two_clients_interleaved_writes_never_overwrite_each_other(backend: Backend) -> None:
    # Two processes of one bot (two clusters) and a second process on the same cluster writing other guilds,
    # all at once, through separate store objects on the same data.
    a, b, c = await backend.opened(), await backend.opened(), await backend.opened()
    key_a, key_b = StoreKey(BOT, "main", "cluster-0"), StoreKey(BOT, "main", "cluster-1")

    async def writer(store: SessionStore, key: StoreKey, guilds: range, tag: str) -> None:
        await store.set_session(key, f"session-{tag}")
        for round_ in range(4):
            for gid in guilds:
                await store.put_guild(key, snapshot(gid, position=round_, title=tag))
            await asyncio.sleep(0)
        await store.put_guilds(key, [snapshot(gid, position=99, title=tag) for gid in guilds])

    await asyncio.gather(
        writer(a, key_a, range(1, 11), "a"),
        writer(b, key_b, range(1, 11), "b"),  # the same guild ids in another cluster
        writer(c, key_a, range(100, 106), "c"),  # other guilds in a's cluster
    )
    fresh = await backend.opened()
    guilds_a, guilds_b = await fresh.get_guilds(key_a), await fresh.get_guilds(key_b)
    assert sorted(guilds_a) == [*range(1, 11), *range(100, 106)]
    assert sorted(guilds_b) == list(range(1, 11))
    assert all(s.position == 99 for s in (*guilds_a.values(), *guilds_b.values()))
    assert {s.track.user_data["title"] for gid, s in guilds_a.items() if gid < 100 and s.track} == {"a"}
    assert {s.track.user_data["title"] for gid, s in guilds_a.items() if gid >= 100 and s.track} == {"c"}
    assert {s.track.user_data["title"] for s in guilds_b.values() if s.track} == {"b"}
    assert await fresh.get_session(key_b) == "session-b"
    assert await fresh.get_session(key_a) in {"session-a", "session-c"}


async def test_reopen_keeps_everything(backend: Backend) -> None:
    if not backend.durable:
        pytest.skip("a memory store keeps nothing across a restart, by design")
    store = await backend.opened()
    key = StoreKey(BOT, "main", "c")
    await store.set_session(key, "kept")
    await store.put_guilds(key, [snapshot(1), snapshot(2, tracks=50)])
    await store.delete_guild(key, 1)
    await store.close()
    reopened = await backend.opened()
    assert await reopened.get_session(key) == "kept"
    assert await reopened.get_guilds(key) == {2: snapshot(2, tracks=50)}
    assert await reopened.list_keys(BOT) == [key]


async def test_closed_store_refuses_work(backend: Backend) -> None:
    if backend.kind == "memory":
        pytest.skip("a memory store has nothing to close")
    store = await backend.opened()
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.get_session(KEY)


_ops = st.lists(
    st.tuples(
        st.sampled_from(["put", "delete", "session", "forget"]),
        st.sampled_from([StoreKey(BOT, "n1"), StoreKey(BOT, "n2"), StoreKey(BOT, "n1", "c")]),
        st.integers(min_value=1, max_value=4),
        st.integers(min_value=0, max_value=10**9),
    ),
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_ops)
async def test_any_operation_sequence_matches_a_dictionary(backend: Backend, ops: list[typing.Any]) -> None:
    store = await backend.opened()
    try:
        await _check_operations(store, ops)
    finally:
        await store.close()


async def _check_operations(store: SessionStore, ops: list[typing.Any]) -> None:
    keys = {StoreKey(BOT, "n1"), StoreKey(BOT, "n2"), StoreKey(BOT, "n1", "c")}
    for key in keys:  # hypothesis reuses the fixture: start each example empty
        await store.set_session(key, None)
        for gid in range(1, 5):
            await store.delete_guild(key, gid)
    sessions: dict[StoreKey, str] = {}
    guilds: dict[StoreKey, dict[int, GuildSnapshot]] = {k: {} for k in keys}
    for op, key, gid, value in ops:
        if op == "put":
            guilds[key][gid] = snapshot(gid, position=value, tracks=gid)
            await store.put_guild(key, guilds[key][gid])
        elif op == "delete":
            guilds[key].pop(gid, None)
            await store.delete_guild(key, gid)
        elif op == "session":
            sessions[key] = f"s{value}"
            await store.set_session(key, f"s{value}")
        else:
            sessions.pop(key, None)
            await store.set_session(key, None)
    for key in keys:
        assert await store.get_session(key) == sessions.get(key)
        assert await store.get_guilds(key) == guilds[key]
    expected = sorted((k for k in keys if k in sessions or guilds[k]), key=lambda k: (k.cluster, k.node))
    assert await store.list_keys(BOT) == expected
