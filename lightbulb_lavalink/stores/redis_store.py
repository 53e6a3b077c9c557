"""`RedisStore`: session ids and guild snapshots in Redis, for bots that run several processes or hosts."""

from __future__ import annotations

import importlib.util
import typing
import urllib.parse

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
from lightbulb_lavalink.stores.redis_claims import RedisOwnership
from lightbulb_lavalink.stores.redis_handoff import RedisHandoff

if typing.TYPE_CHECKING:
    import collections.abc

    import redis.asyncio

    from lightbulb_lavalink.snapshot import GuildSnapshot

__all__ = ["RedisStore", "RedisURL", "parse_redis_url"]

_T = typing.TypeVar("_T")


def _quote(part: str) -> str:
    return urllib.parse.quote(part, safe="")


_SECONDS_OPTIONS: typing.Final = frozenset({"socket_timeout", "socket_connect_timeout"})
_WHOLE_OPTIONS: typing.Final[dict[str, tuple[int, int]]] = {
    "db": (0, 2**31 - 1),
    "max_connections": (1, 2**31 - 1),
    "health_check_interval": (0, 86_400),
    "socket_read_size": (1, 2**31 - 1),
    "protocol": (2, 3),
}
_FLAG_OPTIONS: typing.Final = frozenset({"socket_keepalive", "retry_on_timeout"})
_TEXT_OPTIONS: typing.Final = frozenset({"client_name", "username", "password"})
_TLS_OPTIONS: typing.Final = frozenset(
    {"ssl_cert_reqs", "ssl_ca_certs", "ssl_keyfile", "ssl_certfile", "ssl_check_hostname", "ssl_ciphers"}
)
_FLAGS: typing.Final = frozenset({"", "0", "1", "true", "false", "yes", "no", "on", "off"})


@attrs.frozen(kw_only=True, weakref_slot=False)
class RedisURL:
    """A Redis store URL, read and checked (`parse_redis_url`)."""

    connect_url: str
    """The URL redis-py connects to: without our own options."""
    shown: str
    """The URL as printed: password hidden."""
    prefix: str
    """The key prefix (``?prefix=``, default ``lavalink``)."""
    password: str | None
    """The password in the URL, to scrub from the driver's errors."""


def parse_redis_url(url: str, *, prefix: str | None = None) -> RedisURL:
    """Read and check a Redis store URL without connecting; `SettingsError` (field ``store``) naming the problem.

    Options: ``prefix`` (ours), and redis-py's ``db``, ``socket_timeout``, ``socket_connect_timeout``,
    ``socket_keepalive``, ``retry_on_timeout``, ``max_connections``, ``health_check_interval``,
    ``socket_read_size``, ``protocol``, ``client_name``, ``username``, ``password``; with ``rediss://`` also
    ``ssl_cert_reqs``, ``ssl_ca_certs``, ``ssl_keyfile``, ``ssl_certfile``, ``ssl_check_hostname``, ``ssl_ciphers``.
    """
    shown = redact_url(url)
    parts = split_url(url)
    scheme = parts.scheme.lower()
    if scheme not in {"redis", "rediss", "unix"}:
        raise SettingsError("store", f"not a Redis URL: {shown!r}")
    if scheme != "unix":
        if not parts.hostname:
            raise SettingsError("store", f"no host in {shown!r} (percent-encode '/', '?', '#', '@' in a password)")
        db = parts.path.strip("/")
        if db:
            check_whole("the Redis database (the URL's path)", db, *_WHOLE_OPTIONS["db"])
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    known = _SECONDS_OPTIONS | _WHOLE_OPTIONS.keys() | _FLAG_OPTIONS | _TEXT_OPTIONS | {"prefix"}
    if scheme == "rediss":
        known |= _TLS_OPTIONS
    for name, value in query:
        if name not in known:
            hint = " (the ssl_ options need rediss://)" if name in _TLS_OPTIONS else ""
            raise SettingsError(
                "store", f"unknown Redis URL option {name!r}{hint}; known: {', '.join(sorted(known))}"
            )
        if name in _SECONDS_OPTIONS:
            try:
                seconds: float = float(value)
            except ValueError:
                raise SettingsError(
                    "store", f"the Redis option {name} must be a number of seconds, not {value[:20]!r}"
                ) from None
            check_seconds(f"the Redis option {name}", seconds)
        elif name in _WHOLE_OPTIONS:
            check_whole(f"the Redis option {name}", value, *_WHOLE_OPTIONS[name])
        elif name in _FLAG_OPTIONS and value.lower() not in _FLAGS:
            raise SettingsError("store", f"the Redis option {name} is true or false, not {value[:20]!r}")
    url_prefix = [value for name, value in query if name == "prefix"]
    chosen = prefix if prefix is not None else (url_prefix[-1] if url_prefix else "lavalink")
    if not chosen:
        raise SettingsError("store", "the Redis key prefix must not be empty")
    rest = [(name, value) for name, value in query if name != "prefix"]
    return RedisURL(
        connect_url=urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(rest))),
        shown=shown,
        prefix=chosen,
        password=urllib.parse.unquote(parts.password) if parts.password else None,
    )


class RedisStore(RedisOwnership, RedisHandoff):
    """Redis through redis-py's asyncio client (``redis://``, ``rediss://``; ``pip install
    'lightbulb-lavalink[redis]'``).

    Layout, with ``P`` the prefix (``?prefix=`` in the URL, default ``lavalink``), ``B`` the bot id and
    ``C``/``N`` the percent-encoded cluster and node: ``P:{B}:C:N:session`` (a string),
    ``P:{B}:C:N:guilds`` (a hash: guild id → snapshot JSON) and ``P:{B}:scopes`` (a set of ``C:N``).
    Every write is one MULTI/EXEC transaction; no key ever gets a TTL. The ``{B}`` hash tag keeps one
    bot's keys in one Redis Cluster slot. Guild ownership, for bots that run several processes:
    `RedisOwnership`; handoff deploys (PUBLISH/SUBSCRIBE on ``P:{B}:handoff:C``): `RedisHandoff`.
    """

    __slots__ = (
        "_client",
        "_closed",
        "_connect_url",
        "_owns_client",
        "_password",
        "_prefix",
        "_socket_timeout",
        "_url",
    )

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str | None = None,
        socket_timeout: float = 5.0,
        client: redis.asyncio.Redis | None = None,
    ) -> None:
        """Connect to `url` (or use `client`, which the caller keeps and closes).

        `prefix` (or ``?prefix=`` in the URL) namespaces every key; `socket_timeout` bounds each command
        and connection attempt, so an unreachable server fails fast and the `SnapshotWriter` retries.
        """
        parsed = parse_redis_url(url, prefix=prefix)
        self._socket_timeout = check_seconds("the Redis socket_timeout", socket_timeout)
        if client is None and importlib.util.find_spec("redis") is None:
            raise SettingsError(
                "store", "the Redis store needs the redis package: pip install 'lightbulb-lavalink[redis]'"
            )
        self._prefix = parsed.prefix
        self._connect_url = parsed.connect_url
        self._url = parsed.shown
        self._password = parsed.password
        self._client = client
        self._owns_client = client is None
        self._closed = False

    @classmethod
    def from_client(
        cls, client: redis.asyncio.Redis, *, prefix: str | None = None, socket_timeout: float = 5.0
    ) -> RedisStore:
        """A store on the bot's own Redis client: it opens no connection of its own and never closes `client`
        (its owner does). `prefix` namespaces every key (default ``lavalink``).

        Raises:
            SettingsError: `prefix` is empty, or `socket_timeout` is not a number of seconds above 0.
        """
        kwargs = client.connection_pool.connection_kwargs
        host, port, db = kwargs.get("host", "localhost"), kwargs.get("port", 6379), kwargs.get("db", 0)
        where = f"redis://{host}:{port}/{db}" if "path" not in kwargs else "redis://unix-socket/0"
        return cls(where, prefix=prefix, socket_timeout=socket_timeout, client=client)

    @property
    def url(self) -> str:
        """The Redis URL, password hidden."""
        return self._url

    @property
    def prefix(self) -> str:
        """The key prefix."""
        return self._prefix

    @property
    def problems(self) -> tuple[StoreError, ...]:
        """Redis has no file to find corrupt: always empty (bad snapshots are skipped with a warning)."""
        return ()

    def __repr__(self) -> str:
        return f"RedisStore({self._url!r}, prefix={self._prefix!r})"

    def _get_client(self) -> redis.asyncio.Redis:
        if self._closed:
            raise StoreError(f"redis {self._url}: the store is closed")
        if self._client is None:
            import redis.asyncio
            import redis.asyncio.retry
            import redis.backoff

            self._client = redis.asyncio.Redis.from_url(
                self._connect_url,
                socket_timeout=self._socket_timeout,
                socket_connect_timeout=self._socket_timeout,
                # One quick retry heals a pooled connection the server dropped; longer outages are the
                # SnapshotWriter's business (it backs off), not something to block a command on.
                retry=redis.asyncio.retry.Retry(redis.backoff.NoBackoff(), 1),
            )
        return self._client

    async def _call(self, func: collections.abc.Callable[[redis.asyncio.Redis], typing.Awaitable[_T]]) -> _T:
        import redis.exceptions

        try:
            result = await func(self._get_client())
        except (redis.exceptions.RedisError, OSError, ValueError) as exc:
            raise_if_cancelled()
            why = redact_secret(f"{type(exc).__name__}: {exc}", self._password)
            raise StoreError(f"redis {self._url}: {why}") from None
        raise_if_cancelled()
        return result

    async def open(self) -> None:
        """Create the client and check the server answers (`StoreError` if not; later calls retry)."""
        self._closed = False
        await self._call(lambda client: client.ping())

    async def close(self) -> None:
        """Close the connection pool (unless the client was given)."""
        self._closed = True
        if self._client is not None and self._owns_client:
            client, self._client = self._client, None
            await client.aclose()

    # -- keys --------------------------------------------------------------------------------------------

    def _base(self, key: StoreKey) -> str:
        return f"{self._prefix}:{{{key.bot_id}}}:{_quote(key.cluster)}:{_quote(key.node)}"

    def _scopes(self, bot_id: int) -> str:
        return f"{self._prefix}:{{{bot_id}}}:scopes"

    @staticmethod
    def _member(key: StoreKey) -> str:
        return f"{_quote(key.cluster)}:{_quote(key.node)}"

    # -- operations --------------------------------------------------------------------------------------

    async def get_session(self, key: StoreKey) -> str | None:
        """Return the saved session id of `key`, or `None`."""
        value = await self._call(lambda client: client.get(f"{self._base(key)}:session"))
        return None if value is None else _text(value)

    async def set_session(self, key: StoreKey, session_id: str | None) -> None:
        """Save (or with `None` forget) the session id of `key`."""

        async def put(client: redis.asyncio.Redis) -> None:
            async with client.pipeline(transaction=True) as pipe:
                if session_id is None:
                    pipe.delete(f"{self._base(key)}:session")
                else:
                    pipe.set(f"{self._base(key)}:session", session_id)
                    pipe.sadd(self._scopes(key.bot_id), self._member(key))
                await pipe.execute()

        await self._call(put)

    async def get_guilds(self, key: StoreKey) -> dict[int, GuildSnapshot]:
        """Return the guild snapshots of `key` (bad entries skipped with a warning)."""
        raw: dict[typing.Any, typing.Any] = await self._call(
            lambda client: client.hgetall(f"{self._base(key)}:guilds")
        )
        rows: list[tuple[int, typing.Any]] = []
        for field, value in raw.items():
            try:
                gid = int(_text(field))
            except ValueError:
                gid = -1  # reported as a mismatch by decode_guilds
            rows.append((gid, value))
        return decode_guilds(rows, f"redis {self._url} ({key})")

    async def put_guild(self, key: StoreKey, snapshot: GuildSnapshot) -> None:
        """Save one guild snapshot (one MULTI/EXEC)."""
        await self.put_guilds(key, (snapshot,))

    async def put_guilds(self, key: StoreKey, snapshots: collections.abc.Iterable[GuildSnapshot]) -> None:
        """Save several guild snapshots in one MULTI/EXEC."""
        encoded = {str(gid): data for gid, data in latest_by_guild(snapshots).items()}
        if not encoded:
            return

        async def put(client: redis.asyncio.Redis) -> None:
            async with client.pipeline(transaction=True) as pipe:
                pipe.hset(f"{self._base(key)}:guilds", mapping=encoded)  # type: ignore[arg-type]
                pipe.sadd(self._scopes(key.bot_id), self._member(key))
                await pipe.execute()

        await self._call(put)

    async def delete_guild(self, key: StoreKey, guild_id: int) -> None:
        """Forget one guild snapshot."""
        await self._call(
            lambda client: client.hdel(f"{self._base(key)}:guilds", str(guild_id))
        )

    async def list_keys(self, bot_id: int) -> list[StoreKey]:
        """Return the scopes of `bot_id` holding anything."""

        async def get(client: redis.asyncio.Redis) -> list[StoreKey]:
            members = [_text(m) for m in await client.smembers(self._scopes(bot_id))]
            keys = []
            for member in members:
                cluster, _, node = member.partition(":")
                keys.append(StoreKey(bot_id, urllib.parse.unquote(node), urllib.parse.unquote(cluster)))
            if not keys:
                return []
            async with client.pipeline(transaction=False) as pipe:
                for k in keys:
                    pipe.exists(f"{self._base(k)}:session", f"{self._base(k)}:guilds")
                counts = await pipe.execute()
            return sorted_keys(k for k, count in zip(keys, counts, strict=True) if count)

        return await self._call(get)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
