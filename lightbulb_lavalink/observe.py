"""`Observer`: what a client tells an attached metrics collector, and `MeasuredStore`, which times store writes.

The core knows only this protocol; `lightbulb_lavalink.metrics` implements it with prometheus-client. With no
observer attached (the default) every hook is one ``None`` check.
"""

from __future__ import annotations

import typing

if typing.TYPE_CHECKING:
    import collections.abc

    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.clock import Clock
    from lightbulb_lavalink.protocol.rest import RequestObserver
    from lightbulb_lavalink.resuming.outcome import ResumeReport
    from lightbulb_lavalink.snapshot import GuildSnapshot
    from lightbulb_lavalink.stores.base import SessionStore, StoreKey

__all__ = ["MeasuredStore", "MetricsSource", "Observer", "StoreWrite"]

StoreWrite = typing.Literal["set_session", "put_guild", "put_guilds", "delete_guild"]
"""The store writes `MeasuredStore` times."""


class Observer(typing.Protocol):
    """Told what one `LavalinkClient` does, for metrics. Every method must return at once and never raise."""

    def requests(self, node: str) -> RequestObserver:
        """The observer of `node`'s REST requests."""
        ...

    def websocket_reconnect(self, node: str) -> None:
        """`node`'s websocket closed and reconnects."""
        ...

    def store_write(self, operation: StoreWrite, seconds: float, error: Exception | None) -> None:
        """A store write took `seconds` on the client's clock; `error` if it failed."""
        ...

    def resume_completed(self, report: ResumeReport) -> None:
        """Everything a node `ready` set off has settled."""
        ...


class MetricsSource(typing.Protocol):
    """What `LavalinkClient(metrics=...)` takes: `lightbulb_lavalink.metrics.LavalinkMetrics`, or your own."""

    def observer_for(self, client: LavalinkClient, label: str) -> Observer:
        """The observer of `client`, whose metrics carry ``client=label``; reads its public state at scrapes."""
        ...


class MeasuredStore:
    """A `SessionStore` that times its writes for an `Observer`; what the snapshot writer writes through."""

    __slots__ = ("_clock", "_observer", "_store")

    def __init__(self, store: SessionStore, observer: Observer, clock: Clock) -> None:
        self._store = store
        self._observer = observer
        self._clock = clock

    def __repr__(self) -> str:
        return f"MeasuredStore({self._store!r})"

    @property
    def url(self) -> str:
        """The measured store's URL (without secrets)."""
        return self._store.url

    async def open(self) -> None:
        """Open the measured store."""
        await self._store.open()

    async def close(self) -> None:
        """Close the measured store."""
        await self._store.close()

    async def get_session(self, key: StoreKey) -> str | None:
        """Read a session id (not timed)."""
        return await self._store.get_session(key)

    async def get_guilds(self, key: StoreKey) -> dict[int, GuildSnapshot]:
        """Read the saved guilds (not timed: the resume report times the whole read)."""
        return await self._store.get_guilds(key)

    async def list_keys(self, bot_id: int) -> list[StoreKey]:
        """List the keys (not timed)."""
        return await self._store.list_keys(bot_id)

    async def set_session(self, key: StoreKey, session_id: str | None) -> None:
        """Write a session id, timed."""
        await self._timed("set_session", self._store.set_session(key, session_id))

    async def put_guild(self, key: StoreKey, snapshot: GuildSnapshot) -> None:
        """Write one guild, timed."""
        await self._timed("put_guild", self._store.put_guild(key, snapshot))

    async def put_guilds(self, key: StoreKey, snapshots: collections.abc.Iterable[GuildSnapshot]) -> None:
        """Write guilds in one batch, timed."""
        await self._timed("put_guilds", self._store.put_guilds(key, snapshots))

    async def delete_guild(self, key: StoreKey, guild_id: int) -> None:
        """Delete a guild, timed."""
        await self._timed("delete_guild", self._store.delete_guild(key, guild_id))

    async def _timed(self, operation: StoreWrite, write: collections.abc.Awaitable[None]) -> None:
        started = self._clock.monotonic()
        try:
            await write
        except Exception as exc:
            self._observer.store_write(operation, self._clock.monotonic() - started, exc)
            raise
        self._observer.store_write(operation, self._clock.monotonic() - started, None)
