"""Payloads as Java Lavalink 4.x sends them (``shared/LAVALINK_V4_PROTOCOL.md``), to damage in tests."""

from __future__ import annotations

import typing

BLOB = (  # protocol §6.3, version 3, position 0
    "QAAAzgMAMUJsZWVkIEl0IE91dCBbT2ZmaWNpYWwgTXVzaWMgVmlkZW9dIC0gTGlua2luIFBhcmsAC0xpbmtpbiBQYXJrAAAAAAAClCgAC09"
    "udXVZY3FoekNFAAEAK2h0dHBzOi8vd3d3LnlvdXR1YmUuY29tL3dhdGNoP3Y9T251dVljcWh6Q0UBADRodHRwczovL2kueXRpbWcuY29tL3"
    "ZpL09udXVZY3FoekNFL21heHJlc2RlZmF1bHQuanBnAAAHeW91dHViZQAAAAAAAAAA"
)
INFO: dict[str, typing.Any] = {
    "identifier": "OnuuYcqhzCE",
    "isSeekable": True,
    "author": "Linkin Park",
    "length": 169000,
    "isStream": False,
    "position": 0,
    "title": "Bleed It Out [Official Music Video] - Linkin Park",
    "uri": "https://www.youtube.com/watch?v=OnuuYcqhzCE",
    "sourceName": "youtube",
    "artworkUrl": "https://i.ytimg.com/vi/OnuuYcqhzCE/maxresdefault.jpg",
    "isrc": None,
}
TRACK: dict[str, typing.Any] = {"encoded": BLOB, "info": INFO, "pluginInfo": {}, "userData": {"requester": "1"}}
GUILD = "987654321"
STATE: dict[str, typing.Any] = {"time": 1710214147839, "position": 534, "connected": True, "ping": 0}
FILTERS: dict[str, typing.Any] = {
    "volume": 0.8,
    "equalizer": [{"band": 0, "gain": 0.2}, {"band": 14, "gain": -0.1}],
    "timescale": {"speed": 1.2, "pitch": 1.0, "rate": 1.0},
    "lowPass": {"smoothing": 20.0},
}
PLAYER: dict[str, typing.Any] = {
    "guildId": GUILD,
    "track": TRACK,
    "volume": 80,
    "paused": False,
    "state": STATE,
    "voice": {"token": "t", "endpoint": "us-east1.discord.media:443", "sessionId": "abc", "channelId": "123"},
    "filters": FILTERS,
}
STATS: dict[str, typing.Any] = {
    "op": "stats",
    "players": 2,
    "playingPlayers": 1,
    "uptime": 1139738,
    "memory": {"free": 228139904, "used": 103210112, "allocated": 331350016, "reservable": 8396996608},
    "cpu": {"cores": 16, "systemLoad": 0.05597997834786306, "lavalinkLoad": 3.497090420769919e-5},
    "frameStats": {"sent": 2950, "nulled": 10, "deficit": 40},
}
INFO_PAYLOAD: dict[str, typing.Any] = {
    "version": {"semver": "4.0.7", "major": 4, "minor": 0, "patch": 7, "preRelease": ""},
    "buildTime": 1720476857034,
    "git": {"branch": "HEAD", "commit": "93102f8", "commitTime": 1720475342000},
    "jvm": "17.0.12",
    "lavaplayer": "2.2.1",
    "sourceManagers": ["soundcloud", "http"],
    "filters": ["volume", "equalizer", "timescale"],
    "plugins": [{"name": "lavasrc-plugin", "version": "4.2.0"}],
}
EXCEPTION: dict[str, typing.Any] = {
    "message": "This video is unavailable",
    "severity": "common",
    "cause": "com.sedmelluq.discord.lavaplayer.tools.FriendlyException: This video is unavailable",
    "causeStackTrace": "com.sedmelluq...FriendlyException: This video is unavailable\n\tat x.y(z.java:1)\n",
}


def event(event_type: str, **fields: typing.Any) -> dict[str, typing.Any]:
    return {"op": "event", "type": event_type, "guildId": GUILD, **fields}


MESSAGES: dict[str, dict[str, typing.Any]] = {
    "ready": {"op": "ready", "resumed": False, "sessionId": "la3kfsdf5eafe848"},
    "playerUpdate": {"op": "playerUpdate", "guildId": GUILD, "state": STATE},
    "stats": STATS,
    "TrackStartEvent": event("TrackStartEvent", track=TRACK),
    "TrackEndEvent": event("TrackEndEvent", track=TRACK, reason="finished"),
    "TrackExceptionEvent": event("TrackExceptionEvent", track=TRACK, exception=EXCEPTION),
    "TrackStuckEvent": event("TrackStuckEvent", track=TRACK, thresholdMs=10000),
    "WebSocketClosedEvent": event("WebSocketClosedEvent", code=4006, reason="Your session is no longer valid.",
                                  byRemote=True),
}  # fmt: skip
"""One of each websocket message."""
