"""Guild ownership across processes: a guild belongs to the process that holds its shard, whoever saved it.

At start (`load`), a process whose store is shared (`OwnershipStore`: Redis, PostgreSQL) and whose shards are
known reads every cluster's guilds, keeps those of its shards, claims them in one atomic step and files them
under its own cluster before the nodes connect. Each guild is then brought back by the usual resume flow:

- saved by this process on a session it resumes: synced from the session, as always;
- saved by another process whose session is live: `take_over` reads the player from that session (the claim
  already told the other process, through its release inbox, to let go), destroys it there, and the recovery
  recreates it on this process's session at the position it had reached, with its saved queue;
- saved by another process whose session is detached or gone (a 404): recovered from the snapshot.

While running, `watch` polls the release inbox: a guild another process claimed is let go here (its player
dropped without touching Lavalink or voice). Players of other processes' guilds found on a resumed session are
left alone for their owner, or destroyed once the store says another process owns them (`on_foreign_players`).
"""

from __future__ import annotations

import asyncio
import logging
import typing

import attrs

from lightbulb_lavalink.errors import LavalinkError, StoreError
from lightbulb_lavalink.player import GuildState
from lightbulb_lavalink.player.identity import restored, same_track
from lightbulb_lavalink.snapshot import TrackSnapshot
from lightbulb_lavalink.stores.base import StoreKey
from lightbulb_lavalink.stores.ownership import supports_ownership

if typing.TYPE_CHECKING:
    from collections.abc import Iterable

    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.protocol.player import PlayerInfo
    from lightbulb_lavalink.resuming.book import SessionBook
    from lightbulb_lavalink.resuming.claims import Claim
    from lightbulb_lavalink.shards import Shards
    from lightbulb_lavalink.snapshot import GuildSnapshot
    from lightbulb_lavalink.stores import SessionStore
    from lightbulb_lavalink.stores.ownership import OwnershipStore

__all__ = ["Ownership", "Source", "live_snapshot"]

_LOGGER = logging.getLogger("lightbulb_lavalink.resuming.ownership")
_TAKEOVER_CONCURRENCY: typing.Final = 16


@attrs.frozen(kw_only=True, weakref_slot=False)
class Source:
    """Where a guild claimed from another process was: the session that may still hold its player."""

    cluster: str
    """The process (cluster) that saved it."""
    node: str
    """The node it was saved under."""
    session_id: str | None
    """That process's session on the node, as the store last saved it."""


class Ownership:
    """Which guilds this process owns, and the claims, take-overs and releases that keep it so. Owned by `Hub`.

    Inactive (every guild is this process's, as for a bot in one process) until `configure` is given both the
    process's shards and a store that supports ownership.
    """

    __slots__ = ("_hub", "_sources", "_store", "paused", "released", "shards", "taken_over")

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._store: OwnershipStore | None = None
        self._sources: dict[int, Source] = {}
        self.shards: Shards | None = None
        """The shards this process holds; `None`: unknown (every guild counts as this process's)."""
        self.taken_over = 0
        """How many players were taken over from another process's live session."""
        self.released = 0
        """How many guilds were let go because another process claimed them."""
        self.paused = False
        """Set while a handoff lets this process's sessions go: the release inbox, which the new process of the
        same cluster shares, is left to it."""

    @property
    def active(self) -> bool:
        """Whether guilds are claimed through the store (shards known, store shared)."""
        return self._store is not None and self.shards is not None

    def configure(self, store: SessionStore, shards: Shards | None) -> None:
        """Set this process's shards and store; warn when several processes would share a single-process store."""
        self.shards = shards
        self._store = store if supports_ownership(store) and shards is not None else None
        if shards is not None and not shards.whole_bot and not supports_ownership(store):
            _LOGGER.error(
                "this process holds %s, so other processes run the rest of the bot, but the session store %s "
                "serves one process only: guilds that move between processes (a reshard) lose their queues and "
                "nothing stops two processes from owning one guild; use a redis:// or postgresql:// store",
                shards,
                store.url,
            )

    def owns(self, guild_id: int) -> bool:
        """Whether the guild is this process's (its shard is one of ours, or the shards are unknown)."""
        return self.shards is None or self.shards.holds(guild_id)

    # -- start ------------------------------------------------------------------------------------------------

    async def load(self, book: SessionBook, store: SessionStore, keys: Iterable[StoreKey], *, cluster: str) -> None:
        """Fill `book` with the guilds of our shards, whatever cluster saved them, claimed for `cluster`.

        All or nothing as `SessionBook.load`: raises `StoreError` if a read, the claim or a copy fails (the client
        retries; a claim made before the failure is simply made again). Steps, each safe to stop after:
        claim the guilds (the previous owners find them in their release inboxes), file the copies of other
        clusters' guilds under our own keys, then delete those copies.
        """
        owned = self._store
        shards = self.shards
        assert owned is not None and shards is not None
        mine = {key.node: key for key in keys}
        bot_id = next(iter(mine.values())).bot_id
        await owned.take_releases(bot_id, cluster)  # addressed to an earlier run of this process: it holds nothing
        sessions = {name: await store.get_session(key) for name, key in mine.items()}
        entries: dict[int, list[tuple[StoreKey, GuildSnapshot]]] = {}
        for key in await store.list_keys(bot_id):
            for guild_id, snap in (await store.get_guilds(key)).items():
                if shards.holds(guild_id) and not (snap.left and key.cluster != cluster):
                    entries.setdefault(guild_id, []).append((key, snap))
        owners = await owned.get_owners(bot_id, entries)
        chosen: dict[int, tuple[StoreKey, GuildSnapshot]] = {}
        for guild_id, found in entries.items():
            of_owner = [entry for entry in found if entry[0].cluster == owners.get(guild_id)]
            chosen[guild_id] = max(of_owner or found, key=lambda entry: entry[1].updated_at)
        await owned.claim_guilds(bot_id, cluster, [g for g, (_, snap) in chosen.items() if not snap.left])
        copies: dict[str, list[GuildSnapshot]] = {}
        session_of: dict[StoreKey, str | None] = {}
        self._sources.clear()
        for guild_id, (key, snap) in chosen.items():
            if key.cluster == cluster:
                continue
            copies.setdefault(key.node, []).append(snap)
            if key not in session_of:
                session_of[key] = await store.get_session(key)
            self._sources[guild_id] = Source(cluster=key.cluster, node=key.node, session_id=session_of[key])
        for node, snaps in copies.items():
            await store.put_guilds(StoreKey(bot_id, node, cluster), snaps)
        for guild_id, found in entries.items():
            for key, _ in found:
                if key.cluster != cluster:
                    await store.delete_guild(key, guild_id)
        guilds: dict[str, dict[int, GuildSnapshot]] = {name: {} for name in mine}
        orphans: dict[StoreKey, dict[int, GuildSnapshot]] = {}
        for guild_id, (key, snap) in chosen.items():
            if key.node in mine:
                guilds[key.node][guild_id] = snap
            else:  # saved under a node no longer configured: recovered on the first node ready
                orphans.setdefault(StoreKey(bot_id, key.node, cluster), {})[guild_id] = snap
        _LOGGER.info(
            "%s: %d guilds claimed (%d saved by other processes)", shards, len(chosen), len(self._sources)
        )
        book.fill(sessions, guilds, orphans)

    # -- bringing guilds back ----------------------------------------------------------------------------------

    async def take_over(self, node: Node, claims: dict[int, Claim]) -> None:
        """Before `claims` are recovered on `node`: for each guild claimed from another process whose session
        still holds its player, read that player, destroy it there, and recover from what it was playing."""
        sources = {g: self._sources.pop(g) for g in list(claims) if g in self._sources}
        sources = {g: s for g, s in sources.items() if s.node == node.name and s.session_id is not None}
        if not sources:
            return
        limit = asyncio.Semaphore(_TAKEOVER_CONCURRENCY)

        async def one(guild_id: int, source: Source) -> None:
            assert source.session_id is not None
            async with limit:
                try:
                    info = await node.rest.get_player(source.session_id, guild_id)
                except LavalinkError:
                    return  # detached (a 404 until it expires) or gone: recovered from its snapshot
                try:
                    await node.rest.destroy_player(source.session_id, guild_id)
                except LavalinkError as exc:
                    _LOGGER.warning(
                        "guild %s: could not destroy its player on %s's session: %s", guild_id, source.cluster, exc
                    )
            claim = claims[guild_id]
            if claim.player.left:
                return
            claim.saved = live_snapshot(claim.saved, info)
            claim.player.begin_restore(GuildState.RECOVERING, claim.saved)
            self.taken_over += 1

        await asyncio.gather(*(one(g, s) for g, s in sources.items()))

    def on_foreign_players(self, node: Node, guild_ids: list[int]) -> None:
        """A resumed session holds players of guilds that are not ours: destroy those another process owns (it
        brought them back already, or is doing so from its snapshot); leave the rest to their owner-to-be."""
        if guild_ids and self.active:
            self._hub.spawn(self._discard_owned_elsewhere(node, guild_ids), name=f"lavalink-foreign-{node.name}")

    async def _discard_owned_elsewhere(self, node: Node, guild_ids: list[int]) -> None:
        store, client = self._store, self._hub.client
        if store is None or client.bot_id is None:
            return
        try:
            owners = await store.get_owners(client.bot_id, guild_ids)
        except StoreError as exc:
            _LOGGER.warning("node %s: cannot tell who owns %d foreign players: %s", node.name, len(guild_ids), exc)
            return
        for guild_id in guild_ids:
            owner = owners.get(guild_id)
            if owner is not None and owner != client.settings.cluster and guild_id not in self._hub.players:
                await node.discard_player(guild_id)

    # -- running ----------------------------------------------------------------------------------------------

    async def watch(self, interval: float) -> None:
        """Poll the release inbox every `interval` seconds and let go the guilds other processes claimed."""
        client = self._hub.client
        while True:
            await client.clock.sleep(interval)
            if self._store is None or client.bot_id is None:
                return
            if self.paused:
                continue
            try:
                released = await self._store.take_releases(client.bot_id, client.settings.cluster)
            except StoreError as exc:
                _LOGGER.warning("cannot read the guilds other processes claimed: %s; retrying", exc)
                continue
            for guild_id in sorted(released):
                if self._hub.release_player(guild_id):
                    self.released += 1
                    _LOGGER.info("guild %s: claimed by another process, letting it go", guild_id)


def live_snapshot(saved: GuildSnapshot, info: PlayerInfo) -> GuildSnapshot:
    """`saved` brought up to date with a live player of another session: its track, position, pause, volume and
    filters. The queued blob is kept (policy: keep the blob the user queued); a track the other process moved on
    to without saving it is taken off the front of the queue."""
    live = info.track
    changes: dict[str, typing.Any] = {"pending": False}
    if info.paused is not None:
        changes["paused"] = info.paused
    if info.volume is not None:
        changes["volume"] = info.volume
    changes["filters"] = info.filters.to_payload()
    if live is None:
        return attrs.evolve(saved, **changes) if saved.track is None else saved
    position = info.state.position if info.state is not None else 0
    current = restored(saved.track) if saved.track is not None else None
    queue = saved.queue
    if current is not None and same_track(current, live):
        return attrs.evolve(saved, position=position, **changes)
    first = restored(queue.tracks[0]) if queue.tracks else None
    if first is not None and same_track(first, live):
        history = (*queue.history, saved.track) if saved.track is not None else queue.history
        queue = attrs.evolve(queue, tracks=queue.tracks[1:], history=history)
        return attrs.evolve(saved, track=queue_track(saved, 0), queue=queue, position=position, **changes)
    return attrs.evolve(saved, track=TrackSnapshot.of(live), position=position, **changes)


def queue_track(saved: GuildSnapshot, index: int) -> TrackSnapshot:
    """The queued blob at `index` of the saved queue."""
    return saved.queue.tracks[index]
