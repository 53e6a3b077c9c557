"""`JSONFileStore`: one human-readable JSON file, rewritten atomically on every write."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pathlib
import sys
import tempfile
import typing

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.stores.base import (
    ProblemLog,
    StoreKey,
    WorkerThread,
    check_path,
    corrupt_name,
    decode_guilds,
    latest_by_guild,
    sorted_keys,
)

if typing.TYPE_CHECKING:
    import collections.abc

    from lightbulb_lavalink.snapshot import GuildSnapshot

__all__ = ["JSONFileStore"]

_VERSION = 1
_T = typing.TypeVar("_T")
_Doc = dict[str, typing.Any]
_Stamp = tuple[int, int, int]


class JSONFileStore:
    """A JSON file (``json:///path/to/sessions.json``) for small bots that like to read their state.

    Every write replaces the whole file atomically (temporary file, fsync, rename), readable by the bot's
    user only (mode 0600), so a kill never leaves half a file. Processes sharing the file take a lock file
    (``<name>.lock``, POSIX only) and re-read it before writing, so none overwrites another's guilds. A file
    that is not valid JSON is moved aside as ``<name>.corrupt-<timestamp>``, reported once in `problems`,
    and a fresh one started. Writes cost the size of the whole file: prefer SQLite past a few hundred guilds.
    """

    __slots__ = ("_cache", "_closed", "_path", "_problems", "_stamp", "_thread")

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Use the file at `path` (created with its folder on the first write)."""
        self._path = pathlib.Path(check_path("json", path)).expanduser()
        self._thread = WorkerThread("lightbulb-lavalink-json")
        self._cache: _Doc | None = None
        self._stamp: _Stamp | None = None
        self._problems = ProblemLog()
        self._closed = False

    @property
    def url(self) -> str:
        """``json:///<path>``."""
        return f"json:///{self._path}"

    @property
    def path(self) -> pathlib.Path:
        """The JSON file."""
        return self._path

    @property
    def problems(self) -> tuple[StoreError, ...]:
        """Problems met while reading (a corrupt file moved aside), each already logged once."""
        return self._problems.problems

    def __repr__(self) -> str:
        return f"JSONFileStore({str(self._path)!r})"

    async def open(self) -> None:
        """Read the file (if any), moving a corrupt one aside, and remove temporary files a killed writer left."""
        self._closed = False
        self._thread.start()
        await self._thread.run(self._load)
        await self._thread.run(self._sweep)

    def _sweep(self) -> None:
        # Writers only create temporary files while holding the lock: any found under it is a dead one's.
        if sys.platform == "win32" or not self._path.parent.is_dir():
            return
        try:
            with self._locked():
                for stale in self._path.parent.glob(f".{glob.escape(self._path.name)}.*.tmp"):
                    stale.unlink(missing_ok=True)
        except OSError:
            pass  # tidiness only

    async def close(self) -> None:
        """Stop the thread; every write is already on disk."""
        self._closed = True
        self._thread.stop()
        self._cache = self._stamp = None

    # -- file handling (on the worker thread) ------------------------------------------------------------

    def _file_stamp(self) -> _Stamp | None:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _load(self) -> _Doc:
        """Return the file's content, re-reading it only when it changed on disk."""
        try:
            stamp = self._file_stamp()
            if self._cache is not None and stamp == self._stamp:
                return self._cache
            if stamp is None:
                doc: _Doc = {"version": _VERSION, "bots": {}}
            else:
                doc = self._read()
        except OSError as exc:
            raise StoreError(f"json {self._path}: cannot read the file: {exc}") from None
        self._cache, self._stamp = doc, stamp
        return doc

    def _read(self) -> _Doc:
        raw = self._path.read_bytes()
        if not raw.strip():  # an empty file someone created by hand: start fresh, nothing to lose
            return {"version": _VERSION, "bots": {}}
        try:
            doc = json.loads(raw)
        except ValueError as exc:  # bad JSON or bad UTF-8
            problem: str | None = f"not valid JSON: {exc}"
        else:
            version = doc.get("version") if isinstance(doc, dict) else None
            if isinstance(version, int) and version > _VERSION:
                raise StoreError(
                    f"json {self._path}: format version {version} was written by a newer "
                    f"lightbulb-lavalink (this one knows up to {_VERSION}); upgrade it or use another file"
                )
            problem = _check_document(doc)
            if problem is None:
                return typing.cast("_Doc", doc)
        target = corrupt_name(self._path)
        os.replace(self._path, target)
        self._problems.record(
            StoreError(f"json {self._path}: {problem}; moved it aside to {target} and started a fresh one")
        )
        return {"version": _VERSION, "bots": {}}

    @contextlib.contextmanager
    def _locked(self) -> collections.abc.Iterator[None]:
        if not self._path.parent.is_dir():
            # A mistyped path must not create a tree of folders (as root, anywhere): say so instead.
            folder = self._path.parent
            raise StoreError(f"json {self._path}: the folder {folder} does not exist; create it or fix the path")
        if sys.platform == "win32":  # no cross-process lock there: one process per file
            yield
            return
        import fcntl

        fd = os.open(f"{self._path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _mutate(self, change: collections.abc.Callable[[_Doc], bool]) -> None:
        """Apply `change` to the latest content under the lock and write the file if it says it changed."""
        try:
            with self._locked():
                doc = self._load()
                if change(doc):
                    self._write(doc)
        except OSError as exc:
            self._cache = self._stamp = None  # the in-memory copy may be ahead of the file: re-read next time
            raise StoreError(f"json {self._path}: cannot write the file: {exc}") from None
        except BaseException:
            self._cache = self._stamp = None  # whatever failed, the cached copy may hold the failed change
            raise

    def _write(self, doc: _Doc) -> None:
        data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        fd, tmp = tempfile.mkstemp(prefix=f".{self._path.name}.", suffix=".tmp", dir=self._path.parent)
        try:
            with os.fdopen(fd, "wb") as file:  # mkstemp creates it with mode 0600
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self._path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if sys.platform != "win32":
            dir_fd = os.open(self._path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        self._cache, self._stamp = doc, self._file_stamp()

    # -- operations --------------------------------------------------------------------------------------

    async def _run(self, func: collections.abc.Callable[[], _T]) -> _T:
        if self._closed:
            raise StoreError(f"json {self._path}: the store is closed")
        if not self._thread.running:
            await self.open()
        return await self._thread.run(func)

    def _scope(self, doc: _Doc, key: StoreKey, *, create: bool) -> dict[str, typing.Any] | None:
        """The ``{"session": ..., "guilds": {...}}`` object of `key`; malformed parts count as absent."""
        node: typing.Any = doc["bots"]
        for part in (str(key.bot_id), key.cluster, key.node):
            child = node.get(part)
            if not isinstance(child, dict):
                if not create:
                    return None
                child = node[part] = {}
            node = child
        if not isinstance(node.get("guilds"), dict):
            if not create:
                return {"session": node.get("session"), "guilds": {}}
            node["guilds"] = {}
        return typing.cast("dict[str, typing.Any]", node)

    async def get_session(self, key: StoreKey) -> str | None:
        """Return the saved session id of `key`, or `None`."""

        def get() -> str | None:
            scope = self._scope(self._load(), key, create=False)
            session = None if scope is None else scope.get("session")
            return session if isinstance(session, str) else None

        return await self._run(get)

    async def set_session(self, key: StoreKey, session_id: str | None) -> None:
        """Save (or with `None` forget) the session id of `key`."""

        def change(doc: _Doc) -> bool:
            scope = self._scope(doc, key, create=session_id is not None)
            if scope is None or scope.get("session") == session_id:
                return False
            if session_id is None:
                scope.pop("session", None)
                _prune(doc, key)
            else:
                scope["session"] = session_id
            return True

        await self._run(lambda: self._mutate(change))

    async def get_guilds(self, key: StoreKey) -> dict[int, GuildSnapshot]:
        """Return the guild snapshots of `key` (bad entries skipped with a warning)."""

        def get() -> dict[int, GuildSnapshot]:
            scope = self._scope(self._load(), key, create=False)
            guilds: dict[str, typing.Any] = {} if scope is None else scope["guilds"]
            rows: list[tuple[int, typing.Any]] = []
            for gid, data in guilds.items():
                try:
                    rows.append((int(gid), data))
                except ValueError:
                    rows.append((-1, data))  # reported as a mismatch by decode_guilds
            return decode_guilds(rows, f"json {self._path} ({key})")

        return await self._run(get)

    async def put_guild(self, key: StoreKey, snapshot: GuildSnapshot) -> None:
        """Save one guild snapshot (one atomic rewrite of the file)."""
        await self.put_guilds(key, (snapshot,))

    async def put_guilds(self, key: StoreKey, snapshots: collections.abc.Iterable[GuildSnapshot]) -> None:
        """Save several guild snapshots in one atomic rewrite of the file."""
        # A deep, JSON-checked copy: later changes to the snapshot's dicts cannot reach the file's content.
        encoded = {str(guild_id): json.loads(text) for guild_id, text in latest_by_guild(snapshots).items()}
        if not encoded:
            return

        def change(doc: _Doc) -> bool:
            scope = self._scope(doc, key, create=True)
            assert scope is not None
            scope["guilds"].update(encoded)
            return True

        await self._run(lambda: self._mutate(change))

    async def delete_guild(self, key: StoreKey, guild_id: int) -> None:
        """Forget one guild snapshot."""

        def change(doc: _Doc) -> bool:
            scope = self._scope(doc, key, create=False)
            if scope is None or scope["guilds"].pop(str(guild_id), None) is None:
                return False
            _prune(doc, key)
            return True

        await self._run(lambda: self._mutate(change))

    async def list_keys(self, bot_id: int) -> list[StoreKey]:
        """Return the scopes of `bot_id` holding anything."""

        def get() -> list[StoreKey]:
            clusters = self._load()["bots"].get(str(bot_id))
            keys: list[StoreKey] = []
            for cluster, nodes in (clusters if isinstance(clusters, dict) else {}).items():
                for node, scope in (nodes if isinstance(nodes, dict) else {}).items():
                    if isinstance(scope, dict) and (scope.get("session") or scope.get("guilds")):
                        keys.append(StoreKey(bot_id, node, cluster))
            return sorted_keys(keys)

        return await self._run(get)


def _check_document(doc: typing.Any) -> str | None:
    """What makes `doc` unusable as a whole, or `None` (problems inside one scope are handled there)."""
    if not isinstance(doc, dict):
        return f"expected a JSON object at the top, got {type(doc).__name__}"
    if doc.get("version") != _VERSION:
        return f"unknown format version {doc.get('version')!r}"
    if not isinstance(doc.get("bots"), dict):
        return "'bots' is missing or not an object"
    return None


def _prune(doc: _Doc, key: StoreKey) -> None:
    """Drop the empty objects left behind by a deletion, so the file stays tidy."""
    bots = doc["bots"]
    clusters = bots.get(str(key.bot_id))
    nodes = clusters.get(key.cluster) if isinstance(clusters, dict) else None
    scope = nodes.get(key.node) if isinstance(nodes, dict) else None
    if not isinstance(scope, dict) or scope.get("session") is not None or scope.get("guilds"):
        return
    assert isinstance(nodes, dict) and isinstance(clusters, dict)
    del nodes[key.node]
    if not nodes:
        del clusters[key.cluster]
    if not clusters:
        del bots[str(key.bot_id)]
