"""The `SessionStore` contract as a test suite you can run on a store of your own (every built-in store passes it).

With pytest, subclass `StoreContract` and say how to make your store; each check is a test:

```python
class TestMyStore(StoreContract):
    def new_store(self) -> SessionStore:
        return MyStore(self.path)          # called several times: every object must see the same data
```

Without pytest, ``await run_store_contract(lambda: MyStore(path))`` runs every check (the first failure raises
`AssertionError`). Each check works under bot ids of its own, so one data space serves them all.
"""

from __future__ import annotations

__all__ = ["CHECKS", "StoreContract", "StoreFactory", "run_store_contract"]

import asyncio
import random
import typing

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.snapshot import GuildSnapshot, QueueSnapshot, TrackSnapshot
from lightbulb_lavalink.stores import SessionStore, StoreKey

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

StoreFactory = typing.Callable[[], SessionStore]
"""Makes a new store object on the same data (another "process"); for a store that cannot share, the same one."""

_BASE_BOT: typing.Final[int] = 800_000_000_000_000_000


def snapshot(
    guild_id: int,
    *,
    node: str = "main",
    position: int = 0,
    tracks: int = 2,
    title: str = "Song",
    channel_id: int | None = 1_100_000_000_000_000_001,
) -> GuildSnapshot:
    """A realistic snapshot: a current track, `tracks` queued tracks with user data, filters."""
    queue = tuple(
        TrackSnapshot(
            encoded=f"QAAA{guild_id}x{i}", user_data={"requester": 90_000_000_000_000_000 + i, "title": title}
        )
        for i in range(tracks)
    )
    return GuildSnapshot(
        guild_id=guild_id,
        node=node,
        channel_id=channel_id,
        track=TrackSnapshot(encoded=f"QAAB{guild_id}", user_data={"requester": 1, "title": title}),
        position=position,
        paused=False,
        volume=80,
        filters={"timescale": {"speed": 1.25, "pitch": 1.0, "rate": 1.0}, "volume": 0.5},
        queue=QueueSnapshot(tracks=queue, history=queue[:1], loop="queue"),
        updated_at=1_700_000_000.25,
    )


class Stores:
    """What a check gets: store objects on the data under test, its own bot ids, and what the store promises."""

    def __init__(self, factory: StoreFactory, *, bot: int, durable: bool, shared: bool) -> None:
        self.bot = bot
        """The first of the ten bot ids this check may use."""
        self.durable = durable
        """Whether data survives closing every store object."""
        self.shared = shared
        """Whether two objects from the factory are two clients of the same data."""
        self._factory = factory
        self._made: list[SessionStore] = []

    def new(self) -> SessionStore:
        """Another store object (not opened)."""
        store = self._factory()
        self._made.append(store)
        return store

    async def opened(self) -> SessionStore:
        """Another store object, opened."""
        store = self.new()
        await store.open()
        return store

    async def close_all(self) -> None:
        """Close every store object made."""
        for store in self._made:
            await store.close()


async def is_a_session_store_with_a_url(stores: Stores) -> None:
    """It implements `SessionStore` and has a URL."""
    store = await stores.opened()
    assert isinstance(store, SessionStore), f"{store!r} does not implement SessionStore"
    assert "://" in store.url, f"store.url is not a URL: {store.url!r}"


async def open_and_close_are_idempotent(stores: Stores) -> None:
    """Opening or closing twice is fine, and what was written is there for the next object."""
    key = StoreKey(stores.bot, "main")
    store = stores.new()
    await store.open()
    await store.open()
    await store.put_guild(key, snapshot(1))
    await store.close()
    await store.close()
    if stores.durable or not stores.shared:
        again = await stores.opened()
        assert list(await again.get_guilds(key)) == [1]


async def session_id_round_trip(stores: Stores) -> None:
    """A session id is saved, replaced and forgotten (forgetting twice is fine)."""
    store, key = await stores.opened(), StoreKey(stores.bot, "main")
    assert await store.get_session(key) is None
    await store.set_session(key, "abc123")
    assert await store.get_session(key) == "abc123"
    await store.set_session(key, "def456")
    assert await store.get_session(key) == "def456"
    await store.set_session(key, None)
    assert await store.get_session(key) is None
    await store.set_session(key, None)
    assert await store.get_session(key) is None


async def put_get_replace_delete_guild(stores: Stores) -> None:
    """A guild snapshot is saved, replaced and deleted (deleting twice, or an unknown guild, is fine)."""
    store, key = await stores.opened(), StoreKey(stores.bot, "main")
    assert await store.get_guilds(key) == {}
    first = snapshot(10, position=1000)
    await store.put_guild(key, first)
    assert await store.get_guilds(key) == {10: first}
    second = snapshot(10, position=2000, tracks=0)
    await store.put_guild(key, second)
    assert await store.get_guilds(key) == {10: second}
    await store.delete_guild(key, 10)
    assert await store.get_guilds(key) == {}
    await store.delete_guild(key, 10)
    await store.delete_guild(key, 999)


async def put_guilds_writes_all_and_the_last_repeat_wins(stores: Stores) -> None:
    """`put_guilds` writes every snapshot; a guild given twice keeps the last."""
    store, key = await stores.opened(), StoreKey(stores.bot, "main")
    await store.put_guilds(key, [])
    await store.put_guilds(key, (s for s in [snapshot(1), snapshot(2, position=5), snapshot(2, position=7)]))
    guilds = await store.get_guilds(key)
    assert sorted(guilds) == [1, 2]
    assert guilds[2].position == 7
    await store.put_guilds(key, [snapshot(3)])
    assert sorted(await store.get_guilds(key)) == [1, 2, 3]


async def an_unserialisable_snapshot_is_refused_with_its_batch(stores: Stores) -> None:
    """A snapshot JSON cannot carry raises `StoreError` naming the guild, and nothing of its batch is written."""
    store, key = await stores.opened(), StoreKey(stores.bot, "main")
    bad = GuildSnapshot(guild_id=2, node="main", channel_id=None, filters={"x": float("nan")})
    worse = GuildSnapshot(guild_id=3, node="main", channel_id=None, filters={"x": {1, 2}})
    for write, guild in ((store.put_guild(key, bad), 2), (store.put_guilds(key, [snapshot(1), worse]), 3)):
        try:
            await write
        except StoreError as exc:
            assert f"guild {guild}" in str(exc), f"the error does not name guild {guild}: {exc}"
        else:
            raise AssertionError(f"guild {guild}'s snapshot is not JSON, yet it was accepted")
    assert await store.get_guilds(key) == {}


async def round_trips_unicode_a_large_queue_and_odd_values(stores: Stores) -> None:
    """Text in any script, big ids, 3000 queued tracks and nested user data come back equal."""
    store, key = await stores.opened(), StoreKey(stores.bot, "main")
    text = 'Ünïcödé ✓ 🎵 مرحبا 漢字 e\u0301 \x00 "quoted" \\ back\nline'
    tracks = tuple(
        TrackSnapshot(encoded=f"QAAA{i:05d}" * 20, user_data={"requester": 2**62 + i, "title": f"{text} #{i}"})
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
    await store.put_guilds(key, [big, idle])
    assert await store.get_guilds(key) == {big.guild_id: big, 5: idle}


async def list_keys_names_the_scopes_holding_something(stores: Stores) -> None:
    """`list_keys` lists a bot's scopes with a session or a guild, sorted, and forgets emptied ones."""
    store, bot = await stores.opened(), stores.bot
    assert await store.list_keys(bot) == []
    await store.set_session(StoreKey(bot, "b-node"), "s1")
    await store.put_guild(StoreKey(bot, "a-node", "cluster-1"), snapshot(1))
    await store.put_guild(StoreKey(bot, "a-node"), snapshot(1))
    await store.set_session(StoreKey(bot + 1, "other-bot-node"), "s2")
    assert await store.list_keys(bot) == [
        StoreKey(bot, "a-node"),
        StoreKey(bot, "b-node"),
        StoreKey(bot, "a-node", "cluster-1"),
    ]
    await store.set_session(StoreKey(bot, "b-node"), None)
    await store.delete_guild(StoreKey(bot, "a-node", "cluster-1"), 1)
    assert await store.list_keys(bot) == [StoreKey(bot, "a-node")]
    assert await store.list_keys(bot + 1) == [StoreKey(bot + 1, "other-bot-node")]
    assert await store.list_keys(bot + 2) == []


async def keys_with_separators_and_unicode_stay_apart(stores: Stores) -> None:
    """Nodes and clusters holding ``:``, ``/``, ``%`` or any script never collide."""
    store, bot = await stores.opened(), stores.bot
    awkward = [
        StoreKey(bot, "a:b", "c"),
        StoreKey(bot, "b", "c:a"),
        StoreKey(bot, "a", "b:c"),
        StoreKey(bot, "ノード/%2F"),
    ]
    for i, key in enumerate(awkward):
        await store.set_session(key, f"session-{i}")
        await store.put_guild(key, snapshot(100 + i))
    for i, key in enumerate(awkward):
        assert await store.get_session(key) == f"session-{i}"
        assert list(await store.get_guilds(key)) == [100 + i]
    assert set(await store.list_keys(bot)) == set(awkward)


async def bot_cluster_and_node_scopes_are_isolated(stores: Stores) -> None:
    """The same guild under another bot, cluster or node is another snapshot."""
    store, bot = await stores.opened(), stores.bot
    keys = [
        StoreKey(bot, "main"),
        StoreKey(bot, "main", "cluster-1"),
        StoreKey(bot, "backup"),
        StoreKey(bot + 1, "main"),
    ]
    for i, key in enumerate(keys):
        await store.set_session(key, f"session-{i}")
        await store.put_guild(key, snapshot(42, position=i, node=key.node))
    await store.delete_guild(keys[0], 42)
    await store.set_session(keys[0], None)
    assert await store.get_guilds(keys[0]) == {}
    for i, key in enumerate(keys[1:], start=1):
        assert await store.get_session(key) == f"session-{i}"
        assert (await store.get_guilds(key))[42].position == i


async def two_clients_writing_at_once_never_overwrite_each_other(stores: Stores) -> None:
    """Two processes (two clusters, and a second process on one cluster) writing at once lose nothing."""
    a, b, c = await stores.opened(), await stores.opened(), await stores.opened()
    key_a, key_b = StoreKey(stores.bot, "main", "cluster-0"), StoreKey(stores.bot, "main", "cluster-1")

    async def writer(store: SessionStore, key: StoreKey, guilds: range, tag: str) -> None:
        await store.set_session(key, f"session-{tag}")
        for round_ in range(4):
            for gid in guilds:
                await store.put_guild(key, snapshot(gid, position=round_, title=tag))
            await asyncio.sleep(0)
        await store.put_guilds(key, [snapshot(gid, position=99, title=tag) for gid in guilds])

    await asyncio.gather(
        writer(a, key_a, range(1, 11), "a"), writer(b, key_b, range(1, 11), "b"), writer(c, key_a, range(100, 106), "c")
    )
    fresh = await stores.opened()
    guilds_a, guilds_b = await fresh.get_guilds(key_a), await fresh.get_guilds(key_b)
    assert sorted(guilds_a) == [*range(1, 11), *range(100, 106)]
    assert sorted(guilds_b) == list(range(1, 11))
    assert all(s.position == 99 for s in (*guilds_a.values(), *guilds_b.values()))
    assert {s.track.user_data["title"] for g, s in guilds_a.items() if g < 100 and s.track} == {"a"}
    assert {s.track.user_data["title"] for g, s in guilds_a.items() if g >= 100 and s.track} == {"c"}
    assert await fresh.get_session(key_b) == "session-b"


async def reopening_keeps_everything(stores: Stores) -> None:
    """A durable store gives back, after closing, exactly what it held."""
    if not stores.durable:
        return
    store, key = await stores.opened(), StoreKey(stores.bot, "main", "c")
    await store.set_session(key, "kept")
    await store.put_guilds(key, [snapshot(1), snapshot(2, tracks=50)])
    await store.delete_guild(key, 1)
    await store.close()
    reopened = await stores.opened()
    assert await reopened.get_session(key) == "kept"
    assert await reopened.get_guilds(key) == {2: snapshot(2, tracks=50)}
    assert await reopened.list_keys(stores.bot) == [key]


async def any_sequence_of_operations_matches_a_dictionary(stores: Stores) -> None:
    """Seeded random puts, deletes and session changes read back as a dictionary holding the same would."""
    rng = random.Random(12)
    keys = [StoreKey(stores.bot, "n1"), StoreKey(stores.bot, "n2"), StoreKey(stores.bot, "n1", "c")]
    store = await stores.opened()
    sessions: dict[StoreKey, str] = {}
    guilds: dict[StoreKey, dict[int, GuildSnapshot]] = {k: {} for k in keys}
    for _ in range(60):
        op, key, gid, value = rng.choice("pdsf"), rng.choice(keys), rng.randint(1, 4), rng.randint(0, 10**9)
        if op == "p":
            guilds[key][gid] = snapshot(gid, position=value, tracks=gid)
            await store.put_guild(key, guilds[key][gid])
        elif op == "d":
            guilds[key].pop(gid, None)
            await store.delete_guild(key, gid)
        elif op == "s":
            sessions[key] = f"s{value}"
            await store.set_session(key, f"s{value}")
        else:
            sessions.pop(key, None)
            await store.set_session(key, None)
        for k in keys:
            assert await store.get_session(k) == sessions.get(k)
            assert await store.get_guilds(k) == guilds[k]
    expected = sorted((k for k in keys if k in sessions or guilds[k]), key=lambda k: (k.cluster, k.node))
    assert await store.list_keys(stores.bot) == expected


CHECKS: typing.Final[dict[str, Callable[[Stores], Awaitable[None]]]] = {
    check.__name__: check
    for check in (
        is_a_session_store_with_a_url,
        open_and_close_are_idempotent,
        session_id_round_trip,
        put_get_replace_delete_guild,
        put_guilds_writes_all_and_the_last_repeat_wins,
        an_unserialisable_snapshot_is_refused_with_its_batch,
        round_trips_unicode_a_large_queue_and_odd_values,
        list_keys_names_the_scopes_holding_something,
        keys_with_separators_and_unicode_stay_apart,
        bot_cluster_and_node_scopes_are_isolated,
        two_clients_writing_at_once_never_overwrite_each_other,
        reopening_keeps_everything,
        any_sequence_of_operations_matches_a_dictionary,
    )
}
"""Every check of the contract, by name."""


async def run_check(
    name: str, factory: StoreFactory, *, durable: bool = True, shared: bool = True, bot: int | None = None
) -> None:
    """Run one check of `CHECKS` on stores from `factory`; closes every store it made.

    Raises:
        ValueError: `name` is not a check of `CHECKS`.
        AssertionError: The store does not do what the check expects.
    """
    index = list(CHECKS).index(name)
    stores = Stores(factory, bot=bot if bot is not None else _BASE_BOT + 10 * index, durable=durable, shared=shared)
    try:
        await CHECKS[name](stores)
    finally:
        await stores.close_all()


async def run_store_contract(factory: StoreFactory, *, durable: bool = True, shared: bool = True) -> None:
    """Run every check on stores from `factory`, stopping at the first failure.

    `durable`: data survives closing every store object (`False` for an in-memory store); `shared`: two objects
    from `factory` are two clients of one data space (`False` if `factory` returns the same object each time).

    Raises:
        AssertionError: The store does not do what a check expects (the message says what).
        Exception: Whatever the store itself raised where the contract expects none (a `StoreError`, say).
    """
    for name in CHECKS:
        await run_check(name, factory, durable=durable, shared=shared)


class StoreContract:
    """A pytest base class: one test per check of the contract, on the stores `new_store` makes.

    Set `durable` and `shared` as for `run_store_contract`. pytest's ``setup_method`` may choose a fresh place
    for each test; `prepare` and `cleanup` run in the check's event loop before and after it. Each test runs
    its own event loop (``asyncio.run``), so the suite needs no pytest plugin.
    """

    durable: typing.ClassVar[bool] = True
    """Whether data survives closing every store object."""
    shared: typing.ClassVar[bool] = True
    """Whether two objects from `new_store` share data."""

    def new_store(self) -> SessionStore:
        """A new store object on the data under test (called several times per test).

        Raises:
            NotImplementedError: Not overridden: every subclass says how to make its store.
        """
        raise NotImplementedError("StoreContract subclasses say how to make their store: def new_store(self)")

    async def prepare(self) -> None:
        """Before each check, in its event loop: make what `new_store` needs (a connection pool); nothing by
        default."""

    async def cleanup(self) -> None:
        """After each check, in its event loop: drop what it wrote (a table, a key prefix), close what `prepare`
        made; nothing by default."""

    def run(self, name: str) -> None:
        """Run the check `name` in a new event loop, between `prepare` and `cleanup`."""

        async def main() -> None:
            await self.prepare()
            try:
                await run_check(name, self.new_store, durable=self.durable, shared=self.shared)
            finally:
                await self.cleanup()

        asyncio.run(main())

    def test_is_a_session_store_with_a_url(self) -> None:
        self.run("is_a_session_store_with_a_url")

    def test_open_and_close_are_idempotent(self) -> None:
        self.run("open_and_close_are_idempotent")

    def test_session_id_round_trip(self) -> None:
        self.run("session_id_round_trip")

    def test_put_get_replace_delete_guild(self) -> None:
        self.run("put_get_replace_delete_guild")

    def test_put_guilds_writes_all_and_the_last_repeat_wins(self) -> None:
        self.run("put_guilds_writes_all_and_the_last_repeat_wins")

    def test_an_unserialisable_snapshot_is_refused_with_its_batch(self) -> None:
        self.run("an_unserialisable_snapshot_is_refused_with_its_batch")

    def test_round_trips_unicode_a_large_queue_and_odd_values(self) -> None:
        self.run("round_trips_unicode_a_large_queue_and_odd_values")

    def test_list_keys_names_the_scopes_holding_something(self) -> None:
        self.run("list_keys_names_the_scopes_holding_something")

    def test_keys_with_separators_and_unicode_stay_apart(self) -> None:
        self.run("keys_with_separators_and_unicode_stay_apart")

    def test_bot_cluster_and_node_scopes_are_isolated(self) -> None:
        self.run("bot_cluster_and_node_scopes_are_isolated")

    def test_two_clients_writing_at_once_never_overwrite_each_other(self) -> None:
        self.run("two_clients_writing_at_once_never_overwrite_each_other")

    def test_reopening_keeps_everything(self) -> None:
        self.run("reopening_keeps_everything")

    def test_any_sequence_of_operations_matches_a_dictionary(self) -> None:
        self.run("any_sequence_of_operations_matches_a_dictionary")
