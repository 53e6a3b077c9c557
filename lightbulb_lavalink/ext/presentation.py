"""Embeds for the `/lavalink` commands: pure functions from the records in `ext.views` to `hikari.Embed`.

Each embed is meant to be read at a glance: one field per node or stored key, a status dot, times as Discord
timestamps (shown in the reader's time zone), sizes and durations in human units, and never a password.
Every text is clipped to Discord's embed limits.
"""

from __future__ import annotations

import typing

import hikari

from lightbulb_lavalink.ext.embed_limits import DESCRIPTION_LIMIT, FIELD_LIMIT, add_fields, clip, join_lines
from lightbulb_lavalink.ext.formatting import (
    discord_time,
    format_bytes,
    format_duration,
    format_ms,
    format_uptime,
    plural,
    short_id,
)

if typing.TYPE_CHECKING:
    from collections.abc import Sequence

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

__all__ = [
    "REFUSAL",
    "discord_time",
    "error_embed",
    "format_bytes",
    "format_duration",
    "format_ms",
    "format_uptime",
    "nodes_embed",
    "resume_info_embed",
    "sessions_embed",
    "short_id",
    "status_embed",
]

REFUSAL: typing.Final[str] = (
    "You are not allowed to use `/lavalink`: it needs the **Manage Server** permission, "
    "or to be one of this bot's owners."
)
"""The ephemeral answer to someone who may not use the `/lavalink` commands."""

GREEN: typing.Final = hikari.Color(0x2ECC71)
AMBER: typing.Final = hikari.Color(0xF1C40F)
RED: typing.Final = hikari.Color(0xE74C3C)
GREY: typing.Final = hikari.Color(0x95A5A6)
BLUE: typing.Final = hikari.Color(0x3498DB)

_GUILD_LINES: typing.Final[int] = 8

_STATE_DOTS: typing.Final[typing.Mapping[str, str]] = {
    "ready": "🟢",
    "connecting": "🟡",
    "disconnected": "⚪",
    "failed": "🔴",
}


def error_embed(title: str, message: str) -> hikari.Embed:
    """An embed saying something went wrong, in words."""
    return hikari.Embed(title=clip(title, 256), description=clip(message, DESCRIPTION_LIMIT), colour=RED)


# -- /lavalink status --------------------------------------------------------------------------------------


def _sync_line(sync: SyncView) -> str:
    when = discord_time(sync.at)
    if sync.kind == "resumed":
        line = f"**Resumed** {when}: {plural(sync.players_synced, 'player')} synced in {format_duration(sync.duration)}"
        if sync.replayed_events:
            line += f", {plural(sync.replayed_events, 'replayed event')}"
    elif sync.kind == "recovered":
        line = (
            f"**Recovered** {when}: session {short_id(sync.previous_session_id)} was lost; "
            f"{plural(sync.guilds_recovered, 'guild')} rebuilt in {format_duration(sync.duration)}"
        )
    else:
        line = f"**Fresh session** {when}"
    if sync.guilds_failed:
        line += f"\n⚠️ {plural(len(sync.guilds_failed), 'guild')} could not be brought back: " + ", ".join(
            f"`{guild_id}` ({reason})" for guild_id, reason in sorted(sync.guilds_failed.items())[:3]
        )
        if len(sync.guilds_failed) > 3:
            line += ", …"
    return line


def _reasons(guilds: typing.Mapping[int, str]) -> str:
    shown = ", ".join(f"`{guild_id}` ({reason})" for guild_id, reason in sorted(guilds.items())[:3])
    return shown + (", …" if len(guilds) > 3 else "")


def _resume_lines(report: ResumeReportView) -> list[str]:
    """The last settled resume: where every guild ended up, the replay, the largest jump and each phase."""
    counts = [f"{report.resumed} resumed", f"{report.recovered} recovered", f"{len(report.failed)} failed"]
    counts.append(f"{len(report.left_alone)} left alone")
    head = f"Last {report.kind} settled in {format_duration(report.duration)}"
    if not report.complete:
        head += " (cut short by a newer session)"
    lines = [f"{head}: " + " · ".join(counts)]
    details = []
    if report.events_replayed:
        details.append(
            f"{plural(report.events_replayed, 'replayed event')} ({report.events_dropped} dropped as duplicates)"
        )
    if report.largest_jump_ms is not None:
        details.append(f"largest jump {report.largest_jump_ms / 1000:+.1f} s")
    if report.phases:
        details.append(" · ".join(f"{phase.replace('_', ' ')} {format_duration(sec)}" for phase, sec in report.phases))
    if details:
        lines.append("; ".join(details))
    if report.failed:
        lines.append("⚠️ Failed: " + _reasons(report.failed))
    if report.left_alone:
        lines.append("Left alone: " + _reasons(report.left_alone))
    return lines


def _node_status_lines(node: NodeStatusView) -> list[str]:
    lines = [f"`{node.address}` · {node.state} · session `{short_id(node.session_id)}`"]
    if node.sync is not None:
        lines.append(_sync_line(node.sync))
    elif node.ready_at is not None:
        kind = "Resumed" if node.resumed else "Fresh session"
        lines.append(f"**{kind}** {discord_time(node.ready_at)}")
    else:
        lines.append("No session yet")
    if node.resume is not None:
        lines.extend(_resume_lines(node.resume))
    players = f"Players: {node.players} ({node.playing} playing)"
    if node.node_players is not None:
        players += f" · whole node: {node.node_players} ({node.node_playing or 0} playing)"
    lines.append(players)
    if node.system_load is not None:
        cpu = f"CPU {node.system_load:.0%}"
        if node.lavalink_load is not None:
            cpu += f" (Lavalink {node.lavalink_load:.0%})"
        if node.cpu_cores:
            cpu += f" of {plural(node.cpu_cores, 'core')}"
        if node.memory_used is not None:
            cpu += f" · memory {format_bytes(node.memory_used)}"
            if node.memory_reservable:
                cpu += f" of {format_bytes(node.memory_reservable)}"
        lines.append(cpu)
    if node.uptime_ms is not None:
        lines.append(f"Uptime {format_uptime(node.uptime_ms)}")
    if node.last_error:  # why it is down, or (connected) why its sessions would not survive a restart
        lines.append(f"⚠️ {node.last_error}")
    return lines


def status_embed(view: StatusView) -> hikari.Embed:
    """`/lavalink status`: each node's connection, session, last resume and load."""
    connected = sum(1 for node in view.nodes if node.connected)
    if not view.nodes:
        colour = GREY
    elif connected == len(view.nodes):
        colour = GREEN
    elif connected:
        colour = AMBER
    else:
        colour = RED
    summary = f"{connected} of {plural(len(view.nodes), 'node')} connected"
    if not view.started:
        summary = "The Lavalink client is not started (it starts when the bot is ready)."
    description = [summary, f"Resume timeout: {view.resume_timeout} s"]
    if view.store:
        description.append(f"Store: `{view.store}`")
    embed = hikari.Embed(
        title="Lavalink status", description=clip("\n".join(description), DESCRIPTION_LIMIT), colour=colour
    )
    fields = []
    for node in view.nodes:
        dot = _STATE_DOTS.get(node.state, "⚪")
        name = f"{dot} {node.name}" + (f" ({node.region})" if node.region else "")
        fields.append((name, join_lines(_node_status_lines(node), FIELD_LIMIT)))
    add_fields(embed, fields, what="nodes")
    return embed


# -- /lavalink sessions ------------------------------------------------------------------------------------


def _stored_guild_line(guild: StoredGuildView) -> str:
    label = f"**{guild.guild_name}**" if guild.guild_name else f"`{guild.guild_id}`"
    if guild.track_title is None:
        now = "idle"
    else:
        sign = "⏸" if guild.paused else "▶"
        now = f"{sign} {clip(guild.track_title, 60)} at {format_ms(guild.position)}"
    line = f"{label} {now} · {guild.queued} queued"
    if guild.updated_at is not None:
        line += f" · saved {discord_time(guild.updated_at)}"
    return line


def _stored_session_field(session: StoredSessionView) -> tuple[str, str]:
    name = session.node + (f" (cluster {session.cluster})" if session.cluster else "")
    if session.error is not None:
        return name, f"⚠️ could not read: {session.error}"
    head = f"Session `{short_id(session.session_id)}` · {plural(len(session.guilds), 'guild')}"
    lines = [head, *(_stored_guild_line(guild) for guild in session.guilds[:_GUILD_LINES])]
    if len(session.guilds) > _GUILD_LINES:
        lines.append(f"… and {len(session.guilds) - _GUILD_LINES} more")
    return name, join_lines(lines, FIELD_LIMIT)


def sessions_embed(view: SessionsView) -> hikari.Embed:
    """`/lavalink sessions`: what the store holds for this bot, per node and guild."""
    description = f"Store: `{view.store}`"
    if view.error is not None:
        return error_embed("Saved sessions", f"{description}\nThe store could not be read: {view.error}")
    if not view.sessions:
        description += "\nNothing saved yet: sessions and guilds appear here once a player is created."
    embed = hikari.Embed(title="Saved sessions", description=description, colour=BLUE)
    add_fields(embed, [_stored_session_field(session) for session in view.sessions], what="keys")
    return embed


# -- /lavalink resume-info ---------------------------------------------------------------------------------


def _snapshot_lines(snapshot: StoredGuildView) -> list[str]:
    channel = f"<#{snapshot.channel_id}>" if snapshot.channel_id else "none"
    lines = [f"Node **{snapshot.node}** · channel {channel}"]
    if snapshot.track_title is None:
        lines.append("Nothing playing")
    else:
        state = "paused" if snapshot.paused else "playing"
        lines.append(
            f"{clip(snapshot.track_title, 100)} ({state}) at {format_ms(snapshot.position)}"
            f" / {format_ms(snapshot.track_length)}"
        )
    lines.append(
        f"Volume {snapshot.volume} · loop {snapshot.loop} · {snapshot.queued} queued · {snapshot.history} in history"
    )
    if snapshot.filters:
        lines.append("Filters: " + ", ".join(snapshot.filters))
    if snapshot.updated_at is not None:
        lines.append(f"Saved {discord_time(snapshot.updated_at)}")
    return lines


def _live_lines(live: LivePlayerView) -> list[str]:
    voice = "voice connected" if live.voice_connected else "voice not connected"
    channel = f"<#{live.channel_id}>" if live.channel_id else "no channel"
    lines = [f"Node **{live.node}** · {channel} · {voice}"]
    if live.track_title is None:
        lines.append("Nothing playing")
    else:
        title = f"[{clip(live.track_title, 100)}]({live.track_uri})" if live.track_uri else live.track_title
        state = "paused" if live.paused else "playing"
        lines.append(f"{title} ({state}) at {format_ms(live.position)} / {format_ms(live.track_length)}")
    lines.append(f"Volume {live.volume} · loop {live.loop} · {live.queued} queued")
    if live.filters:
        lines.append("Filters: " + ", ".join(live.filters))
    lines.extend(f"{index}. {clip(title, 80)}" for index, title in enumerate(live.next_titles, start=1))
    return lines


def resume_info_embed(view: ResumeInfoView) -> hikari.Embed:
    """`/lavalink resume-info`: one guild's saved snapshot beside its live player."""
    if view.live is not None and view.snapshot is not None:
        summary = "Playing now, and saved: a restart resumes it where it is."
        colour = GREEN
    elif view.live is not None:
        summary = "Playing now, but nothing is saved yet (the first save follows shortly)."
        colour = AMBER
    elif view.snapshot is not None:
        summary = "No live player, but a snapshot is saved: it is brought back when its node reconnects."
        colour = AMBER
    else:
        summary = "Nothing here: no live player and nothing saved for this guild."
        colour = GREY
    if view.session_id is not None:
        summary += f"\nSession to resume: `{short_id(view.session_id)}`"
    if view.error is not None:
        summary += f"\n⚠️ The store could not be read: {view.error}"
    title = clip(f"Resume info for {view.guild_name or view.guild_id}", 256)
    embed = hikari.Embed(title=title, description=summary, colour=colour)
    embed.set_footer(f"Guild {view.guild_id}")
    if view.live is not None:
        embed.add_field("Live player", join_lines(_live_lines(view.live), FIELD_LIMIT))
    if view.snapshot is not None:
        embed.add_field("Saved snapshot", join_lines(_snapshot_lines(view.snapshot), FIELD_LIMIT))
    return embed


# -- /lavalink nodes ---------------------------------------------------------------------------------------


def _list_or_none(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "none"


def nodes_embed(nodes: Sequence[NodeInfoView]) -> hikari.Embed:
    """`/lavalink nodes`: each node's Lavalink version, sources, filters and plugins."""
    failing = sum(1 for node in nodes if node.error is not None)
    colour = GREEN if not failing else (AMBER if failing < len(nodes) else RED)
    embed = hikari.Embed(
        title="Lavalink nodes",
        description=f"{plural(len(nodes), 'node')} configured" if nodes else "No node is configured.",
        colour=colour,
    )
    fields = []
    for node in nodes:
        if node.error is not None:
            fields.append((f"🔴 {node.name}", f"`{node.address}`\n⚠️ {node.error}"))
            continue
        lines = [f"`{node.address}` · Lavalink **{node.version or 'unknown'}**"]
        build = [
            f"JVM {node.jvm}" if node.jvm else "",
            f"lavaplayer {node.lavaplayer}" if node.lavaplayer else "",
            f"build {node.git}" if node.git else "",
        ]
        if any(build):
            lines.append(" · ".join(part for part in build if part))
        lines.append("Sources: " + _list_or_none(node.source_managers))
        lines.append("Filters: " + _list_or_none(node.filters))
        lines.append("Plugins: " + _list_or_none([f"{name} {version}" for name, version in node.plugins]))
        fields.append((f"🟢 {node.name}", join_lines(lines, FIELD_LIMIT)))
    add_fields(embed, fields, what="nodes")
    return embed
