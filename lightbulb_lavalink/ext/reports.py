"""Gather what the `/lavalink` commands show from a live `LavalinkClient` into the records of `ext.views`.

Reading never changes anything: the store is only read, and a node is only asked for `/v4/info`. Store and
node failures become an `error` on the record rather than an exception, so a command always answers.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import typing
from collections.abc import Mapping

from lightbulb_lavalink.errors import LavalinkError, TrackDecodeError
from lightbulb_lavalink.ext.views import (
    LivePlayerView,
    NodeInfoView,
    NodeStatusView,
    ResumeInfoView,
    ResumeReportView,
    SessionsView,
    StatusView,
    StoredGuildView,
    StoredSessionView,
    SyncView,
)
from lightbulb_lavalink.protocol.codec import decode_track

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.protocol.filters import Filters
    from lightbulb_lavalink.protocol.tracks import Track
    from lightbulb_lavalink.resuming.outcome import ResumeReport
    from lightbulb_lavalink.settings import NodeSettings
    from lightbulb_lavalink.snapshot import GuildSnapshot
    from lightbulb_lavalink.stores import StoreKey

__all__ = [
    "address_of",
    "filter_names",
    "live_player_view",
    "node_status_view",
    "nodes_view",
    "resume_info_view",
    "resume_report_view",
    "sessions_view",
    "status_view",
    "stored_guild_view",
    "track_title",
]

_LOGGER = logging.getLogger("lightbulb_lavalink.ext.reports")

_NEXT_TITLES: typing.Final[int] = 5
_INFO_TIMEOUT: typing.Final[float] = 5.0


def address_of(settings: NodeSettings) -> str:
    """Where a node is, for people: ``host:port`` (``https://host:port`` when secure). Never the password."""
    return settings.url if settings.secure else settings.url.removeprefix("http://")


def track_title(track: Track) -> str:
    """``author - title`` (or just the title when there is no author)."""
    info = track.info
    return f"{info.author} - {info.title}" if info.author and info.author != "Unknown artist" else info.title


def filter_names(filters: Filters | Mapping[str, typing.Any]) -> tuple[str, ...]:
    """The wire names of the filters in effect (``timescale``, ``channelMix``), from a `Filters` model or the
    mapping a snapshot keeps; plugin filters by their own names."""
    items = list((filters if isinstance(filters, Mapping) else filters.to_payload()).items())
    names: list[str] = []
    for name, value in items:
        if name == "pluginFilters" and isinstance(value, dict):
            names.extend(str(key) for key, setting in value.items() if setting not in (None, {}, []))
        elif value not in (None, {}, [], ()):
            names.append(name)
    return tuple(names)


def _guild_name(client: LavalinkClient, guild_id: int) -> str | None:
    guild = client.app.cache.get_guild(guild_id)
    return guild.name if guild is not None else None


# -- status ----------------------------------------------------------------------------------------------


def resume_report_view(report: ResumeReport) -> ResumeReportView:
    """What `/lavalink status` shows of a settled `ResumeReport` (ids and reasons, never a secret)."""
    jump = report.largest_jump
    return ResumeReportView(
        kind=report.kind,
        duration=report.duration,
        complete=report.complete,
        resumed=len(report.resumed),
        recovered=len(report.recovered),
        failed=dict(report.failed),
        left_alone=dict(report.left_alone),
        events_replayed=report.events_replayed,
        events_dropped=report.events_dropped,
        largest_jump_ms=jump.jump if jump is not None else None,
        phases=tuple(report.phases.items()),
    )


def node_status_view(client: LavalinkClient, node: Node) -> NodeStatusView:
    """One node's connection, session, last resume and load."""
    players = [player for player in client.players.values() if player.node is node]
    ready = node.last_ready
    sync = node.last_sync
    stats = node.stats
    return NodeStatusView(
        name=node.name,
        address=address_of(node.settings),
        region=node.settings.region,
        state=node.state.value,
        connected=node.connected,
        session_id=node.session_id,
        resumed=ready.resumed if ready is not None else None,
        ready_at=ready.at if ready is not None else None,
        sync=(
            SyncView(
                kind=sync.kind,
                at=sync.at,
                duration=sync.duration,
                players_synced=sync.players_synced,
                guilds_recovered=len(sync.guilds_recovered),
                guilds_failed=dict(sync.guilds_failed),
                replayed_events=sync.replayed_events,
                previous_session_id=sync.previous_session_id,
            )
            if sync is not None
            else None
        ),
        resume=resume_report_view(node.last_resume) if node.last_resume is not None else None,
        players=len(players),
        playing=sum(1 for player in players if player.is_playing),
        node_players=stats.players if stats is not None else None,
        node_playing=stats.playing_players if stats is not None else None,
        cpu_cores=stats.cpu.cores if stats is not None else None,
        system_load=stats.cpu.system_load if stats is not None else None,
        lavalink_load=stats.cpu.lavalink_load if stats is not None else None,
        memory_used=stats.memory.used if stats is not None else None,
        memory_reservable=stats.memory.reservable if stats is not None else None,
        uptime_ms=stats.uptime if stats is not None else None,
        last_error=node.last_error,
    )


def status_view(client: LavalinkClient) -> StatusView:
    """`/lavalink status`: every node, the store and the resume timeout."""
    store: str | None
    try:
        store = client.store.url
    except LavalinkError:
        store = None
    return StatusView(
        nodes=tuple(node_status_view(client, node) for node in client.nodes.values()),
        started=client.started,
        store=store,
        resume_timeout=client.settings.resume_timeout,
    )


# -- sessions --------------------------------------------------------------------------------------------


def stored_guild_view(snapshot: GuildSnapshot, *, guild_name: str | None = None) -> StoredGuildView:
    """One saved guild, with its current track decoded for its title."""
    title: str | None = None
    length: int | None = None
    if snapshot.track is not None:
        try:
            track = decode_track(snapshot.track.encoded)
        except TrackDecodeError:
            title = "(a track that cannot be decoded)"
        else:
            title = track_title(track)
            length = track.info.known_length
    return StoredGuildView(
        guild_id=snapshot.guild_id,
        guild_name=guild_name,
        node=snapshot.node,
        channel_id=snapshot.channel_id,
        track_title=title,
        track_length=length,
        position=snapshot.position,
        paused=snapshot.paused,
        volume=snapshot.volume,
        queued=len(snapshot.queue.tracks),
        history=len(snapshot.queue.history),
        loop=snapshot.queue.loop,
        filters=filter_names(snapshot.filters),
        updated_at=datetime.datetime.fromtimestamp(snapshot.updated_at, datetime.UTC),
    )


async def _stored_session(client: LavalinkClient, key: StoreKey, only_guild: int | None) -> StoredSessionView | None:
    """What `key` holds (with `only_guild`, only that guild); `None` when it holds nothing at all."""
    try:
        session_id = await client.store.get_session(key)
        guilds: Mapping[int, GuildSnapshot] = await client.store.get_guilds(key)
    except LavalinkError as exc:
        return StoredSessionView(node=key.node, cluster=key.cluster, error=str(exc))
    if not session_id and not guilds:
        return None
    shown = sorted(guilds) if only_guild is None else [only_guild] if only_guild in guilds else []
    return StoredSessionView(
        node=key.node,
        cluster=key.cluster,
        session_id=session_id,
        guilds=tuple(stored_guild_view(guilds[guild], guild_name=_guild_name(client, guild)) for guild in shown),
    )


async def sessions_view(client: LavalinkClient, *, only_guild: int | None = None) -> SessionsView:
    """`/lavalink sessions`: every key the store holds for this bot, with its session id and guilds.

    With `only_guild`, each key shows that guild alone: the others are neither decoded nor named.
    """
    if not client.started or client.bot_id is None:
        return SessionsView(store="(not open)", sessions=(), error="the Lavalink client is not started yet")
    store = client.store
    try:
        keys = await store.list_keys(client.bot_id)
    except LavalinkError as exc:
        return SessionsView(store=store.url, sessions=(), error=str(exc))
    configured = {client.store_key(name) for name in client.nodes}
    ordered = sorted(set(keys) | configured, key=lambda key: (key not in configured, key.cluster, key.node))
    # Configured nodes with nothing stored are noise: `_stored_session` leaves them out.
    sessions = [await _stored_session(client, key, only_guild) for key in ordered]
    return SessionsView(store=store.url, sessions=tuple(session for session in sessions if session is not None))


# -- resume-info -----------------------------------------------------------------------------------------


def live_player_view(player: Player) -> LivePlayerView:
    """A live player: track, interpolated position, queue head, volume, filters and voice."""
    track = player.track
    return LivePlayerView(
        guild_id=player.guild_id,
        node=player.node.name,
        channel_id=player.channel_id,
        track_title=track_title(track) if track is not None else None,
        track_uri=track.info.uri if track is not None else None,
        track_length=None if track is None else track.info.known_length,
        position=player.position,
        paused=player.paused,
        volume=player.volume,
        queued=len(player.queue),
        next_titles=tuple(track_title(upcoming) for upcoming in player.queue.upcoming[:_NEXT_TITLES]),
        loop=str(player.queue.loop.value),
        filters=filter_names(player.filters),
        voice_connected=player.connected,
    )


async def resume_info_view(client: LavalinkClient, guild_id: int) -> ResumeInfoView:
    """`/lavalink resume-info`: one guild's saved snapshot beside its live player."""
    player = client.get_player(guild_id)
    live = live_player_view(player) if player is not None else None
    snapshot: StoredGuildView | None = None
    session_id: str | None = None
    error: str | None = None
    if client.started and client.bot_id is not None:
        nodes = [player.node.name] if player is not None else list(client.nodes)
        for name in nodes:
            key = client.store_key(name)
            try:
                saved = (await client.store.get_guilds(key)).get(guild_id)
                if saved is not None or player is not None:
                    session_id = await client.store.get_session(key)
            except LavalinkError as exc:
                error = str(exc)
                break
            if saved is not None:
                snapshot = stored_guild_view(saved, guild_name=_guild_name(client, guild_id))
                break
    else:
        error = "the Lavalink client is not started yet"
    return ResumeInfoView(
        guild_id=guild_id,
        guild_name=_guild_name(client, guild_id),
        snapshot=snapshot,
        live=live,
        session_id=session_id,
        error=error,
    )


# -- nodes -----------------------------------------------------------------------------------------------


async def _node_info(node: Node) -> NodeInfoView:
    address = address_of(node.settings)
    try:
        info = await asyncio.wait_for(node.fetch_info(), _INFO_TIMEOUT)
    except (LavalinkError, TimeoutError) as exc:
        reason = str(exc) or f"no answer within {_INFO_TIMEOUT:.0f} s"
        return NodeInfoView(name=node.name, address=address, error=reason)
    return NodeInfoView(
        name=node.name,
        address=address,
        version=info.version.semver,
        git=f"{info.git.branch or '?'}@{info.git.commit}" if info.git.commit else None,
        jvm=info.jvm,
        lavaplayer=info.lavaplayer,
        source_managers=tuple(info.source_managers),
        filters=tuple(info.filters),
        plugins=tuple((plugin.name, plugin.version) for plugin in info.plugins),
    )


async def nodes_view(client: LavalinkClient) -> tuple[NodeInfoView, ...]:
    """`/lavalink nodes`: every node's `/v4/info`, asked concurrently."""
    return tuple(await asyncio.gather(*(_node_info(node) for node in client.nodes.values())))
