"""Items 8 and 9: what a server sends that the library does not know, or not whole, reaches the bot.

A ``WebSocketClosedEvent`` without ``code``/``reason`` was dropped (no ``VoiceClosedEvent``); a new track end
reason, severity or load type, and a new event type or op, are carried through as unknown with the raw value.
"""

from __future__ import annotations

import json
import logging
import typing

import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.protocol.loading import LoadResult, LoadType, Severity
from lightbulb_lavalink.protocol.messages import TrackEndReason

from . import samples
from .conftest import GUILD, Bot, bot_on, got
from .replay import ReplayNode
from .transcripts import Transcript

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from lightbulb_lavalink.player import Player


@pytest.fixture(scope="module")
def voice() -> Transcript:
    return Transcript.load("06_voice_websocketclosed")


@pytest.fixture
async def server(voice: Transcript) -> AsyncIterator[ReplayNode]:
    async with ReplayNode(voice, Transcript.load("02_rest_info_stats_session")) as node:
        yield node


@pytest.fixture
async def bot(server: ReplayNode) -> AsyncIterator[Bot]:
    async with bot_on(server.host, server.port, server.password) as process:
        yield process


async def playing(bot: Bot, server: ReplayNode, voice: Transcript) -> Player:
    """The recorded session: the bot joins, loads the recorded file and plays it (TrackStartEvent seen)."""
    result = await bot.client.load_tracks("local:var/media/songs/long-60s.webm")
    player = await bot.client.join(GUILD, bot.guild.voice_channel_ids[0])
    started = bot.expect(events.TrackStartEvent)
    await player.play(result.tracks[0])
    await server.play(voice, stop=lambda frame: frame.get("type") == "WebSocketClosedEvent")
    await got(started)
    return player


def closed_frames(voice: Transcript) -> list[dict[str, typing.Any]]:
    frames = voice.frames(event="WebSocketClosedEvent")
    assert {(f["code"], f["reason"]) for f in frames} == {(4014, "Disconnected."), (4006, "Session no longer valid.")}
    return frames


async def test_recorded_voice_closes_reach_the_bot(bot: Bot, server: ReplayNode, voice: Transcript) -> None:
    player = await playing(bot, server, voice)
    frames = closed_frames(voice)
    all_closed = bot.expect(events.VoiceClosedEvent, lambda e: len(bot.of_type(events.VoiceClosedEvent)) == len(frames))
    for frame in frames:
        await server.send(frame)
    await got(all_closed)
    seen = [(e.code, e.reason, e.by_remote) for e in bot.of_type(events.VoiceClosedEvent)]
    assert seen == [(f["code"], f["reason"], True) for f in frames]
    assert not player.connected


@pytest.mark.parametrize("left_out", [("code",), ("reason",), ("code", "reason"), ("code", "reason", "byRemote")])
async def test_a_voice_close_without_code_or_reason_reaches_the_bot(
    bot: Bot, server: ReplayNode, voice: Transcript, left_out: tuple[str, ...]
) -> None:
    player = await playing(bot, server, voice)
    frame = {k: v for k, v in closed_frames(voice)[-1].items() if k not in left_out}
    closed = bot.expect(events.VoiceClosedEvent)
    await server.send(frame)
    event = await got(closed)
    assert event.player is player and not player.connected
    assert event.code == (None if "code" in left_out else 4006)
    assert event.reason == (None if "reason" in left_out else "Session no longer valid.")
    assert event.by_remote is (None if "byRemote" in left_out else True)


async def test_a_track_end_for_a_reason_from_a_newer_server_is_passed_on_and_does_not_skip(
    bot: Bot, server: ReplayNode, voice: Transcript
) -> None:
    player = await playing(bot, server, voice)
    queued = (await bot.client.load_tracks("local:var/media/songs/long-60s.webm")).tracks[0]
    player.queue.add(queued)
    (start,) = [f for f in voice.frames(event="TrackStartEvent")][:1]
    ended = bot.expect(events.TrackEndEvent)
    await server.send({**start, "type": "TrackEndEvent", "reason": "skippedByPlugin"})
    event = await got(ended)
    assert event.reason is TrackEndReason.UNKNOWN and event.raw_reason == "skippedByPlugin"
    assert not event.may_start_next
    assert list(player.queue) == [queued], "an end we do not understand never moves the queue"


async def test_a_track_exception_of_a_newer_severity_is_passed_on(
    bot: Bot, server: ReplayNode, voice: Transcript
) -> None:
    await playing(bot, server, voice)
    (failure,) = voice.frames(event="TrackExceptionEvent")
    assert "causeStackTrace" not in failure["exception"]  # NodeLink: no causeStackTrace
    failed = bot.expect(events.TrackExceptionEvent)
    await server.send({**failure, "exception": {**failure["exception"], "severity": "catastrophic"}})
    event = await got(failed)
    assert event.exception.severity is Severity.UNKNOWN and event.exception.raw_severity == "catastrophic"
    assert event.exception.message == failure["exception"]["message"] and event.exception.cause_stack_trace is None


async def test_event_types_and_ops_the_library_does_not_know_reach_the_bot_raw(
    bot: Bot, server: ReplayNode, voice: Transcript, caplog: pytest.LogCaptureFixture
) -> None:
    """NodeLink's own events (PlayerCreatedEvent, FiltersChangedEvent, …) and a plugin's op."""
    with caplog.at_level(logging.INFO, logger="lightbulb_lavalink"):
        await playing(bot, server, voice)
        await server.play(voice)  # the rest of the recording
        plugin = {"op": "lyricsLine", "guildId": str(GUILD), "line": {"timestamp": 1000, "line": "la la"}}
        arrived = bot.expect(events.UnknownMessageEvent, lambda e: e.op == "lyricsLine")
        await server.send(plugin)
        await got(arrived)
    unknown = bot.of_type(events.UnknownMessageEvent)
    recorded = {f["type"] for f in voice.frames("event")} - {
        "TrackStartEvent", "TrackEndEvent", "TrackExceptionEvent", "TrackStuckEvent", "WebSocketClosedEvent"
    }  # fmt: skip
    assert recorded == {"PlayerCreatedEvent", "PlayerConnectedEvent", "FiltersChangedEvent", "PlayerDestroyedEvent"}
    assert {e.type for e in unknown if e.op == "event"} == recorded
    created = next(e for e in unknown if e.type == "PlayerCreatedEvent")
    assert created.guild_id == GUILD and created.data == voice.frames(event="PlayerCreatedEvent")[0]
    lyrics = unknown[-1]
    assert (lyrics.op, lyrics.type, lyrics.guild_id, lyrics.data) == ("lyricsLine", None, GUILD, plugin)
    said = [r.getMessage() for r in caplog.records if "FiltersChangedEvent" in r.getMessage()]
    assert len(said) == 1, "each unknown event type is logged once per node"


def test_a_load_type_from_a_newer_server_is_carried_with_its_data() -> None:
    result = LoadResult.from_payload({"loadType": "lyrics", "data": {"lines": ["la"]}})
    assert result.load_type is LoadType.UNKNOWN and result.raw_load_type == "lyrics"
    assert result.raw_data == {"lines": ["la"]} and result.tracks == [] and result.error is None


def test_a_message_in_the_protocol_document_still_parses_the_same() -> None:
    from lightbulb_lavalink.protocol.messages import TrackEndMessage, parse_message

    message = parse_message(json.dumps(samples.MESSAGES["TrackEndEvent"]))
    assert isinstance(message, TrackEndMessage)
    assert message.reason is TrackEndReason.FINISHED and message.raw_reason == "finished"
