"""`MemoryStore`: a session store that lives in the process and is lost with it (tests, throwaway bots)."""

from __future__ import annotations

import typing

from lightbulb_lavalink.stores.base import decode_guilds, encode_snapshot, latest_by_guild, sorted_keys

if typing.TYPE_CHECKING:
    import collections.abc

    from lightbulb_lavalink.snapshot import GuildSnapshot
    from lightbulb_lavalink.stores.base import StoreKey

__all__ = ["MemoryStore"]


class MemoryStore:
    """Keeps everything in dictionaries: nothing survives a restart, so nothing resumes after one.

    Snapshots are kept in their JSON form, exactly as the durable stores keep them, so a snapshot that
    a durable store would refuse is refused here too (`StoreError`).
    """

    __slots__ = ("_guilds", "_sessions")

    def __init__(self) -> None:
        self._sessions: dict[StoreKey, str] = {}
        self._guilds: dict[StoreKey, dict[int, str]] = {}

    @property
    def url(self) -> str:
        """Always ``memory://``."""
        return "memory://"

    @property
    def problems(self) -> tuple[()]:
        """A memory store never meets a corrupt file: always empty."""
        return ()

    def __repr__(self) -> str:
        return "MemoryStore()"

    async def open(self) -> None:
        """Nothing to prepare."""

    async def close(self) -> None:
        """Nothing to release; the data stays until the object is dropped."""

    async def get_session(self, key: StoreKey) -> str | None:
        """Return the saved session id of `key`, or `None`."""
        return self._sessions.get(key)

    async def set_session(self, key: StoreKey, session_id: str | None) -> None:
        """Save (or with `None` forget) the session id of `key`."""
        if session_id is None:
            self._sessions.pop(key, None)
        else:
            self._sessions[key] = session_id

    async def get_guilds(self, key: StoreKey) -> dict[int, GuildSnapshot]:
        """Return the guild snapshots of `key`."""
        return decode_guilds(self._guilds.get(key, {}).items(), "memory://")

    async def put_guild(self, key: StoreKey, snapshot: GuildSnapshot) -> None:
        """Save one guild snapshot."""
        self._guilds.setdefault(key, {})[snapshot.guild_id] = encode_snapshot(snapshot)

    async def put_guilds(self, key: StoreKey, snapshots: collections.abc.Iterable[GuildSnapshot]) -> None:
        """Save several guild snapshots (all encoded before any is stored)."""
        encoded = latest_by_guild(snapshots)
        if encoded:
            self._guilds.setdefault(key, {}).update(encoded)

    async def delete_guild(self, key: StoreKey, guild_id: int) -> None:
        """Forget one guild snapshot."""
        guilds = self._guilds.get(key)
        if guilds is not None:
            guilds.pop(guild_id, None)
            if not guilds:
                del self._guilds[key]

    async def list_keys(self, bot_id: int) -> list[StoreKey]:
        """Return the scopes of `bot_id` holding anything."""
        return sorted_keys(k for k in (*self._sessions, *self._guilds) if k.bot_id == bot_id)
