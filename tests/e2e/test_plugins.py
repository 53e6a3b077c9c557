"""Lavalink plugins end to end: each helper against the emulator's plugins, their events on a `ManualClock`, and
a player's plugin state through a bot restart (resumed session) and a node restart (recovered)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import typing

import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.plugins import (
    LavaSrcTrackInfo,
    LyricsFoundEvent,
    LyricsLineEvent,
    PluginEvent,
    PluginKind,
    PluginUnavailable,
    SearchSource,
    SearchType,
    SegmentCategory,
    SegmentSkippedEvent,
    SegmentsLoadedEvent,
)
from lightbulb_lavalink.testing import FakeLavalink, ManualClock
from lightbulb_lavalink.testing.gateway import FakeDiscord

from .conftest import World, clock_of, joined

if typing.TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterator

    from lightbulb_lavalink.testing.plugins import PluginRequest

ALL = ("lavasrc", "lavasearch", "lavalyrics", "sponsorblock")
RETRY = 0.2  # s: the longest reconnect delay of `World.settings`


@contextlib.asynccontextmanager
async def plugin_world(tmp_path: pathlib.Path, plugins: typing.Iterable[str] = ALL) -> AsyncIterator[World]:
    clock = ManualClock()
    async with FakeLavalink(clock=clock, player_update_interval=1.0, plugins=plugins) as lavalink:
        discord = FakeDiscord()
        guilds = [await discord.add_guild(members=3)]
        w = World(lavalink=lavalink, discord=discord, store_url=f"sqlite:///{tmp_path / 's.db'}", guilds=guilds,
                  clock=clock)  # fmt: skip
        try:
            yield w
        finally:
            await w.close()


@pytest.fixture
async def world(tmp_path: pathlib.Path) -> AsyncIterator[World]:
    async with plugin_world(tmp_path) as w:
        yield w


async def got(future: asyncio.Future[typing.Any]) -> typing.Any:
    async with asyncio.timeout(5):  # a real-time safety net: the clock is what makes things happen
        return await future


def sent(world: World, method: str, suffix: str) -> list[PluginRequest]:
    return [r for r in world.lavalink.plugins.requests if r.method == method and r.path.endswith(suffix)]


def youtube(world: World, name: str, length: int = 200_000) -> typing.Any:
    return world.lavalink.add_track(title=name, identifier=name, length=length, source_name="youtube")


async def test_sponsorblock_categories_are_set_read_and_segments_skipped(world: World) -> None:
    process = await world.boot()
    player = await joined(world, process)
    sponsorblock = process.client.plugins.sponsorblock
    await sponsorblock.set_categories(player, [SegmentCategory.SPONSOR, "selfpromo"])
    assert await sponsorblock.fetch_categories(player) == {"sponsor", "selfpromo"}
    assert sent(world, "PUT", "/sponsorblock/categories")[0].body == ["sponsor", "selfpromo"]
    assert player.snapshot().plugins.sponsorblock_categories == ("sponsor", "selfpromo")

    loaded = process.expect(SegmentsLoadedEvent)
    await player.play(youtube(world, "video"))
    segments = (await got(loaded)).segments
    assert [(s.category, s.start, s.end) for s in segments] == [
        ("sponsor", 30_000, 45_000),
        ("selfpromo", 160_000, 170_000),
    ]
    skipped = process.expect(SegmentSkippedEvent)
    clock_of(world).advance(31)
    event = await got(skipped)
    assert event.segment.category == "sponsor" and event.guild_id == player.guild_id
    fake = world.lavalink.players_of(player.node.session_id or "")[player.guild_id]
    assert fake.position >= 45_000  # the sponsor was skipped

    await sponsorblock.clear_categories(player)
    assert await sponsorblock.fetch_categories(player) is None
    assert player.snapshot().plugins.empty


async def test_live_lyrics_come_as_events_line_by_line(world: World) -> None:
    process = await world.boot()
    player = await joined(world, process)
    track = youtube(world, "song", length=30_000)
    world.lavalink.plugins.set_lyrics("song", [(1_000, "first"), (3_000, "second")])
    await player.play(track)
    lyrics = process.client.plugins.lyrics
    current = await lyrics.current(player)
    assert current is not None and [line.line for line in current.lines] == ["first", "second"]
    assert str(await lyrics.of_track(track)) == "first\nsecond"

    found = process.expect(LyricsFoundEvent)
    await lyrics.subscribe(player)  # lyrics of the playing track come at once
    assert [line.line for line in (await got(found)).lyrics.lines] == ["first", "second"]
    assert lyrics.subscribed(player) and player.snapshot().plugins.lyrics_subscribed
    second = process.expect(LyricsLineEvent, lambda e: e.line_index == 1)
    clock_of(world).advance(3)
    event = await got(second)
    assert event.line.line == "second" and not event.skipped
    await lyrics.unsubscribe(player)
    assert not lyrics.subscribed(player)


async def test_search_helpers_and_the_generic_request(world: World) -> None:
    process = await world.boot()
    plugins = process.client.plugins
    assert await plugins.has(PluginKind.LAVASEARCH) and await plugins.has("sponsorblock-plugin")
    result = await plugins.lavasearch.search("spsearch:daft punk", types=[SearchType.TRACK, SearchType.ALBUM])
    assert len(result.tracks) == 5 and result.albums and not result.artists
    assert result.tracks[0].info.source_name == "spotify"
    loaded = await plugins.lavasrc.search(SearchSource.DEEZER, "daft punk")
    info = LavaSrcTrackInfo.of(loaded.tracks[0])
    assert info.album_name is not None and info.preview_url is not None and info.is_preview is False
    assert (await plugins.lavasearch.search("no prefix at all")).empty
    raw = await plugins.request("GET", "/v4/loadsearch", query={"query": "amsearch:x", "types": "text"})
    assert raw["texts"] == [{"text": "x", "plugin": {}}]


async def test_a_node_without_the_plugin_gives_a_clear_error_before_any_request(tmp_path: pathlib.Path) -> None:
    async with plugin_world(tmp_path, plugins=("lavasrc",)) as world:
        process = await world.boot()
        player = await joined(world, process)
        with pytest.raises(PluginUnavailable) as raised:
            await process.client.plugins.sponsorblock.set_categories(player, ["sponsor"])
        assert raised.value.plugin is PluginKind.SPONSORBLOCK and raised.value.node == "main"
        assert "SponsorBlock" in str(raised.value) and "'main'" in str(raised.value)
        assert "lavasrc-plugin" in str(raised.value)
        with pytest.raises(PluginUnavailable):
            await process.client.plugins.lavasearch.search("ytsearch:x")
        assert world.lavalink.plugins.requests == []  # nothing reached a plugin route
        assert player.plugin_state.empty


async def test_unknown_plugin_events_arrive_as_plugin_events(world: World, caplog: pytest.LogCaptureFixture) -> None:
    process = await world.boot()
    player = await joined(world, process)
    fake = world.lavalink.players_of(player.node.session_id or "")[player.guild_id]
    unknown = process.expect(PluginEvent, lambda e: e.type == "KaraokeScoreEvent")
    fake.notify("KaraokeScoreEvent", score=97)
    event = await got(unknown)
    assert event.data["score"] == 97 and event.guild_id == player.guild_id and event.problem is None
    assert isinstance(event, events.UnknownMessageEvent)  # older listeners still get it
    broken = process.expect(PluginEvent, lambda e: e.type == "SegmentSkipped")
    with caplog.at_level(logging.WARNING, "lightbulb_lavalink.plugins.events"):
        fake.notify("SegmentSkipped", segment={"category": "sponsor", "start": "soon"})
        event = await got(broken)
    assert event.problem is not None and "segment.start" in event.problem
    assert "SegmentSkipped" in caplog.text


async def _set_state(world: World, process: typing.Any) -> typing.Any:
    player = await joined(world, process)
    await player.play(youtube(world, "video"))
    await process.client.plugins.sponsorblock.set_categories(player, ["sponsor"])
    await process.client.plugins.lyrics.subscribe(player, skip_track_source=True)
    return player


def node_state(world: World, process: typing.Any, guild_id: int) -> tuple[typing.Any, typing.Any]:
    session = world.lavalink.sessions[process.client.nodes["main"].session_id]
    return session.plugins.categories.get(guild_id), session.plugins.lyrics.get(guild_id)


async def test_plugin_state_is_sent_again_after_a_bot_restart(world: World) -> None:
    first = await world.boot()
    player = await _set_state(world, first)
    guild = player.guild_id
    await world.stop(first)
    world.lavalink.plugins.requests.clear()

    second = await world.boot()
    await got(second.expect(events.SessionResumedEvent, seen=True))
    # The session was resumed, but the real plugins forget their state on every websocket open: it is sent again.
    await got(asyncio.ensure_future(subscribed(world, guild)))
    assert node_state(world, second, guild) == (("sponsor",), True)
    assert [r.guild_id for r in sent(world, "PUT", "/sponsorblock/categories")] == [guild]
    assert [r.guild_id for r in sent(world, "POST", "/lyrics/subscribe")] == [guild]
    restored = second.client.get_player(guild)
    assert restored is not None and restored.plugin_state == player.plugin_state


async def test_plugin_state_is_sent_again_after_a_node_restart(world: World) -> None:
    process = await world.boot()
    player = await _set_state(world, process)
    guild = player.guild_id
    old_session = process.client.nodes["main"].session_id
    world.lavalink.plugins.requests.clear()
    recovered = process.expect(events.SessionRecoveredEvent)
    await world.lavalink.restart()  # every session and its plugin state lost
    clock_of(world).advance(RETRY)
    assert (await got(recovered)).guild_ids == (guild,)
    assert process.client.nodes["main"].session_id != old_session
    assert node_state(world, process, guild) == (("sponsor",), True)  # sent again before the recovery was told
    # Categories go before the restored track starts (SponsorBlock reads them then), the subscription after.
    kinds = [(r.method, r.path.rsplit("/", 1)[-1]) for r in world.lavalink.plugins.requests]
    assert kinds[:2] == [("PUT", "categories"), ("POST", "subscribe")]
    assert player.plugin_state.sponsorblock_categories == ("sponsor",)


async def subscribed(world: World, guild: int) -> None:
    """Until the node received the lyrics subscription of `guild` (it comes after the categories)."""
    plugins = world.lavalink.plugins
    await plugins.wait_for_request(lambda r: r.method == "POST" and r.guild_id == guild)
