"""`SessionBook`: what the store held when the client started, the session id to resume and the saved guilds of
each node, read once, retried until the store answers, and handed out guild by guild to whoever brings it back."""

from __future__ import annotations

import asyncio
import logging
import typing

from lightbulb_lavalink.errors import StoreError

if typing.TYPE_CHECKING:
    from collections.abc import Iterable

    from lightbulb_lavalink.snapshot import GuildSnapshot
    from lightbulb_lavalink.stores import SessionStore, StoreKey

__all__ = ["SessionBook", "describe"]

_LOGGER = logging.getLogger("lightbulb_lavalink.resuming.book")


class SessionBook:
    """The saved state of one bot and cluster: per node its session id and guild snapshots, and the guilds saved
    under nodes no longer configured (orphans), which are recovered on whichever node is ready first.

    Nothing is started before the book is read: a client that started fresh while the store was down would
    overwrite every saved queue with the users' next commands. `load()` raises `StoreError` when the store
    cannot be read; the client retries it.
    """

    __slots__ = ("_filled", "_guilds", "_left", "_left_early", "_loaded", "_orphans", "_sessions")

    def __init__(self) -> None:
        self._sessions: dict[str, str | None] = {}
        self._guilds: dict[str, dict[int, GuildSnapshot]] = {}
        self._orphans: dict[StoreKey, dict[int, GuildSnapshot]] = {}
        self._loaded = False
        self._filled = asyncio.Event()
        self._left_early: set[int] = set()
        self._left: list[tuple[str, int]] = []

    def __repr__(self) -> str:
        saved = sum(len(g) for g in self._guilds.values())
        return f"SessionBook(loaded={self._loaded}, nodes={len(self._guilds)}, guilds={saved})"

    @property
    def loaded(self) -> bool:
        """Whether the store was read (the nodes may connect)."""
        return self._loaded

    async def load(self, store: SessionStore, keys: Iterable[StoreKey], *, cluster: str) -> None:
        """Read every node's session id and guilds (by `keys`) and the guilds of nodes not in `keys`.

        All or nothing: raises `StoreError` (the book stays empty) if any read fails.
        """
        keys = list(keys)
        sessions = await self.read_sessions(store, keys)
        guilds, orphans = await self.read_guilds(store, keys, cluster=cluster)
        self.fill(sessions, guilds, orphans)

    @staticmethod
    async def read_sessions(store: SessionStore, keys: Iterable[StoreKey]) -> dict[str, str | None]:
        """Read every node's saved session id (by `keys`): all a node needs to connect. Raises `StoreError`."""
        return {key.node: await store.get_session(key) for key in keys}

    @staticmethod
    async def read_guilds(
        store: SessionStore, keys: Iterable[StoreKey], *, cluster: str
    ) -> tuple[dict[str, dict[int, GuildSnapshot]], dict[StoreKey, dict[int, GuildSnapshot]]]:
        """Read every node's saved guilds (by `keys`) and the guilds of nodes not in `keys` (the orphans), for
        `fill`. Raises `StoreError`."""
        wanted = {key.node: key for key in keys}
        guilds: dict[str, dict[int, GuildSnapshot]] = {}
        for name, key in wanted.items():
            guilds[name] = await store.get_guilds(key)
        orphans: dict[StoreKey, dict[int, GuildSnapshot]] = {}
        bot_ids = {key.bot_id for key in wanted.values()}
        for bot_id in bot_ids:
            for key in await store.list_keys(bot_id):
                if key.cluster != cluster or key.node in wanted:
                    continue
                saved = await store.get_guilds(key)
                if saved:
                    _LOGGER.info(
                        "%d guilds were saved on node %r, which is no longer configured: moving them",
                        len(saved),
                        key.node,
                    )
                orphans[key] = saved
        return guilds, orphans

    def expect(self, sessions: dict[str, str | None]) -> None:
        """The session ids were read (`read_sessions`) and the guilds are being read: the nodes may connect on
        those ids, and whatever acts on a node's `ready` waits for the guilds (`wait_loaded`) until `fill`."""
        self._sessions = sessions
        self._guilds, self._orphans = {}, {}
        self._loaded = False
        self._filled.clear()

    async def wait_loaded(self) -> bool:
        """Wait until the book is filled (at once when it is) or its read is given up; return whether it is."""
        if not self._loaded:
            await self._filled.wait()
        return self._loaded

    def give_up(self) -> None:
        """The guilds will not be read (the client is closing): whatever waits for them goes on, with nothing."""
        self._filled.set()

    def fill(
        self,
        sessions: dict[str, str | None],
        guilds: dict[str, dict[int, GuildSnapshot]],
        orphans: dict[StoreKey, dict[int, GuildSnapshot]],
    ) -> None:
        """Take what was read from the store (by `load`, or by the shared-store reader of `ownership`): the
        guilds a user left meanwhile are dropped (their players destroyed), and the nodes may connect."""
        for guild_id in self._left_early:  # left before the store could be read: never bring them back
            for name, saved in guilds.items():
                if saved.pop(guild_id, None) is not None:
                    self._left.append((name, guild_id))
            for saved in orphans.values():
                saved.pop(guild_id, None)
        self._left_early.clear()
        self._sessions, self._guilds, self._orphans = sessions, guilds, orphans
        self._loaded = True
        self._filled.set()

    def refresh(
        self, node: str, session_id: str | None, changed: Iterable[int], saved: dict[int, GuildSnapshot]
    ) -> None:
        """Bring `node`'s session id and the guilds `changed` up to date with the store (`saved`: their snapshots
        now, a guild missing from it was deleted): a handoff's new process, which read the store while the old one
        still played, reads again only what the old one changed meanwhile."""
        self._sessions[node] = session_id
        guilds = self._guilds.setdefault(node, {})
        for guild_id in changed:
            snap = saved.get(guild_id)
            if snap is None:
                guilds.pop(guild_id, None)
            else:
                guilds[guild_id] = snap

    @property
    def sessions(self) -> dict[str, str | None]:
        """The session id saved for each node (`None`: none)."""
        return self._sessions

    def session_id(self, node: str) -> str | None:
        """The session id saved for `node`, or `None`."""
        return self._sessions.get(node)

    def saved(self, node: str) -> dict[int, GuildSnapshot]:
        """The guilds saved under `node` and not yet taken (a copy)."""
        return dict(self._guilds.get(node, {}))

    def take(self, node: str) -> dict[int, GuildSnapshot]:
        """Hand over every guild still saved under `node`: the caller brings them back (or puts them back)."""
        return self._guilds.pop(node, {})

    def take_left(self) -> list[tuple[str, int]]:
        """The (node, guild) pairs a user left before the store was read: their players are to be destroyed."""
        left, self._left = self._left, []
        return left

    def take_orphans(self) -> dict[StoreKey, dict[int, GuildSnapshot]]:
        """Hand over the guilds saved under nodes no longer configured (once)."""
        orphans, self._orphans = self._orphans, {}
        return orphans

    def forget(self, guild_id: int) -> list[str]:
        """A user left the guild: never bring it back, whichever node it was saved under; return those nodes
        (where a session may still hold its player)."""
        if not self._loaded:
            self._left_early.add(guild_id)
            return []
        nodes = [name for name, guilds in self._guilds.items() if guilds.pop(guild_id, None) is not None]
        for guilds in self._orphans.values():
            guilds.pop(guild_id, None)
        return nodes


def describe(exc: StoreError) -> str:
    """A store error in words for a node's `last_error`."""
    return f"waiting for the session store: {exc}"
