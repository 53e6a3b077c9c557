"""Lavalink v4 for hikari bots, shipped as a hikari-lightbulb extension, with complete session resuming.

```python
# lightbulb 3
await client.load_extensions("lightbulb_lavalink")
# lightbulb 2
bot.load_extensions("lightbulb_lavalink")
```

The extension entry points (`loader` for lightbulb 3, `load`/`unload` for lightbulb 2) are chosen on
``lightbulb.__version__`` when first looked up, so importing this package never imports lightbulb.
"""

from __future__ import annotations

import typing

from lightbulb_lavalink import events
from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import (
    AuthenticationError,
    HandoffError,
    LavalinkError,
    NodeUnavailable,
    PlayerNotFoundError,
    PlayerOrSessionNotFoundError,
    ProtocolError,
    RequestTimeoutError,
    RestError,
    SessionExpired,
    SessionNotFoundError,
    SettingsError,
    StoreError,
    TrackDecodeError,
    UserDataError,
    VoiceTimeoutError,
)
from lightbulb_lavalink.events import (
    HandoffCompletedEvent,
    LavalinkEvent,
    NodeDisconnectedEvent,
    NodeReadyEvent,
    NodeStatsEvent,
    PlayerEvent,
    PlayerMovedEvent,
    PlayerUpdateEvent,
    QueueEndEvent,
    ResumeCompletedEvent,
    SessionRecoveredEvent,
    SessionResumedEvent,
    TrackEndEvent,
    TrackExceptionEvent,
    TrackStartEvent,
    TrackStartFailedEvent,
    TrackStuckEvent,
    UnknownMessageEvent,
    VoiceClosedEvent,
)
from lightbulb_lavalink.node import Node, NodeState
from lightbulb_lavalink.player import Player
from lightbulb_lavalink.protocol.codec import decode_track, encode_track
from lightbulb_lavalink.protocol.filters import (
    ChannelMix,
    Distortion,
    EqualizerBand,
    Filters,
    Karaoke,
    LowPass,
    Rotation,
    Timescale,
    Tremolo,
    Vibrato,
)
from lightbulb_lavalink.protocol.info import Info
from lightbulb_lavalink.protocol.messages import TrackEndReason
from lightbulb_lavalink.protocol.player import PlayerState, VoiceState
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.protocol.stats import Stats
from lightbulb_lavalink.protocol.tracks import (
    ExceptionInfo,
    LoadResult,
    LoadType,
    Playlist,
    PlaylistInfo,
    Severity,
    Track,
    TrackInfo,
)
from lightbulb_lavalink.queue import GuildQueue, LoopMode
from lightbulb_lavalink.resuming import SyncReport
from lightbulb_lavalink.resuming.outcome import PositionJump, ResumePhases, ResumeReport
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.shards import Shards, shard_of
from lightbulb_lavalink.snapshot import GuildSnapshot, QueueSnapshot, TrackSnapshot
from lightbulb_lavalink.stores import (
    JSONFileStore,
    MemoryStore,
    PostgresStore,
    RedisStore,
    SessionStore,
    SnapshotWriter,
    SQLiteStore,
    StoreKey,
    open_store,
)
from lightbulb_lavalink.voice import HikariVoiceGateway, VoiceConnectionInfo, VoiceGateway, VoiceManager

__all__ = [
    "AuthenticationError",
    "ChannelMix",
    "Distortion",
    "EqualizerBand",
    "ExceptionInfo",
    "Filters",
    "GuildQueue",
    "GuildSnapshot",
    "HandoffCompletedEvent",
    "HandoffError",
    "HikariVoiceGateway",
    "Info",
    "JSONFileStore",
    "Karaoke",
    "LavalinkClient",
    "LavalinkError",
    "LavalinkEvent",
    "LavalinkSettings",
    "LoadResult",
    "LoadType",
    "LoopMode",
    "LowPass",
    "MemoryStore",
    "Node",
    "NodeDisconnectedEvent",
    "NodeReadyEvent",
    "NodeSettings",
    "NodeState",
    "NodeStatsEvent",
    "NodeUnavailable",
    "Player",
    "PlayerEvent",
    "PlayerMovedEvent",
    "PlayerNotFoundError",
    "PlayerOrSessionNotFoundError",
    "PlayerState",
    "PlayerUpdateEvent",
    "Playlist",
    "PlaylistInfo",
    "PositionJump",
    "PostgresStore",
    "ProtocolError",
    "QueueEndEvent",
    "QueueSnapshot",
    "RedisStore",
    "RequestTimeoutError",
    "RestClient",
    "RestError",
    "ResumeCompletedEvent",
    "ResumePhases",
    "ResumeReport",
    "Rotation",
    "SQLiteStore",
    "SessionExpired",
    "SessionNotFoundError",
    "SessionRecoveredEvent",
    "SessionResumedEvent",
    "SessionStore",
    "SettingsError",
    "Severity",
    "Shards",
    "SnapshotWriter",
    "Stats",
    "StoreError",
    "StoreKey",
    "SyncReport",
    "Timescale",
    "Track",
    "TrackDecodeError",
    "TrackEndEvent",
    "TrackEndReason",
    "TrackExceptionEvent",
    "TrackInfo",
    "TrackSnapshot",
    "TrackStartEvent",
    "TrackStartFailedEvent",
    "TrackStuckEvent",
    "Tremolo",
    "UnknownMessageEvent",
    "UserDataError",
    "Vibrato",
    "VoiceClosedEvent",
    "VoiceConnectionInfo",
    "VoiceGateway",
    "VoiceManager",
    "VoiceState",
    "VoiceTimeoutError",
    "__version__",
    "decode_track",
    "encode_track",
    "events",
    "open_store",
    "shard_of",
]

__version__ = "0.1.0"

# The names each lightbulb major looks for when it loads this package as an extension.
_LIGHTBULB3_NAMES = ("loader",)
_LIGHTBULB2_NAMES = ("load", "unload")


def _lightbulb_major() -> int | None:
    try:
        import lightbulb
    except ImportError:
        return None
    return int(str(lightbulb.__version__).split(".", 1)[0])


def __getattr__(name: str) -> typing.Any:
    """The extension entry points, imported on first use for the installed lightbulb major."""
    if name in _LIGHTBULB3_NAMES or name in _LIGHTBULB2_NAMES:
        major = _lightbulb_major()
        if major is None:
            raise AttributeError(
                f"lightbulb_lavalink.{name} needs hikari-lightbulb: pip install 'lightbulb-lavalink[lightbulb]'"
            )
        if major >= 3 and name in _LIGHTBULB3_NAMES:
            from lightbulb_lavalink.ext import lightbulb3

            return getattr(lightbulb3, name)
        if major == 2 and name in _LIGHTBULB2_NAMES:
            from lightbulb_lavalink.ext import lightbulb2

            return getattr(lightbulb2, name)
    raise AttributeError(f"module 'lightbulb_lavalink' has no attribute {name!r}")


def __dir__() -> list[str]:
    """Public names, plus the extension entry point of the installed lightbulb major (lightbulb 3 scans `dir`)."""
    major = _lightbulb_major()
    extra = _LIGHTBULB3_NAMES if major is not None and major >= 3 else _LIGHTBULB2_NAMES if major == 2 else ()
    return sorted({*globals(), *extra})
