"""The position inside a track blob (protocol §4.3 step 13, §2.8, §6): read when a track starts, written when sent."""

from __future__ import annotations

import typing

import aiohttp
import attrs
import pytest

from lightbulb_lavalink.protocol.codec import decode_track, encode_track
from lightbulb_lavalink.testing import FakeLavalink, ManualClock, Playback

from .conftest import Api, Connect, NodeFactory, RawSocket, expect_marker, open_session

GUILD = 4321
LENGTH = 12_000
SPOTIFY_V2 = (  # protocol §6.3: an old LavaSrc blob, version 2, with source-specific bytes after sourceName
    "QAAA0gIADFN0YXkgd2l0aCBNZQAFRmFjZXMAAAAAAARDQAAWN2ZMVHl0dm52eHk2NTNWV3hmbFRSZgABADVodHRwczovL29wZW4uc3BvdGlmeS"
    "5jb20vdHJhY2svN2ZMVHl0dm52eHk2NTNWV3hmbFRSZgAHc3BvdGlmeQEADFVTV0IxMDEwMzg1NQEAQGh0dHBzOi8vaS5zY2RuLmNvL2ltYWdlL2"
    "FiNjc2MTZkMDAwMGIyNzMyODdjZjQ2NTkwYTc4MWI4YTAzZTE3NGUAAAAAAAAAAA=="
)


@pytest.fixture
async def session(node: FakeLavalink, connect: Connect) -> tuple[RawSocket, str]:
    return await open_session(connect, node)


def add(node: FakeLavalink, identifier: str = "a", **kwargs: typing.Any) -> str:
    """Register an http track (whose blob has source-specific bytes) and return its blob, at position 0."""
    kwargs.setdefault("length", LENGTH)
    return node.add_track(title=identifier.title(), identifier=identifier, source_name="http", **kwargs).encoded


def at(encoded: str, position: int) -> str:
    """The same blob with another position in its last 8 bytes."""
    return encode_track(attrs.evolve(decode_track(encoded).info, position=position))


def blob_position(track: dict[str, typing.Any]) -> int:
    """The position in a wire Track's blob, checked against its ``info.position``."""
    position = decode_track(track["encoded"]).info.position
    assert position == track["info"]["position"], "the blob and info.position disagree"
    return position


async def start(api: Api, session_id: str, sock: RawSocket, body: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """PATCH a new track; read TrackStartEvent and the two player updates that follow; return the Player."""
    status, player = await api.patch_player(session_id, GUILD, body)
    assert status == 200, player
    started, *updates = await sock.recv_many(3)
    assert started["type"] == "TrackStartEvent"
    assert [update["op"] for update in updates] == ["playerUpdate", "playerUpdate"]
    assert blob_position(started["track"]) == player["state"]["position"]
    return typing.cast("dict[str, typing.Any]", player)


# --- a blob without `position` starts where the blob says ------------------------------------------------


async def test_a_blob_from_a_replaced_track_end_event_resumes_where_that_event_saw_it(
    node: FakeLavalink, clock: ManualClock, api: Api, session: tuple[RawSocket, str]
) -> None:
    sock, session_id = session
    await start(api, session_id, sock, {"track": {"encoded": add(node, "a")}})
    clock.advance(2.5)
    await api.patch_player(session_id, GUILD, {"track": {"encoded": add(node, "b")}})
    end, _, _, _ = await sock.recv_many(4)
    assert (end["type"], end["reason"]) == ("TrackEndEvent", "replaced")
    await api.patch_player(session_id, GUILD, {"track": {"encoded": None}})
    assert (await sock.recv())["reason"] == "stopped"
    player = await start(api, session_id, sock, {"track": {"encoded": end["track"]["encoded"]}})
    assert player["state"]["position"] == 2500
    assert blob_position(player["track"]) == 2500
    clock.advance(9.499)
    update = await sock.recv()
    assert (update["op"], update["state"]["position"]) == ("playerUpdate", 7500)
    await expect_marker(node, session_id, sock)  # 9.5 s of the track were left, not 12
    clock.advance(0.001)
    finished = await sock.recv()
    assert (finished["reason"], blob_position(finished["track"])) == ("finished", LENGTH)


async def test_a_blob_from_a_finished_track_end_event_ends_at_once(
    node: FakeLavalink, clock: ManualClock, api: Api, session: tuple[RawSocket, str]
) -> None:
    sock, session_id = session
    await start(api, session_id, sock, {"track": {"encoded": add(node, "a")}})
    clock.advance(LENGTH / 1000)
    *_, end = await sock.recv_many(3)  # two periodic updates, then the end
    assert (end["type"], end["reason"], blob_position(end["track"])) == ("TrackEndEvent", "finished", LENGTH)
    player = await start(api, session_id, sock, {"track": {"encoded": end["track"]["encoded"]}})
    assert player["state"]["position"] == LENGTH
    clock.advance(0)
    again = await sock.recv()
    assert (again["type"], again["reason"], blob_position(again["track"])) == ("TrackEndEvent", "finished", LENGTH)
    assert node.players_of(session_id)[GUILD].track is None


@pytest.mark.parametrize("explicit", [0, 4000])
async def test_an_explicit_position_wins_over_the_blob(
    node: FakeLavalink, clock: ManualClock, api: Api, session: tuple[RawSocket, str], explicit: int
) -> None:
    sock, session_id = session
    body = {"track": {"encoded": at(add(node), 9000)}, "position": explicit}
    player = await start(api, session_id, sock, body)
    assert player["state"]["position"] == explicit
    clock.advance(1)
    assert node.players_of(session_id)[GUILD].position == explicit + 1000


@pytest.mark.parametrize(
    ("stored", "expected"),
    [(-5000, 0), (LENGTH + 60_000, LENGTH)],
    ids=["negative reads as 0", "past the end reads as the end"],
)
async def test_the_blob_position_is_clamped_to_the_track(
    node: FakeLavalink, api: Api, session: tuple[RawSocket, str], stored: int, expected: int
) -> None:
    sock, session_id = session
    player = await start(api, session_id, sock, {"track": {"encoded": at(add(node), stored)}})
    assert player["state"]["position"] == expected


@pytest.mark.parametrize("explicit", [False, True], ids=["from the blob", "explicit"])
async def test_a_stream_ignores_the_start_position(
    node: FakeLavalink, api: Api, session: tuple[RawSocket, str], explicit: bool
) -> None:
    sock, session_id = session
    stream = node.add_track(title="Radio", identifier="radio", is_stream=True).encoded
    body = (
        {"track": {"encoded": stream}, "position": 30_000} if explicit else {"track": {"encoded": at(stream, 30_000)}}
    )
    player = await start(api, session_id, sock, body)
    assert player["state"]["position"] == 0  # lavaplayer does not seek a track that is not seekable


@pytest.mark.parametrize(("end_time", "ends_at"), [(11_000, 11_000), (5000, LENGTH)])
async def test_end_time_is_measured_against_the_blob_position(
    node: FakeLavalink,
    clock: ManualClock,
    api: Api,
    session: tuple[RawSocket, str],
    end_time: int,
    ends_at: int,
) -> None:
    sock, session_id = session
    await start(api, session_id, sock, {"track": {"encoded": at(add(node), 10_000)}, "endTime": end_time})
    clock.advance((ends_at - 10_000) / 1000)  # a marker already behind the start is ignored, as lavaplayer does
    end = await sock.recv()
    assert (end["reason"], blob_position(end["track"])) == ("finished", ends_at)


# --- every blob the node sends carries the position at that moment ----------------------------------------


async def test_event_blobs_carry_the_position_at_event_time_and_keep_the_source_bytes(
    make_node: NodeFactory, http: aiohttp.ClientSession, connect: Connect
) -> None:
    node = await make_node(track_stuck_threshold_ms=2000)
    clock = node.clock
    assert isinstance(clock, ManualClock)
    api = Api(node, http)
    sock, session_id = await open_session(connect, node)
    original = add(node, "a")
    await start(api, session_id, sock, {"track": {"encoded": original}, "position": 1000})
    clock.advance(2)
    node.players_of(session_id)[GUILD].fail("boom")
    exception, end = await sock.recv_many(2)
    assert blob_position(exception["track"]) == blob_position(end["track"]) == 3000
    await start(api, session_id, sock, {"track": {"encoded": add(node, "stuck", playback=Playback.STUCK)}})
    clock.advance(3)
    stuck = await sock.recv()
    assert (stuck["type"], blob_position(stuck["track"])) == ("TrackStuckEvent", 0)
    for track in (exception["track"], end["track"]):
        info = decode_track(track["encoded"]).info
        assert info.source_extra == b"\x00\x03mp3"
        assert encode_track(attrs.evolve(info, position=0)) == original  # only the position changed


async def test_rest_player_blobs_carry_the_live_position(
    node: FakeLavalink, clock: ManualClock, api: Api, session: tuple[RawSocket, str]
) -> None:
    sock, session_id = session
    await start(api, session_id, sock, {"track": {"encoded": add(node)}})
    clock.advance(1.25)
    _, patched = await api.patch_player(session_id, GUILD, {"volume": 50})
    assert (patched["state"]["position"], blob_position(patched["track"])) == (1250, 1250)
    clock.advance(1)
    _, listed, _ = await api.call("GET", f"/v4/sessions/{session_id}/players")
    _, single, _ = await api.call("GET", f"/v4/sessions/{session_id}/players/{GUILD}")
    assert blob_position(listed[0]["track"]) == blob_position(single["track"]) == 2250
    assert decode_track(single["track"]["encoded"]).info.position == node.players_of(session_id)[GUILD].position


async def test_an_old_blob_is_sent_back_as_version_3_with_its_source_bytes(
    make_node: NodeFactory, http: aiohttp.ClientSession, connect: Connect
) -> None:
    node = await make_node(sources=["youtube", "http", "spotify"])
    clock = node.clock
    assert isinstance(clock, ManualClock)
    api = Api(node, http)
    sock, session_id = await open_session(connect, node)
    await start(api, session_id, sock, {"track": {"encoded": SPOTIFY_V2}})
    clock.advance(7)
    _, player, _ = await api.call("GET", f"/v4/sessions/{session_id}/players/{GUILD}")
    sent, original = decode_track(player["track"]["encoded"]).info, decode_track(SPOTIFY_V2).info
    assert (sent.version, sent.position) == (3, 7000)
    assert sent.source_extra == original.source_extra
    assert attrs.evolve(sent, version=2, position=0) == original
