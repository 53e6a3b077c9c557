"""The `SessionStore` protocol every store implements, the `StoreKey` scope, and helpers the stores share."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import math
import os
import time
import typing
import urllib.parse

import attrs

from lightbulb_lavalink.errors import SettingsError, StoreError
from lightbulb_lavalink.protocol.user_data import without_non_json
from lightbulb_lavalink.redact import redact_url
from lightbulb_lavalink.snapshot import GuildSnapshot, TrackSnapshot

if typing.TYPE_CHECKING:
    import collections.abc

__all__ = ["SessionStore", "StoreKey"]

_LOGGER = logging.getLogger("lightbulb_lavalink.stores")


@attrs.frozen(weakref_slot=False)
class StoreKey:
    """The scope one process writes under: a bot user, an optional cluster and one Lavalink node.

    Several processes of one bot (``cluster`` tells them apart) and several bots may share one store;
    each only reads and writes the keys of its own scope.
    """

    bot_id: int = attrs.field(validator=attrs.validators.instance_of(int))
    """The bot's Discord user id."""
    node: str = attrs.field(validator=attrs.validators.instance_of(str))
    """The Lavalink node's name, as in `NodeSettings.name`."""
    cluster: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    """The cluster (shard group / process) id, ``""`` for a bot that runs in one process."""

    def __str__(self) -> str:
        cluster = f" cluster {self.cluster!r}" if self.cluster else ""
        return f"bot {self.bot_id}{cluster} node {self.node!r}"


@typing.runtime_checkable
class SessionStore(typing.Protocol):
    """Where the Lavalink session id and each guild's snapshot live between bot restarts.

    Every method may raise `StoreError` (unreachable server, unwritable file). Writes are atomic per call:
    after a crash a guild holds either its previous or its new snapshot, never a mix. Our stores encode with
    `encode_snapshot`: track user data that is not JSON costs only itself (one warning), never the guild.
    """

    @property
    def url(self) -> str:
        """The store's URL without secrets (passwords replaced by ``***``), for logs and status commands."""
        ...

    async def open(self) -> None:
        """Prepare the store (create tables or files). Idempotent.

        A network store whose server is unreachable raises `StoreError` but stays usable: every later call
        tries to connect again.
        """
        ...

    async def close(self) -> None:
        """Release connections, threads and files. Idempotent."""
        ...

    async def get_session(self, key: StoreKey) -> str | None:
        """Return the saved Lavalink session id of `key`, or `None`."""
        ...

    async def set_session(self, key: StoreKey, session_id: str | None) -> None:
        """Save (or with `None` forget) the Lavalink session id of `key`."""
        ...

    async def get_guilds(self, key: StoreKey) -> dict[int, GuildSnapshot]:
        """Return the readable guild snapshots of `key` by guild id (unreadable ones: skipped, logged)."""
        ...

    async def put_guild(self, key: StoreKey, snapshot: GuildSnapshot) -> None:
        """Save one guild's snapshot, replacing the previous one."""
        ...

    async def put_guilds(self, key: StoreKey, snapshots: collections.abc.Iterable[GuildSnapshot]) -> None:
        """Save several guild snapshots in one atomic write (the last one wins for a repeated guild)."""
        ...

    async def delete_guild(self, key: StoreKey, guild_id: int) -> None:
        """Forget one guild's snapshot (nothing happens if there is none)."""
        ...

    async def list_keys(self, bot_id: int) -> list[StoreKey]:
        """Return the scopes of `bot_id` that hold a session id or a guild snapshot, sorted."""
        ...


def encode_snapshot(snapshot: GuildSnapshot) -> str:
    """Serialise a snapshot to compact, strict JSON: no ``NaN`` or ``Infinity``, and text UTF-8 can carry.

    Track user data (or plugin info) that is not JSON, because it was changed after `Track` checked it or never
    went through that check, costs only its offending parts on only that track (see `without_non_json`): the
    rest of the guild is kept, and one warning names the guild, each such track's place and what was left out.
    Raises `StoreError` if the snapshot still holds something JSON cannot carry (its filters, say).
    """
    text, problems = snapshot_text(snapshot)
    _warn_left_out(snapshot.guild_id, problems)
    return text


def snapshot_text(snapshot: GuildSnapshot) -> tuple[str, list[str]]:
    """`encode_snapshot` without the warning: the JSON text, and what was left out of track data (not logged).

    Raises `StoreError` as `encode_snapshot` does.
    """
    try:
        return _strict_dumps(snapshot.to_dict()), []
    except (TypeError, ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        pass  # the cheap path failed: find what is not JSON
    repaired, problems = _without_non_json_track_data(snapshot)
    try:
        return _strict_dumps(repaired.to_dict()), problems
    except (TypeError, ValueError, RecursionError) as exc:
        raise StoreError(f"guild {snapshot.guild_id}: snapshot is not JSON-safe: {exc}") from None


def _warn_left_out(guild_id: int, problems: list[str]) -> None:
    if problems:
        _LOGGER.warning(
            "guild %s: saving it without the track data that is not JSON (the rest of the guild is kept): %s",
            guild_id,
            "; ".join(problems),
        )


def _strict_dumps(data: typing.Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if not text.isascii():
        text.encode("utf-8")  # a lone surrogate passes json.dumps but no store can write it
    return text


def _without_non_json_track_data(snapshot: GuildSnapshot) -> tuple[GuildSnapshot, list[str]]:
    """`snapshot` with what is not JSON left out of each track's user data and plugin info, and what that was."""
    problems: list[str] = []

    def repaired(track: TrackSnapshot, place: str) -> TrackSnapshot:
        user_data, lost = without_non_json(track.user_data, "user_data")
        plugin_info, lost_info = without_non_json(track.plugin_info, "plugin_info")
        if not lost and not lost_info:
            return track
        problems.extend(f"{place} {problem}" for problem in (*lost, *lost_info))
        return TrackSnapshot(encoded=track.encoded, user_data=user_data, plugin_info=plugin_info)

    queue = snapshot.queue
    return (
        attrs.evolve(
            snapshot,
            track=None if snapshot.track is None else repaired(snapshot.track, "current track"),
            queue=attrs.evolve(
                queue,
                tracks=tuple(repaired(t, f"queue[{i}]") for i, t in enumerate(queue.tracks)),
                history=tuple(repaired(t, f"history[{i}]") for i, t in enumerate(queue.history)),
            ),
        ),
        problems,
    )


def latest_by_guild(snapshots: collections.abc.Iterable[GuildSnapshot]) -> dict[int, str]:
    """Encode snapshots by guild id, the last one winning for a repeated guild (`encode_snapshot` each).

    Raises `StoreError` for the first snapshot that cannot be saved; the warnings about track data left out
    are logged only once every snapshot is encoded, so a batch that is refused (and retried without the
    culprit) warns once per guild.
    """
    encoded: dict[int, str] = {}
    left_out: dict[int, list[str]] = {}
    for snapshot in snapshots:
        encoded[snapshot.guild_id], left_out[snapshot.guild_id] = snapshot_text(snapshot)
    for guild_id, problems in left_out.items():
        _warn_left_out(guild_id, problems)
    return encoded


def decode_guilds(
    rows: collections.abc.Iterable[tuple[int, typing.Any]], where: str
) -> dict[int, GuildSnapshot]:
    """Parse ``(guild_id, json text or dict)`` rows; skip bad rows with one warning that names them."""
    result: dict[int, GuildSnapshot] = {}
    bad: list[str] = []
    for guild_id, raw in rows:
        try:
            data = _loads(raw) if isinstance(raw, str | bytes | bytearray) else raw
            snapshot = GuildSnapshot.from_dict(data)
            if snapshot.guild_id != guild_id:
                raise StoreError(f"snapshot is for guild {snapshot.guild_id}, stored under guild {guild_id}")
        except (ValueError, TypeError, OverflowError, RecursionError, StoreError) as exc:  # JSONDecodeError: ValueError
            bad.append(f"guild {guild_id}: {exc}")
            continue
        result[guild_id] = snapshot
    if bad:
        _LOGGER.warning(
            "%s: skipped %d unreadable guild snapshot(s), the others are fine: %s",
            where,
            len(bad),
            "; ".join(bad),
        )
    return result


_scan: typing.Callable[[str, int], tuple[typing.Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _loads(raw: str | bytes | bytearray) -> typing.Any:
    """`json.loads` of a saved snapshot. The text we write (compact, one object) goes straight to the decoder's
    scanner, without `json.loads`' checks around it; anything else (bytes, whitespace, trailing text, an error)
    goes through `json.loads`, which reads it or says what is wrong."""
    if type(raw) is str:
        try:
            data, end = _scan(raw, 0)
        except StopIteration:
            pass
        else:
            if end == len(raw):
                return data
    return json.loads(raw)


def sorted_keys(keys: collections.abc.Iterable[StoreKey]) -> list[StoreKey]:
    """Return distinct `keys` sorted by cluster then node."""
    return sorted(set(keys), key=lambda key: (key.cluster, key.node))


MAX_STORE_SECONDS: typing.Final = 86_400.0
"""The longest timeout a store takes, in seconds (a day): more is a typo, and ``1e308`` breaks the drivers."""


def split_url(url: str) -> urllib.parse.SplitResult:
    """`url` split, its host and port readable; else `SettingsError` (field ``store``) that never shows a password.

    Raised outside the parser's own error, which quotes the URL, so that not even the exception's context
    holds it.
    """
    parts: urllib.parse.SplitResult | None
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port (a password with an unescaped '/', say)
    except ValueError:  # also an unclosed IPv6 bracket: postgresql://u@[::1/db
        parts = None
    if parts is None:
        raise SettingsError(
            "store",
            f"cannot read the host and port of {redact_url(url)!r} (percent-encode '/', '?', '#', '@' in a password;"
            " an IPv6 host is written [address]:port)",
        )
    return parts


def raise_if_cancelled() -> None:
    """Raise the current task's cancellation if a database driver swallowed it.

    redis-py (and at times asyncpg) turns a cancellation that lands as one of its own timeouts fires into a
    result or a timeout error; a task polling the store would then go on for ever, and `close()` wait for it.
    Called after every driver call.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def check_seconds(what: str, value: object, *, zero_ok: bool = False) -> float:
    """`value` as a store timeout: a finite number of seconds up to `MAX_STORE_SECONDS`; else `SettingsError`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError("store", f"{what} must be a number of seconds, not {type(value).__name__}")
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    low = "0" if zero_ok else "more than 0"
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not zero_ok) or seconds > MAX_STORE_SECONDS:
        shown = "a number too large to show" if isinstance(value, int) and value.bit_length() > 64 else repr(value)
        raise SettingsError("store", f"{what} must be {low} and at most {MAX_STORE_SECONDS:g} seconds, not {shown}")
    return seconds


def check_path(kind: str, path: object) -> str:
    """`path` as a file store's path: a non-empty string (or path-like) without NUL; else `SettingsError`."""
    try:
        text = os.fspath(path)  # type: ignore[call-overload]
    except TypeError:
        raise SettingsError("store", f"a {kind} store's path is a string, not {type(path).__name__}") from None
    if not isinstance(text, str) or not text or "\x00" in text:
        raise SettingsError("store", f"a {kind} store's path must be a file name without NUL characters")
    return text


def check_whole(what: str, text: str, low: int, high: int) -> int:
    """`text` (from a URL) as a whole number from `low` to `high`; else `SettingsError`."""
    if not text.isascii() or not text.isdigit() or len(text) > 12 or not low <= int(text) <= high:
        shown = text if len(text) <= 20 else text[:17] + "..."
        raise SettingsError("store", f"{what} must be a whole number from {low} to {high}, not {shown!r}")
    return int(text)


def corrupt_name(path: os.PathLike[str] | str) -> str:
    """The name a corrupt file is moved aside to: ``<name>.corrupt-<timestamp>``."""
    return f"{path}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}"


class ProblemLog:
    """The problems a store met while opening or reading (corrupt files), each logged once when recorded."""

    __slots__ = ("_problems",)

    def __init__(self) -> None:
        self._problems: list[StoreError] = []

    @property
    def problems(self) -> tuple[StoreError, ...]:
        """Every problem recorded so far, oldest first."""
        return tuple(self._problems)

    def record(self, error: StoreError) -> None:
        """Keep `error` and log it once."""
        self._problems.append(error)
        _LOGGER.error("%s", error)


_T = typing.TypeVar("_T")


class WorkerThread:
    """One dedicated thread that runs a store's blocking calls in order, off the event loop."""

    __slots__ = ("_executor", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    @property
    def running(self) -> bool:
        """Whether the thread has been started and not stopped."""
        return self._executor is not None

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=self._name
            )

    async def run(self, func: collections.abc.Callable[[], _T]) -> _T:
        """Run `func` on the thread and return its result; cancelling the caller does not interrupt it."""
        if self._executor is None:
            raise RuntimeError("worker thread is not running")
        return await asyncio.get_running_loop().run_in_executor(self._executor, func)

    def stop(self) -> None:
        """Stop the thread once the calls already submitted are done (idempotent)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)
