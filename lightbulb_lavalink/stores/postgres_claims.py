"""Guild ownership in PostgreSQL (`OwnershipStore`): an owners table and a release inbox table (schema 2)."""

from __future__ import annotations

import typing
import zlib

if typing.TYPE_CHECKING:
    import collections.abc

    import asyncpg

__all__ = ["MIGRATION_2", "PostgresOwnership"]

_T = typing.TypeVar("_T")

MIGRATION_2: typing.Final = (
    """CREATE TABLE IF NOT EXISTS {owners} (
        bot_id bigint NOT NULL,
        guild_id bigint NOT NULL,
        cluster text NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (bot_id, guild_id)
    )""",
    """CREATE TABLE IF NOT EXISTS {releases} (
        bot_id bigint NOT NULL,
        cluster text NOT NULL,
        guild_id bigint NOT NULL,
        PRIMARY KEY (bot_id, cluster, guild_id)
    )""",
)
"""Schema version 2: the tables `{owners}` and `{releases}` (qualified, quoted names filled in)."""

_PREVIOUS = """SELECT guild_id, cluster FROM {owners}
    WHERE bot_id = $1 AND guild_id = ANY($3::bigint[]) AND cluster <> $2"""
_UPSERT = """INSERT INTO {owners} (bot_id, guild_id, cluster) SELECT $1, g, $2 FROM unnest($3::bigint[]) AS g
    ON CONFLICT (bot_id, guild_id) DO UPDATE SET cluster = EXCLUDED.cluster, claimed_at = now()"""
_INBOX = """INSERT INTO {releases} (bot_id, cluster, guild_id)
    SELECT $1, u.cluster, u.guild_id FROM unnest($2::text[], $3::bigint[]) AS u(cluster, guild_id)
    ON CONFLICT DO NOTHING"""
_OWNERS = "SELECT guild_id, cluster FROM {owners} WHERE bot_id = $1 AND guild_id = ANY($2::bigint[])"
_TAKE = "DELETE FROM {releases} WHERE bot_id = $1 AND cluster = $2 RETURNING guild_id"


class PostgresOwnership:
    """The `OwnershipStore` half of `PostgresStore`.

    Tables, beside the store's: ``T_owners`` (one row per bot and guild: its owner cluster) and ``T_releases``
    (the guilds taken from each cluster, until it reads them). A claim is one transaction that first takes a
    transaction-scoped advisory lock of the bot (claims of one bot are serialised: two claimers can never both
    miss each other's new rows), then reads the previous owners, writes the claimer and fills the inboxes.
    A process killed mid-claim leaves nothing: its transaction is rolled back with its connection.
    """

    __slots__ = ()

    if typing.TYPE_CHECKING:
        _schema: str
        _table: str

        async def _call(self, func: collections.abc.Callable[[asyncpg.Pool], typing.Awaitable[_T]]) -> _T: ...

    @property
    def claim_tables(self) -> tuple[str, str]:
        """The qualified names of the owners and releases tables."""
        schema = _ident(self._schema)
        return (f"{schema}.{_ident(self._table + '_owners')}", f"{schema}.{_ident(self._table + '_releases')}")

    def _sql(self, statement: str) -> str:
        owners, releases = self.claim_tables
        return statement.format(owners=owners, releases=releases)

    async def claim_guilds(
        self, bot_id: int, cluster: str, guild_ids: collections.abc.Collection[int]
    ) -> dict[int, str]:
        """Make `cluster` the owner of `guild_ids` in one transaction; return what others owned."""
        ids = sorted({int(g) for g in guild_ids})
        if not ids:
            return {}
        lock = zlib.crc32(f"lightbulb-lavalink:claims:{self._schema}.{self._table}:{bot_id}".encode())

        async def claim(pool: asyncpg.Pool) -> dict[int, str]:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", lock)
                rows = await conn.fetch(self._sql(_PREVIOUS), bot_id, cluster, ids)
                await conn.execute(self._sql(_UPSERT), bot_id, cluster, ids)
                taken = {int(row[0]): str(row[1]) for row in rows}
                if taken:
                    await conn.execute(self._sql(_INBOX), bot_id, list(taken.values()), list(taken))
                return taken

        return await self._call(claim)

    async def get_owners(self, bot_id: int, guild_ids: collections.abc.Collection[int]) -> dict[int, str]:
        """The owner cluster of each guild that has one."""
        ids = sorted({int(g) for g in guild_ids})
        if not ids:
            return {}
        rows = await self._call(lambda pool: pool.fetch(self._sql(_OWNERS), bot_id, ids))
        return {int(row[0]): str(row[1]) for row in rows}

    async def take_releases(self, bot_id: int, cluster: str) -> set[int]:
        """Empty `cluster`'s release inbox (one statement) and return the guild ids that were in it."""
        rows = await self._call(lambda pool: pool.fetch(self._sql(_TAKE), bot_id, cluster))
        return {int(row[0]) for row in rows}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
