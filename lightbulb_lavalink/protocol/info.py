"""What a node says about itself: ``GET /v4/info``, the session settings and the route planner status."""

from __future__ import annotations

import typing

import attrs

from lightbulb_lavalink.protocol._parse import (
    at,
    fail,
    get_bool,
    get_int,
    get_object,
    get_str,
    opt_str,
    require_object,
)

__all__ = ["Git", "Info", "Plugin", "RoutePlannerStatus", "SessionInfo", "Version"]


def _str_list(data: dict[str, typing.Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key)
    if type(value) is not list:
        fail(at(where, key), "an array", value)
    for i, item in enumerate(value):
        if type(item) is not str:
            fail(at(at(where, key), i), "a string", item)
    return tuple(value)


@attrs.frozen(kw_only=True, weakref_slot=False)
class Version:
    """The node's version, parsed (``4.0.7`` is major 4, minor 0, patch 7)."""

    semver: str
    """The full version string."""
    major: int
    """Major version (0 when the version could not be parsed)."""
    minor: int
    """Minor version."""
    patch: int
    """Patch version."""
    pre_release: str | None = None
    """Pre-release suffix: ``""`` for releases on real servers, ``None`` when unparseable (kept as sent)."""
    build: str | None = None
    """Build metadata; v4 servers do not send it."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "version") -> typing.Self:
        """Parse the wire Version; `preRelease` may be ``""``, ``null`` or missing."""
        d = require_object(data, where)
        return cls(
            semver=get_str(d, "semver", where),
            major=get_int(d, "major", where),
            minor=get_int(d, "minor", where),
            patch=get_int(d, "patch", where),
            pre_release=opt_str(d, "preRelease", where),
            build=opt_str(d, "build", where),
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

    branch: str
    """The branch name."""
    commit: str
    """The short commit hash."""
    commit_time: int
    """Commit time, Unix epoch in milliseconds."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "git") -> typing.Self:
        """Parse the wire Git."""
        d = require_object(data, where)
        return cls(
            branch=get_str(d, "branch", where),
            commit=get_str(d, "commit", where),
            commit_time=get_int(d, "commitTime", where),
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
    """The Lavalink version."""
    build_time: int
    """Build time, Unix epoch in milliseconds."""
    git: Git
    """The commit it was built from."""
    jvm: str
    """The JVM version."""
    lavaplayer: str
    """The lavaplayer version."""
    source_managers: tuple[str, ...]
    """Enabled source managers (``"youtube"``, ``"http"``, ...)."""
    filters: tuple[str, ...]
    """Enabled filters, built-in ones first, by wire name (``"timescale"``, ``"channelMix"``, ...)."""
    plugins: tuple[Plugin, ...]
    """Installed plugins."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the wire Info."""
        d = require_object(data, where)
        plugins = d.get("plugins")
        plugins_where = at(where, "plugins")
        if type(plugins) is not list:
            fail(plugins_where, "an array", plugins)
        return cls(
            version=Version.from_payload(get_object(d, "version", where), at(where, "version")),
            build_time=get_int(d, "buildTime", where),
            git=Git.from_payload(get_object(d, "git", where), at(where, "git")),
            jvm=get_str(d, "jvm", where),
            lavaplayer=get_str(d, "lavaplayer", where),
            source_managers=_str_list(d, "sourceManagers", where),
            filters=_str_list(d, "filters", where),
            plugins=tuple(Plugin.from_payload(p, at(plugins_where, i)) for i, p in enumerate(plugins)),
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

    resuming: bool
    """Whether the session survives a websocket disconnect."""
    timeout: int
    """How long, in seconds, a disconnected session waits for a resume."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "") -> typing.Self:
        """Parse the wire Session."""
        d = require_object(data, where)
        return cls(resuming=get_bool(d, "resuming", where), timeout=get_int(d, "timeout", where))

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
