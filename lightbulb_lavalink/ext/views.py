"""Plain, frozen records of what the `/lavalink` commands show: built from the client, turned into embeds.

`lightbulb_lavalink.ext.reports` fills them from a live `LavalinkClient`;
`lightbulb_lavalink.ext.presentation` turns them into `hikari.Embed`s. Nothing here holds a password.
"""

from __future__ import annotations

import datetime
import typing

import attrs

__all__ = [
    "LivePlayerView",
    "NodeInfoView",
    "NodeStatusView",
    "ResumeInfoView",
    "ResumeReportView",
    "SessionsView",
    "StatusView",
    "StoredGuildView",
    "StoredSessionView",
    "SyncView",
]


@attrs.frozen(kw_only=True, weakref_slot=False)
class SyncView:
    """What a node's last `ready` led to: a resumed session, a recovery or a fresh start."""

    kind: str
    """``"resumed"``, ``"recovered"`` or ``"fresh"``."""
    at: datetime.datetime
    """When the `ready` arrived (UTC)."""
    duration: float
    """Seconds it took to sync (resumed) or rebuild (recovered) every player."""
    players_synced: int = 0
    """Players fetched from Lavalink and rebuilt."""
    guilds_recovered: int = 0
    """Guilds whose player was recreated from the store."""
    guilds_failed: typing.Mapping[int, str] = attrs.field(factory=dict)
    """Guilds that could not be brought back, with the reason."""
    replayed_events: int = 0
    """Events the node replayed after resuming."""
    previous_session_id: str | None = None
    """The session id the client asked to resume, if any."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class ResumeReportView:
    """The last settled `ResumeReport` of a node: where every guild ended up and how long each phase took."""

    kind: str
    """``"resumed"``, ``"recovered"`` or ``"fresh"``."""
    duration: float
    """Seconds from the `ready` to everything settled."""
    complete: bool = True
    """`False` when a newer `ready` cut it short."""
    resumed: int = 0
    """Guilds the resumed session still had."""
    recovered: int = 0
    """Guilds recreated from their snapshots."""
    failed: typing.Mapping[int, str] = attrs.field(factory=dict)
    """Guilds that could not be brought back, with why."""
    left_alone: typing.Mapping[int, str] = attrs.field(factory=dict)
    """Guilds deliberately not brought back, with why."""
    events_replayed: int = 0
    """Events the node replayed."""
    events_dropped: int = 0
    """Replayed events dropped as duplicates."""
    largest_jump_ms: int | None = None
    """The largest position jump a listener would hear, in milliseconds (signed), if any guild came back playing."""
    phases: tuple[tuple[str, float], ...] = ()
    """(phase, seconds) for each phase that happened."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class NodeStatusView:
    """One node as `/lavalink status` shows it."""

    name: str
    """The node's name."""
    address: str
    """``host:port`` (with ``https://`` for secure nodes); never the password."""
    region: str | None = None
    """The node's region, if set."""
    state: str
    """``ready``, ``connecting``, ``disconnected`` or ``failed``."""
    connected: bool
    """Whether the node has a live session."""
    session_id: str | None = None
    """The current session id, or `None` before the first `ready`."""
    resumed: bool | None = None
    """Whether the last `ready` resumed the session asked for; `None` before the first."""
    ready_at: datetime.datetime | None = None
    """When the last `ready` arrived (UTC)."""
    sync: SyncView | None = None
    """What the last `ready` led to, once known."""
    resume: ResumeReportView | None = None
    """The last `ready` whose work has all settled, once one has."""
    players: int = 0
    """This bot's players on the node."""
    playing: int = 0
    """This bot's players on the node with a track that is not paused."""
    node_players: int | None = None
    """Players on the whole node (every client), from its last stats; `None` before any."""
    node_playing: int | None = None
    """Playing players on the whole node, from its last stats."""
    cpu_cores: int | None = None
    """CPU cores the node reports."""
    system_load: float | None = None
    """Machine CPU load, 0 to 1."""
    lavalink_load: float | None = None
    """Lavalink's own CPU load, 0 to 1."""
    memory_used: int | None = None
    """JVM memory in use, bytes."""
    memory_reservable: int | None = None
    """The most memory the JVM may take, bytes."""
    uptime_ms: int | None = None
    """How long the Lavalink server has run, milliseconds."""
    last_error: str | None = None
    """Why the node failed or last disconnected."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class StatusView:
    """The whole `/lavalink status` answer."""

    nodes: tuple[NodeStatusView, ...]
    """Every configured node."""
    started: bool
    """Whether the client is started."""
    store: str | None = None
    """The session store's URL without secrets, or `None` before start."""
    resume_timeout: int
    """Seconds Lavalink keeps a session after the bot goes away."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class StoredGuildView:
    """One guild's snapshot, as the store holds it."""

    guild_id: int
    """The guild."""
    guild_name: str | None = None
    """The guild's name from the bot's cache, if known."""
    node: str
    """The node the guild's player lived on."""
    channel_id: int | None = None
    """The voice channel saved, if any."""
    track_title: str | None = None
    """The saved current track's title (``author - title``), `None` when idle."""
    track_length: int | None = None
    """The saved current track's length in milliseconds (`None` for streams or when idle)."""
    position: int = 0
    """The saved position in milliseconds."""
    paused: bool = False
    """Whether it was paused."""
    volume: int = 100
    """The saved volume."""
    queued: int = 0
    """Tracks waiting in the saved queue."""
    history: int = 0
    """Tracks in the saved history."""
    loop: str = "off"
    """The saved loop mode."""
    filters: tuple[str, ...] = ()
    """Names of the saved active filters."""
    updated_at: datetime.datetime | None = None
    """When the snapshot was written (UTC)."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class StoredSessionView:
    """What the store holds for one node: the session id to resume and each guild's snapshot."""

    node: str
    """The node's name."""
    cluster: str = ""
    """The cluster the key belongs to (``""`` for a single-process bot)."""
    session_id: str | None = None
    """The saved session id, or `None` when none is saved."""
    guilds: tuple[StoredGuildView, ...] = ()
    """Every saved guild, sorted by id."""
    error: str | None = None
    """Why the store could not be read for this node."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class SessionsView:
    """The whole `/lavalink sessions` answer."""

    store: str
    """The store's URL without secrets."""
    sessions: tuple[StoredSessionView, ...]
    """One entry per stored key of this bot (configured nodes first)."""
    error: str | None = None
    """Why the store could not be listed at all."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class LivePlayerView:
    """A guild's live player, as the bot sees it now."""

    guild_id: int
    """The guild."""
    node: str
    """The node the player lives on."""
    channel_id: int | None = None
    """The voice channel the bot is in."""
    track_title: str | None = None
    """The current track (``author - title``), `None` when idle."""
    track_uri: str | None = None
    """Where the current track comes from, if it has a URL."""
    track_length: int | None = None
    """The current track's length in milliseconds (`None` for streams or when idle)."""
    position: int = 0
    """The interpolated position in milliseconds."""
    paused: bool = False
    """Whether playback is paused."""
    volume: int = 100
    """The volume."""
    queued: int = 0
    """Tracks waiting in the queue."""
    next_titles: tuple[str, ...] = ()
    """The first few upcoming tracks."""
    loop: str = "off"
    """The loop mode."""
    filters: tuple[str, ...] = ()
    """Names of the active filters."""
    voice_connected: bool = False
    """Whether Lavalink reports its voice connection to Discord as up."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class ResumeInfoView:
    """The whole `/lavalink resume-info` answer for one guild."""

    guild_id: int
    """The guild asked about."""
    guild_name: str | None = None
    """The guild's name from the bot's cache, if known."""
    snapshot: StoredGuildView | None = None
    """What the store holds for it, or `None`."""
    live: LivePlayerView | None = None
    """Its live player, or `None`."""
    session_id: str | None = None
    """The session the guild's node would resume."""
    error: str | None = None
    """Why the store could not be read."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class NodeInfoView:
    """One node's `/v4/info`, as `/lavalink nodes` shows it."""

    name: str
    """The node's name."""
    address: str
    """``host:port``; never the password."""
    version: str | None = None
    """The Lavalink version (semver)."""
    git: str | None = None
    """``branch@commit`` of the build."""
    jvm: str | None = None
    """The JVM version."""
    lavaplayer: str | None = None
    """The lavaplayer version."""
    source_managers: tuple[str, ...] = ()
    """Enabled source managers."""
    filters: tuple[str, ...] = ()
    """Supported filters."""
    plugins: tuple[tuple[str, str], ...] = ()
    """Installed plugins as ``(name, version)``."""
    error: str | None = None
    """Why the node could not be asked."""
