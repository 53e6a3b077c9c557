"""The recorded NodeLink session served to the real client (issue 11, "done when").

A `ReplayNode` on 127.0.0.1 answers REST from the recorded exchanges and plays the recorded websocket frames, in the
order NodeLink sent them; the bot joins, plays, sets filters, and at the end has read NodeLink's stats, info,
filters, voice-closed events and positions, and every request it made was answered from the recording.
"""

from __future__ import annotations

import logging

import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.ext.reports import nodes_view
from lightbulb_lavalink.protocol.messages import TrackEndReason

from .conftest import GUILD, bot_on, got
from .replay import ReplayNode
from .test_filters import EVERY_KIND
from .transcripts import Transcript

SONG = "local:var/media/songs/song-20s.webm"


async def test_the_recorded_nodelink_session_is_read_whole(caplog: pytest.LogCaptureFixture) -> None:
    lifecycle = Transcript.load("04_player_lifecycle")  # its ready is the session
    rest = Transcript.load("02_rest_info_stats_session")  # the session PATCH and /v4/info
    voice = Transcript.load("06_voice_websocketclosed")  # the voice closes
    caplog.set_level(logging.INFO, logger="lightbulb_lavalink")
    async with ReplayNode(lifecycle, rest, voice) as server, bot_on(server.host, server.port, server.password) as bot:
        client = bot.client
        node = client.nodes["main"]
        assert node.session_id == lifecycle.frames("ready")[0]["sessionId"]

        # Load, join, play: every answer is NodeLink's own, the frames it sent meanwhile come first.
        (track,) = (await client.load_tracks(SONG)).tracks
        assert track.info.length == -1 and track.info.known_length is None  # NodeLink does not measure files
        server.answer("voice (fake voice server on 127.0.0.1)", lifecycle)
        created = bot.expect(events.UnknownMessageEvent, lambda e: e.type == "PlayerCreatedEvent")
        player = await client.join(GUILD, bot.guild.voice_channel_ids[0])
        assert (await got(created)).guild_id == GUILD
        server.answer("play by encoded, with userData", lifecycle)
        started = bot.expect(events.TrackStartEvent)
        await player.play(track.with_user_data(requester="42"))
        assert (await got(started)).track.info.identifier == "/var/media/songs/song-20s.webm"

        # Filters: NodeLink wraps them; every kind it was given comes back (its volume filter is unknown).
        server.answer("filters (every built-in kind)", lifecycle)
        await player.set_filters(EVERY_KIND)
        assert player.filters == EVERY_KIND
        assert player.volume == 50  # what NodeLink reports (the recording set it meanwhile)

        # Positions: every playerUpdate the recording sent was read, and the track of unknown length is not
        # clamped to 0: it moves on from NodeLink's last report (the updates sent before the PATCH's answer, or
        # the answer itself: which the bot reads last is a race, as with the real server).
        await got(bot.expect(events.PlayerUpdateEvent, lambda e: e.state.position == 12_040, seen=True))
        recorded = [f["state"]["position"] for f in lifecycle.frames("playerUpdate")]
        seen = [e.state.position for e in bot.of_type(events.PlayerUpdateEvent)]
        assert seen == recorded[: len(seen)] == [0, 0, 1060, 3060, 4660, 10_040, 12_040]
        assert player.state is not None
        reported = player.state.position
        assert reported in (12_040, 12_520)  # the last update, or the answer to the filters PATCH
        bot.clock.advance(1.0)
        assert player.position == reported + 1_000
        assert player.snapshot().position == reported + 1_000

        # Stats: NodeLink's nodelinkLoad is the load.
        stats_frame = lifecycle.frames("stats")[-1]
        stats = bot.expect(events.NodeStatsEvent)
        await server.send(stats_frame)
        assert (await got(stats)).stats.cpu.lavalink_load == stats_frame["cpu"]["nodelinkLoad"]
        assert node.stats is not None and node.stats.players == 1 and node.penalty > 0

        # Info: /lavalink nodes shows the node.
        (info,) = await nodes_view(client)
        assert info.error is None and info.version == "3.7.0" and "lowpass" in info.filters

        # Voice closes, as NodeLink reported them.
        closes = voice.frames(event="WebSocketClosedEvent")
        closed = bot.expect(
            events.VoiceClosedEvent, lambda e: len(bot.of_type(events.VoiceClosedEvent)) == len(closes)
        )
        for frame in closes:
            await server.send(frame)
        await got(closed)
        assert [(e.code, e.reason) for e in bot.of_type(events.VoiceClosedEvent)] == [
            (f["code"], f["reason"]) for f in closes
        ]
        assert not player.connected

        # The failed track: TrackExceptionEvent without causeStackTrace, then loadFailed and stopped.
        ends = bot.expect(events.TrackEndEvent, lambda e: e.reason is TrackEndReason.STOPPED)
        await server.play(voice, stop=lambda f: f.get("type") == "PlayerConnectedEvent" and "4" in f["voice"]["token"])
        await got(ends)
        (failure,) = bot.of_type(events.TrackExceptionEvent)
        assert failure.exception.message is not None and failure.exception.cause_stack_trace is None

        assert server.misses == [], "every request the bot made was answered from the recording"
        assert {"PlayerCreatedEvent", "FiltersChangedEvent", "PauseEvent", "SeekEvent"} <= {
            e.type for e in bot.of_type(events.UnknownMessageEvent)
        }

    deviations = [r.getMessage() for r in caplog.records if "logged once per node" in r.getMessage()]
    assert len(deviations) == len(set(deviations)), "each kind of deviation is logged once"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "sent an unusable" in r.getMessage()]
