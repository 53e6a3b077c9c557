"""The package's own RestClient against the emulator: every answer parses, every error maps to its type."""

from __future__ import annotations

import typing

import aiohttp
import pytest

from lightbulb_lavalink.errors import (
    AuthenticationError,
    PlayerNotFoundError,
    RestError,
    SessionNotFoundError,
)
from lightbulb_lavalink.protocol.filters import Filters, Timescale
from lightbulb_lavalink.protocol.player import PlayerUpdate, TrackUpdate, VoiceState
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.protocol.tracks import LoadType
from lightbulb_lavalink.testing import FakeLavalink, ManualClock

from .conftest import PASSWORD, Connect, NodeFactory, open_session

VOICE = VoiceState(token="tok", endpoint="c-ams01.discord.media:443", session_id="vs", channel_id="55")


@pytest.fixture
async def rest(node: FakeLavalink, http: aiohttp.ClientSession) -> typing.AsyncIterator[RestClient]:
    client = RestClient(node.url, PASSWORD, session=http)
    yield client
    await client.close()


@pytest.mark.parametrize(
    ("identifier", "load_type", "count"),
    [
        ("song", LoadType.TRACK, 1),
        ("ytsearch:song", LoadType.SEARCH, 5),
        ("https://www.youtube.com/playlist?list=PL1", LoadType.PLAYLIST, None),
        ("empty-result", LoadType.EMPTY, 0),
        ("error-result", LoadType.ERROR, 0),
    ],
)
async def test_load_results_parse(rest: RestClient, identifier: str, load_type: LoadType, count: int | None) -> None:
    result = await rest.load_tracks(identifier)
    assert result.load_type is load_type
    if count is not None:
        assert len(result.tracks) == count
    if load_type is LoadType.ERROR:
        assert result.error is not None and result.error.cause_stack_trace
    if load_type is LoadType.PLAYLIST:
        assert result.playlist is not None and result.playlist.info.selected_track == -1


async def test_decode_round_trip(node: FakeLavalink, rest: RestClient) -> None:
    track = node.add_track(title="Ünïcödé 🎵", author="Ärtist", length=90_000, identifier="u-1", isrc="QZ0000000001")
    decoded = await rest.decode_track(track.encoded)
    assert decoded.encoded == track.encoded
    assert decoded.info.title == "Ünïcödé 🎵" and decoded.info.isrc == "QZ0000000001"
    both = await rest.decode_tracks([track.encoded, track.encoded])
    assert [t.info.identifier for t in both] == ["u-1", "u-1"]


async def test_player_lifecycle(node: FakeLavalink, rest: RestClient, connect: Connect) -> None:
    _, session_id = await open_session(connect, node)
    track = (await rest.load_tracks("ytsearch:lifecycle")).tracks[0]
    player = await rest.update_player(
        session_id,
        77,
        PlayerUpdate(
            track=TrackUpdate(encoded=track.encoded, user_data={"requester": 1}),
            voice=VOICE,
            volume=55,
            filters=Filters(timescale=Timescale(speed=1.5)),
        ),
    )
    assert player.guild_id == 77 and player.volume == 55 and not player.paused
    assert player.track is not None and player.track.info.identifier == track.info.identifier
    assert player.track.user_data == {"requester": 1}
    assert player.voice == VOICE and player.state.connected
    assert player.filters.timescale == Timescale(speed=1.5)
    clock = node.clock
    assert isinstance(clock, ManualClock)
    clock.advance(2)
    again = await rest.get_player(session_id, 77)
    assert again.state.position == 3000  # 2 s at speed 1.5
    paused = await rest.update_player(session_id, 77, PlayerUpdate(paused=True, position=10_000))
    assert paused.paused and paused.state.position == 10_000
    kept = await rest.update_player(
        session_id, 77, PlayerUpdate(track=TrackUpdate(identifier="other")), no_replace=True
    )
    assert kept.track is not None and kept.track.info.identifier == track.info.identifier
    assert [p.guild_id for p in await rest.get_players(session_id)] == [77]
    await rest.destroy_player(session_id, 77)
    assert await rest.get_players(session_id) == []
    with pytest.raises(PlayerNotFoundError):
        await rest.get_player(session_id, 77)


async def test_sessions_and_node_endpoints(node: FakeLavalink, rest: RestClient, connect: Connect) -> None:
    _, session_id = await open_session(connect, node)
    settings = await rest.update_session(session_id, resuming=True, timeout=90)
    assert (settings.resuming, settings.timeout) == (True, 90)
    assert node.sessions[session_id].resuming and node.sessions[session_id].timeout == 90
    info = await rest.info()
    assert info.version.semver == "4.2.2" and info.version.major == 4
    stats = await rest.stats()
    assert stats.players == 0 and stats.frame_stats is None
    assert await rest.version() == "4.2.2"
    assert await rest.routeplanner_status() is None
    with pytest.raises(RestError) as error:
        await rest.free_all_addresses()
    assert error.value.status == 500
    with pytest.raises(SessionNotFoundError):
        await rest.get_players("nosuchsession000")


async def test_wrong_password_is_an_authentication_error(node: FakeLavalink, http: aiohttp.ClientSession) -> None:
    client = RestClient(node.url, "wrong", session=http)
    with pytest.raises(AuthenticationError) as error:
        await client.info()
    assert error.value.status == 403


@pytest.mark.parametrize("version", ["4.0.0", "4.0.1", "4.0.8", "4.1.2"])
async def test_older_versions_parse(
    make_node: NodeFactory, http: aiohttp.ClientSession, connect: Connect, version: str
) -> None:
    node = await make_node(version=version)
    rest = RestClient(node.url, PASSWORD, session=http)
    _, session_id = await open_session(connect, node)
    track = (await rest.load_tracks("old")).tracks[0]
    voice = VoiceState(token="t", endpoint="e", session_id="s")
    update = PlayerUpdate(
        track=TrackUpdate(encoded=track.encoded), filters=Filters(timescale=Timescale(pitch=1.2)), voice=voice
    )
    player = await rest.update_player(session_id, 1, update)
    assert player.filters.timescale == Timescale(pitch=1.2)
    assert player.track is not None and player.track.info.title == track.info.title
    assert player.voice.channel_id is None
    assert (await rest.load_tracks("error!")).error is not None
