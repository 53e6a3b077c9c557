"""What a player does on its own: node events, the queue moving on when a track ends, the next track started
(and retried while it cannot start)."""

from __future__ import annotations

import logging
import typing

from lightbulb_lavalink import events
from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.player.identity import restored, same_track, title
from lightbulb_lavalink.protocol.backoff import Backoff
from lightbulb_lavalink.protocol.messages import (
    TrackEndMessage,
    TrackEndReason,
    TrackExceptionMessage,
    TrackStartMessage,
    TrackStuckMessage,
)
from lightbulb_lavalink.snapshot import GuildSnapshot
from lightbulb_lavalink.verdicts import refuses

if typing.TYPE_CHECKING:
    from collections.abc import Awaitable

    from lightbulb_lavalink.protocol.messages import EventMessage
    from lightbulb_lavalink.protocol.tracks import Track


from lightbulb_lavalink.player.transport import PlayerTransport

__all__ = ["PlayerAdvancing"]

_LOGGER = logging.getLogger("lightbulb_lavalink.player")


class PlayerAdvancing(PlayerTransport):
    """Node events and the automatic advance of the queue."""

    __slots__ = ()

    def on_event(self, message: EventMessage, *, replayed: bool) -> Awaitable[None] | None:
        """A track or voice event from the node, in order (`replayed`: queued while the bot was away). What needs no
        waiting is done at once (`None`); otherwise the rest is returned, to be awaited before the next event.

        While the guild is being recovered, a track's end is reported but never advances the queue: the recovery
        decides what plays.
        """
        if isinstance(message, TrackEndMessage):
            return self._on_track_end(message, replayed=replayed)
        client = self._client
        common: dict[str, typing.Any] = {"app": client.app, "client": client, "player": self}
        event: events.PlayerEvent
        if isinstance(message, TrackStartMessage):
            self._track_events += 1
            left = self._left_request()
            if (
                self._sent is not None
                and not same_track(self._sent, message.track)
                and not same_track(self.track, message.track)
                and not same_track(self._pending, message.track)
            ) or (
                left is not None and same_track(left.track, message.track) and not same_track(self._sent, left.track)
            ):
                # The start of a track we have replaced since (its frame came late, after our newer request), or the
                # late start of the player the bot left this guild with: the node plays what we sent last, or will
                # once `overrule` put it back. Told as it came; it changes nothing.
                _LOGGER.debug("guild %s: a late start of %s changes nothing", self.guild_id, title(message.track))
                client.dispatch(events.TrackStartEvent(**common, track=message.track, replayed=replayed))
                return None
            started = self._own(message.track)
            if started is self._pending:
                self._pending = None  # it started after all (the answer to its request was lost or unreadable)
            flight = self._in_flight
            if flight is not None and flight.target is not None and same_track(flight.target, message.track):
                self._take_effect(flight)  # the node took the command before its answer came back
            unconfirmed, self._unconfirmed = self._unconfirmed, None
            if unconfirmed is not None and same_track(unconfirmed.track, message.track):
                # The command that raised on an unreadable answer did take effect: so does its queue change.
                self.queue.apply(unconfirmed.move)
                started = unconfirmed.track
            self.track = started
            self._advanced_past = None
            self._unstarted = None
            self._save(position=True)
            if not client.heard(events.TrackStartEvent):
                return None
            event = events.TrackStartEvent(**common, track=message.track, replayed=replayed)
        elif isinstance(message, TrackExceptionMessage):
            event = events.TrackExceptionEvent(
                **common, track=message.track, exception=message.exception, replayed=replayed
            )
        elif isinstance(message, TrackStuckMessage):
            event = events.TrackStuckEvent(
                **common, track=message.track, threshold_ms=message.threshold_ms, replayed=replayed
            )
        else:  # WebSocketClosedMessage: Lavalink's voice connection to Discord closed
            self.connected = False
            event = events.VoiceClosedEvent(
                **common, code=message.code, reason=message.reason, by_remote=message.by_remote, replayed=replayed
            )
        client.dispatch(event)
        return None

    def _on_track_end(self, message: TrackEndMessage, *, replayed: bool) -> Awaitable[None] | None:
        ended = message.track
        if (
            message.reason in (TrackEndReason.REPLACED, TrackEndReason.STOPPED)
            and self._left_request() is not None
            and self.track is not None
            and same_track(self.track, ended)
            and not same_track(self._superseded, ended)
        ):
            # Our track replaced or stopped by the late request of the player the bot left this guild with, not by
            # us: `overrule` puts it back once that request is answered. Told as it came; it changes nothing.
            _LOGGER.debug("guild %s: %s was replaced by a left player's late request", self.guild_id, title(ended))
            self._tell_end(message, replayed=replayed)
            return None
        self._track_events += 1
        superseded = self._superseded is not None and same_track(self._superseded, ended)
        if superseded:
            self._superseded = None  # one end per replaced or stopped track
            flight = self._in_flight
            if flight is not None and message.reason in (TrackEndReason.REPLACED, TrackEndReason.STOPPED):
                self._take_effect(flight)  # the node replaced or stopped it: the command's answer is on its way
            elif flight is not None and message.reason.may_start_next and self.track is not None:
                # It ended on its own before the node took the command: if the command fails, the queue moves on.
                self._overtaken = self.track if same_track(self.track, ended) else None
        finished = ended
        stale = unannounced = False
        if (
            self.track is not None
            and self._unstarted is self.track
            and message.reason is TrackEndReason.FINISHED
            and same_track(self.track, ended)
        ):
            # The same track finished before the play we started announced itself: an earlier play of it (its end
            # was inferred already, and the queue came round to it again). Never advance twice.
            still_current, stale = False, True
        elif self.track is not None and same_track(self.track, ended):
            finished, self.track = self.track, None  # the object we sent: the blob the user queued
            # Before our start announced itself: our play failing to load (NodeLink sends no start then), or the
            # end of an earlier play of it that comes late (see `_advance_from`).
            unannounced = self._unstarted is finished
            self._unstarted = None
            still_current = True
        elif (
            self._pending is not None
            and self._sent is self._pending
            and self._phase is None  # a restore's own track ending meanwhile: the restore starts it again
            and message.reason.may_start_next
            and same_track(self._pending, ended)
        ):
            finished, self._pending = self._pending, None  # it did play: we missed its start
            still_current = True
        else:
            # Idle: the end of a track we never saw start is still news, not one the queue already moved on from.
            still_current = self.track is None and self._pending is None and not same_track(self._advanced_past, ended)
        # Our own object when it is ours (the event's copy would only be compared with, and kept alive for nothing).
        self._last_ended = finished
        if stale or (not still_current and message.reason.may_start_next and same_track(self._advanced_past, ended)):
            # The end of a play the queue already moved on from (inferred by a resume, or told twice): listeners
            # were told of it then; telling them again would end the track twice.
            _LOGGER.debug("guild %s: dropping a second end of %s", self.guild_id, title(ended))
            return None
        self._tell_end(message, replayed=replayed)
        if not message.reason.may_start_next or self._destroyed or superseded or self._phase is not None:
            return None
        if not still_current:
            # Another track is playing already (started while this event was in flight): never skip it.
            _LOGGER.debug("guild %s: ignoring end of %s, another track is playing", self.guild_id, title(ended))
            return None
        return self._advance_from(finished, unannounced=unannounced)

    def _tell_end(self, message: TrackEndMessage, *, replayed: bool) -> None:
        """Dispatch the `TrackEndEvent` of `message` (when anyone listens)."""
        client = self._client
        if client.heard(events.TrackEndEvent):
            client.dispatch(
                events.TrackEndEvent(
                    app=client.app,
                    client=client,
                    player=self.as_player(),
                    track=message.track,
                    reason=message.reason,
                    may_start_next=message.reason.may_start_next,
                    raw_reason=message.raw_reason,
                    replayed=replayed,
                )
            )

    async def _advance_from(self, finished: Track, *, unannounced: bool = False) -> None:
        """`finished` ended on its own: the queue moves on at once (what a listener of the end saw), and the next
        track is pending until it starts. The start waits for a command in flight; a command that acted on the
        pending track meanwhile (skip, play) settled it.

        `unannounced`: the end came before the start we sent for `finished` announced itself. If it was the late
        end of an earlier play, ours is still to begin: when the queue is over, it is stopped (a next track
        replaces it anyway)."""
        self._advanced_past = finished
        nxt = self.queue.advance(finished)
        if nxt is None:
            await self._play_next(None)
            if unannounced:
                self._hooks.spawn(self._silence(finished), name=f"lavalink-silence-{self.guild_id}")
            return
        self._set_pending(nxt, 0, None)
        # Started in a task of its own, never awaited here: the node's events go on being read meanwhile (its start
        # is one of them; a snapshot taken while the request is slow must see it). It waits for a command in flight.
        self._hooks.spawn(self._start_when_free(nxt), name=f"lavalink-next-{self.guild_id}")

    async def _silence(self, finished: Track) -> None:
        """The queue ended with `finished`, whose start we sent had not announced itself: if that start plays after
        all (or may still), stop it (see `_advance_from`); a command that started something since wins."""
        async with self._lock:
            late = self.track is None or (same_track(self.track, finished) and self._sent is finished)
            if late and self._pending is None and not self._destroyed and self.node.connected:
                try:
                    await self._stop()
                except LavalinkError as exc:
                    _LOGGER.debug("guild %s: could not stop a late start: %s", self.guild_id, exc)

    async def _start_when_free(self, nxt: Track) -> None:
        """Start the pending `nxt` once no command is in flight, unless one settled it meanwhile."""
        async with self._lock:
            if self._pending is nxt and self.track is None and not self._destroyed:
                await self._play_next(nxt, start=self._pending_at, end=self._end_time)

    async def _play_next(self, nxt: Track | None, *, start: int = 0, end: int | None = None) -> None:
        """Start `nxt` (the queue's next track); `QueueEndEvent` when none is left.

        Tracks the node refuses are skipped. When the request fails for any other reason, `nxt` stays pending
        (the queue as it was, nothing to the history) and is retried until it starts.
        """
        failure = await self._advance_to(nxt, start=start, end=end)
        if failure is not None:
            self._retry_later()
            self._dispatch_start_failed(*failure, refused=False)

    def _set_pending(self, track: Track, start: int, end: int | None) -> None:
        self._pending, self._pending_at, self._end_time = track, start, end
        self._save()

    async def _advance_to(
        self, nxt: Track | None, *, start: int = 0, end: int | None = None
    ) -> tuple[Track, LavalinkError] | None:
        """Start `nxt`, skipping tracks the node refuses; `QueueEndEvent` when none is left.

        Returns the track and the error when a request failed for a reason that is not the track's: the track
        is then pending, the queue untouched.
        """
        client = self._client
        while nxt is not None:
            self._set_pending(nxt, start, end)
            try:
                # A new track unpauses the player unless told: a pause the user asked for meanwhile stands.
                await self._switch_to(nxt, start=start, end=end, paused=self.paused)
                return None
            except LavalinkError as exc:
                if self._pending is not nxt:
                    return None  # settled meanwhile: its TrackStartEvent came, or a command replaced it
                if not await refuses(nxt, exc, decode=lambda blob: self.node.rest.decode_track(blob)):
                    _LOGGER.warning("guild %s: could not start %s, retrying: %s", self.guild_id, title(nxt), exc)
                    return nxt, exc
                _LOGGER.warning("guild %s: skipping %s, the node refused it: %s", self.guild_id, title(nxt), exc)
                self._pending = None
                self._dispatch_start_failed(nxt, exc, refused=True)
            nxt = self.queue.advance(None)
            start, end = 0, None
        self._pending = None
        self._save(position=True)
        client.dispatch(events.QueueEndEvent(app=client.app, client=client, player=self.as_player()))
        return None

    def _retry_later(self) -> None:
        if self._destroyed or (self._retry is not None and not self._retry.done()):
            return
        self._retry = self._hooks.spawn(self._retry_pending(), name=f"lavalink-retry-{self.guild_id}")

    async def _retry_pending(self) -> None:
        """Retry the pending track with backoff while its node is connected.

        Once the node is away the retries end: its session's return starts the track (a resumed session
        through `start_pending`, a lost one through the recovery of the snapshot, which reports it).
        """
        settings = self._client.settings
        backoff = Backoff(initial=settings.reconnect_delay, maximum=settings.reconnect_max_delay)
        for delay in backoff.delays():
            await self._client.clock.sleep(delay)
            if self._destroyed or self._pending is None or self.track is not None or not self.node.connected:
                return
            async with self._lock:
                track = self._pending
                if track is None or self.track is not None:
                    return
                failure = await self._advance_to(track, start=self._pending_at, end=self._end_time)
            if failure is None:
                return
            self._dispatch_start_failed(*failure, refused=False)

    async def start_pending(self) -> None:
        """The node's session is back: start the pending track now (from where it was to start), not at its next
        retry."""
        if self._pending is None or self.track is not None:
            return
        # In a task of its own, never awaited here: this runs in the node's event handler (the replay's end), whose
        # next events (this track's start among them) must go on being read while the request is on its way. It
        # waits for a command in flight, which settles the pending track or leaves it to this task.
        self._hooks.spawn(self._start_when_free(self._pending), name=f"lavalink-next-{self.guild_id}")

    def advance_unseen(self, finished: GuildSnapshot) -> None:
        """The saved current track of `finished` ended while nobody watched (the node is idle): a `TrackEndEvent`
        (`replayed`, `finished`) says so, the queue moves on now, and the next track is pending (`start_pending`
        starts it once the replay is over). A replayed end of that track then changes nothing; a command meanwhile
        acts on the pending track."""
        track = None if finished.track is None else restored(finished.track)
        if track is None:
            return
        _LOGGER.info("guild %s: its track had ended before the restart; continuing the queue", self.guild_id)
        client = self._client
        # Listeners learn of the end as of any other that happened while the bot was away (the node's own event,
        # if it still comes, is then the end of a track the queue already moved on from: it changes nothing).
        client.dispatch(
            events.TrackEndEvent(
                app=client.app,
                client=client,
                player=self.as_player(),
                track=track,
                reason=TrackEndReason.FINISHED,
                may_start_next=True,
                replayed=True,
            )
        )
        self._advanced_past = track
        nxt = self.queue.advance(track)
        if nxt is not None:
            if nxt is not track:
                # The old process may have started it, and it may have ended since (its events still to come).
                self._sent = nxt
            self._set_pending(nxt, 0, None)
            return
        self._save(position=True)
        self._client.dispatch(events.QueueEndEvent(app=self._client.app, client=self._client, player=self.as_player()))
