"""VoiceManager against a real, never-started GatewayBot fed real gateway payloads by FakeDiscord."""

from __future__ import annotations

import asyncio
import typing

import hikari
import pytest

from lightbulb_lavalink.errors import LavalinkError, VoiceTimeoutError
from lightbulb_lavalink.testing.gateway import (
    FakeDiscord,
    FakeGuild,
    FakeShard,
    FakeVoiceGateway,
    GatewayOfflineError,
    PayloadRejectedError,
    make_bot,
)
from lightbulb_lavalink.voice import HikariVoiceGateway, VoiceConnectionInfo, VoiceManager

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator

HIKARI_CONSUMES_INLINE = tuple(int(p) for p in hikari.__version__.split(".")[:2]) >= (2, 2)
"""hikari >= 2.2 handles a raw event inside consume_raw_event; 2.1 handles it in a task."""


class Recorder:
    """Collects what VoiceManager reports through its callbacks."""

    def __init__(self) -> None:
        self.updates: list[VoiceConnectionInfo] = []
        self.disconnects: list[int] = []

    async def on_update(self, info: VoiceConnectionInfo) -> None:
        self.updates.append(info)

    async def on_disconnect(self, guild_id: int) -> None:
        self.disconnects.append(guild_id)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def manager(
    bot: hikari.GatewayBot,
    guild: FakeGuild,
    discord: FakeDiscord,
    fake_voice: FakeVoiceGateway,
    recorder: Recorder,
) -> AsyncIterator[VoiceManager]:
    voice = VoiceManager(
        bot, fake_voice, timeout=5.0, on_update=recorder.on_update, on_disconnect=recorder.on_disconnect
    )
    await voice.start(discord.bot_id)
    yield voice
    await voice.close()


def start_join(
    manager: VoiceManager, guild_id: int, channel_id: int, **kwargs: typing.Any
) -> asyncio.Task[VoiceConnectionInfo]:
    return asyncio.get_running_loop().create_task(manager.join(guild_id, channel_id, **kwargs))


# -- joining --


async def test_join_returns_the_session_token_and_raw_endpoint(
    manager: VoiceManager,
    guild: FakeGuild,
    discord: FakeDiscord,
    fake_voice: FakeVoiceGateway,
    bot: hikari.GatewayBot,
) -> None:
    channel = guild.voice_channel_ids[1]
    assert discord.session_id is not None

    info = await manager.join(guild.id, channel)

    assert info == VoiceConnectionInfo(
        guild_id=guild.id,
        channel_id=channel,
        session_id=discord.session_id,
        token=fake_voice.tokens[guild.id],
        endpoint="c-rot01-0a1b2c3d.discord.media:443",
    )
    assert not info.endpoint.startswith("wss://")
    assert manager.current(guild.id) == info
    assert dict(manager.connections) == {guild.id: info}
    assert [(c.guild_id, c.channel_id, c.self_deaf, c.self_mute) for c in fake_voice.calls] == [
        (guild.id, channel, True, False)
    ]
    cached = bot.cache.get_voice_state(guild.id, discord.bot_id)
    assert cached is not None and cached.channel_id == channel


async def test_join_flags_are_passed_to_the_gateway(
    manager: VoiceManager, guild: FakeGuild, fake_voice: FakeVoiceGateway
) -> None:
    await manager.join(guild.id, guild.voice_channel_ids[0], self_deaf=False, self_mute=True)

    assert (fake_voice.calls[-1].self_deaf, fake_voice.calls[-1].self_mute) == (False, True)


async def test_waiters_are_registered_before_op4_is_sent(
    manager: VoiceManager, guild: FakeGuild, fake_voice: FakeVoiceGateway
) -> None:
    # Discord's answer arrives and is handled while update_voice_state is still being awaited: a join that
    # registered its waiters after sending would miss both events and time out.
    fake_voice.synchronous = True

    info = await manager.join(guild.id, guild.voice_channel_ids[0], timeout=0.5)

    assert info.channel_id == guild.voice_channel_ids[0]


async def test_server_update_before_state_update(
    manager: VoiceManager, guild: FakeGuild, discord: FakeDiscord, fake_voice: FakeVoiceGateway
) -> None:
    fake_voice.server_first = True

    info = await manager.join(guild.id, guild.voice_channel_ids[0])

    assert (info.session_id, info.token) == (discord.session_id, fake_voice.tokens[guild.id])


async def test_events_of_other_guilds_and_users_are_ignored(
    manager: VoiceManager, guild: FakeGuild, discord: FakeDiscord, fake_voice: FakeVoiceGateway
) -> None:
    other = await discord.add_guild(voice_channels=1, members=1)
    channel = guild.voice_channel_ids[0]
    fake_voice.respond = False
    join = start_join(manager, guild.id, channel)
    await discord.settle()

    # A human joins the same channel, the bot shows up in another guild, another guild gets a server.
    await discord.voice_state(guild.id, guild.member_ids[0], channel)
    await discord.voice_state(other.id, discord.bot_id, other.voice_channel_ids[0])
    await discord.voice_server(other.id, token="other-guild-token", endpoint="elsewhere.discord.media:443")
    assert not join.done()
    assert manager.is_joining(guild.id)

    await discord.voice_state(guild.id, discord.bot_id, channel)
    assert not join.done()  # the state alone is not enough
    await discord.voice_server(guild.id, token="right-token", endpoint="right.discord.media:443")

    info = await join
    assert (info.token, info.endpoint, info.session_id) == (
        "right-token",
        "right.discord.media:443",
        discord.session_id,
    )
    assert manager.current(other.id) is None


async def test_null_endpoint_means_wait_for_the_next_server_update(
    manager: VoiceManager, guild: FakeGuild, discord: FakeDiscord, fake_voice: FakeVoiceGateway
) -> None:
    fake_voice.respond = False
    join = start_join(manager, guild.id, guild.voice_channel_ids[0])
    await discord.settle()
    await discord.voice_state(guild.id, discord.bot_id, guild.voice_channel_ids[0])
    await discord.voice_server(guild.id, token="first", endpoint=None)
    assert not join.done()

    await discord.voice_server(guild.id, token="second", endpoint="c-ams02-1234abcd.discord.media:443")

    info = await join
    assert (info.token, info.endpoint) == ("second", "c-ams02-1234abcd.discord.media:443")


async def test_null_endpoint_first_from_the_fake_gateway(
    manager: VoiceManager, guild: FakeGuild, fake_voice: FakeVoiceGateway
) -> None:
    fake_voice.null_endpoint_first = True

    info = await manager.join(guild.id, guild.voice_channel_ids[0])

    assert info.endpoint == fake_voice.endpoint
    assert info.token == fake_voice.tokens[guild.id]


# -- timeouts --


async def test_timeout_names_guild_channel_and_both_missing_updates(
    manager: VoiceManager, guild: FakeGuild, fake_voice: FakeVoiceGateway
) -> None:
    fake_voice.respond = False
    channel = guild.voice_channel_ids[2]

    with pytest.raises(VoiceTimeoutError) as caught:
        await manager.join(guild.id, channel, timeout=0.05)

    message = str(caught.value)
    assert f"guild {guild.id}" in message and f"channel {channel}" in message
    assert "voice state update" in message and "voice server update" in message
    assert not manager.is_joining(guild.id)
    assert manager.current(guild.id) is None


async def test_timeout_names_only_the_missing_server_update(
    manager: VoiceManager, guild: FakeGuild, fake_voice: FakeVoiceGateway
) -> None:
    fake_voice.send_server = False

    with pytest.raises(VoiceTimeoutError) as caught:
        await manager.join(guild.id, guild.voice_channel_ids[0], timeout=0.05)

    assert "voice server update" in str(caught.value)
    assert "voice state update" not in str(caught.value)


async def test_timeout_after_only_a_null_endpoint_says_so(
    manager: VoiceManager, guild: FakeGuild, discord: FakeDiscord, fake_voice: FakeVoiceGateway
) -> None:
    fake_voice.send_server = False
    join = start_join(manager, guild.id, guild.voice_channel_ids[0], timeout=0.2)
    await fake_voice.wait_idle()
    await discord.voice_server(guild.id, endpoint=None)

    with pytest.raises(VoiceTimeoutError, match="null endpoint"):
        await join


async def test_a_late_answer_after_a_timeout_is_not_taken_for_a_connection(
    manager: VoiceManager,
    guild: FakeGuild,
    discord: FakeDiscord,
    fake_voice: FakeVoiceGateway,
    recorder: Recorder,
) -> None:
    fake_voice.respond = False
    with pytest.raises(VoiceTimeoutError):
        await manager.join(guild.id, guild.voice_channel_ids[0], timeout=0.05)

    await discord.voice_state(guild.id, discord.bot_id, guild.voice_channel_ids[0])
    await discord.voice_server(guild.id, endpoint="late.discord.media:443")

    assert manager.current(guild.id) is None
    assert recorder.updates == []


# -- several joins --


async def test_joins_in_different_guilds_are_independent(
    manager: VoiceManager, guild: FakeGuild, discord: FakeDiscord, fake_voice: FakeVoiceGateway
) -> None:
    second = await discord.add_guild(voice_channels=1, members=1)

    first_info, second_info = await asyncio.gather(
        manager.join(guild.id, guild.voice_channel_ids[0]),
        manager.join(second.id, second.voice_channel_ids[0]),
    )

    assert (first_info.guild_id, first_info.channel_id) == (guild.id, guild.voice_channel_ids[0])
    assert (second_info.guild_id, second_info.channel_id) == (second.id, second.voice_channel_ids[0])
    assert first_info.token == fake_voice.tokens[guild.id] != second_info.token == fake_voice.tokens[second.id]


async def test_a_second_join_for_the_same_guild_supersedes_the_first(
    manager: VoiceManager, guild: FakeGuild, discord: FakeDiscord, fake_voice: FakeVoiceGateway
) -> None:
    first_channel, second_channel = guild.voice_channel_ids[0], guild.voice_channel_ids[1]
    fake_voice.respond = False
    first = start_join(manager, guild.id, first_channel)
    await discord.settle()
    second = start_join(manager, guild.id, second_channel)
    await discord.settle()

    # Discord's answer to the first OP4 arrives late: it must not complete anything.
    await discord.voice_state(guild.id, discord.bot_id, first_channel)
    assert not first.done() and not second.done()
    await discord.voice_state(guild.id, discord.bot_id, second_channel)
    await discord.voice_server(guild.id, token="t2", endpoint="b.discord.media:443")

    first_info, second_info = await asyncio.gather(first, second)
    assert first_info == second_info
    assert second_info.channel_id == second_channel
    assert [c.channel_id for c in fake_voice.calls] == [first_channel, second_channel]
    assert not manager.is_joining(guild.id)


async def test_a_superseded_join_shares_the_timeout_of_the_newer_one(
    manager: VoiceManager, guild: FakeGuild, discord: FakeDiscord, fake_voice: FakeVoiceGateway
) -> None:
    fake_voice.respond = False
    first = start_join(manager, guild.id, guild.voice_channel_ids[0], timeout=5.0)
    await discord.settle()

    with pytest.raises(VoiceTimeoutError):
        await manager.join(guild.id, guild.voice_channel_ids[1], timeout=0.05)

    with pytest.raises(VoiceTimeoutError, match=f"channel {guild.voice_channel_ids[1]}"):
        await first


async def test_rejoining_the_same_channel_in_the_same_session_keeps_the_known_server(
    manager: VoiceManager, guild: FakeGuild, fake_voice: FakeVoiceGateway
) -> None:
    # Discord may answer a no-op OP4 with the state update alone.
    first = await manager.join(guild.id, guild.voice_channel_ids[0])
    fake_voice.server_on_rejoin = False

    again = await manager.join(guild.id, guild.voice_channel_ids[0], timeout=2.0)

    assert again == first
    assert len(fake_voice.calls) == 2


async def test_cancelling_a_join_unregisters_it(
    manager: VoiceManager, guild: FakeGuild, discord: FakeDiscord, fake_voice: FakeVoiceGateway
) -> None:
    fake_voice.respond = False
    join = start_join(manager, guild.id, guild.voice_channel_ids[0])
    await discord.settle()
    join.cancel()
    with pytest.raises(asyncio.CancelledError):
        await join

    assert not manager.is_joining(guild.id)


async def test_a_failing_gateway_call_propagates_and_unregisters(
    bot: hikari.GatewayBot, guild: FakeGuild, discord: FakeDiscord
) -> None:
    # The real HikariVoiceGateway on a bot that is not running: hikari refuses, loudly.
    voice = VoiceManager(bot, HikariVoiceGateway(bot))
    await voice.start(discord.bot_id)

    with pytest.raises(hikari.ComponentStateConflictError):
        await voice.join(guild.id, guild.voice_channel_ids[0])

    assert not voice.is_joining(guild.id)
    await voice.close()


# -- following a connection --


async def test_a_move_reports_the_new_channel_then_the_new_server(
    manager: VoiceManager, guild: FakeGuild, fake_voice: FakeVoiceGateway, recorder: Recorder
) -> None:
    joined = await manager.join(guild.id, guild.voice_channel_ids[0])

    await fake_voice.move(guild.id, guild.voice_channel_ids[2])

    assert [(u.channel_id, u.token) for u in recorder.updates] == [
        (guild.voice_channel_ids[2], joined.token),
        (guild.voice_channel_ids[2], fake_voice.tokens[guild.id]),
    ]
    assert manager.current(guild.id) == recorder.updates[-1]
    assert recorder.disconnects == []


async def test_a_region_change_reports_the_new_endpoint(
    manager: VoiceManager, guild: FakeGuild, fake_voice: FakeVoiceGateway, recorder: Recorder
) -> None:
    joined = await manager.join(guild.id, guild.voice_channel_ids[0])

    endpoint = await fake_voice.region_change(guild.id)

    assert recorder.updates == [
        VoiceConnectionInfo(
            guild_id=guild.id,
            channel_id=joined.channel_id,
            session_id=joined.session_id,
            token=fake_voice.tokens[guild.id],
            endpoint=endpoint,
        )
    ]
    assert endpoint != joined.endpoint


async def test_a_deallocated_server_is_not_reported_until_a_new_one_comes(
    manager: VoiceManager, guild: FakeGuild, fake_voice: FakeVoiceGateway, recorder: Recorder
) -> None:
    joined = await manager.join(guild.id, guild.voice_channel_ids[0])

    await fake_voice.server_deallocated(guild.id)
    assert recorder.updates == []
    assert manager.current(guild.id) == joined

    endpoint = await fake_voice.region_change(guild.id)
    assert [u.endpoint for u in recorder.updates] == [endpoint]


async def test_a_kick_reports_a_disconnect(
    manager: VoiceManager, guild: FakeGuild, fake_voice: FakeVoiceGateway, recorder: Recorder
) -> None:
    await manager.join(guild.id, guild.voice_channel_ids[0])

    await fake_voice.kick(guild.id)

    assert recorder.disconnects == [guild.id]
    assert manager.current(guild.id) is None
    assert recorder.updates == []


async def test_leave_sends_op4_without_channel_and_reports_the_confirmed_disconnect(
    manager: VoiceManager,
    guild: FakeGuild,
    fake_voice: FakeVoiceGateway,
    recorder: Recorder,
    bot: hikari.GatewayBot,
) -> None:
    await manager.join(guild.id, guild.voice_channel_ids[0])

    await manager.leave(guild.id)
    assert manager.current(guild.id) is None
    await fake_voice.wait_idle()

    assert fake_voice.calls[-1].channel_id is None
    assert recorder.disconnects == [guild.id]
    assert bot.cache.get_voice_state(guild.id, fake_voice.discord.bot_id) is None


async def test_leave_fails_a_pending_join(
    manager: VoiceManager, guild: FakeGuild, discord: FakeDiscord, fake_voice: FakeVoiceGateway
) -> None:
    fake_voice.respond = False
    join = start_join(manager, guild.id, guild.voice_channel_ids[0])
    await discord.settle()

    await manager.leave(guild.id)

    with pytest.raises(LavalinkError, match="leave"):
        await join


async def test_a_failing_callback_does_not_stop_the_following(
    manager: VoiceManager, guild: FakeGuild, fake_voice: FakeVoiceGateway, recorder: Recorder
) -> None:
    async def broken(info: VoiceConnectionInfo) -> None:
        raise RuntimeError("player update failed")

    await manager.join(guild.id, guild.voice_channel_ids[0])
    manager.on_update = broken
    await fake_voice.region_change(guild.id)
    manager.on_update = recorder.on_update

    endpoint = await fake_voice.region_change(guild.id)

    assert [u.endpoint for u in recorder.updates] == [endpoint]


async def test_after_close_nothing_is_followed(
    manager: VoiceManager,
    guild: FakeGuild,
    discord: FakeDiscord,
    fake_voice: FakeVoiceGateway,
    recorder: Recorder,
) -> None:
    await manager.join(guild.id, guild.voice_channel_ids[0])
    fake_voice.respond = False
    pending = start_join(manager, guild.id, guild.voice_channel_ids[1])
    await discord.settle()

    await manager.close()

    with pytest.raises(LavalinkError, match="closed"):
        await pending
    await fake_voice.kick(guild.id)
    assert recorder.disconnects == []
    assert manager.current(guild.id) is None
    with pytest.raises(RuntimeError, match="start"):
        await manager.join(guild.id, guild.voice_channel_ids[0])


# -- restarts --


async def test_rejoin_after_a_bot_restart_uses_the_new_gateway_session(
    guild: FakeGuild, discord: FakeDiscord, fake_voice: FakeVoiceGateway, manager: VoiceManager
) -> None:
    before = await manager.join(guild.id, guild.voice_channel_ids[0])
    await manager.close()

    # A new process: a new bot object, a new gateway session; Discord still shows the old voice state.
    new_bot = make_bot()
    new_session = await fake_voice.restart(new_bot)
    stale = new_bot.cache.get_voice_state(guild.id, discord.bot_id)
    assert stale is not None and stale.session_id == before.session_id
    voice = VoiceManager(new_bot, fake_voice)
    await voice.start(discord.bot_id)

    after = await voice.join(guild.id, guild.voice_channel_ids[0])

    assert after.session_id == new_session != before.session_id
    assert after.token == fake_voice.tokens[guild.id] != before.token
    await voice.close()


async def test_rejoin_after_a_new_session_waits_for_a_new_server_even_for_the_same_channel(
    guild: FakeGuild, discord: FakeDiscord, fake_voice: FakeVoiceGateway, manager: VoiceManager
) -> None:
    # Same bot object and manager, but the gateway re-identified (new READY): the known voice server
    # belongs to the old session and must not be reused.
    before = await manager.join(guild.id, guild.voice_channel_ids[0])
    new_session = await fake_voice.restart()
    fake_voice.respond = False
    join = start_join(manager, guild.id, guild.voice_channel_ids[0])
    await discord.settle()

    await discord.voice_state(guild.id, discord.bot_id, guild.voice_channel_ids[0])
    assert not join.done()
    await discord.voice_server(guild.id, token="fresh", endpoint="c-new01-00000000.discord.media:443")

    after = await join
    assert (after.session_id, after.token) == (new_session, "fresh")
    assert before.session_id != new_session


# -- the gateway fakes themselves --


async def test_fake_discord_fills_the_bot_cache_like_the_real_gateway(
    bot: hikari.GatewayBot, guild: FakeGuild, discord: FakeDiscord
) -> None:
    me = bot.get_me()
    assert me is not None and me.id == discord.bot_id and me.is_bot
    cached = bot.cache.get_guild(guild.id)
    assert cached is not None and cached.name == guild.name
    assert set(bot.cache.get_guild_channels_view_for_guild(guild.id)) == {
        *guild.voice_channel_ids,
        *guild.text_channel_ids,
    }
    voice_channel = bot.cache.get_guild_channel(guild.voice_channel_ids[0])
    assert isinstance(voice_channel, hikari.GuildVoiceChannel)
    assert set(bot.cache.get_members_view_for_guild(guild.id)) == {discord.bot_id, *guild.member_ids}

    await discord.voice_state(guild.id, guild.member_ids[1], guild.voice_channel_ids[0])
    listeners = bot.cache.get_voice_states_view_for_channel(guild.id, guild.voice_channel_ids[0])
    assert set(listeners) == {guild.member_ids[1]}


async def test_fake_discord_delivers_hikari_events_to_listeners(
    bot: hikari.GatewayBot, discord: FakeDiscord, fake_voice: FakeVoiceGateway
) -> None:
    seen: list[hikari.Event] = []

    async def listener(event: hikari.Event) -> None:
        seen.append(event)

    for event_type in (hikari.ShardReadyEvent, hikari.GuildAvailableEvent, hikari.GuildJoinEvent):
        bot.event_manager.subscribe(event_type, listener)
    bot.event_manager.subscribe(hikari.VoiceEvent, listener)
    existing = await discord.add_guild()
    session = await discord.connect(bot)
    added = await discord.add_guild()
    await fake_voice.update_voice_state(added.id, added.voice_channel_ids[0], self_deaf=True)
    await fake_voice.wait_idle()

    ready = seen[0]
    assert isinstance(ready, hikari.ShardReadyEvent)
    assert ready.session_id == session and ready.my_user.id == discord.bot_id
    assert list(ready.unavailable_guilds) == [existing.id]
    assert isinstance(seen[1], hikari.GuildAvailableEvent) and seen[1].guild_id == existing.id
    assert isinstance(seen[2], hikari.GuildJoinEvent) and seen[2].guild_id == added.id
    state, server = seen[3], seen[4]
    assert isinstance(state, hikari.VoiceStateUpdateEvent) and state.state.session_id == session
    assert state.state.is_self_deafened and state.state.member is not None
    assert isinstance(server, hikari.VoiceServerUpdateEvent)
    assert server.raw_endpoint == fake_voice.endpoint and server.endpoint == f"wss://{fake_voice.endpoint}"


async def test_a_payload_hikari_cannot_read_fails_loudly(guild: FakeGuild, discord: FakeDiscord) -> None:
    if not HIKARI_CONSUMES_INLINE:
        pytest.skip("hikari 2.1 consumes raw events in a task")
    with pytest.raises(PayloadRejectedError, match="VOICE_STATE_UPDATE"):
        discord.feed_now("VOICE_STATE_UPDATE", {"guild_id": str(guild.id), "user_id": "1", "channel_id": None})


async def test_nothing_can_leave_the_machine(bot: hikari.GatewayBot, guild: FakeGuild, discord: FakeDiscord) -> None:
    with pytest.raises(hikari.ComponentStateConflictError):
        await bot.rest.fetch_my_user()
    with pytest.raises(hikari.ComponentStateConflictError):
        await bot.update_voice_state(guild.id, guild.voice_channel_ids[0])
    shard = discord.shard_for(guild.id)
    assert isinstance(shard, FakeShard) and shard.get_user_id() == discord.bot_id
    with pytest.raises(GatewayOfflineError):
        await shard.update_voice_state(guild.id, None)
    with pytest.raises(GatewayOfflineError):
        await shard.request_guild_members(guild.id)


async def test_fake_voice_gateway_needs_a_connected_bot() -> None:
    discord = FakeDiscord()
    guild = await discord.add_guild()
    async with FakeVoiceGateway(discord) as voice:
        with pytest.raises(GatewayOfflineError, match="connect"):
            await voice.update_voice_state(guild.id, guild.voice_channel_ids[0])


async def test_kick_without_voice_is_refused(guild: FakeGuild, fake_voice: FakeVoiceGateway) -> None:
    with pytest.raises(GatewayOfflineError, match="not in voice"):
        await fake_voice.kick(guild.id)


# -- HikariVoiceGateway --


class _RecordingBot(hikari.GatewayBot):
    """A GatewayBot whose update_voice_state records instead of needing a running shard."""

    __slots__ = ("sent",)

    def __init__(self, token: str) -> None:
        super().__init__(token, banner=None, logs=None, suppress_optimization_warning=True)
        self.sent: list[tuple[object, ...]] = []

    async def update_voice_state(self, guild: typing.Any, channel: typing.Any, **kwargs: typing.Any) -> None:
        self.sent.append((guild, channel, kwargs))


async def test_hikari_voice_gateway_calls_the_bot_directly() -> None:
    from lightbulb_lavalink.testing.gateway import make_token

    app = _RecordingBot(make_token())
    gateway = HikariVoiceGateway(app)

    await gateway.update_voice_state(11, 22, self_mute=False, self_deaf=True)
    await gateway.update_voice_state(11, None, self_mute=False, self_deaf=False)

    assert app.sent == [
        (11, 22, {"self_mute": False, "self_deaf": True}),
        (11, None, {"self_mute": False, "self_deaf": False}),
    ]


# -- VoiceConnectionInfo --


def test_to_voice_state_is_the_lavalink_wire_voice_state() -> None:
    from lightbulb_lavalink.protocol.player import VoiceState

    info = VoiceConnectionInfo(
        guild_id=1,
        channel_id=1180000000000000123,
        session_id="abc",
        token="tok",
        endpoint="h.discord.media:443",
    )

    state = info.to_voice_state()

    assert state == VoiceState(
        token="tok", endpoint="h.discord.media:443", session_id="abc", channel_id="1180000000000000123"
    )
