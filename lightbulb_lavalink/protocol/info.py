"""What a node says about itself: ``GET /v4/info``, the session settings and the route planner status."""

from __future__ import annotations

import typing

import attrs

from lightbulb_lavalink.errors import ProtocolError
from lightbulb_lavalink.protocol._parse import (
    at,
    get_object,
    get_str,
    loose_bool,
    loose_int,
    loose_object,
    loose_str,
    loose_str_list,
    opt_str,
    require_object,
    unreadable,
)
from lightbulb_lavalink.protocol.deviations import note

__all__ = ["Git", "Info", "Plugin", "RoutePlannerStatus", "SessionInfo", "Version"]


def _label(data: dict[str, typing.Any], keys: tuple[str, ...], where: str, *, empty: str | None) -> str | None:
    """A semver label (pre-release, build): a string, or NodeLink's array of identifiers (joined with dots;
    `empty` for an empty array)."""
    for key in keys:
        if key not in data:
            continue
        value = data[key]
        if value is None or type(value) is str:
            return value
        if type(value) is list and all(type(part) in (str, int) for part in value):
            note(at(where, key), "sent as an array of identifiers (NodeLink)")
            return ".".join(str(part) for part in value) if value else empty
        unreadable(at(where, key), "a string", value)
        return None
    return None


@attrs.frozen(kw_only=True, weakref_slot=False)
class Version:
    """The node's version, parsed (``4.0.7`` is major 4, minor 0, patch 7)."""

    semver: str | None
    """The full version string (``None``: not sent readably)."""
    major: int | None
    """Major version (0 when the server could not parse its own version; ``None``: not sent readably)."""
    minor: int | None
    """Minor version."""
    patch: int | None
    """Patch version."""
    pre_release: str | None = None
    """Pre-release suffix: ``""`` for releases on real servers, ``None`` when unparseable (kept as sent)."""
    build: str | None = None
    """Build metadata; Lavalink v4 does not send it (NodeLink sends an empty array: ``None``)."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "version") -> typing.Self:
        """Parse the wire Version; `preRelease` may be ``""``, ``null`` or missing, and NodeLink's lower-case
        `prerelease` and `build` arrays of identifiers read as dotted text."""
        d = data if type(data) is dict else {}
        return cls(
            semver=loose_str(d, "semver", where),
            major=loose_int(d, "major", where),
            minor=loose_int(d, "minor", where),
            patch=loose_int(d, "patch", where),
            pre_release=_label(d, ("preRelease", "prerelease"), where, empty=""),
            build=_label(d, ("build",), where, empty=None),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Version (``build`` only when set, as v4 servers do)."""
        payload: dict[str, typing.Any] = {
            "semver": self.semver,
            "major": self.major,
            "minor": self.minor,
            "patch": self.patch,
            "preRelease": self.pre_release,
        }
        if self.build is not None:
            payload["build"] = self.build
        return payload


@attrs.frozen(kw_only=True, weakref_slot=False)
class Git:
    """The commit the node was built from."""

    branch: str | None
    """The branch name (``None``: not sent readably)."""
    commit: str | None
    """The short commit hash."""
    commit_time: int | None
    """Commit time, Unix epoch in milliseconds."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "git") -> typing.Self:
        """Parse the wire Git; a field that is missing or of the wrong type reads as ``None``."""
        d = data if type(data) is dict else {}
        return cls(
            branch=loose_str(d, "branch", where),
            commit=loose_str(d, "commit", where),
            commit_time=loose_int(d, "commitTime", where),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Git."""
        return {"branch": self.branch, "commit": self.commit, "commitTime": self.commit_time}


@attrs.frozen(kw_only=True, weakref_slot=False)
class Plugin:
    """A plugin installed on the node."""

    name: str
    """The plugin's name."""
    version: str
    """The plugin's version."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "plugin") -> typing.Self:
        """Parse the wire Plugin."""
        d = require_object(data, where)
        return cls(name=get_str(d, "name", where), version=get_str(d, "version", where))

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Plugin."""
        return {"name": self.name, "version": self.version}


@attrs.frozen(kw_only=True, weakref_slot=False)
class Info:
    """``GET /v4/info``: versions, enabled sources and filters, plugins."""

    version: Version
    """The server's version (NodeLink reports its own: ``3.7.0``)."""
    build_time: int | None
    """Build time, Unix epoch in milliseconds (NodeLink: ``-1``; ``None``: not sent readably)."""
    git: Git
    """The commit it was built from."""
    jvm: str | None
    """The JVM version; ``None`` for a server that is not on a JVM (NodeLink) or did not say."""
    lavaplayer: str | None
    """The lavaplayer version; ``None`` for a server without lavaplayer (NodeLink) or that did not say."""
    source_managers: tuple[str, ...]
    """Enabled source managers (``"youtube"``, ``"http"``, ...)."""
    filters: tuple[str, ...]
    """Enabled filters, built-in ones first, by wire name (``"timescale"``, ``"channelMix"``, ...)."""
    plugins: tuple[Plugin, ...]
    """Installed plugins."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the wire Info. Nothing in it is needed to play: any field that is missing or of the wrong type
        reads as unknown (``None``, or empty), noted, and the rest is kept."""
        d = require_object(data, where)
        plugins = d.get("plugins")
        plugins_where = at(where, "plugins")
        found: list[Plugin] = []
        if type(plugins) is list:
            for i, item in enumerate(plugins):
                try:
                    found.append(Plugin.from_payload(item, at(plugins_where, i)))
                except ProtocolError as exc:
                    note(exc.where, f"{exc.problem}; plugin left out", malformed=True)
        else:
            unreadable(plugins_where, "an array", plugins)
        version = loose_object(d, "version", where)
        git = loose_object(d, "git", where)
        return cls(
            version=Version.from_payload(version, at(where, "version")),
            build_time=loose_int(d, "buildTime", where),
            git=Git.from_payload(git, at(where, "git")),
            jvm=loose_str(d, "jvm", where),
            lavaplayer=loose_str(d, "lavaplayer", where),
            source_managers=loose_str_list(d, "sourceManagers", where),
            filters=loose_str_list(d, "filters", where),
            plugins=tuple(found),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Info."""
        return {
            "version": self.version.to_payload(),
            "buildTime": self.build_time,
            "git": self.git.to_payload(),
            "jvm": self.jvm,
            "lavaplayer": self.lavaplayer,
            "sourceManagers": list(self.source_managers),
            "filters": list(self.filters),
            "plugins": [p.to_payload() for p in self.plugins],
        }


@attrs.frozen(kw_only=True, weakref_slot=False)
class SessionInfo:
    """A session's resume settings (``PATCH /v4/sessions/{id}`` answer)."""

    resuming: bool | None
    """Whether the session survives a websocket disconnect (``None``: not sent readably)."""
    timeout: int | None
    """How long, in seconds, a disconnected session waits for a resume (``None``: not sent readably)."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the wire Session; a field that is missing or of the wrong type reads as ``None``."""
        d = require_object(data, where)
        return cls(resuming=loose_bool(d, "resuming", where), timeout=loose_int(d, "timeout", where))

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Session."""
        return {"resuming": self.resuming, "timeout": self.timeout}


@attrs.frozen(kw_only=True, weakref_slot=False)
class RoutePlannerStatus:
    """``GET /v4/routeplanner/status``: which IP rotation strategy runs, and its details as raw JSON."""

    class_name: str | None
    """``RotatingIpRoutePlanner``, ``NanoIpRoutePlanner``, ``RotatingNanoIpRoutePlanner`` or
    ``BalancingIpRoutePlanner`` (the wire key is ``class``)."""
    details: dict[str, typing.Any] = attrs.field(factory=dict, hash=False)
    """The planner's details (``ipBlock``, ``failingAddresses``, indexes...), as sent."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the wire status; ``null`` details read as empty."""
        d = require_object(data, where)
        details = d.get("details")
        return cls(
            class_name=opt_str(d, "class", where),
            details={} if details is None else get_object(d, "details", where),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire status."""
        return {"class": self.class_name, "details": dict(self.details)}
