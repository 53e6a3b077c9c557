"""`ProcessStore`: one bot process's view of a session store that outlives it, so a test can crash the process."""

from __future__ import annotations

__all__ = ["ProcessStore"]

import logging
import typing

if typing.TYPE_CHECKING:
    import collections.abc

    from lightbulb_lavalink.snapshot import GuildSnapshot
    from lightbulb_lavalink.stores import SessionStore, StoreKey

_LOGGER = logging.getLogger("lightbulb_lavalink.testing.process_store")


class ProcessStore:
    """Forwards to the store the test keeps across bot restarts; `crash()` makes it drop every later write.

    A killed process writes nothing more: what its store held at that moment is what the next process finds.
    Closing only ends this process's view (the test closes the store it owns).
    """

    __slots__ = ("_crashed", "_inner", "dropped")

    def __init__(self, inner: SessionStore) -> None:
        self._inner = inner
        self._crashed = False
        self.dropped = 0
        """How many writes were dropped after `crash()`."""

    @property
    def url(self) -> str:
        """The inner store's URL (without secrets)."""
        return self._inner.url

    @property
    def crashed(self) -> bool:
        """Whether `crash()` was called."""
        return self._crashed

    def crash(self) -> None:
        """From now on, writes are dropped (the process is dead)."""
        self._crashed = True

    def _dropped(self, what: str) -> bool:
        if self._crashed:
            self.dropped += 1
            _LOGGER.debug("crashed process: %s dropped", what)
        return self._crashed

    async def open(self) -> None:
        """Open the inner store (idempotent)."""
        await self._inner.open()

    async def close(self) -> None:
        """End this process's view; the inner store stays open for the next process."""

    async def get_session(self, key: StoreKey) -> str | None:
        """The inner store's answer."""
        return await self._inner.get_session(key)

    async def set_session(self, key: StoreKey, session_id: str | None) -> None:
        """Forward, unless crashed."""
        if not self._dropped("set_session"):
            await self._inner.set_session(key, session_id)

    async def get_guilds(self, key: StoreKey) -> dict[int, GuildSnapshot]:
        """The inner store's answer."""
        return await self._inner.get_guilds(key)

    async def put_guild(self, key: StoreKey, snapshot: GuildSnapshot) -> None:
        """Forward, unless crashed."""
        if not self._dropped("put_guild"):
            await self._inner.put_guild(key, snapshot)

    async def put_guilds(self, key: StoreKey, snapshots: collections.abc.Iterable[GuildSnapshot]) -> None:
        """Forward, unless crashed."""
        if not self._dropped("put_guilds"):
            await self._inner.put_guilds(key, snapshots)

    async def delete_guild(self, key: StoreKey, guild_id: int) -> None:
        """Forward, unless crashed."""
        if not self._dropped("delete_guild"):
            await self._inner.delete_guild(key, guild_id)

    async def list_keys(self, bot_id: int) -> list[StoreKey]:
        """The inner store's answer."""
        return await self._inner.list_keys(bot_id)
