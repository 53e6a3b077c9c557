"""Settings: the Lavalink nodes and how sessions are kept; validated; from code, a mapping or the env."""

from __future__ import annotations

import difflib
import importlib.metadata
import ipaddress
import logging
import math
import os
import re
import typing
import urllib.parse

import attrs

from lightbulb_lavalink.errors import SettingsError
from lightbulb_lavalink.protocol.transport import DEFAULT_MAX_RESPONSE_SIZE
from lightbulb_lavalink.redact import redact_url
from lightbulb_lavalink.stores.factory import check_store_url

if typing.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "DEFAULT_CLIENT_NAME",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "ENV_VARIABLES",
    "MAX_RESUME_TIMEOUT",
    "STORE_SCHEMES",
    "LavalinkSettings",
    "NodeSettings",
    "unknown_env_variables",
]

_LOGGER = logging.getLogger("lightbulb_lavalink.settings")


def _package_version() -> str:
    try:
        return importlib.metadata.version("lightbulb-lavalink")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


DEFAULT_CLIENT_NAME: typing.Final[str] = f"lightbulb-lavalink/{_package_version()}"
"""The `Client-Name` sent to Lavalink unless the settings say otherwise."""

MAX_RESUME_TIMEOUT: typing.Final = 2**63 - 1
"""The longest `LavalinkSettings.resume_timeout` a node takes, in seconds: Lavalink reads ``PATCH /v4/sessions``'s
``timeout`` as a Java ``long`` and answers 400 to a larger number (the emulator likewise)."""
MIN_RESPONSE_SIZE: typing.Final = 64 * 1024
MAX_RESPONSE_SIZE: typing.Final = 1024 * 1024 * 1024

STORE_SCHEMES: typing.Final[frozenset[str]] = frozenset(
    {"sqlite", "json", "memory", "redis", "rediss", "postgresql", "postgres"}
)
"""The URL schemes a `LavalinkSettings.store` may use."""

_NAME = re.compile(r"[\w.-]{1,64}")
_CLUSTER = re.compile(r"[\w.-]{0,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOST_FORBIDDEN = re.compile(r"[\s/\\@#?\[\]%]")
_SCHEMES = {"http": False, "https": True, "ws": False, "wss": True}
_DEFAULT_PORTS = {False: 2333, True: 443}
_ENV_ENTRY = re.compile(r"(?:(?P<name>[\w.-]+)=)?(?P<url>[A-Za-z][A-Za-z0-9+.-]*://.*)", re.DOTALL)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _redacted(_: object) -> str:
    return "'***'"


def _is_ipv6(host: str) -> bool:
    # Outside the `except`, so that the error we raise does not keep ipaddress's (which quotes the text) around.
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _to_float(value: float) -> float:
    # An int is a fine number of seconds; anything else (an int no float holds too) is left for the validator.
    if _is_int(value):
        try:
            return float(value)
        except OverflowError:
            return value
    return value


def _to_nodes(value: Iterable[NodeSettings]) -> tuple[NodeSettings, ...]:
    # Any sequence of nodes becomes a tuple; other values are kept for the validator to refuse by name.
    if isinstance(value, list | tuple):
        return tuple(value)
    return typing.cast("tuple[NodeSettings, ...]", value)


_MAX_DIGITS: typing.Final = 30  # more than any setting needs, far fewer than int() refuses to read


def _show(value: object) -> str:
    """`value` as an error shows it: its repr, cut short; never a failure of its own (10**5000 has no repr)."""
    try:
        text = repr(value)
    except ValueError:
        return f"a {_kind(value)} too large to show"
    return text if len(text) <= 80 else text[:77] + "..."


def _kind(value: object) -> str:
    return type(value).__name__


def _check_str(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise SettingsError(field, f"must be a string, not {_kind(value)}")
    return value


def _check_int(field: str, value: object, minimum: int, maximum: int | None = None) -> None:
    if not _is_int(value):
        raise SettingsError(field, f"must be a whole number, not {_kind(value)} {_show(value)}")
    assert isinstance(value, int)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise SettingsError(field, f"must be {bound}, not {_show(value)}")


def _check_seconds(field: str, value: object, *, zero_ok: bool) -> None:
    if not isinstance(value, float) or not math.isfinite(value):
        raise SettingsError(field, f"must be a finite number of seconds, not {_kind(value)} {_show(value)}")
    if value < 0 or (value == 0 and not zero_ok):
        raise SettingsError(field, f"must be {'0 or more' if zero_ok else 'more than 0'} seconds, not {value}")


def _check_bool(field: str, value: object) -> None:
    if not isinstance(value, bool):
        raise SettingsError(field, f"must be true or false, not {_kind(value)} {_show(value)}")


@attrs.frozen(kw_only=True, weakref_slot=False)
class NodeSettings:
    """One Lavalink server: where it is, its password and its region. The password is never shown."""

    name: str = "default"
    """A unique name (1 to 64 letters, digits, ``_``, ``.``, ``-``); the node's session is saved under it."""
    host: str = "localhost"
    """Host name or IP address (an IPv6 address without brackets)."""
    port: int = 2333
    """TCP port, 1 to 65535."""
    password: str = attrs.field(default="youshallnotpass", repr=_redacted)
    """The node's `lavalink.server.password`; shown as ``***`` in every repr."""
    secure: bool = False
    """Whether to use TLS (``https``/``wss``)."""
    region: str | None = None
    """A free-form region label (``"eu"``); the load balancer prefers nodes in a guild's region."""

    def __attrs_post_init__(self) -> None:
        if not _NAME.fullmatch(_check_str("name", self.name)):
            raise SettingsError("name", f"must be 1 to 64 letters, digits, '_', '.' or '-', not {_show(self.name)}")
        self._check_host()
        _check_int("port", self.port, 1, 65535)
        if _CONTROL.search(_check_str("password", self.password)):
            raise SettingsError("password", "must not contain control characters (line breaks, tabs, ...)")
        _check_bool("secure", self.secure)
        if self.region is not None and (not _check_str("region", self.region) or _CONTROL.search(self.region)):
            raise SettingsError("region", "must be None or a non-empty string without control characters")

    def _check_host(self) -> None:
        host = _check_str("host", self.host)
        if not host:
            raise SettingsError("host", "must not be empty")
        if ":" in host:
            if not _is_ipv6(host):
                shown = redact_url(host)
                raise SettingsError("host", f"{shown!r} is neither a host name nor an IPv6 address")
        elif len(host) > 253 or _HOST_FORBIDDEN.search(host) or _CONTROL.search(host):
            shown = redact_url(host)
            raise SettingsError("host", f"{shown!r} is not a valid host name (no scheme, port, path or password here)")

    @property
    def url(self) -> str:
        """The base HTTP URL, without password: ``http://localhost:2333``."""
        return f"{'https' if self.secure else 'http'}://{self._netloc}"

    @property
    def _netloc(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def websocket_url(self) -> str:
        """The websocket URL: ``ws://localhost:2333/v4/websocket``."""
        return f"{'wss' if self.secure else 'ws'}://{self._netloc}/v4/websocket"

    def to_url(self) -> str:
        """The node as text `from_url` reads back: ``http://password@host:port#region`` (has the password)."""
        password = urllib.parse.quote(self.password, safe="")
        region = "" if self.region is None else "#" + urllib.parse.quote(self.region, safe="")
        return f"{'https' if self.secure else 'http'}://{password}@{self._netloc}{region}"

    @classmethod
    def from_url(cls, text: str, *, name: str = "default") -> NodeSettings:
        """Parse ``http[s]://password@host:port#region`` (also ``ws``/``wss``).

        The password may be percent-encoded (it must be, if it contains ``#``, ``,`` or spaces); without one
        the default ``youshallnotpass`` is used. Without a port: 2333 for ``http``, 443 for ``https``.
        Error messages never repeat the text, which holds the password.

        Raises:
            SettingsError: The URL is malformed (field ``url``, ``host`` or ``port``).
        """
        if not isinstance(text, str):
            raise SettingsError("url", f"must be a string, not {_kind(text)}")
        scheme, sep, rest = text.strip().partition("://")
        if not sep:
            raise SettingsError("url", "expected a URL like http://password@host:2333#region")
        if scheme.lower() not in _SCHEMES:
            raise SettingsError("url", f"the scheme must be http or https (or ws, wss), not {scheme!r}")
        secure = _SCHEMES[scheme.lower()]
        userinfo, at, hostpart = rest.rpartition("@")
        hostport, _, fragment = hostpart.partition("#")
        hostport, _, query = hostport.partition("?")
        hostport, slash, path = hostport.partition("/")
        if query or (slash and path):
            raise SettingsError("url", "a node URL has no path or query: http://password@host:port#region")
        host, port = _split_host_port(hostport, secure)
        password = urllib.parse.unquote(userinfo[1:] if userinfo.startswith(":") else userinfo) if at else None
        return cls(
            name=name,
            host=host,
            port=port,
            secure=secure,
            region=urllib.parse.unquote(fragment) or None,
            **({} if password is None else {"password": password}),
        )


def _split_host_port(hostport: str, secure: bool) -> tuple[str, int]:
    if hostport.startswith("["):
        host, bracket, tail = hostport[1:].partition("]")
        if not bracket or (tail and not tail.startswith(":")):
            raise SettingsError("url", "an IPv6 host is written [address]:port")
        port_text = tail[1:] if tail else ""
    elif hostport.count(":") > 1:
        raise SettingsError("url", "write an IPv6 host in brackets: http://password@[::1]:2333")
    else:
        host, _, port_text = hostport.partition(":")
    if not port_text:
        return host, _DEFAULT_PORTS[secure]
    if not port_text.isascii() or not port_text.isdigit():
        # Not repeated: text written where the port goes is often the password (``http://host:password``).
        raise SettingsError("port", "must be a number (the password goes before the host: http://password@host:port)")
    if len(port_text) > 5:
        raise SettingsError("port", "must be between 1 and 65535")
    return host, int(port_text)


@attrs.frozen(kw_only=True, weakref_slot=False)
class LavalinkSettings:
    """Everything the client needs: its nodes, how long sessions survive, where they are saved, timeouts.

    Build it in code, with `from_mapping` (config files) or `from_env` (``LAVALINK_*`` variables); change
    one with `with_overrides`. Every value is checked at construction: `SettingsError` names the bad field.
    """

    nodes: tuple[NodeSettings, ...] = attrs.field(factory=lambda: (NodeSettings(),), converter=_to_nodes)
    """The Lavalink nodes (at least one, unique names). Default: one at ``http://localhost:2333``."""
    resume_timeout: int = 60
    """Seconds Lavalink keeps a session's players alive after the bot disconnects: a whole number from 1 to
    `MAX_RESUME_TIMEOUT` (2**63 - 1, what the node accepts)."""
    store: str = attrs.field(default="sqlite:///lavalink_sessions.db", repr=lambda v: repr(redact_url(v)))
    """Where sessions and queues are saved, as a URL: ``sqlite:///file.db``, ``json:///file.json``, ``memory://``,
    ``redis[s]://...`` or ``postgres[ql]://...``. A password in it is never shown."""
    cluster: str = ""
    """A name separating deployments that share one store (letters, digits, ``_ . -``; empty for none)."""
    client_name: str = DEFAULT_CLIENT_NAME
    """The `Client-Name` header, ``NAME/VERSION`` (printable ASCII)."""
    voice_timeout: float = attrs.field(default=10.0, converter=_to_float)
    """Seconds to wait for Discord's voice state and server updates after joining a channel."""
    request_timeout: float = attrs.field(default=10.0, converter=_to_float)
    """Seconds before a Lavalink REST request (or websocket handshake) gives up."""
    rejoin_empty_channels: bool = False
    """Whether recovery rejoins a voice channel with no listeners left (by default such guilds are left)."""
    history_limit: int = 100
    """How many played tracks each guild queue remembers (0 for none)."""
    snapshot_interval: float = attrs.field(default=1.0, converter=_to_float)
    """Minimum seconds between two snapshot writes of one busy guild (0: write after every change)."""
    position_save_interval: float = attrs.field(default=5.0, converter=_to_float)
    """Minimum seconds between saves of a playing track's position (track change, pause, seek: at once)."""
    recovery_concurrency: int = 5
    """How many guilds are recovered at once (voice rejoin + player rebuild) after a session was lost."""
    failover_after: float = attrs.field(default=30.0, converter=_to_float)
    """Seconds a node may stay away before its players move to another ready node (0: never move them)."""
    reconnect_delay: float = attrs.field(default=1.0, converter=_to_float)
    """Seconds before the first websocket reconnect attempt; doubles after each failure (with jitter).

    The same backoff paces the retries of a track the player could not start while its node stays connected."""
    reconnect_max_delay: float = attrs.field(default=60.0, converter=_to_float)
    """The longest wait between two reconnect attempts (or retries of a track), in seconds (at least
    `reconnect_delay`)."""
    max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE
    """The largest answer a node may send, in bytes: a REST body or a websocket message (64 KiB to 1 GiB;
    default 32 MiB, far above a 5000-track playlist). A larger one fails the request with a `ProtocolError`,
    read no further."""
    handoff: bool = False
    """Whether `LavalinkClient.start` takes its cluster over from a running process of the same cluster (a handoff
    deploy, through a Redis or PostgreSQL store) instead of starting on its own: see the processes guide."""
    handoff_timeout: float = attrs.field(default=10.0, converter=_to_float)
    """Seconds a handoff may take: the new process waits this long for the running one to answer, and the running
    one this long for the new one to resume its sessions before it takes them back (the new one gives up at half)."""
    fail_fast: bool = False
    """What the lightbulb extension does when it cannot start (a bad setting, a store it cannot open):
    `False` (default) loads it degraded, every command that needs music answering "music is unavailable" and
    saying why; `True` makes the load fatal (`lightbulb_lavalink.ext.StartupAborted`, a `SystemExit`)."""

    def __attrs_post_init__(self) -> None:
        self._check_nodes()
        _check_int("resume_timeout", self.resume_timeout, 1, MAX_RESUME_TIMEOUT)
        store = _check_str("store", self.store)
        scheme, sep, _ = store.partition("://")
        if not sep or scheme.lower() not in STORE_SCHEMES:
            known = ", ".join(sorted(STORE_SCHEMES))
            raise SettingsError("store", f"{redact_url(store)!r} is not a store URL; the scheme must be one of {known}")
        check_store_url(store)  # every store option, as the store will read it
        if not _CLUSTER.fullmatch(_check_str("cluster", self.cluster)):
            shown = _show(self.cluster)
            raise SettingsError("cluster", f"must be at most 64 letters, digits, '_', '.' or '-', not {shown}")
        name = _check_str("client_name", self.client_name)
        if not name or not name.isascii() or not name.isprintable() or len(name) > 128:
            raise SettingsError("client_name", f"must be 1 to 128 printable ASCII characters, not {_show(name)}")
        _check_seconds("voice_timeout", self.voice_timeout, zero_ok=False)
        _check_seconds("request_timeout", self.request_timeout, zero_ok=False)
        _check_bool("rejoin_empty_channels", self.rejoin_empty_channels)
        _check_int("history_limit", self.history_limit, 0)
        _check_seconds("snapshot_interval", self.snapshot_interval, zero_ok=True)
        _check_seconds("position_save_interval", self.position_save_interval, zero_ok=True)
        _check_int("recovery_concurrency", self.recovery_concurrency, 1)
        _check_seconds("failover_after", self.failover_after, zero_ok=True)
        _check_seconds("reconnect_delay", self.reconnect_delay, zero_ok=False)
        _check_seconds("reconnect_max_delay", self.reconnect_max_delay, zero_ok=False)
        if self.reconnect_max_delay < self.reconnect_delay:
            raise SettingsError("reconnect_max_delay", "must be at least reconnect_delay")
        _check_int("max_response_size", self.max_response_size, MIN_RESPONSE_SIZE, MAX_RESPONSE_SIZE)
        _check_bool("handoff", self.handoff)
        _check_seconds("handoff_timeout", self.handoff_timeout, zero_ok=False)
        _check_bool("fail_fast", self.fail_fast)

    def _check_nodes(self) -> None:
        if not isinstance(self.nodes, tuple):
            raise SettingsError("nodes", f"must be a sequence of NodeSettings, not {_kind(self.nodes)}")
        if not self.nodes:
            raise SettingsError("nodes", "at least one node is needed")
        seen: dict[str, int] = {}
        for i, node in enumerate(self.nodes):
            if not isinstance(node, NodeSettings):
                raise SettingsError(f"nodes[{i}]", f"must be a NodeSettings, not {_kind(node)}")
            if node.name in seen:
                raise SettingsError(f"nodes[{i}].name", f"{node.name!r} is already the name of node {seen[node.name]}")
            seen[node.name] = i

    def node(self, name: str) -> NodeSettings:
        """The node called `name`.

        Raises:
            KeyError: No node has that name.
        """
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def with_overrides(self, **changes: typing.Any) -> LavalinkSettings:
        """A copy with some fields changed (and validated again).

        Raises:
            SettingsError: A field is unknown, or its new value is invalid.
        """
        _reject_unknown(changes, _FIELDS, "")
        return attrs.evolve(self, **changes)

    @classmethod
    def from_mapping(cls, data: Mapping[str, typing.Any]) -> LavalinkSettings:
        """Build from a parsed config file: snake_case keys as the fields; unknown keys are refused.

        ``nodes`` is a list whose items are URL strings (`NodeSettings.from_url`), mappings of `NodeSettings`
        fields, or mappings with ``url`` (and optionally ``name``). An unnamed node is called ``default`` when
        it is the only one, else ``node-N`` (N counts from 1).

        Raises:
            SettingsError: `data` is not a mapping, a key is unknown, or a value is invalid (naming the field).
        """
        if not isinstance(data, typing.Mapping):
            raise SettingsError("settings", f"must be a mapping, not {_kind(data)}")
        _reject_unknown(data, _FIELDS, "")
        values = dict(data)
        if "nodes" in values:
            values["nodes"] = _nodes_from_list(values["nodes"])
        return cls(**values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LavalinkSettings:
        """Build from ``LAVALINK_*`` environment variables (`os.environ` by default); unset or empty ones keep
        their defaults. A bad value raises `SettingsError` naming the variable.

        ``LAVALINK_NODES``: entries ``name=http://password@host:port#region`` separated by commas and/or
        whitespace (a bare URL is named as in `from_mapping`); or, for a single node, ``LAVALINK_HOST``,
        ``LAVALINK_PORT``, ``LAVALINK_PASSWORD``, ``LAVALINK_SECURE``, ``LAVALINK_REGION``.
        Every other field is ``LAVALINK_`` + its name in capitals (``LAVALINK_RESUME_TIMEOUT=120``,
        ``LAVALINK_STORE``, ``LAVALINK_CLUSTER``, ``LAVALINK_REJOIN_EMPTY_CHANNELS=yes``, ...).

        Raises:
            SettingsError: A variable's value is invalid (naming the variable).
        """
        env = os.environ if environ is None else environ
        for name, nearest in unknown_env_variables(env):
            hint = f"; did you mean {nearest}?" if nearest else f"; known: {', '.join(ENV_VARIABLES)}"
            _LOGGER.warning("unknown environment variable %s is ignored%s", name, hint)

        def get(var: str) -> str | None:
            value = env.get(var)
            return value.strip() if value is not None and value.strip() else None

        values: dict[str, typing.Any] = {}
        single = {key: get(f"LAVALINK_{key.upper()}") for key in _SINGLE_NODE}
        nodes_text = get("LAVALINK_NODES")
        if nodes_text is not None:
            given = [key for key, value in single.items() if value is not None]
            if given:
                raise SettingsError(f"LAVALINK_{given[0].upper()}", "cannot be combined with LAVALINK_NODES")
            entries = [e for e in re.split(r"[\s,]+", nodes_text) if e]
            try:
                values["nodes"] = _nodes_from_list(entries)
            except SettingsError as exc:
                raise _renamed(exc, "LAVALINK_NODES" + exc.field[len("nodes") :]) from None
        elif any(value is not None for value in single.values()):
            node: dict[str, typing.Any] = {k: v for k, v in single.items() if v is not None}
            if "port" in node:
                node["port"] = _parse_env("LAVALINK_PORT", node["port"], int)
            if "secure" in node:
                node["secure"] = _parse_env("LAVALINK_SECURE", node["secure"], bool)
            try:
                values["nodes"] = (NodeSettings(**node),)
            except SettingsError as exc:
                raise _renamed(exc, f"LAVALINK_{exc.field.upper()}") from None
        for field, kind in _ENV_FIELDS.items():
            var = f"LAVALINK_{field.upper()}"
            text = get(var)
            if text is not None:
                values[field] = _parse_env(var, text, kind)
        try:
            return cls(**values)
        except SettingsError as exc:
            if exc.field.startswith("nodes"):
                raise _renamed(exc, "LAVALINK_NODES" + exc.field[len("nodes") :]) from None
            raise _renamed(exc, f"LAVALINK_{exc.field.upper()}") from None


_FIELDS: typing.Final = frozenset(f.name for f in attrs.fields(LavalinkSettings))
_NODE_FIELDS: typing.Final = frozenset(f.name for f in attrs.fields(NodeSettings))
_SINGLE_NODE: typing.Final = ("host", "port", "password", "secure", "region")
_ENV_KINDS: typing.Final[dict[object, type]] = {"bool": bool, "int": int, "float": float, "str": str}
_ENV_FIELDS: typing.Final[dict[str, type]] = {
    f.name: _ENV_KINDS[f.type] for f in attrs.fields(LavalinkSettings) if f.name != "nodes"
}
ENV_VARIABLES: typing.Final[tuple[str, ...]] = tuple(
    sorted({"LAVALINK_NODES", *(f"LAVALINK_{k.upper()}" for k in (*_SINGLE_NODE, *_ENV_FIELDS))})
)
"""Every environment variable `LavalinkSettings.from_env` reads."""


def unknown_env_variables(environ: Mapping[str, str] | None = None) -> list[tuple[str, str | None]]:
    """The ``LAVALINK_*`` variables `from_env` does not read, each with the known name nearest to it (or `None`).

    `from_env` logs a warning for each (``LAVALINK_PASWORD``: did you mean ``LAVALINK_PASSWORD``?).
    """
    env = os.environ if environ is None else environ
    prefix = "LAVALINK_"
    known = {name[len(prefix) :]: name for name in ENV_VARIABLES}
    found: list[tuple[str, str | None]] = []
    for name in sorted(n for n in env if n.startswith(prefix) and n not in ENV_VARIABLES):
        close = difflib.get_close_matches(name[len(prefix) :], list(known), n=1, cutoff=0.6)
        found.append((name, known[close[0]] if close else None))
    return found


def _reject_unknown(data: Mapping[str, typing.Any], known: frozenset[str], prefix: str) -> None:
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise SettingsError(
            prefix + unknown[0],
            f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(known))}",
        )


def _nodes_from_list(items: object) -> tuple[NodeSettings, ...]:
    if isinstance(items, str | bytes) or not isinstance(items, list | tuple):
        raise SettingsError("nodes", f"must be a list of node URLs or mappings, not {_kind(items)}")
    nodes = []
    for i, item in enumerate(items):
        try:
            nodes.append(_node_from_item(item, "default" if len(items) == 1 else f"node-{i + 1}"))
        except SettingsError as exc:
            raise _renamed(exc, f"nodes[{i}].{exc.field}".rstrip(".")) from None
    return tuple(nodes)


def _node_from_item(item: object, default_name: str) -> NodeSettings:
    if isinstance(item, NodeSettings):
        return item
    if isinstance(item, str):
        match = _ENV_ENTRY.fullmatch(item.strip())
        if match is None:
            raise SettingsError("url", "expected name=http://password@host:port#region or a URL")
        return NodeSettings.from_url(match["url"], name=match["name"] or default_name)
    if not isinstance(item, typing.Mapping):
        raise SettingsError("", f"must be a URL string or a mapping, not {_kind(item)}")
    if "url" in item:
        _reject_unknown(item, frozenset({"url", "name"}), "")
        return NodeSettings.from_url(item["url"], name=item.get("name", default_name))
    _reject_unknown(item, _NODE_FIELDS | {"url"}, "")
    return NodeSettings(**{"name": default_name, **item})


def _renamed(exc: SettingsError, field: str) -> SettingsError:
    """The same problem under the name the user wrote it as (``nodes[1].port``, ``LAVALINK_STORE``)."""
    return SettingsError(field, exc.problem)


def _parse_env(var: str, text: str, kind: type) -> typing.Any:
    if kind is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise SettingsError(var, f"expected true/false, yes/no, on/off or 1/0, not {_show(text)}")
    if kind is int:
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise SettingsError(var, f"expected a whole number, not {_show(text)}")
        if len(text) > _MAX_DIGITS:
            raise SettingsError(var, f"expected a whole number, not one of {len(text)} digits")
        return int(text)
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise SettingsError(var, f"expected a number, not {_show(text)}") from None
    return text
