"""How a player is saved and brought back: its snapshot, a restore or recovery from one, the sync with a resumed
session."""

from __future__ import annotations

import logging
import typing

from lightbulb_lavalink.player.base import GuildState
from lightbulb_lavalink.player.identity import restored, same_track, title
from lightbulb_lavalink.protocol.filters import Filters
from lightbulb_lavalink.protocol.player import UNSET, PlayerUpdate, TrackUpdate
from lightbulb_lavalink.snapshot import GuildSnapshot

if typing.TYPE_CHECKING:

    from lightbulb_lavalink.protocol.player import PlayerInfo, VoiceState
    from lightbulb_lavalink.protocol.tracks import Track


from lightbulb_lavalink.player.advancing import PlayerAdvancing

__all__ = ["PlayerRestoring"]

_LOGGER = logging.getLogger("lightbulb_lavalink.player")


class PlayerRestoring(PlayerAdvancing):
    """Snapshots, restores and the resumed sync."""

    __slots__ = ()

    async def restore(self, snap: GuildSnapshot, voice: VoiceState | None) -> None:
        """Recreate this player on its node from `snap`: track at its position, pause, volume, filters, voice.

        The track is the snapshot's own blob, sent with its position even at 0 (a blob says where it starts). Until
        the node confirms it, it is pending: if the request fails, the snapshot still has it. Ends a restore or
        recovery on success; raises when the node did not take it. One request at a time per guild (a command or
        an older restore in flight finishes first); a restore that a newer claim superseded while its request was
        in flight leaves the guild to that claim.
        """
        generation = self._restore_generation
        async with self._lock:
            await self._restore_locked(snap, voice, generation)

    async def _restore_locked(self, snap: GuildSnapshot, voice: VoiceState | None, generation: int) -> None:
        track = None if snap.track is None else restored(snap.track)
        if track is not None:
            self.track = None
            self._set_pending(track, snap.position, snap.end_time)
        update = PlayerUpdate(
            track=(TrackUpdate(encoded=track.encoded, user_data=dict(track.user_data)) if track is not None else UNSET),
            position=snap.position if track is not None else UNSET,
            end_time=snap.end_time if track is not None and snap.end_time is not None else UNSET,
            paused=snap.paused,
            volume=snap.volume,
            filters=Filters.from_payload(snap.filters) if snap.filters else UNSET,
            voice=voice if voice is not None else UNSET,
        )
        if self._destroyed:
            return  # left meanwhile: nothing to restore
        self._starting = self._sent = track
        if isinstance(update.filters, Filters):
            self.filters = update.filters  # what the node reports of them unreadably is these
        events_before = self._track_events
        plugins = self._client.plugins
        await plugins.restore_before_track(self.as_player(), snap.plugins)  # the node lost them with its session
        if self._destroyed:
            # Left while the plugin state was on its way: the track must not follow (it would create the left
            # guild's player again, and until its answer its events would be a rejoined player's).
            self._starting = None
            return
        try:
            await self._update(update)
        finally:
            self._starting = None
        if generation != self._restore_generation:
            # A newer claim (a later ready) took the guild while this request was in flight: it restores it again.
            return
        # The restored track ended before the answer came (a recovery decides what plays, not that end): it is
        # pending still, and starts again from where the snapshot had it.
        again = (
            track is not None
            and self.track is None
            and (
                self._pending is track
                or (self._track_events != events_before and same_track(self._last_ended, track))
            )
        )
        self._pending = None
        if again and track is not None:
            self._pending, self._pending_at = track, snap.position
        self._end_time = snap.end_time if track is not None else None
        self.end_restore()
        self._hooks.save(self.as_player())
        await plugins.restore_after_track(self.as_player(), snap.plugins)
        if again and track is not None:
            _LOGGER.info("guild %s: %s ended while being restored; starting it again", self.guild_id, title(track))
            self._hooks.spawn(self._start_when_free(track), name=f"lavalink-next-{self.guild_id}")

    def restore_idle(self, snap: GuildSnapshot) -> None:
        """Bring back a guild that was not in voice: its queue is already there; a track it had waits (pending)."""
        self.end_restore()
        self.track = None
        track = None if snap.track is None else restored(snap.track)
        if track is not None:
            self._set_pending(track, snap.position, snap.end_time)
        self._hooks.save(self.as_player())

    def sync_from(self, info: PlayerInfo, saved: GuildSnapshot | None) -> bool:
        """Take a resumed session's player as the truth for what plays now (the claimed queue is what comes next),
        and end the restore. Returns whether the guild should be playing but the node is idle: its track ended
        unseen, and the queue must advance once the replay is over (unless a replayed event did it)."""
        playing = info.track
        kept = restored(saved.track) if saved is not None and saved.track is not None else None
        was_pending = saved is not None and saved.pending
        if kept is not None and not was_pending and self._pending is not None and same_track(self._pending, kept):
            # Pending only because a restore of it failed (the saved track was playing): the node says what it is.
            self._pending = None
        if kept is not None and was_pending and self._pending is None and saved is not None:
            self._set_pending(kept, saved.position, saved.end_time)  # rebuilt from the store: it had not started
            # As far as the store knows: the process that saved it may have sent its start as it went away, and the
            # node played it (its start and end are then still to come, in the replay).
            self._sent = self._pending
        stalled = False
        if playing is not None:
            if self._pending is not None and same_track(self._pending, playing):
                playing, self._pending = self._pending, None  # the start reached the node after all
            elif kept is not None and same_track(kept, playing):
                # The same track: keep the blob the user queued, with its user data. (A looped queue that came round
                # to this very track while the bot was away cannot be told from it: the history misses that turn.)
                playing = kept
            elif kept is not None and saved is not None:
                moved = self._moved_on_unseen(saved, kept, playing)
                if moved is not None:
                    playing = moved
                    if self._pending is kept:
                        self._pending = None  # the saved pending track did play (or was skipped) unseen
        elif kept is not None and not was_pending and saved is not None and not saved.paused:
            stalled = self._pending is None
        self.end_restore()
        if saved is not None and not saved.plugins.empty:
            # Kept on the node? No: the plugins forget their state on every websocket open, a resume included.
            restore = self._client.plugins.restore(self.as_player(), saved.plugins)
            self._hooks.spawn(restore, name=f"lavalink-plugins-{self.guild_id}")
        if saved is not None and saved.filters:
            self.filters = Filters.from_payload(saved.filters)  # what a filter the node reports unreadably was
        # The store has this guild as it was saved: its position needs no write of its own right now.
        self._last_position_save = self._client.clock.monotonic()
        self._apply_info(info)
        self.track = playing
        if playing is not None and kept is playing and saved is not None:
            self._end_time = saved.end_time
        return stalled

    def _moved_on_unseen(self, saved: GuildSnapshot, kept: Track, playing: Track) -> Track | None:
        """If the node plays the track that was next in the saved queue, the old process started it and died
        before saving that: move the queue on as it did (the saved track to the history, and to the end of a
        looped queue; the started one out of the queue, wherever a user's change during the restore put it) and
        return the queue's object for it; else `None`, changing nothing."""
        if not saved.queue.tracks:
            return None
        head = restored(saved.queue.tracks[0])
        if head is None or not same_track(head, playing):
            return None
        index = next((i for i, queued in enumerate(self.queue) if same_track(queued, head)), None)
        return self.queue.move_on(kept, index)

    def begin_restore(self, phase: GuildState, saved: GuildSnapshot | None) -> None:
        """The guild is being restored (`RESTORING`) or recovered (`RECOVERING`) from `saved`: commands wait."""
        self._restore_generation += 1
        self._phase = phase
        if saved is not None:
            self._saved = saved
            self.plugin_state = saved.plugins
        self._ready.clear()

    def end_restore(self) -> None:
        """The guild is back (or given up): commands go on; its own state is the truth again."""
        self._phase = None
        self._saved = None
        self._ready.set()

    def mark_left(self) -> None:
        """The bot left the guild: nothing brings this player back (commands waiting on it go on and fail)."""
        self._destroyed = True
        if self._retry is not None:
            self._retry.cancel()
        self._saved = None
        self._phase = None
        self._ready.set()

    def freeze_position(self) -> None:
        """The node went away: stop interpolating and save where the track was."""
        if self._state_position is not None and not self._frozen:
            self._state_position = self.position
            self._frozen = True
            self._save(position=True)
