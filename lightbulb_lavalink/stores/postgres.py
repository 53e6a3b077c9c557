"""`PostgresStore`: session ids and guild snapshots in PostgreSQL, for bots that already run a database."""

from __future__ import annotations

import asyncio
import importlib.util
import typing
import urllib.parse
import zlib

from lightbulb_lavalink.errors import SettingsError, StoreError
from lightbulb_lavalink.redact import redact_url
from lightbulb_lavalink.stores.base import StoreKey, check_port, decode_guilds, latest_by_guild, sorted_keys

if typing.TYPE_CHECKING:
    import collections.abc

    import asyncpg

    from lightbulb_lavalink.snapshot import GuildSnapshot

__all__ = ["PostgresStore"]

_T = typing.TypeVar("_T")
_SCHEMA_VERSION = 1
_OWN_OPTIONS = frozenset({"schema", "table", "min_size", "max_size"})
_TABLE_KINDS = ("sessions", "guilds", "migrations")
# Schema version 1: the tables `{sessions}` and `{guilds}` (qualified, quoted names filled in).
_MIGRATION_1 = (
    """CREATE TABLE IF NOT EXISTS {sessions} (
        bot_id bigint NOT NULL,
        cluster text NOT NULL,
        node text NOT NULL,
        session_id text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (bot_id, cluster, node)
    )""",
    """CREATE TABLE IF NOT EXISTS {guilds} (
        bot_id bigint NOT NULL,
        cluster text NOT NULL,
        node text NOT NULL,
        guild_id bigint NOT NULL,
        data json NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (bot_id, cluster, node, guild_id)
    )""",
)
_STATEMENTS = {
    "get_session": "SELECT session_id FROM {sessions} WHERE bot_id = $1 AND cluster = $2 AND node = $3",
    "delete_session": "DELETE FROM {sessions} WHERE bot_id = $1 AND cluster = $2 AND node = $3",
    "put_session": """INSERT INTO {sessions} (bot_id, cluster, node, session_id) VALUES ($1, $2, $3, $4)
        ON CONFLICT (bot_id, cluster, node)
        DO UPDATE SET session_id = EXCLUDED.session_id, updated_at = now()""",
    "get_guilds": "SELECT guild_id, data FROM {guilds} WHERE bot_id = $1 AND cluster = $2 AND node = $3",
    # One statement for any number of guilds: the rows come in as two parallel arrays.
    "put_guilds": """INSERT INTO {guilds} (bot_id, cluster, node, guild_id, data)
        SELECT $1, $2, $3, u.guild_id, u.data::json FROM unnest($4::bigint[], $5::text[]) AS u(guild_id, data)
        ON CONFLICT (bot_id, cluster, node, guild_id)
        DO UPDATE SET data = EXCLUDED.data, updated_at = now()""",
    "delete_guild": "DELETE FROM {guilds} WHERE bot_id = $1 AND cluster = $2 AND node = $3 AND guild_id = $4",
    "list_keys": """SELECT cluster, node FROM {sessions} WHERE bot_id = $1
        UNION SELECT cluster, node FROM {guilds} WHERE bot_id = $1""",
}


async def _nothing(pool: asyncpg.Pool) -> None:
    """Used by `open()`: getting a ready pool is the whole job."""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresStore:
    """PostgreSQL through an asyncpg pool (``postgresql://``, ``postgres://``; ``pip install
    'lightbulb-lavalink[postgres]'``).

    Tables, with ``T`` the table name (``?table=``, default ``lavalink``) in schema ``?schema=`` (default
    ``public``): ``T_sessions`` (one row per bot, cluster and node), ``T_guilds`` (one row per guild too,
    the snapshot in a ``json`` column) and ``T_migrations`` (the schema version). They are created when
    missing, under an advisory lock so processes starting together do not race. Each write is one statement:
    an upsert of the guild rows.
    """

    __slots__ = (
        "_closed",
        "_dsn",
        "_lock",
        "_max_size",
        "_migrated",
        "_min_size",
        "_owns_pool",
        "_pool",
        "_schema",
        "_statements",
        "_table",
        "_timeout",
        "_url",
    )

    def __init__(
        self,
        dsn: str = "postgresql://postgres@127.0.0.1:5432/postgres",
        *,
        schema: str | None = None,
        table: str | None = None,
        min_size: int | None = None,
        max_size: int | None = None,
        timeout: float = 10.0,
        pool: asyncpg.Pool | None = None,
    ) -> None:
        """Connect to `dsn` (or use `pool`, which the caller keeps and closes).

        `schema`, `table`, `min_size` and `max_size` may also come from the URL's query (the arguments win).
        `min_size` defaults to 0, so an outage never leaves asyncpg reconnecting (and logging) on its own;
        `timeout` bounds connecting and each statement, so an unreachable server fails fast and the
        `SnapshotWriter` retries.
        """
        if pool is None and importlib.util.find_spec("asyncpg") is None:
            raise SettingsError(
                "store",
                "the PostgreSQL store needs the asyncpg package: pip install 'lightbulb-lavalink[postgres]'",
            )
        parts = urllib.parse.urlsplit(dsn)
        if parts.scheme not in {"postgresql", "postgres"}:
            raise SettingsError("store", f"not a PostgreSQL URL: {redact_url(dsn)!r}")
        check_port(parts, dsn)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        own = {name: value for name, value in query if name in _OWN_OPTIONS}
        rest = [(name, value) for name, value in query if name not in _OWN_OPTIONS]
        self._dsn = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(rest)))
        self._url = redact_url(dsn)
        self._schema = schema if schema is not None else own.get("schema", "public")
        self._table = table if table is not None else own.get("table", "lavalink")
        for field, name in (("schema", self._schema), ("table", self._table)):
            if not name or len(name.encode("utf-8")) > 48 or "\x00" in name:  # the server cuts at 63 bytes
                raise SettingsError("store", f"PostgreSQL {field} name {name!r}: 1 to 48 bytes (UTF-8), please")
        try:
            self._min_size = min_size if min_size is not None else int(own.get("min_size", 0))
            self._max_size = max_size if max_size is not None else int(own.get("max_size", 4))
        except ValueError as exc:
            raise SettingsError("store", f"PostgreSQL pool size: {exc}") from None
        if not 0 <= self._min_size <= self._max_size or self._max_size < 1:
            raise SettingsError("store", "PostgreSQL pool: need 0 <= min_size <= max_size and max_size >= 1")
        sessions, guilds, _ = self.tables
        self._statements = {name: sql.format(sessions=sessions, guilds=guilds) for name, sql in _STATEMENTS.items()}
        self._timeout = timeout
        self._pool = pool
        self._owns_pool = pool is None
        self._migrated = False
        self._closed = False
        self._lock = asyncio.Lock()

    @property
    def url(self) -> str:
        """The PostgreSQL URL, password hidden."""
        return self._url

    @property
    def tables(self) -> tuple[str, str, str]:
        """The qualified names of the sessions, guilds and migrations tables."""
        schema = _ident(self._schema)
        sessions, guilds, migrations = (_ident(f"{self._table}_{kind}") for kind in _TABLE_KINDS)
        return (f"{schema}.{sessions}", f"{schema}.{guilds}", f"{schema}.{migrations}")

    @property
    def problems(self) -> tuple[StoreError, ...]:
        """PostgreSQL has no file to find corrupt: always empty (bad rows are skipped with a warning)."""
        return ()

    def __repr__(self) -> str:
        return f"PostgresStore({self._url!r}, schema={self._schema!r}, table={self._table!r})"

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Create the pool and the tables if missing (`StoreError` if unreachable; later calls retry)."""
        self._closed = False
        await self._call(_nothing)

    async def close(self) -> None:
        """Close the pool (unless it was given)."""
        self._closed = True
        self._migrated = False
        if self._pool is not None and self._owns_pool:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), self._timeout)
            except TimeoutError:
                pool.terminate()

    async def _ready_pool(self) -> asyncpg.Pool:
        if self._closed:
            raise StoreError(f"postgres {self._url}: the store is closed")
        if self._pool is not None and self._migrated:
            return self._pool
        async with self._lock:
            if self._pool is None:
                import asyncpg

                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=self._min_size,
                    max_size=self._max_size,
                    timeout=self._timeout,
                    command_timeout=self._timeout,
                )
            if not self._migrated:
                await self._migrate(self._pool)
                self._migrated = True
            return self._pool

    async def _migrate(self, pool: asyncpg.Pool) -> None:
        sessions, guilds, migrations = self.tables
        # One lock per schema: two tables created at once in a new schema would race on CREATE SCHEMA.
        lock_id = zlib.crc32(f"lightbulb-lavalink:{self._schema}".encode())
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_id)
            if not await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", self._schema):
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(self._schema)}")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {migrations} "
                "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            version = await conn.fetchval(f"SELECT coalesce(max(version), 0) FROM {migrations}")
            if version > _SCHEMA_VERSION:
                raise StoreError(
                    f"postgres {self._url}: schema version {version} of {migrations} was written by a "
                    f"newer lightbulb-lavalink (this one knows up to {_SCHEMA_VERSION}); "
                    "upgrade it or use another table"
                )
            if version < 1:
                for statement in _MIGRATION_1:
                    await conn.execute(statement.format(sessions=sessions, guilds=guilds))
                await conn.execute(f"INSERT INTO {migrations} (version) VALUES (1)")

    async def _call(self, func: collections.abc.Callable[[asyncpg.Pool], typing.Awaitable[_T]]) -> _T:
        import asyncpg

        try:
            return await func(await self._ready_pool())
        except (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError) as exc:
            raise StoreError(f"postgres {self._url}: {type(exc).__name__}: {exc}") from exc
        except TimeoutError:
            raise StoreError(f"postgres {self._url}: no answer within {self._timeout} s") from None

    # -- operations --------------------------------------------------------------------------------------

    async def get_session(self, key: StoreKey) -> str | None:
        """Return the saved session id of `key`, or `None`."""
        sql = self._statements["get_session"]
        value = await self._call(lambda pool: pool.fetchval(sql, key.bot_id, key.cluster, key.node))
        return None if value is None else str(value)

    async def set_session(self, key: StoreKey, session_id: str | None) -> None:
        """Save (or with `None` forget) the session id of `key`."""
        if session_id is None:
            sql = self._statements["delete_session"]
            await self._call(lambda pool: pool.execute(sql, key.bot_id, key.cluster, key.node))
        else:
            sql = self._statements["put_session"]
            await self._call(lambda pool: pool.execute(sql, key.bot_id, key.cluster, key.node, session_id))

    async def get_guilds(self, key: StoreKey) -> dict[int, GuildSnapshot]:
        """Return the guild snapshots of `key` (bad rows skipped with a warning)."""
        sql = self._statements["get_guilds"]
        rows = await self._call(lambda pool: pool.fetch(sql, key.bot_id, key.cluster, key.node))
        return decode_guilds(((row[0], row[1]) for row in rows), f"postgres {self._url} ({key})")

    async def put_guild(self, key: StoreKey, snapshot: GuildSnapshot) -> None:
        """Save one guild snapshot (one upsert)."""
        await self.put_guilds(key, (snapshot,))

    async def put_guilds(self, key: StoreKey, snapshots: collections.abc.Iterable[GuildSnapshot]) -> None:
        """Save several guild snapshots in one upsert statement."""
        encoded = latest_by_guild(snapshots)
        if not encoded:
            return
        sql = self._statements["put_guilds"]
        ids, data = list(encoded), list(encoded.values())
        await self._call(lambda pool: pool.execute(sql, key.bot_id, key.cluster, key.node, ids, data))

    async def delete_guild(self, key: StoreKey, guild_id: int) -> None:
        """Forget one guild snapshot."""
        sql = self._statements["delete_guild"]
        await self._call(lambda pool: pool.execute(sql, key.bot_id, key.cluster, key.node, guild_id))

    async def list_keys(self, bot_id: int) -> list[StoreKey]:
        """Return the scopes of `bot_id` holding anything."""
        sql = self._statements["list_keys"]
        rows = await self._call(lambda pool: pool.fetch(sql, bot_id))
        return sorted_keys(StoreKey(bot_id, row[1], row[0]) for row in rows)
