"""Reading what the session store saved, for a starting client: the session ids first (all a node needs to connect),
then the saved guilds, while the nodes connect; a store that does not answer is retried, and the nodes wait for it
meanwhile, so that no saved queue is overwritten."""

from __future__ import annotations

import logging
import typing
import urllib.parse

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.protocol.backoff import Backoff
from lightbulb_lavalink.redact import redact_secret
from lightbulb_lavalink.resuming.book import describe

if typing.TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from lightbulb_lavalink.clock import Clock
    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.settings import LavalinkSettings
    from lightbulb_lavalink.stores import SessionStore, StoreKey

__all__ = ["StoreReader"]

_LOGGER = logging.getLogger("lightbulb_lavalink.client")


class StoreReader:
    """Fills the hub's session book from the store at start (see the module). Owned by `LavalinkClient`."""

    __slots__ = ("_clock", "_hub", "_nodes", "_retries", "_settings", "_store", "_store_key", "error")

    def __init__(
        self,
        hub: Hub,
        nodes: Mapping[str, Node],
        settings: LavalinkSettings,
        clock: Clock,
        *,
        store: Callable[[], SessionStore],
        store_key: Callable[[str], StoreKey],
    ) -> None:
        """Read for `nodes` into `hub`'s book; `store` gives the client's store, `store_key` a node's key."""
        self._hub = hub
        self._nodes = nodes
        self._settings = settings
        self._clock = clock
        self._store = store
        self._store_key = store_key
        # Reads are retried as the nodes reconnect, without jitter: one reader per process.
        self._retries = Backoff(initial=settings.reconnect_delay, maximum=settings.reconnect_max_delay, jitter=0)
        self.error: str | None = None
        """Why the store cannot be read now (each node's `last_error` says it too); `None` once it was."""

    async def read_all(self, *, first: bool) -> bool:
        """Read the whole session book now; on failure say why on every node and return `False`."""
        started = self._clock.monotonic()
        keys = [self._store_key(name) for name in self._nodes]
        try:
            if self._hub.ownership.active:
                await self._hub.ownership.load(self._hub.book, self._store(), keys, cluster=self._settings.cluster)
            else:
                await self._hub.book.load(self._store(), keys, cluster=self._settings.cluster)
        except StoreError as exc:
            self._unreadable(exc, warn=first)
            return False
        if not first:
            _LOGGER.info("the session store answers again: connecting the nodes")
        self._done(started)
        return True

    async def read_sessions(self) -> bool:
        """Read the saved session ids, then the saved guilds in the background; on failure as `read_all`.

        The session ids are all the nodes need to connect, and the guilds (the bulk of a big bot's store) are read
        while the websocket handshake and the node's answer to the resumed session's players are on the network:
        a node's `ready` waits for them (`SessionBook.wait_loaded`) before it claims anything.
        """
        started = self._clock.monotonic()
        keys = [self._store_key(name) for name in self._nodes]
        book = self._hub.book
        try:
            book.expect(await book.read_sessions(self._store(), keys))
        except StoreError as exc:
            self._unreadable(exc, warn=True)
            return False
        self._hub.spawn(self._read_guilds(keys, started), name="lavalink-store-read")
        return True

    async def _read_guilds(self, keys: list[StoreKey], started: float) -> None:
        """Fill the session book with the saved guilds, retrying until the store answers (the nodes' `ready`
        waits meanwhile: no guild is claimed, nothing saved over a queue)."""
        book = self._hub.book
        delays = self._retries.delays()
        first = True
        try:
            while True:
                try:
                    guilds, orphans = await book.read_guilds(self._store(), keys, cluster=self._settings.cluster)
                    break
                except StoreError as exc:
                    self._unreadable(exc, warn=first)
                    first = False
                except Exception as exc:  # a store of the bot's own that raises something else
                    # Retried as a store error: ending here would let the waiting `ready` go on as if the client
                    # closed, claim no saved guild, and leave the node ready with every saved queue ignored.
                    self._unreadable(StoreError(_unexpected(exc, self._settings.store)), warn=first)
                    first = False
                await self._clock.sleep(next(delays))
        except BaseException:
            book.give_up()  # closed meanwhile: a node's ready waiting for the guilds stops waiting
            raise
        if not first:
            _LOGGER.info("the session store answers again: bringing the saved guilds back")
            for node in self._nodes.values():
                if node.last_error == self.error:
                    node.last_error = None
        book.fill(book.sessions, guilds, orphans)
        self._done(started)

    def _unreadable(self, exc: StoreError, *, warn: bool) -> None:
        """The store could not be read: every node says why until it is."""
        self.error = describe(exc)
        for node in self._nodes.values():
            node.last_error = self.error
        if warn:
            _LOGGER.warning(
                "cannot read the saved sessions from the store (%s): the nodes wait for it, so that no saved "
                "queue is overwritten; retrying",
                exc,
            )

    def _done(self, started: float) -> None:
        """The session book is filled: tell the reports how long it took, and destroy what users left meanwhile."""
        self._hub.coordinator.store_read(self._clock.monotonic() - started)
        self.error = None
        for name, guild_id in self._hub.book.take_left():
            self._hub.defer_destroy(self._nodes[name], guild_id)

    async def read_until_it_answers(self) -> None:
        """Read the session book again and again (backing off) until the store answers."""
        delays = self._retries.delays()
        while not await self.read_all(first=False):
            await self._clock.sleep(next(delays))


def _unexpected(exc: Exception, store_url: str) -> str:
    """An error a store raised that is not a `StoreError`, in words (the store URL's password masked)."""
    password = urllib.parse.urlsplit(store_url).password if "://" in store_url else None
    # As the URL writes it and as a driver would show it (percent-decoded): `redact_secret` quotes each again.
    plain = urllib.parse.unquote(password) if password else None
    return redact_secret(f"{type(exc).__name__}: {exc}", password, plain)
