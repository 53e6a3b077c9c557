"""How a player talks to its node: one request at a time, answers reconciled with the events that overtook
them, and a command's queue change made once the node took it."""

from __future__ import annotations

import contextlib
import logging
import typing

from lightbulb_lavalink.errors import LavalinkError, NodeUnavailable
from lightbulb_lavalink.player.base import InFlight, LeftRequest, Unconfirmed
from lightbulb_lavalink.player.identity import same_track
from lightbulb_lavalink.protocol.player import UNSET, PlayerUpdate, TrackUpdate
from lightbulb_lavalink.queue import QueueMove

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from lightbulb_lavalink.protocol.player import PlayerInfo
    from lightbulb_lavalink.protocol.tracks import Track


from lightbulb_lavalink.player.base import PlayerBase

__all__ = ["PlayerTransport"]

_LOGGER = logging.getLogger("lightbulb_lavalink.player")


class PlayerTransport(PlayerBase):
    """Requests to the node and what their answers mean for the player."""

    __slots__ = ()

    async def wait_restored(self) -> None:
        """Wait while the guild is being restored or recovered; raise `NodeUnavailable` if it takes too long.

        Someone waits for this guild now: its voice rejoin, if it waits its turn under Discord's rate limit, goes
        first on its shard, and that wait counts against no timeout.
        """
        if self._ready.is_set():
            return
        voice = self._client.voice
        voice.pacer.promote(self.guild_id)
        wait = self._client.settings.request_timeout + self._client.settings.voice_timeout
        while True:
            with contextlib.suppress(TimeoutError):
                async with self._client.clock.timeout(wait):
                    await self._ready.wait()
            if self._ready.is_set():
                return
            if not voice.is_queued(self.guild_id):
                raise NodeUnavailable(f"guild {self.guild_id} is still being restored; try again in a moment")

    async def settle(self) -> None:
        """Wait until the command or start of this guild that is talking to the node, if any, is done (a handoff
        waits for them before its last snapshots are written)."""
        async with self._lock:
            return

    async def _prepare(self) -> None:
        """Before a command: wait for this guild's restore, and fail before changing anything if the node is away
        (`NodeUnavailable`; saying so when this process hands its sessions over, or did) or the bot left the guild
        (`LavalinkError`: join again)."""
        self._hooks.check_commands()
        if self._destroyed:
            raise LavalinkError(f"the bot left guild {self.guild_id}; join a voice channel again to play there")
        await self.wait_restored()
        if self._destroyed:
            raise LavalinkError(f"the bot left guild {self.guild_id} meanwhile; join a voice channel again")
        synced = await self.node.wait_synced(self._client.settings.request_timeout)
        self._hooks.check_commands()  # a handoff began meanwhile: the node is not coming back to this process
        if not synced:
            raise NodeUnavailable(f"node {self.node.name!r} has no live session; try again once it is back")
        if self.node.session_id is None or not self.node.connected:
            raise NodeUnavailable(f"node {self.node.name!r} has no live session; try again once it is back")

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """A command's turn to talk to the node: `_prepare`, then the guild's lock. A restore or recovery that began
        while the command waited for the lock goes first (it restores a snapshot taken before the command, so it
        would undo it): the command gives the lock back, waits for it as `_prepare` does, and tries again."""
        while True:
            await self._prepare()
            await self._lock.acquire()
            if self._ready.is_set():
                break
            self._lock.release()
        try:
            yield
        finally:
            self._lock.release()

    async def _update(self, update: PlayerUpdate, *, no_replace: bool = False) -> None:
        session_id = self.node.session_id
        if session_id is None or not self.node.connected:
            raise NodeUnavailable(f"node {self.node.name!r} has no live session; try again once it is back")
        generation = self._track_events
        sends_track = isinstance(update.track, TrackUpdate)
        self._sending_track = sends_track
        try:
            info = await self.node.rest.update_player(session_id, self.guild_id, update, no_replace=no_replace)
        except LavalinkError:
            if self._destroyed and sends_track:
                self._overrule_successor()  # it may have landed all the same (a timeout, a lost answer)
            raise
        finally:
            self._sending_track = False
            left = self._hooks.left_requests.get(self.guild_id)
            if left is not None and left.sender is self:
                del self._hooks.left_requests[self.guild_id]  # the window in which its events are not ours is over
        if self._destroyed:
            # The bot left while this request was in flight: it may have created the player again.
            successor = self._client.get_player(self.guild_id)
            if successor is None or successor is self or successor.node is not self.node:
                await self.node.discard_player(self.guild_id)
            elif sends_track:
                self._overrule_successor()
            return
        # The answer travels apart from the websocket. If track events arrived meanwhile, the answer's track is
        # stale unless this update started that track itself (and it has not been seen ending since).
        fresh = generation == self._track_events
        if not fresh and info.track is not None and isinstance(update.track, TrackUpdate):
            fresh = not (self._last_ended is not None and same_track(self._last_ended, info.track))
        if fresh and info.track is None and self.track is not None and update.track is UNSET:
            # Our track ended on the node and its end event is on its way (it advances the queue): until it comes,
            # or a sync infers it, the track stays ours (dropping it here would skip the advance for good).
            fresh = False
        self._apply_info(info, track=fresh)

    def _overrule_successor(self) -> None:
        """This left player's start or stop reached the node after the guild was joined again: the node's player is
        the new one's, and this request landed on it. The new player puts back what it plays."""
        successor = self._client.get_player(self.guild_id)
        if successor is not None and successor is not self and successor.node is self.node:
            self._hooks.spawn(successor.overrule(), name=f"lavalink-overrule-{self.guild_id}")

    def _left_request(self) -> LeftRequest | None:
        """The track request of this guild's left player still on its way, unless it is this player's own."""
        left = self._hooks.left_requests.get(self.guild_id)
        return left if left is not None and left.sender is not self else None

    def _apply_info(self, info: PlayerInfo, *, track: bool = True) -> None:
        """Take Lavalink's view of the player (a REST answer) as the truth; `track=False` keeps track and state.

        A track we sent stays the object we sent (see `_own`). What the node did not report readably (a field
        another server words or wraps differently) is left as it was.
        """
        if track:
            current = None if info.track is None else self._own(info.track)
            if current is not None and current is self._pending:
                self._pending = None  # it did start
            self.track = current
            if info.state is not None:
                self.on_state(info.state)
        if info.paused is not None:
            self.paused = info.paused
        if info.volume is not None:
            self.volume = info.volume
        self.filters = info.filters.with_unread_from(self.filters)  # what the node reported unreadably is ours
        if info.voice.session_id:
            self.voice = info.voice

    def _own(self, track: Track) -> Track:
        """Our own object for `track`, a blob the node sent back (an event, a REST answer), or `track` itself.

        The node re-encodes a track with its current position; the object we sent is the blob the user queued,
        with its user data, and is what goes to the history and back into a loop.
        """
        for mine in (self._starting, self._pending, self.track):
            if mine is not None and same_track(mine, track):
                return mine
        return track

    async def _switch_to(
        self, track: Track, *, start: int = 0, end: int | None = None, paused: bool | None = None
    ) -> None:
        """Replace whatever plays by `track`; the end of the replaced track never advances the queue.

        `position` is always sent: a blob carries the position it was taken at, so one from an event or a REST
        answer would otherwise start there. The player keeps `track` itself (the user's object) as its track.
        """
        superseded, self._superseded = self._superseded, self.track
        self._unconfirmed = None
        update = PlayerUpdate(
            track=TrackUpdate(encoded=track.encoded, user_data=dict(track.user_data)),
            position=start,
            end_time=end if end is not None else UNSET,
            paused=paused if paused is not None else UNSET,
        )
        self._starting = self._sent = track
        # Unstarted from now on: its TrackStartEvent may overtake the answer (the node starts it before answering),
        # and then the answer must not make it unstarted again (its own end would be taken for an earlier play's).
        unstarted, self._unstarted = self._unstarted, track
        generation = self._track_events
        try:
            await self._update(update)
        except BaseException:
            self._superseded = superseded
            if self._unstarted is track:
                self._unstarted = unstarted
            raise
        finally:
            self._starting = None
        if (
            self._pending is not None
            and self.track is None
            and self._track_events != generation
            and same_track(self._last_ended, track)
        ):
            # `track` started and ended while its answer was on its way, and the queue moved on to the pending one
            # (in a looped track, `track` again): that one is still to start (its task waits for this request).
            self._unstarted = None
            self._save(position=True)
            return
        self._pending = None
        # (`_advanced_past` stays until the track's TrackStartEvent: the end of the track the queue moved on from
        # comes before it on the websocket, and may still be on its way now.)
        # Still unstarted unless its start (or end) came before the answer.
        self._unstarted = track if self._unstarted is track and self.track is track else None
        self._end_time = end
        self._save(position=True)

    async def _stop(self) -> None:
        superseded, self._superseded = self._superseded, self.track
        self._unconfirmed = None
        try:
            await self._update(PlayerUpdate(track=TrackUpdate(encoded=None)))
        except BaseException:
            self._superseded = superseded
            raise
        self.track = None
        self._pending = None
        self._save(position=True)

    async def _command(
        self,
        move: QueueMove,
        target: Track | None,
        *,
        start: int = 0,
        end: int | None = None,
        paused: bool | None = None,
    ) -> None:
        """Start `target` (`None`: stop) and make the command's queue change once the node took it: at its answer,
        or at the first event that says so if that comes first. A failed command changes nothing; a user's edits
        meanwhile stand either way.

        A failed request does not say the node did nothing (an unreadable answer, a timeout, a connection lost or a
        proxy's 5xx can all come after the node acted, and a cancelled command may have been sent): if `target`
        starts after all, its TrackStartEvent makes the change (see `Unconfirmed`).
        """
        flight = InFlight(move=move, target=target, before=self.snapshot())
        self._in_flight = flight
        self._overtaken = None
        try:
            if target is None:
                await self._stop()
            else:
                await self._switch_to(target, start=start, end=end, paused=paused)
        except BaseException:
            overtaken, self._overtaken = self._overtaken, None
            if self._in_flight is flight:
                self._in_flight = None
                if overtaken is not None and not self._destroyed:
                    # What it was to replace had ended on its own first: the queue moves on from it, as if no
                    # command had come (a track starting would have replaced the target anyway).
                    await self._advance_from(overtaken)
                elif target is not None:
                    self._unconfirmed = Unconfirmed(track=target, move=move)
            raise
        self._overtaken = None
        self._take_effect(flight)

    async def _advance_from(self, finished: Track, *, unannounced: bool = False) -> None:
        """The queue moves on from `finished`, which ended on its own (`PlayerAdvancing` does it)."""
        raise NotImplementedError

    def _take_effect(self, flight: InFlight) -> None:
        """The node took the command in flight: its queue change stands (once)."""
        if self._in_flight is flight:
            self._in_flight = None
            self.queue.apply(flight.move)
