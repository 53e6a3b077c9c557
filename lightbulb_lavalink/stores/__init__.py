"""Session stores: where the Lavalink session id and every guild's snapshot survive a bot restart.

Pick one with a URL (`open_store`): ``sqlite:///lavalink_sessions.db`` (the default), ``json:///sessions.json``,
``memory://``, ``redis://host:6379/0`` or ``postgresql://user@host/db``. `SnapshotWriter` sits above any of
them and coalesces and retries writes. Redis and PostgreSQL need the ``redis`` and ``postgres`` extras,
imported only when used.
"""

from __future__ import annotations

from lightbulb_lavalink.stores.base import SessionStore, StoreKey, decode_guilds, encode_snapshot
from lightbulb_lavalink.stores.factory import DEFAULT_STORE_URL, STORE_SCHEMES, check_store_url, open_store
from lightbulb_lavalink.stores.handoff import HandoffMessage, HandoffStore, supports_handoff
from lightbulb_lavalink.stores.jsonfile import JSONFileStore
from lightbulb_lavalink.stores.memory import MemoryStore
from lightbulb_lavalink.stores.ownership import OwnershipStore, supports_ownership
from lightbulb_lavalink.stores.postgres import PostgresStore
from lightbulb_lavalink.stores.redis_store import RedisStore
from lightbulb_lavalink.stores.sqlite import SQLiteStore
from lightbulb_lavalink.stores.writer import SnapshotProducer, SnapshotWriter

__all__ = [
    "DEFAULT_STORE_URL",
    "STORE_SCHEMES",
    "HandoffMessage",
    "HandoffStore",
    "JSONFileStore",
    "MemoryStore",
    "OwnershipStore",
    "PostgresStore",
    "RedisStore",
    "SQLiteStore",
    "SessionStore",
    "SnapshotProducer",
    "SnapshotWriter",
    "StoreKey",
    "check_store_url",
    "decode_guilds",
    "encode_snapshot",
    "open_store",
    "supports_handoff",
    "supports_ownership",
]
