"""The emulator's Lavalink plugins: LavaSrc, LavaSearch, LavaLyrics and SponsorBlock, as their sources behave.

``FakeLavalink(plugins=["lavasrc", "lavasearch", "lavalyrics", "sponsorblock"])`` lists them in ``/v4/info`` (under
their real names, ``lavasrc-plugin``...), serves their routes, and keeps per-player plugin state per session. Like
the real plugins, a session forgets that state on every websocket open, a resume included (their
``onWebSocketOpen`` resets it), and SponsorBlock forgets a player's categories when the player is destroyed. Events
come on the emulator's clock: ``SegmentsLoaded``/``ChaptersLoaded`` when a YouTube track starts on a player with
categories, ``SegmentSkipped``/``ChapterStarted`` as playback reaches them; ``LyricsFoundEvent`` (or
``LyricsNotFoundEvent``) when a track starts on a subscribed player, then a ``LyricsLineEvent`` per line.
Controls: `FakePlugins.set_lyrics`, `set_segments`, `set_chapters`; `requests` records every plugin request.
"""

from __future__ import annotations

import asyncio
import typing

import attrs

from lightbulb_lavalink.errors import SettingsError

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.protocol.tracks import Track
    from lightbulb_lavalink.testing.clock import Clock, Timer
    from lightbulb_lavalink.testing.player import FakePlayer

__all__ = ["PLUGINS", "FakePlugins", "Markers", "PluginRequest", "SessionPlugins"]

PLUGINS: typing.Final[typing.Mapping[str, tuple[str, str]]] = {
    "lavasrc": ("lavasrc-plugin", "4.3.0"),
    "lavasearch": ("lavasearch-plugin", "1.0.0"),
    "lavalyrics": ("lavalyrics-plugin", "1.0.0"),
    "sponsorblock": ("sponsorblock-plugin", "3.0.1"),
}
"""The plugins the emulator can serve: key -> (the name ``/v4/info`` lists, its version)."""

LAVASRC_SEARCHES: typing.Final[typing.Mapping[str, str]] = {
    "sp": "spotify",
    "am": "applemusic",
    "dz": "deezer",
    "ym": "yandexmusic",
    "vk": "vkmusic",
    "td": "tidal",
    "qb": "qobuz",
    "js": "jiosaavn",
}
"""LavaSrc's ``<prefix>search:`` prefixes and the source each searches."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class PluginRequest:
    """One request to a plugin's route, as the emulator received it."""

    method: str
    """``GET``, ``PUT``, ``POST``, ``DELETE``."""
    path: str
    """The route, without the query."""
    guild_id: int | None = None
    """The guild in the route, if any."""
    body: typing.Any = None
    """The decoded JSON body, if any."""


class FakePlugins:
    """The plugins one `FakeLavalink` serves, and what their tracks have (lyrics, segments, chapters)."""

    def __init__(self, names: typing.Iterable[str]) -> None:
        enabled = [name.strip().lower() for name in names]
        unknown = sorted(set(enabled) - set(PLUGINS))
        if unknown:
            raise SettingsError("plugins", f"unknown plugin(s) {', '.join(unknown)}; known: {', '.join(PLUGINS)}")
        self.enabled: frozenset[str] = frozenset(enabled)
        """The plugins served (keys of `PLUGINS`)."""
        self.requests: list[PluginRequest] = []
        """Every request to a plugin route, in order (tests see what a client sent again after a restart)."""
        self._waiters: list[tuple[typing.Callable[[PluginRequest], bool], asyncio.Future[PluginRequest]]] = []
        self._lyrics: dict[str, tuple[tuple[int, str], ...] | None] = {}
        self._segments: dict[str, tuple[tuple[str, int, int], ...]] = {}
        self._chapters: dict[str, tuple[tuple[str, int, int], ...]] = {}

    def __contains__(self, name: object) -> bool:
        return name in self.enabled

    def record(self, request: PluginRequest) -> None:
        """Note a request a plugin route received (and wake whoever waits for it)."""
        self.requests.append(request)
        for waiter in list(self._waiters):
            predicate, future = waiter
            if future.done() or predicate(request):
                self._waiters.remove(waiter)
                if not future.done():
                    future.set_result(request)

    async def wait_for_request(self, predicate: typing.Callable[[PluginRequest], bool]) -> PluginRequest:
        """The first request (received already, or the next one) that `predicate` accepts."""
        for request in self.requests:
            if predicate(request):
                return request
        future: asyncio.Future[PluginRequest] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        return await future

    def info_json(self) -> list[dict[str, str]]:
        """The ``plugins`` of ``/v4/info``."""
        return [{"name": PLUGINS[n][0], "version": PLUGINS[n][1]} for n in PLUGINS if n in self.enabled]

    # -- what tracks have ------------------------------------------------------------------------------------

    def set_lyrics(self, identifier: str, lines: typing.Sequence[tuple[int, str]] | None) -> None:
        """The lyrics of the track `identifier`: ``(timestamp_ms, text)`` lines, or `None` for none found."""
        self._lyrics[identifier] = None if lines is None else tuple(sorted(lines))

    def set_segments(self, identifier: str, segments: typing.Sequence[tuple[str, int, int]]) -> None:
        """The SponsorBlock segments of the video `identifier`: ``(category, start_ms, end_ms)``."""
        self._segments[identifier] = tuple(sorted(segments, key=lambda s: s[1]))

    def set_chapters(self, identifier: str, chapters: typing.Sequence[tuple[str, int, int]]) -> None:
        """The chapters of the video `identifier`: ``(name, start_ms, end_ms)``."""
        self._chapters[identifier] = tuple(sorted(chapters, key=lambda c: c[1]))

    def lyrics_of(self, track: Track) -> tuple[tuple[int, str], ...] | None:
        """A track's lyrics lines: as set, else a line every 5 s of its first minute (none for a stream)."""
        info = track.info
        if info.identifier in self._lyrics:
            return self._lyrics[info.identifier]
        length = info.known_length
        if info.is_stream or length is None or length < 5_000:
            return None
        return tuple(
            (ms, f"{info.title}, line {i + 1}") for i, ms in enumerate(range(5_000, min(length, 60_000), 5_000))
        )

    def segments_of(self, track: Track) -> tuple[tuple[str, int, int], ...]:
        """A video's segments: as set, else a sponsor at 0:30-0:45 and a self-promotion 40 s before the end."""
        info = track.info
        if info.identifier in self._segments:
            return self._segments[info.identifier]
        length = info.known_length
        if length is None or length < 120_000:
            return ()
        return (("sponsor", 30_000, 45_000), ("selfpromo", length - 40_000, length - 30_000))

    def chapters_of(self, track: Track) -> tuple[tuple[str, int, int], ...]:
        """A video's chapters: as set, else none."""
        return self._chapters.get(track.info.identifier, ())

    # -- what a player does when a track starts ---------------------------------------------------------------

    def on_track_start(self, player: FakePlayer, track: Track, state: SessionPlugins) -> None:
        """SponsorBlock (a YouTube track, categories set) and LavaLyrics (subscribed) react to a track start."""
        guild = player.guild_id
        categories = state.categories.get(guild) if "sponsorblock" in self.enabled else None
        if categories is not None and track.info.source_name == "youtube":
            self.load_segments(player, track, categories)
        if guild in state.lyrics and "lavalyrics" in self.enabled:
            self.load_lyrics(player, track)

    def load_segments(self, player: FakePlayer, track: Track, categories: typing.Collection[str]) -> None:
        """Send ``SegmentsLoaded``/``ChaptersLoaded`` and mark where to skip and where chapters start."""
        segments = [s for s in self.segments_of(track) if s[0] in categories]
        chapters = self.chapters_of(track)
        if segments:
            player.notify("SegmentsLoaded", segments=[_segment(s) for s in segments])
        if chapters:
            player.notify("ChaptersLoaded", chapters=[_chapter(c) for c in chapters])

        def skip(segment: tuple[str, int, int]) -> typing.Callable[[bool], None]:
            def fire(_: bool) -> None:
                if player.position < segment[2]:
                    player.seek(segment[2])
                player.notify("SegmentSkipped", segment=_segment(segment))

            return fire

        def start(chapter: tuple[str, int, int]) -> typing.Callable[[bool], None]:
            return lambda _: player.notify("ChapterStarted", chapter=_chapter(chapter))

        player.markers.add([(s[1], skip(s)) for s in segments] + [(c[1], start(c)) for c in chapters])

    def load_lyrics(self, player: FakePlayer, track: Track) -> None:
        """Send ``LyricsFoundEvent`` (or ``LyricsNotFoundEvent``) and mark every line."""
        lines = self.lyrics_of(track)
        if not lines:
            player.notify("LyricsNotFoundEvent")
            return
        source = track.info.source_name
        player.notify("LyricsFoundEvent", lyrics=lyrics_json(source, lines))

        def sing(index: int) -> typing.Callable[[bool], None]:
            def fire(skipped: bool) -> None:
                player.notify("LyricsLineEvent", lineIndex=index, line=_line(lines[index]), skipped=skipped)

            return fire

        player.markers.add([(ms, sing(i)) for i, (ms, _) in enumerate(lines)])


def _segment(segment: tuple[str, int, int]) -> dict[str, typing.Any]:
    return {"category": segment[0], "start": segment[1], "end": segment[2]}


def _chapter(chapter: tuple[str, int, int]) -> dict[str, typing.Any]:
    name, start, end = chapter
    return {"name": name, "start": start, "end": end, "duration": end - start}


def _line(line: tuple[int, str]) -> dict[str, typing.Any]:
    return {"timestamp": line[0], "duration": None, "line": line[1], "plugin": {}}


def lyrics_json(source: str, lines: typing.Sequence[tuple[int, str]]) -> dict[str, typing.Any]:
    """A LavaLyrics Lyrics object."""
    return {
        "sourceName": source,
        "provider": "Emulated",
        "text": None,
        "lines": [_line(x) for x in lines],
        "plugin": {},
    }


class SessionPlugins:
    """What the plugins keep for one session: SponsorBlock categories and lyrics subscriptions, by guild."""

    def __init__(self) -> None:
        self.categories: dict[int, tuple[str, ...]] = {}
        """SponsorBlock: guild -> the categories it skips."""
        self.lyrics: dict[int, bool] = {}
        """LavaLyrics: subscribed guild -> its ``skipTrackSource``."""

    def reset(self) -> None:
        """Forget everything (what both plugins do on every websocket open, a resume included)."""
        self.categories.clear()
        self.lyrics.clear()


class Markers:
    """Positions in a player's track where something happens (lavaplayer's track markers), on the emulator's clock.

    A marker reached while playing fires with ``False``; one passed over (a seek, a late reschedule) fires with
    ``True`` at once, as lavaplayer's ``LATE``/``BYPASSED``.
    """

    def __init__(self, player: FakePlayer, clock: Clock) -> None:
        self._player = player
        self._clock = clock
        self._items: list[tuple[int, typing.Callable[[bool], None]]] = []
        self._timer: Timer | None = None
        self._firing = False

    def add(self, items: typing.Iterable[tuple[int, typing.Callable[[bool], None]]]) -> None:
        """Add markers and schedule the next one."""
        self._items = sorted([*self._items, *items], key=lambda item: item[0])
        self.reschedule()

    def clear(self) -> None:
        """Drop every marker (the track ended)."""
        self._items.clear()
        self._cancel()

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def reschedule(self) -> None:
        """Fire markers already passed, then schedule the next (playback changed: seek, pause, speed, start)."""
        if self._firing:
            return
        self._cancel()
        player = self._player
        self._firing = True
        try:
            while self._items and player.has_track and self._items[0][0] < player.position:
                _, fire = self._items.pop(0)
                fire(True)
        finally:
            self._firing = False
        if not self._items or not player.advancing:
            return
        speed = player.filters.speed
        if speed <= 0:
            return
        delay = max(0.0, (self._items[0][0] - player.position) / 1000.0 / speed)
        self._timer = self._clock.call_at(self._clock.now() + delay, self._reached)

    def _reached(self) -> None:
        self._timer = None
        if not self._items or not self._player.has_track:
            return
        _, fire = self._items.pop(0)
        self._firing = True
        try:
            fire(False)
        finally:
            self._firing = False
        self.reschedule()
