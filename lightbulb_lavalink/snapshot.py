"""Plain-data snapshots of a guild's playback and queue, as the session stores keep them."""

from __future__ import annotations

import logging
import time
import typing

import attrs

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.protocol._parse import make_twin

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.protocol.tracks import Track

__all__ = ["GuildSnapshot", "PluginSnapshot", "QueueSnapshot", "TrackSnapshot"]

_LOGGER = logging.getLogger("lightbulb_lavalink.snapshot")

_LOOP_MODES = frozenset({"off", "track", "queue"})


def _expect(data: typing.Any, key: str, kind: type | tuple[type, ...], where: str) -> typing.Any:
    if not isinstance(data, dict):
        raise StoreError(f"snapshot {where or '<root>'}: expected an object, got {type(data).__name__}")
    if key not in data:
        raise StoreError(f"snapshot {where}.{key}: missing")
    value = data[key]
    # bool is an int subclass: refuse it where a number is expected.
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise StoreError(f"snapshot {where}.{key}: expected {_kind_name(kind)}, got {type(value).__name__}")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return " or ".join("null" if k is type(None) else k.__name__ for k in _as_tuple(kind))


@attrs.frozen(kw_only=True, weakref_slot=False)
class TrackSnapshot:
    """One track as saved: its encoded blob and the bot's user data (who requested it, ...)."""

    encoded: str
    """The base64 track blob Lavalink understands."""
    user_data: dict[str, typing.Any] = attrs.field(factory=dict)
    """The track's `userData`, JSON-safe."""
    plugin_info: dict[str, typing.Any] = attrs.field(factory=dict)
    """The track's `pluginInfo` (what plugins such as LavaSrc add), JSON-safe; written only when not empty."""

    def to_dict(self) -> dict[str, typing.Any]:
        """Return the JSON-safe form: `userData` and `pluginInfo` are written only when not empty (most queued
        tracks have neither, and every version reads a missing one as empty)."""
        data: dict[str, typing.Any] = {"encoded": self.encoded}
        if self.user_data:
            data["userData"] = self.user_data
        if self.plugin_info:
            data["pluginInfo"] = self.plugin_info
        return data

    @classmethod
    def from_dict(cls, data: typing.Any, where: str = "track") -> TrackSnapshot:
        """Build from `to_dict()` output.

        Raises:
            StoreError: A field is missing or of the wrong type (naming it).
        """
        return cls(
            encoded=_expect(data, "encoded", str, where),
            user_data=_expect(data, "userData", dict, where) if "userData" in data else {},
            plugin_info=_expect(data, "pluginInfo", dict, where) if "pluginInfo" in data else {},
        )

    @classmethod
    def of(cls, track: Track) -> TrackSnapshot:
        """The snapshot of a track: its blob, user data and plugin info."""
        return cls(encoded=track.encoded, user_data=dict(track.user_data), plugin_info=dict(track.plugin_info))


@attrs.frozen(kw_only=True, weakref_slot=False)
class QueueSnapshot:
    """A guild queue as saved: what comes next, what was played, and the loop mode."""

    tracks: tuple[TrackSnapshot, ...] = ()
    """Upcoming tracks, next first."""
    history: tuple[TrackSnapshot, ...] = ()
    """Played tracks, most recent last."""
    loop: str = "off"
    """``"off"``, ``"track"`` or ``"queue"``."""

    def to_dict(self) -> dict[str, typing.Any]:
        """Return the JSON-safe form."""
        return {
            "tracks": [t.to_dict() for t in self.tracks],
            "history": [t.to_dict() for t in self.history],
            "loop": self.loop,
        }

    @classmethod
    def from_dict(cls, data: typing.Any, where: str = "queue") -> QueueSnapshot:
        """Build from `to_dict()` output.

        Raises:
            StoreError: A field is missing, of the wrong type, or an unknown loop mode (naming it).
        """
        tracks = _expect(data, "tracks", list, where)
        history = _expect(data, "history", list, where)
        loop = _expect(data, "loop", str, where)
        if loop not in _LOOP_MODES:
            raise StoreError(f"snapshot {where}.loop: unknown loop mode {loop!r}")
        return cls(
            tracks=_track_list(tracks, f"{where}.tracks"), history=_track_list(history, f"{where}.history"), loop=loop
        )


def _track_list(items: list[typing.Any], where: str) -> tuple[TrackSnapshot, ...]:
    """The saved tracks of one list. The usual entry (a plain object with a string blob and object-valued
    `userData`/`pluginInfo`, or none) is read at once and built without the frozen class's ``__init__``; anything
    else goes through `TrackSnapshot.from_dict`, which names what is wrong. (A resume reads a million of these: no
    per-entry name is built unless one is needed.)"""
    out: list[TrackSnapshot] = []
    append = out.append
    new, twin, real, none, dict_ = _object_new, _TrackSnapshotTwin, TrackSnapshot, _NONE, dict
    for i, item in enumerate(items):
        if type(item) is dict_:
            encoded = item.get("encoded")
            user_data = item.get("userData", none)
            plugin_info = item.get("pluginInfo", none)
            if (
                type(encoded) is str
                and (user_data is none or type(user_data) is dict_)
                and (plugin_info is none or type(plugin_info) is dict_)
            ):
                snap = new(twin)
                snap.encoded = encoded
                snap.user_data = {} if user_data is none else user_data
                snap.plugin_info = {} if plugin_info is none else plugin_info
                snap.__class__ = real
                append(snap)
                continue
        append(real.from_dict(item, f"{where}[{i}]"))
    return tuple(out)


_NONE: typing.Final[typing.Any] = object()  # "absent", told apart from null
# `_track_list` fills an instance of a plain class with TrackSnapshot's slots, then gives it its real class: a
# frozen attrs ``__init__`` costs more (see `lightbulb_lavalink.protocol._parse.make_twin`).
_object_new = object.__new__
_TrackSnapshotTwin = make_twin(TrackSnapshot)


def _categories(value: typing.Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise TypeError("expected an array of strings")
    return tuple(value)


@attrs.frozen(kw_only=True, weakref_slot=False)
class PluginSnapshot:
    """What Lavalink plugins hold for one player and lose with its session: set through `LavalinkClient.plugins`,
    saved with the guild and sent again when the guild is back (see the plugins guide)."""

    sponsorblock_categories: tuple[str, ...] | None = None
    """The SponsorBlock segment categories skipped (``sponsor``, ``selfpromo``...); `None` when never set (the
    plugin then skips nothing), ``()`` when cleared."""
    lyrics_subscribed: bool = False
    """Whether the player is subscribed to LavaLyrics' live lyrics events."""
    lyrics_skip_track_source: bool = False
    """The subscription's ``skipTrackSource``: lyrics from the configured sources, not the track's own."""

    @property
    def empty(self) -> bool:
        """Whether there is nothing to keep (nothing is written to the store then)."""
        return self.sponsorblock_categories is None and not self.lyrics_subscribed

    def to_dict(self) -> dict[str, typing.Any]:
        """Return the JSON-safe form (only what was set)."""
        data: dict[str, typing.Any] = {}
        if self.sponsorblock_categories is not None:
            data["sponsorblock"] = {"categories": list(self.sponsorblock_categories)}
        if self.lyrics_subscribed:
            data["lyrics"] = {"subscribed": True, "skipTrackSource": self.lyrics_skip_track_source}
        return data

    @classmethod
    def from_dict(cls, data: typing.Any, where: str = "plugins") -> PluginSnapshot:
        """Build from `to_dict()` output. Liberal: a part that cannot be read is dropped with a warning (the guild's
        playback and queue matter more than a plugin setting), and parts of newer versions are ignored."""
        if not isinstance(data, dict):
            _LOGGER.warning("snapshot %s: expected an object, got %s; plugin state dropped", where, type(data).__name__)
            return cls()
        categories: tuple[str, ...] | None = None
        sponsorblock = data.get("sponsorblock")
        if sponsorblock is not None:
            try:
                categories = _categories(sponsorblock["categories"] if isinstance(sponsorblock, dict) else None)
            except (TypeError, KeyError) as exc:
                _LOGGER.warning("snapshot %s.sponsorblock: %s; dropped", where, exc)
        subscribed = skip = False
        lyrics = data.get("lyrics")
        if lyrics is not None:
            if isinstance(lyrics, dict) and isinstance(lyrics.get("subscribed"), bool):
                subscribed = lyrics["subscribed"]
                skip = lyrics.get("skipTrackSource") is True
            else:
                _LOGGER.warning("snapshot %s.lyrics: expected {subscribed: bool}; dropped", where)
        return cls(sponsorblock_categories=categories, lyrics_subscribed=subscribed, lyrics_skip_track_source=skip)


@attrs.frozen(kw_only=True, weakref_slot=False)
class GuildSnapshot:
    """Everything needed to bring one guild's playback back after a restart."""

    guild_id: int
    """The guild."""
    node: str
    """Name of the node the guild's player lives on."""
    channel_id: int | None
    """The voice channel the bot was in, or `None` if it was not connected."""
    track: TrackSnapshot | None = None
    """The current track, or `None` when idle."""
    position: int = 0
    """Position in the current track, in milliseconds, as of `updated_at`."""
    paused: bool = False
    """Whether playback was paused."""
    volume: int = 100
    """Player volume, 0 to 1000."""
    filters: dict[str, typing.Any] = attrs.field(factory=dict)
    """The player's filters in their wire (JSON) form."""
    queue: QueueSnapshot = attrs.field(factory=QueueSnapshot)
    """The bot-side queue."""
    updated_at: float = attrs.field(factory=time.time)
    """Unix time at which `position` was true."""
    end_time: int | None = None
    """Where the current track stops early (a clip's `end`), in milliseconds, or `None`."""
    left: bool = False
    """A tombstone: the bot left this guild while its node was away. Its player there is destroyed once the
    session is back, and nothing of it is restored (the other fields are empty)."""
    pending: bool = False
    """Whether `track` had not started on the node yet: it starts (at `position`) once the guild is back, and it
    counts as not played (a restore never skips it as ended)."""
    plugins: PluginSnapshot = attrs.field(factory=PluginSnapshot)
    """Plugin state of the player (SponsorBlock categories, a lyrics subscription), sent again when the guild is
    back. Snapshots written before it existed read as none."""

    def to_dict(self) -> dict[str, typing.Any]:
        """Return the JSON-safe form (guild and channel ids as strings, as Discord writes them)."""
        return {
            "guildId": str(self.guild_id),
            "node": self.node,
            "channelId": None if self.channel_id is None else str(self.channel_id),
            "track": None if self.track is None else self.track.to_dict(),
            "position": self.position,
            "paused": self.paused,
            "volume": self.volume,
            "filters": self.filters,
            "queue": self.queue.to_dict(),
            "updatedAt": self.updated_at,
            **({} if self.end_time is None else {"endTime": self.end_time}),
            **({"pending": True} if self.pending else {}),
            **({"left": True} if self.left else {}),
            **({} if self.plugins.empty else {"plugins": self.plugins.to_dict()}),
        }

    @classmethod
    def from_dict(cls, data: typing.Any) -> GuildSnapshot:
        """Build from `to_dict()` output.

        Raises:
            StoreError: A field is missing, of the wrong type or out of range (naming it).
        """
        if cls is GuildSnapshot:
            snapshot = _usual_guild(data)
            if snapshot is not None:
                return snapshot
        guild_id = _expect(data, "guildId", str, "")
        channel_id = _expect(data, "channelId", (str, type(None)), "")
        track = _expect(data, "track", (dict, type(None)), "")
        try:
            gid = int(guild_id)
            cid = None if channel_id is None else int(channel_id)
        except ValueError as exc:
            raise StoreError(f"snapshot: guild or channel id is not a number: {exc}") from None
        position = _expect(data, "position", int, "")
        volume = _expect(data, "volume", int, "")
        if position < 0:
            raise StoreError("snapshot .position: negative")
        return cls(
            guild_id=gid,
            node=_expect(data, "node", str, ""),
            channel_id=cid,
            track=None if track is None else TrackSnapshot.from_dict(track),
            position=position,
            paused=_expect(data, "paused", bool, ""),
            volume=volume,
            filters=_expect(data, "filters", dict, ""),
            queue=QueueSnapshot.from_dict(_expect(data, "queue", dict, "")),
            updated_at=float(_expect(data, "updatedAt", (int, float), "")),
            end_time=_expect(data, "endTime", (int, type(None)), "") if "endTime" in data else None,
            pending=_expect(data, "pending", bool, "") if "pending" in data else False,
            left=_expect(data, "left", bool, "") if "left" in data else False,
            plugins=PluginSnapshot.from_dict(data["plugins"]) if "plugins" in data else PluginSnapshot(),
        )


_NO_PLUGINS: typing.Final = PluginSnapshot()
_USUAL_KEYS: typing.Final = frozenset(
    {"guildId", "node", "channelId", "track", "position", "paused", "volume", "filters", "queue", "updatedAt",
     "endTime", "pending", "left"}
)  # fmt: skip
_GuildSnapshotTwin = make_twin(GuildSnapshot)
_QueueSnapshotTwin = make_twin(QueueSnapshot)


def _usual_guild(data: typing.Any) -> GuildSnapshot | None:
    """`GuildSnapshot.from_dict` of the usual saved guild (every field of the expected type, no plugin state),
    checked inline and built without the frozen classes' ``__init__``: a restart reads ten thousand of them.
    ``None`` for anything else, which the checked path reads (or refuses, naming the field)."""
    if type(data) is not dict or not _USUAL_KEYS.issuperset(data):
        return None
    g = data.get
    guild_id, channel_id, node, track = g("guildId"), g("channelId"), g("node"), g("track")
    position, volume, paused, filters = g("position"), g("volume"), g("paused"), g("filters")
    updated_at, end_time, pending, left = g("updatedAt"), g("endTime"), g("pending", False), g("left", False)
    queue = g("queue")
    if not (
        type(guild_id) is str
        and (channel_id is None or type(channel_id) is str)
        and type(node) is str
        and type(position) is int
        and position >= 0
        and type(volume) is int
        and type(paused) is bool
        and type(filters) is dict
        and (type(updated_at) is float or type(updated_at) is int)
        and (end_time is None or type(end_time) is int)
        and type(pending) is bool
        and type(left) is bool
        and type(queue) is dict
        and len(queue) == 3  # tracks, history, loop
    ):
        return None
    tracks, history, loop = queue.get("tracks"), queue.get("history"), queue.get("loop")
    # `loop` is checked to be a string first: an unhashable one (a list, an object) would raise TypeError here,
    # and the row be skipped without naming the field, where the checked path names it.
    if type(tracks) is not list or type(history) is not list or type(loop) is not str or loop not in _LOOP_MODES:
        return None
    current: TrackSnapshot | None = None
    if track is not None:
        if type(track) is not dict or type(track.get("encoded")) is not str:
            return None
        user_data, plugin_info = track.get("userData", _NONE), track.get("pluginInfo", _NONE)
        if (user_data is not _NONE and type(user_data) is not dict) or (
            plugin_info is not _NONE and type(plugin_info) is not dict
        ):
            return None
        current = _track_list([track], "track")[0]
    try:
        gid = int(guild_id)
        cid = None if channel_id is None else int(channel_id)
    except ValueError:
        return None
    saved = _object_new(_QueueSnapshotTwin)
    saved.tracks = _track_list(tracks, "queue.tracks")
    saved.history = _track_list(history, "queue.history") if history else ()
    saved.loop = loop
    saved.__class__ = QueueSnapshot
    snap = _object_new(_GuildSnapshotTwin)
    snap.guild_id = gid
    snap.node = node
    snap.channel_id = cid
    snap.track = current
    snap.position = position
    snap.paused = paused
    snap.volume = volume
    snap.filters = filters
    snap.queue = saved
    snap.updated_at = float(updated_at)
    snap.end_time = end_time
    snap.left = left
    snap.pending = pending
    snap.plugins = _NO_PLUGINS
    snap.__class__ = GuildSnapshot
    return snap  # type: ignore[no-any-return]
