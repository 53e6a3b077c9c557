"""Several nodes: fair placement, guilds staying on their node across restarts, bad nodes not hurting good ones."""

from __future__ import annotations

import contextlib
import logging
import socket
import typing

import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import AuthenticationError, LavalinkError
from lightbulb_lavalink.node import NodeState
from lightbulb_lavalink.pool import PenaltyBalancer, stats_penalty
from lightbulb_lavalink.protocol.stats import Stats
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.testing import FakeLavalink
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeVoiceGateway, make_bot
from tests.polling import eventually

if typing.TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterator


def stats(playing: int, load: float = 0.0, frames: tuple[int, int, int] | None = None) -> Stats:
    payload: dict[str, typing.Any] = {
        "players": playing,
        "playingPlayers": playing,
        "uptime": 1,
        "memory": {"free": 1, "used": 1, "allocated": 1, "reservable": 1},
        "cpu": {"cores": 2, "systemLoad": load, "lavalinkLoad": 0.0},
        "frameStats": None if frames is None else dict(zip(("sent", "nulled", "deficit"), frames, strict=True)),
    }
    return Stats.from_payload(payload)


def test_penalty_grows_with_players_cpu_and_lost_frames() -> None:
    idle = stats_penalty(stats(0))
    assert idle == 0
    assert stats_penalty(stats(10)) == 10
    assert stats_penalty(stats(0, load=0.5)) > stats_penalty(stats(0, load=0.1)) > 0
    assert stats_penalty(stats(0, frames=(2500, 0, 500))) > stats_penalty(stats(0, frames=(3000, 0, 0)))
    assert stats_penalty(stats(0, frames=(2500, 500, 0))) > stats_penalty(stats(0, frames=(3000, 0, 0)))
    # Players assigned but not yet counted by a stats op weigh like playing ones.
    assert stats_penalty(stats(3), pending_players=2) == stats_penalty(stats(5))
    assert stats_penalty(None, pending_players=2) == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def bot_with(
    nodes: list[NodeSettings], store: str, discord: FakeDiscord, **overrides: typing.Any
) -> AsyncIterator[tuple[LavalinkClient, FakeVoiceGateway]]:
    bot = make_bot(bot_id=discord.bot_id)
    await discord.connect(bot)
    voice = FakeVoiceGateway(discord)
    settings = LavalinkSettings(
        nodes=tuple(nodes), store=store, **{"reconnect_delay": 0.05, "reconnect_max_delay": 0.2, **overrides}
    )
    client = LavalinkClient(bot, settings, voice_gateway=voice)
    await client.start()
    try:
        yield client, voice
    finally:
        await client.close()
        await voice.close()


def node_settings(name: str, node: FakeLavalink, password: str | None = None) -> NodeSettings:
    return NodeSettings(name=name, host="127.0.0.1", port=node.port, password=password or node.password)


async def test_players_spread_over_nodes_and_stay_on_them_across_restarts(tmp_path: pathlib.Path) -> None:
    store = f"sqlite:///{tmp_path / 's.db'}"
    discord = FakeDiscord()
    guilds = [await discord.add_guild(members=2) for _ in range(6)]
    async with FakeLavalink(time_scale=20) as a, FakeLavalink(time_scale=20) as b:
        nodes = [node_settings("a", a), node_settings("b", b)]
        async with bot_with(nodes, store, discord) as (client, _):
            await client.wait_ready(5)
            for guild in guilds:
                await discord.voice_state(guild.id, guild.member_ids[1], guild.voice_channel_ids[0])
                player = await client.join(guild.id, guild.voice_channel_ids[0])
                await player.play((await client.load_tracks(f"ytsearch:song {guild.id}")).tracks[0])
            placement = {gid: p.node.name for gid, p in client.players.items()}
        counts = {name: list(placement.values()).count(name) for name in ("a", "b")}
        assert counts == {"a": 3, "b": 3}  # pending players count until stats confirm them

        async with bot_with(nodes, store, discord) as (client, _):
            await client.wait_ready(5)
            await eventually(lambda: len(client.players) == len(guilds), what="every player synced")
            assert {gid: p.node.name for gid, p in client.players.items()} == placement


async def test_a_wrong_password_fails_that_node_clearly_and_the_other_serves(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    discord = FakeDiscord()
    guild = await discord.add_guild(members=2)
    async with FakeLavalink(password="right") as good, FakeLavalink(password="right") as bad:
        nodes = [node_settings("good", good), node_settings("bad", bad, password="wrong")]
        with caplog.at_level(logging.WARNING, logger="lightbulb_lavalink"):
            async with bot_with(nodes, "memory://", discord) as (client, _):
                await client.nodes["good"].wait_ready(5)
                with pytest.raises(AuthenticationError):
                    await client.nodes["bad"].wait_ready(5)
                await eventually(lambda: client.nodes["bad"].state is NodeState.FAILED, what="bad node failed")
                assert "password" in (client.nodes["bad"].last_error or "").lower()
                await discord.voice_state(guild.id, guild.member_ids[1], guild.voice_channel_ids[0])
                player = await client.join(guild.id, guild.voice_channel_ids[0])
                assert player.node.name == "good"
        failures = [r for r in caplog.records if r.name.startswith("lightbulb_lavalink") and r.levelno >= logging.ERROR]
        assert len(failures) == 1 and "bad" in failures[0].getMessage()
        assert all(r.exc_info is None for r in caplog.records)  # a clear line, no traceback spam
        assert "wrong" not in caplog.text  # the password is never logged


async def test_an_unreachable_node_does_not_stall_the_bot(tmp_path: pathlib.Path) -> None:
    discord = FakeDiscord()
    async with FakeLavalink() as good:
        nodes = [node_settings("good", good), NodeSettings(name="gone", host="127.0.0.1", port=free_port())]
        async with bot_with(nodes, "memory://", discord) as (client, _):
            await client.nodes["good"].wait_ready(5)
            with pytest.raises(LavalinkError):
                await client.nodes["gone"].wait_ready(0.5)
            assert client.nodes["gone"].state is NodeState.CONNECTING
            assert client.best_node().name == "good"


async def test_a_node_coming_back_later_gets_ready(tmp_path: pathlib.Path) -> None:
    discord = FakeDiscord()
    port = free_port()
    late = FakeLavalink(port=port)
    async with bot_with([NodeSettings(name="late", host="127.0.0.1", port=port)], "memory://", discord) as (
        client,
        _,
    ):
        seen: list[events.NodeReadyEvent] = []

        async def record(event: events.NodeReadyEvent) -> None:
            seen.append(event)

        client.app.event_manager.subscribe(events.NodeReadyEvent, record)
        await late.start()
        try:
            await client.wait_ready(5)
            await eventually(lambda: bool(seen), what="NodeReadyEvent")
            assert client.nodes["late"].connected
        finally:
            await late.close()


def test_the_balancer_prefers_the_region_then_the_lowest_penalty() -> None:
    class N:
        def __init__(self, name: str, region: str | None, penalty: float) -> None:
            self.name, self.penalty = name, penalty
            self.settings = NodeSettings(name=name, region=region)

    eu, us1, us2 = N("eu", "eu", 5.0), N("us1", "us", 9.0), N("us2", "us", 1.0)
    balancer = PenaltyBalancer()
    assert balancer.choose([eu, us1, us2]).name == "us2"  # type: ignore[arg-type, union-attr]
    assert balancer.choose([eu, us1, us2], region="eu").name == "eu"  # type: ignore[arg-type, union-attr]
    assert balancer.choose([eu, us1], region="asia").name == "eu"  # type: ignore[arg-type, union-attr]
    assert balancer.choose([]) is None


async def test_players_move_to_another_node_when_theirs_stays_away(tmp_path: pathlib.Path) -> None:
    store = f"sqlite:///{tmp_path / 's.db'}"
    discord = FakeDiscord()
    guild = await discord.add_guild(members=2)
    async with FakeLavalink(time_scale=20) as a, FakeLavalink(time_scale=20) as b:
        nodes = [node_settings("a", a), node_settings("b", b)]
        async with bot_with(nodes, store, discord, failover_after=0.3, reconnect_max_delay=0.1) as (client, _):
            moved: list[events.PlayerMovedEvent] = []

            async def record(event: events.PlayerMovedEvent) -> None:
                moved.append(event)

            client.app.event_manager.subscribe(events.PlayerMovedEvent, record)
            await client.wait_ready(5)
            await discord.voice_state(guild.id, guild.member_ids[1], guild.voice_channel_ids[0])
            player = await client.join(guild.id, guild.voice_channel_ids[0], node="a")
            tracks = [a.add_track(title=f"f{i}", identifier=f"fail-{i}") for i in range(3)]
            for t in tracks:
                b.add_track(title=t.info.title, identifier=t.info.identifier)
            player.queue.extend(tracks[1:])
            await player.play(tracks[0])
            await eventually(lambda: player.position > 2_000, what="some playback")

            await a.close()  # node a goes away and stays away

            await eventually(lambda: bool(moved), timeout=5, what="the player moving")
            assert moved[0].previous_node.name == "a" and moved[0].node.name == "b"
            assert player.node.name == "b"
            b_player = b.players_of(client.nodes["b"].session_id or "")[guild.id]
            assert b_player.track is not None and b_player.track.info.identifier == "fail-0"
            assert b_player.position >= 2_000  # it carried on from where it was, not from zero
            assert b_player.voice is not None and b_player.voice.session_id == discord.session_id
            assert [t.info.identifier for t in player.queue] == ["fail-1", "fail-2"]
            await player.skip()  # commands work again, on the new node
            assert b.players_of(client.nodes["b"].session_id or "")[guild.id].track.info.identifier == "fail-1"
        # The store follows the move: the guild is saved under node b only.
        from lightbulb_lavalink.stores import StoreKey, open_store

        saved = open_store(store)
        await saved.open()
        try:
            assert await saved.get_guilds(StoreKey(bot_id=discord.bot_id, node="a")) == {}
            assert list(await saved.get_guilds(StoreKey(bot_id=discord.bot_id, node="b"))) == [guild.id]
        finally:
            await saved.close()


async def test_a_node_coming_back_after_a_failover_does_not_keep_the_moved_player(tmp_path: pathlib.Path) -> None:
    discord = FakeDiscord()
    guild = await discord.add_guild(members=2)
    async with FakeLavalink(time_scale=20) as a, FakeLavalink(time_scale=20) as b:
        nodes = [node_settings("a", a), node_settings("b", b)]
        async with bot_with(nodes, "memory://", discord) as (client, _):
            await client.wait_ready(5)
            await discord.voice_state(guild.id, guild.member_ids[1], guild.voice_channel_ids[0])
            player = await client.join(guild.id, guild.voice_channel_ids[0], node="a")
            await player.play((await client.load_tracks("ytsearch:failback")).tracks[0])
            session_a = client.nodes["a"].session_id
            assert session_a is not None

            await a.drop_connections(refuse_new=True)  # a network cut: node a keeps the session, paused
            await eventually(lambda: not client.nodes["a"].connected, what="node a seen away")
            await client.move_player(guild.id)  # what the failover does, by hand
            assert player.node.name == "b"

            await a.accept_connections()
            await eventually(lambda: client.nodes["a"].connected, what="node a back")
            await eventually(lambda: guild.id not in a.players_of(session_a), what="the stale player destroyed on a")
            assert guild.id in b.players_of(client.nodes["b"].session_id or "")
            assert client.get_player(guild.id) is player and player.node.name == "b"
