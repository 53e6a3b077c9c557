"""hikari events for what a music bot reacts to: node sessions, resumes, tracks, players and queues.

They are dispatched through the bot's own event manager, so ``bot.listen(TrackEndEvent)``,
``bot.event_manager.subscribe(...)``, ``bot.wait_for(...)`` and lightbulb's
``@loader.listener(TrackEndEvent)`` all work, and listening to a base class (`PlayerEvent`, `TrackEvent`,
`NodeEvent`, `LavalinkEvent`) receives every event under it, as with hikari's own events.

```python
@bot.listen(lightbulb_lavalink.events.TrackEndEvent)
async def on_track_end(event: lightbulb_lavalink.events.TrackEndEvent) -> None:
    if event.replayed:
        ...  # happened while the bot was away, delivered by the resumed session
```
"""

from __future__ import annotations

__all__ = [
    "HandoffCompletedEvent",
    "LavalinkEvent",
    "NodeDisconnectedEvent",
    "NodeEvent",
    "NodeReadyEvent",
    "NodeStatsEvent",
    "PlayerEvent",
    "PlayerMovedEvent",
    "PlayerUpdateEvent",
    "QueueEndEvent",
    "ResumeCompletedEvent",
    "SessionRecoveredEvent",
    "SessionResumedEvent",
    "TrackEndEvent",
    "TrackEvent",
    "TrackExceptionEvent",
    "TrackStartEvent",
    "TrackStartFailedEvent",
    "TrackStuckEvent",
    "UnknownMessageEvent",
    "VoiceClosedEvent",
]

import abc
import typing

import attrs
import hikari

if typing.TYPE_CHECKING:
    from collections.abc import Mapping

    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.errors import LavalinkError
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.protocol.messages import TrackEndReason
    from lightbulb_lavalink.protocol.player import PlayerState
    from lightbulb_lavalink.protocol.stats import Stats
    from lightbulb_lavalink.protocol.tracks import ExceptionInfo, Track
    from lightbulb_lavalink.resuming.outcome import ResumeReport


def _player_guild_id(event: PlayerEvent) -> hikari.Snowflake:
    return hikari.Snowflake(event.player.guild_id)


def _player_node(event: PlayerEvent) -> Node:
    return event.player.node


def _reason_may_start_next(event: TrackEndEvent) -> bool:
    return bool(event.reason.may_start_next)


def _raw_reason(event: TrackEndEvent) -> str | None:
    return str(event.reason.value)


@attrs.define(kw_only=True, weakref_slot=False)
class LavalinkEvent(hikari.Event, abc.ABC):
    """Base of every lightbulb-lavalink event."""

    app: hikari.RESTAware = attrs.field(repr=False)
    """The bot the event was dispatched on."""

    client: LavalinkClient = attrs.field(repr=False)
    """The `LavalinkClient` the event comes from."""


# -- nodes --


@attrs.define(kw_only=True, weakref_slot=False)
class NodeEvent(LavalinkEvent, abc.ABC):
    """Base of the events about one Lavalink node and its session."""

    node: Node = attrs.field()
    """The node."""


@attrs.define(kw_only=True, weakref_slot=False)
class NodeReadyEvent(NodeEvent):
    """The node's websocket is ready: a new session, or a resumed one (`resumed`)."""

    session_id: str = attrs.field()
    """The session id of this ``ready`` (always the latest one)."""

    resumed: bool = attrs.field()
    """Whether Lavalink resumed the previous session (players and queued events kept)."""


@attrs.define(kw_only=True, weakref_slot=False)
class NodeDisconnectedEvent(NodeEvent):
    """The node's websocket closed; the node reconnects unless `will_reconnect` is `False`."""

    code: int | None = attrs.field()
    """The websocket close code, or `None` when the connection dropped without one."""

    reason: str = attrs.field()
    """The close reason, or a description of the failure."""

    will_reconnect: bool = attrs.field()
    """Whether the node will try to reconnect (and resume)."""


@attrs.define(kw_only=True, weakref_slot=False)
class NodeStatsEvent(NodeEvent):
    """The node sent its statistics (about once a minute)."""

    stats: Stats = attrs.field(repr=False)
    """The statistics: players, memory, CPU and frame stats."""


@attrs.define(kw_only=True, weakref_slot=False)
class UnknownMessageEvent(NodeEvent):
    """The node sent a message this library does not know: a newer op or event type, a plugin's, or a server's own
    (NodeLink's ``PlayerCreatedEvent``, ``FiltersChangedEvent``, ``PauseEvent``…). Passed on as raw JSON."""

    op: str = attrs.field()
    """The message's ``op`` (``"event"`` for an event)."""

    type: str | None = attrs.field()
    """The event's ``type``, for an ``op: event``; else `None`."""

    guild_id: hikari.Snowflake | None = attrs.field()
    """The guild it names (its ``guildId``), if any."""

    data: Mapping[str, typing.Any] = attrs.field(repr=False)
    """The whole message, as decoded JSON."""


@attrs.define(kw_only=True, weakref_slot=False)
class SessionResumedEvent(NodeEvent):
    """A resumed session was synchronised: players rebuilt from Lavalink, queues from the store."""

    session_id: str = attrs.field()
    """The resumed session id."""

    guild_ids: tuple[int, ...] = attrs.field()
    """The guilds whose players were synchronised."""

    players_synced: int = attrs.field()
    """How many players were synchronised."""

    replayed_events: int = attrs.field(default=0)
    """Deprecated, always 0: this event comes right after the sync, before the node replays its events.
    `ResumeCompletedEvent.report.events_replayed` has the count; this field will be removed."""

    duration: float = attrs.field()
    """Seconds from the resumed ``ready`` to the end of the sync."""


@attrs.define(kw_only=True, weakref_slot=False)
class SessionRecoveredEvent(NodeEvent):
    """A session that should have resumed was gone; players were rebuilt from the saved snapshots."""

    session_id: str = attrs.field()
    """The new session id."""

    previous_session_id: str | None = attrs.field()
    """The session id that could not be resumed, or `None` if none was saved."""

    guild_ids: tuple[int, ...] = attrs.field()
    """The guilds whose players were recovered."""

    failed: Mapping[int, str] = attrs.field()
    """Guild id -> why that guild could not be recovered."""

    duration: float = attrs.field()
    """Seconds from the ``ready`` to the end of the recovery."""


@attrs.define(kw_only=True, weakref_slot=False)
class ResumeCompletedEvent(NodeEvent):
    """Everything a node's ``ready`` set off has settled: the sync, the replayed events, the voice re-sync and the
    recoveries (with their first retries). Dispatched once per ``ready``, after `SessionResumedEvent` or
    `SessionRecoveredEvent`; `node.last_resume` keeps the report.

    ```python
    @bot.listen(lightbulb_lavalink.events.ResumeCompletedEvent)
    async def on_resume(event: lightbulb_lavalink.events.ResumeCompletedEvent) -> None:
        report = event.report
        if report.failed:
            log.warning("%d guilds could not be brought back: %s", len(report.failed), report.failed)
    ```
    """

    report: ResumeReport = attrs.field()
    """What the ``ready`` led to, guild by guild, and how long each phase took."""


# -- players --


@attrs.define(kw_only=True, weakref_slot=False)
class PlayerEvent(LavalinkEvent, abc.ABC):
    """Base of the events about one guild's player."""

    player: Player = attrs.field(repr=False)
    """The guild's player."""

    guild_id: hikari.Snowflake = attrs.field(default=attrs.Factory(_player_guild_id, takes_self=True))
    """The guild (defaults to the player's)."""

    node: Node = attrs.field(default=attrs.Factory(_player_node, takes_self=True), repr=False)
    """The node the player was on when the event happened (defaults to the player's)."""


@attrs.define(kw_only=True, weakref_slot=False)
class TrackEvent(PlayerEvent, abc.ABC):
    """Base of the events about a track of a player."""

    track: Track = attrs.field()
    """The track."""

    replayed: bool = attrs.field(default=False)
    """`True` when Lavalink queued the event while the bot was away and replayed it on resume."""


@attrs.define(kw_only=True, weakref_slot=False)
class TrackStartEvent(TrackEvent):
    """A track started playing."""


@attrs.define(kw_only=True, weakref_slot=False)
class TrackStartFailedEvent(TrackEvent):
    """The player could not start a track on its own (the queue moving on, a retry, a resumed session).

    With `refused`, the node gave its verdict on the track itself (it cannot decode or load it): the track is
    dropped and the queue moves on. Otherwise the request failed for a reason that is not the track's (the node
    or a proxy away or overloaded, an unreadable answer): the queue is left as it was, the track stays what should
    be playing (`Player.snapshot` reports it) and is retried, with backoff while the node is connected and at once
    when its session comes back. Commands (`Player.play`, `Player.skip`) raise instead.
    """

    error: LavalinkError = attrs.field()
    """Why the request failed (a `RestError` with the node's status, a timeout, an unreadable answer...)."""

    refused: bool = attrs.field()
    """Whether the node refused the track itself (it was skipped) rather than failing the request."""


@attrs.define(kw_only=True, weakref_slot=False)
class TrackEndEvent(TrackEvent):
    """A track ended; `may_start_next` says whether the next one may start (Lavalink's rule)."""

    reason: TrackEndReason = attrs.field()
    """Why it ended: finished, load failed, stopped, replaced or cleaned up; `TrackEndReason.UNKNOWN` for a reason
    this library does not know (see `raw_reason`)."""

    may_start_next: bool = attrs.field(default=attrs.Factory(_reason_may_start_next, takes_self=True))
    """Whether a queue may advance after this end (finished or load failed); defaults from `reason`."""

    raw_reason: str | None = attrs.field(default=attrs.Factory(_raw_reason, takes_self=True))
    """The reason as the node sent it (a newer server's own, for `TrackEndReason.UNKNOWN`)."""


@attrs.define(kw_only=True, weakref_slot=False)
class TrackExceptionEvent(TrackEvent):
    """A track failed while playing or loading."""

    exception: ExceptionInfo = attrs.field()
    """What went wrong, with its severity."""


@attrs.define(kw_only=True, weakref_slot=False)
class TrackStuckEvent(TrackEvent):
    """A track got stuck: no audio frames for `threshold_ms`."""

    threshold_ms: int | None = attrs.field()
    """The stuck threshold that was exceeded, in milliseconds (`None` when the node did not say)."""


@attrs.define(kw_only=True, weakref_slot=False)
class VoiceClosedEvent(PlayerEvent):
    """Lavalink's voice websocket to Discord closed for this guild."""

    code: int | None = attrs.field()
    """The Discord voice close code (4006: session invalid, 4014: disconnected, ...); `None` when the node did not
    say."""

    reason: str | None = attrs.field()
    """The close reason Discord gave; `None` when the node did not say."""

    by_remote: bool | None = attrs.field()
    """Whether Discord (rather than Lavalink) closed it; `None` when the node did not say."""

    replayed: bool = attrs.field(default=False)
    """`True` when Lavalink queued the event while the bot was away and replayed it on resume."""


@attrs.define(kw_only=True, weakref_slot=False)
class PlayerUpdateEvent(PlayerEvent):
    """Lavalink reported the player's state (position, voice connection, ping)."""

    state: PlayerState = attrs.field()
    """The reported state."""


@attrs.define(kw_only=True, weakref_slot=False)
class QueueEndEvent(PlayerEvent):
    """The player's queue ran out: a track ended and there is nothing left to play."""


@attrs.define(kw_only=True, weakref_slot=False)
class PlayerMovedEvent(PlayerEvent):
    """The player moved to another node (its node stayed away too long, or `LavalinkClient.move_player`)."""

    previous_node: Node = attrs.field(repr=False)
    """The node it left."""


@attrs.define(kw_only=True, weakref_slot=False)
class HandoffCompletedEvent(LavalinkEvent):
    """A new process of this cluster took its Lavalink sessions over (a handoff deploy): this process no longer
    plays anything and should exit (``await bot.close()``). See `LavalinkClient.wait_handed_off`."""

    nonce: str = attrs.field()
    """The id of the handoff."""

    successor: str = attrs.field()
    """Who took over, as it named itself (``host:pid``)."""

    took: float = attrs.field()
    """Seconds from the new process's request to its confirmation that every session is back under it."""
