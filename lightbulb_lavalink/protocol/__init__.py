"""The Lavalink v4 wire: typed models of every payload, the track codec, the REST and websocket clients."""

from __future__ import annotations

from lightbulb_lavalink.protocol.backoff import Backoff
from lightbulb_lavalink.protocol.codec import decode_track, encode_track
from lightbulb_lavalink.protocol.deviations import Deviations
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
from lightbulb_lavalink.protocol.info import Git, Info, Plugin, RoutePlannerStatus, SessionInfo, Version
from lightbulb_lavalink.protocol.messages import (
    EventMessage,
    Message,
    PlayerUpdateMessage,
    ReadyMessage,
    StatsMessage,
    TrackEndMessage,
    TrackEndReason,
    TrackExceptionMessage,
    TrackStartMessage,
    TrackStuckMessage,
    UnknownMessage,
    WebSocketClosedMessage,
    message_from_payload,
    parse_message,
)
from lightbulb_lavalink.protocol.player import (
    UNSET,
    PlayerInfo,
    PlayerState,
    PlayerUpdate,
    TrackUpdate,
    UnsetType,
    VoiceState,
)
from lightbulb_lavalink.protocol.rest import DEFAULT_CLIENT_NAME, RestClient
from lightbulb_lavalink.protocol.stats import Cpu, FrameStats, Memory, Stats
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
from lightbulb_lavalink.protocol.websocket import WebSocketHandler, WebSocketSession, websocket_url

__all__ = [
    "UNSET",
    "ChannelMix",
    "Cpu",
    "Deviations",
    "Distortion",
    "EqualizerBand",
    "EventMessage",
    "ExceptionInfo",
    "Filters",
    "FrameStats",
    "Git",
    "Info",
    "Karaoke",
    "LoadResult",
    "LoadType",
    "LowPass",
    "Memory",
    "Message",
    "PlayerInfo",
    "PlayerState",
    "PlayerUpdate",
    "PlayerUpdateMessage",
    "Playlist",
    "PlaylistInfo",
    "Plugin",
    "ReadyMessage",
    "Rotation",
    "RoutePlannerStatus",
    "SessionInfo",
    "Severity",
    "Stats",
    "StatsMessage",
    "Timescale",
    "Track",
    "TrackEndMessage",
    "TrackEndReason",
    "TrackExceptionMessage",
    "TrackInfo",
    "TrackStartMessage",
    "TrackStuckMessage",
    "TrackUpdate",
    "Tremolo",
    "UnknownMessage",
    "UnsetType",
    "Version",
    "Vibrato",
    "VoiceState",
    "WebSocketClosedMessage",
    "decode_track",
    "encode_track",
    "message_from_payload",
    "parse_message",
]
__all__ += [  # the transports
    "DEFAULT_CLIENT_NAME",
    "Backoff",
    "RestClient",
    "WebSocketHandler",
    "WebSocketSession",
    "websocket_url",
]
