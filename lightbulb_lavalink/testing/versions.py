"""The server the emulator pretends to be (a Lavalink 4.x version, or NodeLink), and the wire differences it switches
on."""

from __future__ import annotations

import re

import attrs

from lightbulb_lavalink.errors import SettingsError

__all__ = ["FLAVOURS", "EmulatedVersion"]

FLAVOURS: tuple[str, ...] = ("lavalink", "nodelink")
"""The servers the emulator can answer as: Java Lavalink (`shared/LAVALINK_V4_PROTOCOL.md`), or NodeLink 3.x as
recorded in ``shared/transcripts/nodelink-3.7.0`` (its README lists every difference)."""

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


@attrs.frozen(kw_only=True, weakref_slot=False)
class EmulatedVersion:
    """A Lavalink 4.x version (``"4.0.8"``), or a NodeLink one, and the protocol behaviours that depend on it
    (protocol §7, the transcripts' README)."""

    semver: str
    """The version string as ``/version`` and ``/v4/info`` report it."""
    major: int
    """Major version: always 4 for Lavalink (NodeLink has its own: 3)."""
    minor: int
    """Minor version."""
    patch: int
    """Patch version."""
    pre_release: str
    """Pre-release label, ``""`` for a release (as real servers send it)."""
    flavour: str = "lavalink"
    """``"lavalink"`` or ``"nodelink"`` (see `FLAVOURS`)."""

    @classmethod
    def parse(cls, text: str, flavour: str = "lavalink") -> EmulatedVersion:
        """Parse ``"4.1.2"`` (optionally ``-rc1``); raise `SettingsError` unless it is a Lavalink 4.x version (any
        version for NodeLink, which speaks the v4 protocol from its 3.x releases)."""
        if flavour not in FLAVOURS:
            raise SettingsError("flavour", f"expected one of {', '.join(FLAVOURS)}, got {flavour!r}")
        match = _SEMVER.match(text)
        if match is None or (flavour == "lavalink" and int(match.group(1)) != 4):
            raise SettingsError("version", f"expected a Lavalink 4.x version such as '4.2.2', got {text!r}")
        return cls(
            semver=text,
            major=int(match.group(1)),
            minor=int(match.group(2)),
            patch=int(match.group(3)),
            pre_release=match.group(4) or "",
            flavour=flavour,
        )

    @property
    def nodelink(self) -> bool:
        """Whether the emulator answers as NodeLink."""
        return self.flavour == "nodelink"

    @property
    def key(self) -> tuple[int, int, int]:
        """``(major, minor, patch)`` for comparisons."""
        return (self.major, self.minor, self.patch)

    def at_least(self, minor: int, patch: int = 0) -> bool:
        """Whether this is Lavalink 4.`minor`.`patch` or later (NodeLink: whether it behaves so, see below)."""
        if self.nodelink:
            return True
        return self.key >= (4, minor, patch)

    @property
    def cause_stack_trace(self) -> bool:
        """Exceptions carry ``causeStackTrace`` (4.1.0+; never on NodeLink)."""
        return self.at_least(1) and not self.nodelink

    @property
    def omit_filter_defaults(self) -> bool:
        """Filter sub-fields equal to their default are left out of player JSON (4.0.x)."""
        return not self.at_least(1)

    @property
    def identifier_error_status(self) -> int:
        """HTTP status of a failed ``identifier`` load in a player PATCH: 500 before 4.0.8 (and on NodeLink), then
        400."""
        return 400 if self.at_least(0, 8) and not self.nodelink else 500

    @property
    def channel_id(self) -> bool:
        """Voice states carry ``channelId``, required on PATCH (4.2.0+; NodeLink echoes it)."""
        return self.at_least(2)

    @property
    def close_1001_on_shutdown(self) -> bool:
        """Sockets are closed with 1001 on shutdown (4.0.8+); earlier servers just dropped them (1006)."""
        return self.at_least(0, 8) and not self.nodelink

    @property
    def shutdown_close(self) -> tuple[int, str] | None:
        """The close frame every socket gets on shutdown: 1001 from Lavalink 4.0.8, NodeLink's 1000 "Server
        shutdown"; ``None``: the sockets are just dropped (1006, before 4.0.8)."""
        if self.nodelink:
            return (1000, "Server shutdown")
        return (1001, "") if self.close_1001_on_shutdown else None

    @property
    def omit_empty_track_extras(self) -> bool:
        """Empty ``pluginInfo``/``userData`` are left out of track JSON (the 4.0.1 regression; NodeLink too)."""
        return self.key == (4, 0, 1) or self.nodelink

    @property
    def seek_while_paused(self) -> bool:
        """Seeking a paused player moves it (4.0.1+; 4.0.0 ignored the seek)."""
        return self.at_least(0, 1)

    @property
    def legacy_route_warnings(self) -> bool:
        """``GET /`` and ``/v3/websocket`` answer 200 (they only log a warning) (4.0.1+); 404 before (and on
        NodeLink)."""
        return self.at_least(0, 1) and not self.nodelink

    @property
    def cached_cpu_stats(self) -> bool:
        """CPU loads are sampled every 30 s and the first sample is 0.0 (4.1.0+)."""
        return self.at_least(1) and not self.nodelink

    @property
    def session_not_found(self) -> str:
        """The message of a 404 for an unknown session."""
        return "The provided sessionId doesn't exist." if self.nodelink else "Session not found"
