"""What every plugin helper shares: which plugins there are, how a node's are detected, and the error when one is
missing."""

from __future__ import annotations

import enum
import logging
import typing
import urllib.parse

import attrs

from lightbulb_lavalink.errors import LavalinkError, ProtocolError

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.protocol.info import Info

__all__ = [
    "NodePlugins",
    "PluginKind",
    "PluginUnavailable",
    "normalize",
    "parse_list",
    "plugin_object",
    "quote",
    "read_int",
    "read_object",
    "read_str",
]

_LOGGER = logging.getLogger("lightbulb_lavalink.plugins")


class PluginKind(enum.StrEnum):
    """A Lavalink plugin this library has typed helpers for; its value is the name it is detected by."""

    LAVASRC = "lavasrc"
    """LavaSrc (topi314/LavaSrc): Spotify, Apple Music, Deezer, Yandex Music... sources and search prefixes."""
    LAVASEARCH = "lavasearch"
    """LavaSearch (topi314/LavaSearch): ``GET /v4/loadsearch`` for tracks, albums, artists, playlists and texts."""
    LAVALYRICS = "lavalyrics"
    """LavaLyrics (topi314/LavaLyrics): lyrics of a track, and live lyrics lines as events."""
    SPONSORBLOCK = "sponsorblock"
    """SponsorBlock (topi314/SponsorBlock-Plugin): skip sponsor segments of YouTube videos, per player."""

    @property
    def display_name(self) -> str:
        """The plugin's usual name, for messages (``SponsorBlock``)."""
        return _TITLES[self]


_TITLES: typing.Final[typing.Mapping[PluginKind, str]] = {
    PluginKind.LAVASRC: "LavaSrc",
    PluginKind.LAVASEARCH: "LavaSearch",
    PluginKind.LAVALYRICS: "LavaLyrics",
    PluginKind.SPONSORBLOCK: "SponsorBlock",
}


def normalize(name: str) -> str:
    """A plugin name as ``/v4/info`` lists it (``sponsorblock-plugin``) reduced to what it is detected by
    (``sponsorblock``): lower case, without a ``-plugin`` suffix, spaces, dashes or underscores."""
    key = name.strip().lower()
    for suffix in ("-plugin", "_plugin", " plugin"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    return key.replace("-", "").replace("_", "").replace(" ", "")


class PluginUnavailable(LavalinkError):
    """A plugin helper was used on a node whose ``/v4/info`` does not list that plugin (nothing was sent)."""

    def __init__(self, plugin: PluginKind, node: str, listed: typing.Iterable[str]) -> None:
        self.plugin = plugin
        """The plugin that is missing."""
        self.node = node
        """The node's name."""
        names = sorted(listed)
        self.listed: tuple[str, ...] = tuple(names)
        """The plugins the node lists."""
        has = ", ".join(names) if names else "none"
        super().__init__(
            f"node {node!r} does not have the {plugin.display_name} plugin (its /v4/info lists: {has}); "
            "install it on the node or use another node"
        )


@attrs.frozen(kw_only=True, weakref_slot=False)
class NodePlugins:
    """The plugins one node lists in ``/v4/info``, as of one of its sessions."""

    node: str
    """The node's name."""
    session_id: str | None
    """The session they were read in (a new session may be a restarted node, with other plugins)."""
    names: tuple[str, ...]
    """The plugin names exactly as listed (``lavasrc-plugin``...)."""
    versions: typing.Mapping[str, str] = attrs.field(factory=dict, hash=False)
    """Plugin name -> its version, as listed."""

    @classmethod
    def of(cls, node: str, session_id: str | None, info: Info) -> NodePlugins:
        """The plugins of a node's ``/v4/info``."""
        return cls(
            node=node,
            session_id=session_id,
            names=tuple(p.name for p in info.plugins),
            versions={p.name: p.version for p in info.plugins},
        )

    def has(self, plugin: PluginKind | str) -> bool:
        """Whether the node lists `plugin` (a `PluginKind`, or any name, compared as `normalize` reads it)."""
        wanted = normalize(str(plugin))
        return any(normalize(name) == wanted for name in self.names)

    def require(self, plugin: PluginKind) -> None:
        """Raise `PluginUnavailable` unless the node lists `plugin`."""
        if not self.has(plugin):
            raise PluginUnavailable(plugin, self.node, self.names)


# -- liberal readers for plugin payloads: what the library needs is required, the rest costs only itself --------


def read_object(data: typing.Any, where: str) -> dict[str, typing.Any]:
    """`data` as a JSON object, or a `ProtocolError` naming `where`."""
    if not isinstance(data, dict):
        raise ProtocolError(where, f"expected an object, got {type(data).__name__}")
    return data


def read_str(data: dict[str, typing.Any], key: str, where: str, *, required: bool = True) -> str | None:
    """A string field: required ones raise `ProtocolError`, optional ones read a wrong value as `None`."""
    value = data.get(key)
    if isinstance(value, str):
        return value
    if required:
        raise ProtocolError(f"{where}.{key}", "missing" if value is None else f"expected a string, got {value!r:.40}")
    if value is not None:
        _LOGGER.debug("%s.%s: expected a string, got %r; read as unknown", where, key, value)
    return None


def read_int(data: dict[str, typing.Any], key: str, where: str, *, required: bool = True) -> int | None:
    """An integer field (milliseconds mostly); a numeric string is read too (``"0"``, as SponsorBlock's README
    shows a chapter's duration). Required ones raise `ProtocolError`, optional ones read a wrong value as `None`."""
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        return int(value)
    if required:
        raise ProtocolError(f"{where}.{key}", "missing" if value is None else f"expected an integer, got {value!r:.40}")
    return None


_T = typing.TypeVar("_T")


def parse_list(parse: typing.Callable[[typing.Any, str], _T], data: typing.Any, where: str) -> tuple[_T, ...]:
    """A JSON array parsed item by item (a `ProtocolError` names the index)."""
    if not isinstance(data, list):
        raise ProtocolError(where, f"expected an array, got {type(data).__name__}")
    return tuple(parse(item, f"{where}[{i}]") for i, item in enumerate(data))


def quote(value: str | int) -> str:
    """Percent-encode one path segment."""
    return urllib.parse.quote(str(value), safe="")


def plugin_object(data: dict[str, typing.Any], key: str) -> typing.Mapping[str, typing.Any]:
    """A plugin's free-form ``plugin``/``pluginInfo`` object; anything else reads as empty."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}
