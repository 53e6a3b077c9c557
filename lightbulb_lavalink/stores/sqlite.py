"""`SQLiteStore`: the default store, one SQLite file beside the bot, safe against a kill at any moment."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pathlib
import sqlite3
import time
import typing

from lightbulb_lavalink.errors import SettingsError, StoreError
from lightbulb_lavalink.stores.base import (
    ProblemLog,
    StoreKey,
    WorkerThread,
    check_path,
    check_seconds,
    corrupt_name,
    decode_guilds,
    latest_by_guild,
    sorted_keys,
)

if typing.TYPE_CHECKING:
    import collections.abc

    from lightbulb_lavalink.snapshot import GuildSnapshot

__all__ = ["SQLiteStore"]

_LOGGER = logging.getLogger("lightbulb_lavalink.stores.sqlite")
_T = typing.TypeVar("_T")

_SCHEMA_VERSION = 1
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sessions (
    bot_id INTEGER NOT NULL,
    cluster TEXT NOT NULL,
    node TEXT NOT NULL,
    session_id TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (bot_id, cluster, node)
)""",
    """CREATE TABLE IF NOT EXISTS guilds (
    bot_id INTEGER NOT NULL,
    cluster TEXT NOT NULL,
    node TEXT NOT NULL,
    guild_id INTEGER NOT NULL,
    data TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (bot_id, cluster, node, guild_id)
)""",
)
# SQLite's primary result codes for "this is not a (healthy) database".
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


def _is_corruption(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    return type(exc) is sqlite3.DatabaseError


class SQLiteStore:
    """One SQLite file (``sqlite:///relative.db``, ``sqlite:////abs/path.db``), the default store.

    All SQLite work runs on one dedicated thread, never on the event loop. The database is in WAL mode and
    every write is one transaction, so a kill at any moment leaves each guild with its previous or its new
    snapshot. Several processes may share the file. A file that is not a database (or a corrupt one) is
    moved aside as ``<name>.corrupt-<timestamp>``, reported once in `problems`, and a fresh one started.
    """

    __slots__ = ("_closed", "_conn", "_open_lock", "_path", "_problems", "_synchronous", "_thread", "_timeout")

    def __init__(
        self, path: str | os.PathLike[str], *, timeout: float = 30.0, synchronous: str = "NORMAL"
    ) -> None:
        """Use the database at `path` (``":memory:"`` for a private in-memory one).

        `timeout` is how long a write waits for another process holding the file; `synchronous` is SQLite's
        setting (``NORMAL`` survives a kill of the process, ``FULL`` also a power cut, at a cost).
        """
        if not isinstance(synchronous, str) or synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            problem = f"sqlite synchronous must be OFF, NORMAL, FULL or EXTRA, not {str(synchronous)[:20]!r}"
            raise SettingsError("store", problem)
        self._timeout = check_seconds("the sqlite timeout", timeout, zero_ok=True)
        self._path = check_path("sqlite", path)
        self._path = self._path if self._path == ":memory:" else str(pathlib.Path(self._path).expanduser())
        self._synchronous = synchronous.upper()
        self._thread = WorkerThread("lightbulb-lavalink-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._problems = ProblemLog()
        self._closed = False
        self._open_lock = asyncio.Lock()

    @property
    def url(self) -> str:
        """``sqlite:///<path>``."""
        return f"sqlite:///{self._path}"

    @property
    def path(self) -> str:
        """The database file."""
        return self._path

    @property
    def problems(self) -> tuple[StoreError, ...]:
        """Problems met while opening (a corrupt file moved aside), each already logged once."""
        return self._problems.problems

    def __repr__(self) -> str:
        return f"SQLiteStore({self._path!r})"

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Open (creating if needed) the database file and its tables."""
        self._closed = False
        async with self._open_lock:
            if self._conn is not None:
                return
            self._thread.start()
            try:
                self._conn = await self._thread.run(self._open_sync)
            except BaseException:
                self._thread.stop()
                raise

    async def close(self) -> None:
        """Close the database and stop the thread."""
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                await self._thread.run(conn.close)
        self._thread.stop()

    def _open_sync(self) -> sqlite3.Connection:
        memory = self._path == ":memory:"
        if not memory:
            self._create_file()
        try:
            return self._connect_sync()
        except sqlite3.Error as exc:
            if memory or not _is_corruption(exc):
                raise StoreError(f"sqlite {self._path}: cannot open the database: {exc}") from None
            self._move_aside(exc)
        self._create_file()
        try:
            return self._connect_sync()
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite {self._path}: cannot open the database: {exc}") from None

    def _create_file(self) -> None:
        # Readable by the bot's user only: the file holds session ids.
        path = pathlib.Path(self._path)
        if not path.parent.is_dir():
            # A mistyped path must not create a tree of folders (as root, anywhere): say so instead.
            raise StoreError(f"sqlite {self._path}: the folder {path.parent} does not exist; create it or fix the path")
        try:
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            raise StoreError(f"sqlite {self._path}: cannot create the database file: {exc}") from None

    def _connect_sync(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
            check = conn.execute("PRAGMA quick_check(1)").fetchone()
            if check is None or check[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {check[0] if check else 'no answer'}")
            self._migrate_sync(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _migrate_sync(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == _SCHEMA_VERSION:
            return
        if version > _SCHEMA_VERSION:
            raise StoreError(
                f"sqlite {self._path}: schema version {version} was written by a newer lightbulb-lavalink "
                f"(this one knows up to {_SCHEMA_VERSION}); upgrade it or use another file"
            )
        with _transaction(conn):
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:  # another process may have won
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def _move_aside(self, exc: sqlite3.Error) -> None:
        target = corrupt_name(self._path)
        try:
            os.replace(self._path, target)
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{self._path}-wal", f"{target}-wal")
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{self._path}-shm")
        except OSError as move_exc:
            raise StoreError(
                f"sqlite {self._path}: the file is unreadable ({exc}) "
                f"and could not be moved aside: {move_exc}"
            ) from None
        self._problems.record(
            StoreError(
                f"sqlite {self._path}: the file is not a readable database ({exc}); "
                f"moved it aside to {target} and started a fresh one"
            )
        )

    # -- operations --------------------------------------------------------------------------------------

    async def _run(self, func: collections.abc.Callable[[sqlite3.Connection], _T]) -> _T:
        if self._closed:
            raise StoreError(f"sqlite {self._path}: the store is closed")
        if self._conn is None:
            await self.open()
        conn = self._conn
        assert conn is not None

        def call() -> _T:
            try:
                return func(conn)
            except sqlite3.Error as exc:
                raise StoreError(f"sqlite {self._path}: {exc}") from None

        return await self._thread.run(call)

    async def get_session(self, key: StoreKey) -> str | None:
        """Return the saved session id of `key`, or `None`."""

        def get(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT session_id FROM sessions WHERE bot_id = ? AND cluster = ? AND node = ?",
                (key.bot_id, key.cluster, key.node),
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._run(get)

    async def set_session(self, key: StoreKey, session_id: str | None) -> None:
        """Save (or with `None` forget) the session id of `key`."""

        def put(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                if session_id is None:
                    conn.execute(
                        "DELETE FROM sessions WHERE bot_id = ? AND cluster = ? AND node = ?",
                        (key.bot_id, key.cluster, key.node),
                    )
                else:
                    conn.execute(
                        "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?)",
                        (key.bot_id, key.cluster, key.node, session_id, time.time()),
                    )

        await self._run(put)

    async def get_guilds(self, key: StoreKey) -> dict[int, GuildSnapshot]:
        """Return the guild snapshots of `key` (bad rows skipped with a warning)."""

        def get(conn: sqlite3.Connection) -> dict[int, GuildSnapshot]:
            rows = conn.execute(
                "SELECT guild_id, data FROM guilds WHERE bot_id = ? AND cluster = ? AND node = ?",
                (key.bot_id, key.cluster, key.node),
            ).fetchall()
            return decode_guilds(rows, f"sqlite {self._path} ({key})")

        return await self._run(get)

    async def put_guild(self, key: StoreKey, snapshot: GuildSnapshot) -> None:
        """Save one guild snapshot in one transaction."""
        await self.put_guilds(key, (snapshot,))

    async def put_guilds(self, key: StoreKey, snapshots: collections.abc.Iterable[GuildSnapshot]) -> None:
        """Save several guild snapshots in one transaction."""
        encoded = latest_by_guild(snapshots)
        if not encoded:
            return
        now = time.time()
        rows = [(key.bot_id, key.cluster, key.node, gid, data, now) for gid, data in encoded.items()]

        def put(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.executemany("INSERT OR REPLACE INTO guilds VALUES (?, ?, ?, ?, ?, ?)", rows)

        await self._run(put)

    async def delete_guild(self, key: StoreKey, guild_id: int) -> None:
        """Forget one guild snapshot."""

        def delete(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.execute(
                    "DELETE FROM guilds WHERE bot_id = ? AND cluster = ? AND node = ? AND guild_id = ?",
                    (key.bot_id, key.cluster, key.node, guild_id),
                )

        await self._run(delete)

    async def list_keys(self, bot_id: int) -> list[StoreKey]:
        """Return the scopes of `bot_id` holding anything."""

        def get(conn: sqlite3.Connection) -> list[StoreKey]:
            rows = conn.execute(
                "SELECT cluster, node FROM sessions WHERE bot_id = ? "
                "UNION SELECT DISTINCT cluster, node FROM guilds WHERE bot_id = ?",
                (bot_id, bot_id),
            ).fetchall()
            return sorted_keys(StoreKey(bot_id, node, cluster) for cluster, node in rows)

        return await self._run(get)


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> collections.abc.Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
