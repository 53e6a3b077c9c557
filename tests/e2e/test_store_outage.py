"""The bot keeps playing while its Redis or PostgreSQL store is away, and the store catches up afterwards."""

from __future__ import annotations

import logging

import pytest
from stores.conftest import drop_server_data, require_server
from stores.helpers import store_behind_proxy, unique

from lightbulb_lavalink import events
from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import NodeUnavailable
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.stores import StoreKey
from lightbulb_lavalink.testing import FakeLavalink
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeVoiceGateway, make_bot
from tests.polling import eventually


@pytest.mark.parametrize("kind", ["redis", "postgres"])
async def test_music_goes_on_while_the_store_goes_down_and_the_queue_is_saved_when_it_is_back(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    await require_server(kind, {})  # skips locally without the server, fails under CI=true
    name = unique("lle2e")
    proxy, store = store_behind_proxy(kind, name, timeout=1.0)
    discord = FakeDiscord()
    guild = await discord.add_guild(members=2)
    bot = make_bot(bot_id=discord.bot_id)
    await discord.connect(bot)
    voice = FakeVoiceGateway(discord)
    starts: list[events.TrackStartEvent] = []

    async def started(event: events.TrackStartEvent) -> None:
        starts.append(event)

    bot.event_manager.subscribe(events.TrackStartEvent, started)
    try:
        async with FakeLavalink(time_scale=40) as node:
            settings = LavalinkSettings(
                nodes=(NodeSettings(name="main", host="127.0.0.1", port=node.port, password=node.password),),
                snapshot_interval=0.05,
            )
            client = LavalinkClient(bot, settings, store=store, voice_gateway=voice)
            with caplog.at_level(logging.WARNING, logger="lightbulb_lavalink"):
                await proxy.start()
                await client.start()
                await client.wait_ready(5)
                await proxy.stop()  # the store's server goes away: the music goes on
                await discord.voice_state(guild.id, guild.member_ids[1], guild.voice_channel_ids[0])
                player = await client.join(guild.id, guild.voice_channel_ids[0])
                tracks = [
                    node.add_track(title=f"t{i}", identifier=f"outage-{i}", length=4_000 if i < 2 else 200_000)
                    for i in range(4)
                ]
                player.queue.extend(tracks[1:])
                await player.play(tracks[0])
                # Two tracks end and the queue moves on while nothing can be saved.
                await eventually(lambda: len(starts) >= 3, what="the queue advancing during the outage")
                assert player.track is not None and player.track.info.identifier == "outage-2"

                await proxy.start()  # the server is back

                key = StoreKey(bot_id=discord.bot_id, node="main")

                async def saved_queue() -> list[str] | None:
                    try:
                        snap = (await store.get_guilds(key)).get(guild.id)
                    except Exception:
                        return None
                    if snap is None or snap.track is None:
                        return None
                    return [snap.track.encoded, *(t.encoded for t in snap.queue.tracks)]

                async def queue_saved() -> bool:
                    return await saved_queue() == [tracks[2].encoded, tracks[3].encoded]

                await eventually(queue_saved, "the queue reaching the store")
                assert await store.get_session(key) == client.nodes["main"].session_id
            await client.close()
        assert not [r for r in caplog.records if r.exc_info]  # warnings, no tracebacks
    finally:
        await voice.close()
        await store.close()
        await proxy.stop()
        await drop_server_data(kind, name)


@pytest.mark.parametrize("kind", ["redis", "postgres"])
async def test_a_store_down_at_boot_holds_the_nodes_until_it_answers_and_every_saved_queue_comes_back(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 9 item 5: a client that started fresh while the store was down overwrote every saved queue."""
    await require_server(kind, {})
    name = unique("lle2e")
    proxy, store = store_behind_proxy(kind, name, timeout=1.0)
    discord = FakeDiscord()
    guild = await discord.add_guild(members=2)
    voices: list[FakeVoiceGateway] = []
    try:
        async with FakeLavalink(time_scale=40) as node:
            settings = LavalinkSettings(
                nodes=(NodeSettings(name="main", host="127.0.0.1", port=node.port, password=node.password),),
                snapshot_interval=0.05,
                reconnect_delay=0.05,
                reconnect_max_delay=0.2,
                request_timeout=1.0,
            )
            tracks = [node.add_track(title=f"b{i}", identifier=f"boot-{i}", length=600_000) for i in range(4)]

            async def boot() -> LavalinkClient:
                bot = make_bot(bot_id=discord.bot_id)
                await discord.connect(bot)
                voice = FakeVoiceGateway(discord)
                voices.append(voice)
                client = LavalinkClient(bot, settings, store=store, voice_gateway=voice)
                await client.start()
                return client

            await proxy.start()
            first = await boot()
            await first.wait_ready(5)
            await discord.voice_state(guild.id, guild.member_ids[1], guild.voice_channel_ids[0])
            player = await first.join(guild.id, guild.voice_channel_ids[0])
            player.queue.extend(tracks[1:])
            await player.play(tracks[0])
            await first.close()  # a deploy: everything is saved
            await proxy.stop()  # and the store is down while the new process boots

            with caplog.at_level(logging.WARNING, logger="lightbulb_lavalink"):
                second = await boot()
                with pytest.raises(NodeUnavailable, match="session store"):
                    await second.wait_ready(0.5)
                assert "session store" in (second.nodes["main"].last_error or "")
                with pytest.raises(NodeUnavailable):  # no fresh player that would overwrite the saved queue
                    await second.join(guild.id, guild.voice_channel_ids[0])

                await proxy.start()  # the store answers: the saved session is resumed, queue and all
                await second.wait_ready(5)
                await eventually(lambda: second.get_player(guild.id) is not None, what="the guild coming back")
                back = second.get_player(guild.id)
                assert back is not None
                await eventually(lambda: back.track is not None, what="the current track coming back")
                assert back.track is not None and back.track.info.identifier == "boot-0"
                assert [t.info.identifier for t in back.queue] == ["boot-1", "boot-2", "boot-3"]
            await second.close()
        assert not [r for r in caplog.records if r.exc_info]
    finally:
        for voice in voices:
            await voice.close()
        await store.close()
        await proxy.stop()
        await drop_server_data(kind, name)
