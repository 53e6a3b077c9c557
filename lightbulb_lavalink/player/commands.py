"""`Player`: one guild's player, and the commands that drive it."""

from __future__ import annotations

import logging
import typing

from lightbulb_lavalink import events
from lightbulb_lavalink.arguments import check_bool, check_filters, check_ms, check_track, check_volume
from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.player.base import LeftRequest
from lightbulb_lavalink.protocol.filters import Filters
from lightbulb_lavalink.protocol.player import UNSET, PlayerUpdate, TrackUpdate
from lightbulb_lavalink.queue import QueueMove

if typing.TYPE_CHECKING:

    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.protocol.tracks import Track
    from lightbulb_lavalink.voice import VoiceConnectionInfo


from lightbulb_lavalink.player.restoring import PlayerRestoring

__all__ = ["Player"]

_LOGGER = logging.getLogger("lightbulb_lavalink.player")


class Player(PlayerRestoring):
    """A guild's player: its node, voice channel, current track, interpolated position and queue.

    Created by `LavalinkClient.join` (or rebuilt by the resume coordinator); never construct one yourself.
    """

    __slots__ = ()

    async def play(
        self,
        track: Track | None = None,
        *,
        start: int = 0,
        end: int | None = None,
        paused: bool | None = None,
        replace: bool = True,
    ) -> Track | None:
        """Play `track` now (or, with no track, the next one from the queue); return what plays.

        `start`/`end` are milliseconds. With `replace=False` an already playing track is kept and `track` is
        queued instead. Returns `None` when there was nothing to play. If the node cannot be reached the error
        is raised and the queue is left as it was.

        A track waiting to start (its request failed and is being retried) counts as the playing one: with
        `replace=False` `track` is queued behind it; a `track` played now goes in front of it (it plays next,
        it is not dropped); with no `track` it is started now. Bad arguments raise `TypeError`/`ValueError`
        before anything is sent.

        Raises:
            TypeError: `track`, `start`, `end` or `paused` has the wrong type (before anything is sent).
            ValueError: `start` or `end` is negative, or `end` is not after `start`.
            NodeUnavailable: The node has no live session, or the guild is still being restored after
                `request_timeout + voice_timeout`.
            LavalinkError: The bot left the guild (join again), or the request failed (`RestError`,
                `RequestTimeoutError`, `ProtocolError`); the queue is then as it was.
        """
        if track is not None:
            check_track(track)
        check_ms(start, "start")
        if end is not None and check_ms(end, "end") <= start:
            raise ValueError(f"end ({end} ms) must come after start ({start} ms)")
        if paused is not None:
            check_bool(paused, "paused")
        check_bool(replace, "replace")
        async with self._turn():
            # A pending track is the current one as far as the user can tell (`snapshot()` reports it).
            pending = self._pending if self.track is None else None
            current = self.track if self.track is not None else pending
            if track is not None and not replace and current is not None:
                self.queue.add(track)
                return current
            move = QueueMove()
            if track is None:
                if current is not None and not replace:
                    return current
                if pending is not None:
                    # Play what should be playing, now rather than at its next retry.
                    track = pending
                    if not start and end is None:
                        start, end = self._pending_at, self._end_time
                else:
                    move = self.queue.plan_next()
                    track = move.started
                    if track is None:
                        return None
            elif pending is not None:
                move = QueueMove(front=pending)  # it never got to play: it plays next, it is not dropped
            await self._command(move, track, start=start, end=end, paused=paused)
            return track

    async def pause(self) -> None:
        """Pause playback.

        Raises:
            NodeUnavailable: The node has no live session, or the guild is still being restored after
                `request_timeout + voice_timeout`.
            LavalinkError: The bot left the guild (join again), or the request failed (`RestError`,
                `RequestTimeoutError`, `ProtocolError`); the queue is then as it was.
        """
        async with self._turn():
            await self._update(PlayerUpdate(paused=True))
        self._save(position=True)

    async def resume(self) -> None:
        """Resume paused playback.

        Raises:
            NodeUnavailable: The node has no live session, or the guild is still being restored after
                `request_timeout + voice_timeout`.
            LavalinkError: The bot left the guild (join again), or the request failed (`RestError`,
                `RequestTimeoutError`, `ProtocolError`); the queue is then as it was.
        """
        async with self._turn():
            await self._update(PlayerUpdate(paused=False))
        self._save(position=True)

    async def set_pause(self, paused: bool) -> None:
        """Pause or resume (`TypeError` unless `paused` is a bool).

        Raises:
            TypeError: `paused` is not a bool.
            NodeUnavailable: The node has no live session, or the guild is still being restored after
                `request_timeout + voice_timeout`.
            LavalinkError: The bot left the guild (join again), or the request failed (`RestError`,
                `RequestTimeoutError`, `ProtocolError`); the queue is then as it was.
        """
        check_bool(paused, "paused")
        await (self.pause() if paused else self.resume())

    async def seek(self, position: int) -> None:
        """Jump to `position` milliseconds in the current track.

        Raises:
            TypeError: `position` is not an int.
            ValueError: `position` is negative.
            NodeUnavailable: The node has no live session, or the guild is still being restored after
                `request_timeout + voice_timeout`.
            LavalinkError: The bot left the guild (join again), or the request failed (`RestError`,
                `RequestTimeoutError`, `ProtocolError`); the queue is then as it was.
        """
        check_ms(position, "position")
        async with self._turn():
            await self._update(PlayerUpdate(position=position))
        self._save(position=True)

    async def set_volume(self, volume: int) -> None:
        """Set the volume, 0 to 1000 (100 is unchanged).

        Raises:
            TypeError: `volume` is not an int.
            ValueError: `volume` is not from 0 to 1000.
            NodeUnavailable: The node has no live session, or the guild is still being restored after
                `request_timeout + voice_timeout`.
            LavalinkError: The bot left the guild (join again), or the request failed (`RestError`,
                `RequestTimeoutError`, `ProtocolError`); the queue is then as it was.
        """
        check_volume(volume)
        async with self._turn():
            await self._update(PlayerUpdate(volume=volume))
        self._save()

    async def set_filters(self, filters: Filters) -> None:
        """Replace every audio filter with `filters` (`TypeError` unless it is a `Filters`).

        Raises:
            TypeError: `filters` is not a `Filters`.
            NodeUnavailable: The node has no live session, or the guild is still being restored after
                `request_timeout + voice_timeout`.
            LavalinkError: The bot left the guild (join again), or the request failed (`RestError`,
                `RequestTimeoutError`, `ProtocolError`); the queue is then as it was.
        """
        check_filters(filters)
        async with self._turn():
            await self._update(PlayerUpdate(filters=filters))
        self.filters = filters  # the node took them, whatever of them it reports readably (NodeLink's volume: {})
        self._save()

    async def skip(self) -> Track | None:
        """Skip the current track and play the next one from the queue; return it (`None`: queue ended).

        A track waiting to start is skipped like a playing one (it goes to the history). If the node cannot be
        reached the error is raised and the queue is left as it was.

        Raises:
            NodeUnavailable: The node has no live session, or the guild is still being restored after
                `request_timeout + voice_timeout`.
            LavalinkError: The bot left the guild (join again), or the request failed (`RestError`,
                `RequestTimeoutError`, `ProtocolError`); the queue is then as it was.
        """
        async with self._turn():
            # A pending track is skipped like a playing one: to the history, never silently dropped.
            move = self.queue.plan_skip(self.track if self.track is not None else self._pending)
            nxt = move.started
            await self._command(move, nxt)
        if nxt is None:
            self._client.dispatch(events.QueueEndEvent(app=self._client.app, client=self._client, player=self))
        return nxt

    async def stop(self) -> None:
        """Stop the current track (or the one waiting to start); the queue is kept.

        Raises:
            NodeUnavailable: The node has no live session, or the guild is still being restored after
                `request_timeout + voice_timeout`.
            LavalinkError: The bot left the guild (join again), or the request failed (`RestError`,
                `RequestTimeoutError`, `ProtocolError`); the queue is then as it was.
        """
        async with self._turn():
            await self._command(QueueMove(), None)

    async def destroy(self) -> None:
        """Destroy the player on its node and forget it (the queue is dropped); used by `LavalinkClient.leave`.

        When the node is away the player is destroyed as soon as its session is back.
        """
        self._destroyed = True
        self._ready.set()
        if self._retry is not None:
            self._retry.cancel()
        if self._sending_track:
            # It may land after the guild is joined again: until it is answered, its events are not the new
            # player's (see `overrule`).
            self._hooks.left_requests[self.guild_id] = LeftRequest(sender=self, track=self._starting)
        await self.node.discard_player(self.guild_id)

    async def move_to(self, node: Node) -> None:
        """Carry this guild's playback over to `node`; the queue does not notice."""
        client = self._client
        old = self.node
        snap = self.snapshot()
        current = client.voice.current(self.guild_id)
        voice = current.to_voice_state() if current is not None else self.voice
        self.node = node
        self._superseded = None
        await old.discard_player(self.guild_id)
        try:
            await self.restore(snap, voice)
        finally:
            self._hooks.forget(old.name, self.guild_id)
            self._hooks.save(self)
        client.dispatch(events.PlayerMovedEvent(app=client.app, client=client, player=self, previous_node=old))

    async def overrule(self) -> None:
        """A start or stop of this guild's previous (left) player reached the node after this one took over: put
        back what this player plays (stop, when nothing). Until that request was answered, the events it caused
        were not taken as this player's (its track, or the end of ours it replaced or stopped: see `LeftRequest`),
        so what this player plays is still what the user asked of it."""
        async with self._lock:
            if self._destroyed or not self.node.connected or self._pending is not None:
                return
            try:
                if self.track is None:
                    await self._stop()
                else:
                    track = self.track
                    await self._update(
                        PlayerUpdate(
                            track=TrackUpdate(encoded=track.encoded, user_data=dict(track.user_data)),
                            position=self.position,
                            end_time=self._end_time if self._end_time is not None else UNSET,
                            paused=self.paused,
                        )
                    )
            except LavalinkError as exc:
                _LOGGER.warning("guild %s: could not undo a late request of its left player: %s", self.guild_id, exc)

    async def send_voice(self, info: VoiceConnectionInfo) -> None:
        """Hand Lavalink the guild's Discord voice connection (a join, a move, a region change, a rejoin)."""
        if self._destroyed:
            return  # left meanwhile: a voice update must not create its player again
        self.channel_id = info.channel_id
        async with self._lock:
            if not self._destroyed:
                await self._update(PlayerUpdate(voice=info.to_voice_state()))
