"""The `/lavalink` embeds: what a person reads, within Discord's limits."""

from __future__ import annotations

import datetime

import hikari
import hypothesis
from hypothesis import strategies as st

from lightbulb_lavalink.ext import presentation, reports
from lightbulb_lavalink.ext.views import (
    LivePlayerView,
    NodeInfoView,
    NodeStatusView,
    ResumeInfoView,
    SessionsView,
    StatusView,
    StoredGuildView,
    StoredSessionView,
    SyncView,
)
from lightbulb_lavalink.settings import NodeSettings

AT = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)
SESSION = "a1b2c3d4e5f6a7b8"


def embed_text(embed: hikari.Embed) -> str:
    parts = [embed.title or "", embed.description or ""]
    parts += [f"{field.name}\n{field.value}" for field in embed.fields]
    if embed.footer is not None:
        parts.append(embed.footer.text or "")
    return "\n".join(parts)


def assert_within_discord_limits(embed: hikari.Embed) -> None:
    assert len(embed.title or "") <= 256
    assert len(embed.description or "") <= 4096
    assert len(embed.fields) <= 25
    for field in embed.fields:
        assert 0 < len(field.name) <= 256
        assert 0 < len(field.value) <= 1024
    size = len(embed.title or "") + len(embed.description or "")
    size += sum(len(field.name) + len(field.value) for field in embed.fields)
    size += len(embed.footer.text or "") if embed.footer is not None else 0
    assert size <= 6000


def ready_node(name: str = "main", **overrides: object) -> NodeStatusView:
    values: dict[str, object] = {
        "name": name,
        "address": "lavalink.local:2333",
        "state": "ready",
        "connected": True,
        "session_id": SESSION,
        "resumed": True,
        "ready_at": AT,
        "sync": SyncView(kind="resumed", at=AT, duration=0.125, players_synced=3, replayed_events=2),
        "players": 3,
        "playing": 2,
        "node_players": 10,
        "node_playing": 7,
        "cpu_cores": 8,
        "system_load": 0.25,
        "lavalink_load": 0.05,
        "memory_used": 256 * 1024**2,
        "memory_reservable": 4 * 1024**3,
        "uptime_ms": (3 * 86400 + 4 * 3600 + 5 * 60) * 1000,
    }
    values.update(overrides)
    return NodeStatusView(**values)  # type: ignore[arg-type]


class TestFormatters:
    def test_session_ids_are_shortened(self) -> None:
        assert presentation.short_id(SESSION) == "a1b2c3d4…"
        assert presentation.short_id("abc") == "abc"
        assert presentation.short_id(None) == "none"

    def test_positions_read_like_a_player(self) -> None:
        assert presentation.format_ms(187_000) == "3:07"
        assert presentation.format_ms(3_723_000) == "1:02:03"
        assert presentation.format_ms(None) == "live"

    def test_durations_and_uptimes_use_the_two_largest_units(self) -> None:
        assert presentation.format_duration(0.125) == "125 ms"
        assert presentation.format_duration(2.5) == "2.5 s"
        assert presentation.format_duration(200) == "3 min 20 s"
        assert presentation.format_uptime((3 * 86400 + 4 * 3600 + 5 * 60) * 1000) == "3d 4h"
        assert presentation.format_uptime(65_000) == "1m 5s"
        assert presentation.format_uptime(12_000) == "12s"

    def test_bytes_use_binary_units(self) -> None:
        assert presentation.format_bytes(256 * 1024**2) == "256 MiB"
        assert presentation.format_bytes(int(1.5 * 1024**3)) == "1.5 GiB"

    def test_times_are_discord_timestamps(self) -> None:
        assert presentation.discord_time(AT) == f"<t:{int(AT.timestamp())}:R>"

    def test_node_addresses_show_where_the_node_is_and_never_its_password(self) -> None:
        def node(host: str, *, secure: bool = False) -> NodeSettings:
            return NodeSettings(name="n", host=host, port=2333, password="do-not-show", secure=secure)

        assert reports.address_of(node("127.0.0.1")) == "127.0.0.1:2333"
        assert reports.address_of(node("lava.example", secure=True)) == "https://lava.example:2333"
        assert reports.address_of(node("::1")) == "[::1]:2333"  # the port stays apart from an IPv6 host


class TestStatus:
    def test_a_resumed_node_shows_session_sync_load_and_uptime(self) -> None:
        embed = presentation.status_embed(
            StatusView(nodes=(ready_node(),), started=True, store="sqlite:///lavalink.db", resume_timeout=60)
        )
        assert embed.colour == presentation.GREEN
        assert "1 of 1 node connected" in (embed.description or "")
        assert "sqlite:///lavalink.db" in (embed.description or "")
        (field,) = embed.fields
        assert "main" in field.name and "🟢" in field.name
        assert "a1b2c3d4…" in field.value and SESSION not in field.value
        assert "**Resumed**" in field.value
        assert "3 players synced in 125 ms" in field.value
        assert "2 replayed events" in field.value
        assert "Players: 3 (2 playing)" in field.value
        assert "whole node: 10 (7 playing)" in field.value
        assert "CPU 25% (Lavalink 5%) of 8 cores" in field.value
        assert "memory 256 MiB of 4.0 GiB" in field.value
        assert "Uptime 3d 4h" in field.value

    def test_a_recovery_says_what_was_lost_and_what_failed(self) -> None:
        sync = SyncView(
            kind="recovered",
            at=AT,
            duration=1.5,
            guilds_recovered=4,
            guilds_failed={42: "voice channel deleted"},
            previous_session_id="oldsession123",
        )
        embed = presentation.status_embed(
            StatusView(nodes=(ready_node(resumed=False, sync=sync),), started=True, resume_timeout=60)
        )
        value = embed.fields[0].value
        assert "**Recovered**" in value and "oldsessi…" in value
        assert "4 guilds rebuilt in 1.5 s" in value
        assert "`42` (voice channel deleted)" in value

    def test_a_failed_node_is_red_and_says_why(self) -> None:
        failed = NodeStatusView(
            name="backup",
            address="10.0.0.2:2333",
            state="failed",
            connected=False,
            last_error="wrong password",
        )
        embed = presentation.status_embed(StatusView(nodes=(failed,), started=True, resume_timeout=60))
        assert embed.colour == presentation.RED
        assert "🔴" in embed.fields[0].name
        assert "wrong password" in embed.fields[0].value
        assert "No session yet" in embed.fields[0].value

    def test_some_nodes_down_is_amber(self) -> None:
        down = NodeStatusView(name="b", address="b:1", state="connecting", connected=False)
        embed = presentation.status_embed(StatusView(nodes=(ready_node(), down), started=True, resume_timeout=60))
        assert embed.colour == presentation.AMBER
        assert "1 of 2 nodes connected" in (embed.description or "")

    def test_a_client_not_started_says_so(self) -> None:
        embed = presentation.status_embed(StatusView(nodes=(), started=False, resume_timeout=60))
        assert "not started" in (embed.description or "")

    def test_many_nodes_stay_within_limits_and_say_how_many_are_left_out(self) -> None:
        nodes = tuple(ready_node(f"node-{index}", last_error="x" * 900) for index in range(40))
        embed = presentation.status_embed(StatusView(nodes=nodes, started=True, resume_timeout=60))
        assert_within_discord_limits(embed)
        last = embed.fields[-1]
        shown = len(embed.fields) - 1
        assert last.name == f"… and {40 - shown} more nodes"


class TestSessions:
    def test_lists_each_key_with_its_guilds(self) -> None:
        guild = StoredGuildView(
            guild_id=111,
            guild_name="Music Club",
            node="main",
            channel_id=5,
            track_title="Artist - Song",
            track_length=200_000,
            position=61_000,
            queued=4,
            updated_at=AT,
        )
        idle = StoredGuildView(guild_id=222, node="main")
        view = SessionsView(
            store="redis://***@cache:6379/0",
            sessions=(StoredSessionView(node="main", session_id=SESSION, guilds=(guild, idle)),),
        )
        embed = presentation.sessions_embed(view)
        assert "redis://***@cache:6379/0" in (embed.description or "")
        (field,) = embed.fields
        assert field.name == "main"
        assert "Session `a1b2c3d4…` · 2 guilds" in field.value
        assert "**Music Club** ▶ Artist - Song at 1:01 · 4 queued" in field.value
        assert "`222` idle · 0 queued" in field.value

    def test_an_unreadable_key_says_why(self) -> None:
        view = SessionsView(
            store="json:///x", sessions=(StoredSessionView(node="main", cluster="c1", error="corrupt file"),)
        )
        field = presentation.sessions_embed(view).fields[0]
        assert field.name == "main (cluster c1)"
        assert "corrupt file" in field.value

    def test_nothing_saved_says_when_it_will_be(self) -> None:
        embed = presentation.sessions_embed(SessionsView(store="memory://", sessions=()))
        assert "Nothing saved yet" in (embed.description or "")

    def test_a_store_that_cannot_be_listed_is_an_error(self) -> None:
        embed = presentation.sessions_embed(SessionsView(store="postgresql://db", sessions=(), error="refused"))
        assert embed.colour == presentation.RED
        assert "refused" in (embed.description or "")

    def test_many_guilds_are_summarised(self) -> None:
        guilds = tuple(StoredGuildView(guild_id=index, node="main", track_title="t" * 200) for index in range(30))
        view = SessionsView(store="memory://", sessions=(StoredSessionView(node="main", guilds=guilds),))
        embed = presentation.sessions_embed(view)
        assert_within_discord_limits(embed)
        assert embed.fields[0].value.endswith("… and 22 more")


class TestResumeInfo:
    def test_live_and_saved_side_by_side(self) -> None:
        live = LivePlayerView(
            guild_id=7,
            node="main",
            channel_id=99,
            track_title="A - B",
            track_uri="https://example.com/b",
            track_length=180_000,
            position=30_000,
            paused=True,
            volume=80,
            queued=2,
            next_titles=("C - D", "E - F"),
            loop="queue",
            filters=("timescale",),
            voice_connected=True,
        )
        saved = StoredGuildView(guild_id=7, node="main", channel_id=99, track_title="A - B", position=29_000)
        embed = presentation.resume_info_embed(
            ResumeInfoView(guild_id=7, guild_name="Guild", live=live, snapshot=saved, session_id=SESSION)
        )
        assert embed.title == "Resume info for Guild"
        assert embed.colour == presentation.GREEN
        names = [field.name for field in embed.fields]
        assert names == ["Live player", "Saved snapshot"]
        live_text = embed.fields[0].value
        assert "[A - B](https://example.com/b) (paused) at 0:30 / 3:00" in live_text
        assert "<#99>" in live_text and "voice connected" in live_text
        assert "1. C - D" in live_text and "2. E - F" in live_text
        assert "loop queue" in live_text and "Filters: timescale" in live_text
        assert "at 0:29" in embed.fields[1].value
        assert "a1b2c3d4…" in (embed.description or "")

    def test_nothing_known_is_grey(self) -> None:
        embed = presentation.resume_info_embed(ResumeInfoView(guild_id=7))
        assert embed.colour == presentation.GREY
        assert not embed.fields
        assert "Nothing here" in (embed.description or "")


class TestNodes:
    def test_versions_sources_filters_plugins(self) -> None:
        info = NodeInfoView(
            name="main",
            address="localhost:2333",
            version="4.0.7",
            git="HEAD@93102f8",
            jvm="17.0.12",
            lavaplayer="2.2.1",
            source_managers=("youtube", "soundcloud"),
            filters=("volume", "equalizer"),
            plugins=(("lavasrc", "4.2.0"),),
        )
        broken = NodeInfoView(name="backup", address="b:2333", error="connection refused")
        embed = presentation.nodes_embed((info, broken))
        assert embed.colour == presentation.AMBER
        ok, bad = embed.fields
        assert "Lavalink **4.0.7**" in ok.value
        assert "JVM 17.0.12 · lavaplayer 2.2.1 · build HEAD@93102f8" in ok.value
        assert "Sources: youtube, soundcloud" in ok.value
        assert "Filters: volume, equalizer" in ok.value
        assert "Plugins: lavasrc 4.2.0" in ok.value
        assert "connection refused" in bad.value and "🔴" in bad.name

    def test_no_plugins_says_none(self) -> None:
        embed = presentation.nodes_embed((NodeInfoView(name="n", address="a:1", version="4.1.0"),))
        assert "Plugins: none" in embed.fields[0].value


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(
    names=st.lists(st.text(min_size=1, max_size=300), min_size=0, max_size=40),
    error=st.text(max_size=2000),
    store=st.text(max_size=500),
)
def test_every_embed_stays_within_discord_limits(names: list[str], error: str, store: str) -> None:
    nodes = tuple(ready_node(name, last_error=error, connected=False, state="failed") for name in names)
    assert_within_discord_limits(
        presentation.status_embed(StatusView(nodes=nodes, started=True, store=store, resume_timeout=60))
    )
    infos = tuple(NodeInfoView(name=name, address="a:1", plugins=((error, error),)) for name in names)
    assert_within_discord_limits(presentation.nodes_embed(infos))
    sessions = tuple(
        StoredSessionView(
            node=name,
            guilds=tuple(StoredGuildView(guild_id=i, node=name, track_title=error) for i in range(12)),
        )
        for name in names
    )
    assert_within_discord_limits(presentation.sessions_embed(SessionsView(store=store, sessions=sessions)))
