"""`PostgresStore`: session ids and guild snapshots in PostgreSQL, for bots that already run a database."""

from __future__ import annotations

import asyncio
import importlib.util
import typing
import urllib.parse
import zlib

import attrs

from lightbulb_lavalink.errors import SettingsError, StoreError
from lightbulb_lavalink.redact import redact_secret, redact_url
from lightbulb_lavalink.stores.base import (
    StoreKey,
    check_seconds,
    check_whole,
    decode_guilds,
    latest_by_guild,
    raise_if_cancelled,
    sorted_keys,
    split_url,
)
from lightbulb_lavalink.stores.postgres_claims import MIGRATION_2, PostgresOwnership
from lightbulb_lavalink.stores.postgres_handoff import PostgresHandoff

if typing.TYPE_CHECKING:
    import collections.abc

    import asyncpg

    from lightbulb_lavalink.snapshot import GuildSnapshot

__all__ = ["PostgresStore", "PostgresURL", "parse_postgres_url"]

_T = typing.TypeVar("_T")
_SCHEMA_VERSION = 2
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


_SSL_MODES: typing.Final = frozenset({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})
_SESSION_ATTRS: typing.Final = frozenset({"any", "primary", "standby", "prefer-standby", "read-write", "read-only"})
_MAX_POOL: typing.Final = 1000


@attrs.frozen(kw_only=True, weakref_slot=False)
class PostgresURL:
    """A PostgreSQL store URL, read and checked (`parse_postgres_url`)."""

    dsn: str
    """The URL asyncpg connects to: without our own options."""
    shown: str
    """The URL as printed: password hidden."""
    schema: str
    """The schema of the tables (``?schema=``, default ``public``)."""
    table: str
    """The tables' name prefix (``?table=``, default ``lavalink``)."""
    min_size: int
    """The pool's least connections (``?min_size=``, default 0)."""
    max_size: int
    """The pool's most connections (``?max_size=``, default 4)."""
    password: str | None
    """The password in the URL, to scrub from the driver's errors."""


def parse_postgres_url(
    dsn: str,
    *,
    schema: str | None = None,
    table: str | None = None,
    min_size: int | None = None,
    max_size: int | None = None,
) -> PostgresURL:
    """Read and check a PostgreSQL store URL without connecting; `SettingsError` (field ``store``) naming the
    problem. The arguments win over the URL's ``schema``, ``table``, ``min_size`` and ``max_size``; other query
    options go to asyncpg (``sslmode`` and ``target_session_attrs`` are checked here), unknown ones being
    server settings (``application_name``, ...)."""
    shown = redact_url(dsn)
    parts = split_url(dsn)
    if parts.scheme.lower() not in {"postgresql", "postgres"}:
        raise SettingsError("store", f"not a PostgreSQL URL: {shown!r}")
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    own = {name: value for name, value in query if name in _OWN_OPTIONS}
    for name, value in query:
        if name == "sslmode" and value not in _SSL_MODES:
            raise SettingsError("store", f"PostgreSQL sslmode must be one of {', '.join(sorted(_SSL_MODES))}")
        if name == "target_session_attrs" and value not in _SESSION_ATTRS:
            known = ", ".join(sorted(_SESSION_ATTRS))
            raise SettingsError("store", f"PostgreSQL target_session_attrs must be one of {known}")
    names = {
        "schema": schema if schema is not None else own.get("schema", "public"),
        "table": table if table is not None else own.get("table", "lavalink"),
    }
    for field, name in names.items():
        if not isinstance(name, str) or not name or len(name.encode("utf-8", "replace")) > 48 or "\x00" in name:
            shown_name = name[:60] if isinstance(name, str) else type(name).__name__
            # The server cuts names at 63 bytes; ours get a suffix.
            raise SettingsError("store", f"PostgreSQL {field} name {shown_name!r}: 1 to 48 bytes (UTF-8), please")
    sizes = {}
    for field, given, default in (("min_size", min_size, 0), ("max_size", max_size, 4)):
        if given is None:
            sizes[field] = check_whole(f"the PostgreSQL pool {field}", own.get(field, str(default)), 0, _MAX_POOL)
        elif isinstance(given, bool) or not isinstance(given, int) or not 0 <= given <= _MAX_POOL:
            raise SettingsError("store", f"the PostgreSQL pool {field} must be a whole number from 0 to {_MAX_POOL}")
        else:
            sizes[field] = given
    if not 0 <= sizes["min_size"] <= sizes["max_size"] or sizes["max_size"] < 1:
        raise SettingsError("store", "PostgreSQL pool: need 0 <= min_size <= max_size and max_size >= 1")
    rest = [(name, value) for name, value in query if name not in _OWN_OPTIONS]
    return PostgresURL(
        dsn=urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(rest))),
        shown=shown,
        schema=names["schema"],
        table=names["table"],
        min_size=sizes["min_size"],
        max_size=sizes["max_size"],
        password=urllib.parse.unquote(parts.password) if parts.password else None,
    )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresStore(PostgresOwnership, PostgresHandoff):
    """PostgreSQL through an asyncpg pool (``postgresql://``, ``postgres://``; ``pip install
    'lightbulb-lavalink[postgres]'``).

    Tables, with ``T`` the table name (``?table=``, default ``lavalink``) in schema ``?schema=`` (default
    ``public``): ``T_sessions`` (one row per bot, cluster and node), ``T_guilds`` (one row per guild too,
    the snapshot in a ``json`` column) and ``T_migrations`` (the schema version). They are created when
    missing, under an advisory lock so processes starting together do not race (schema version 2 adds
    ``T_owners`` and ``T_releases``, the guild claims of `PostgresOwnership`; a version 1 database is
    migrated in place). Each write is one statement: an upsert of the guild rows. Handoff deploys talk through
    LISTEN/NOTIFY (`PostgresHandoff`).
    """

    __slots__ = (
        "_closed",
        "_dsn",
        "_lock",
        "_max_size",
        "_migrated",
        "_min_size",
        "_owns_pool",
        "_password",
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
        parsed = parse_postgres_url(dsn, schema=schema, table=table, min_size=min_size, max_size=max_size)
        self._timeout = check_seconds("the PostgreSQL timeout", timeout)
        if pool is None and importlib.util.find_spec("asyncpg") is None:
            raise SettingsError(
                "store",
                "the PostgreSQL store needs the asyncpg package: pip install 'lightbulb-lavalink[postgres]'",
            )
        self._dsn, self._url, self._password = parsed.dsn, parsed.shown, parsed.password
        self._schema, self._table = parsed.schema, parsed.table
        self._min_size, self._max_size = parsed.min_size, parsed.max_size
        sessions, guilds, _ = self.tables
        self._statements = {name: sql.format(sessions=sessions, guilds=guilds) for name, sql in _STATEMENTS.items()}
        self._pool = pool
        self._owns_pool = pool is None
        self._migrated = False
        self._closed = False
        self._lock = asyncio.Lock()

    @classmethod
    def from_pool(
        cls,
        pool: asyncpg.Pool,
        *,
        schema: str | None = None,
        table: str | None = None,
        timeout: float = 10.0,
        url: str = "postgresql://bot-pool/",
    ) -> PostgresStore:
        """A store on the bot's own asyncpg pool: it opens no connection of its own and never closes `pool`
        (its owner does). `schema` and `table` place its tables (default ``public`` and ``lavalink``); `url`
        is only what logs and ``/lavalink`` show (asyncpg does not say where a pool connects).

        Raises:
            SettingsError: `schema` or `table` is not 1 to 48 bytes, `url` is not a PostgreSQL URL, or
                `timeout` is not a number of seconds above 0.
        """
        return cls(url, schema=schema, table=table, timeout=timeout, pool=pool)

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
            if version < 2:  # the guild claims of bots that run several processes (`PostgresOwnership`)
                owners, releases = self.claim_tables
                for statement in MIGRATION_2:
                    await conn.execute(statement.format(owners=owners, releases=releases))
                await conn.execute(f"INSERT INTO {migrations} (version) VALUES (2)")

    async def _call(self, func: collections.abc.Callable[[asyncpg.Pool], typing.Awaitable[_T]]) -> _T:
        import asyncpg

        try:
            result = await func(await self._ready_pool())
        except (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError) as exc:
            raise_if_cancelled()
            why = redact_secret(f"{type(exc).__name__}: {exc}", self._password)
            raise StoreError(f"postgres {self._url}: {why}") from None
        except TimeoutError:
            raise_if_cancelled()
            raise StoreError(f"postgres {self._url}: no answer within {self._timeout} s") from None
        raise_if_cancelled()
        return result

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
