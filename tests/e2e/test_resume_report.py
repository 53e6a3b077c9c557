"""Issue 13's done-when: a bot with 200 guilds restarts under each kind of outcome; the `ResumeReport` and the
scraped Prometheus metrics say what happened.

Everything runs on one `ManualClock`: tracks advance, updates come and retries fire only when the test moves it.
"""

from __future__ import annotations

import asyncio
import typing

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

from lightbulb_lavalink import events
from lightbulb_lavalink.ext.presentation import status_embed
from lightbulb_lavalink.ext.reports import status_view
from lightbulb_lavalink.metrics import LavalinkMetrics
from lightbulb_lavalink.testing import FakeLavalink, ManualClock
from lightbulb_lavalink.testing.gateway import FakeDiscord

from .conftest import BotProcess, World, clock_of, make_tracks

if typing.TYPE_CHECKING:
    import pathlib
    from collections.abc import AsyncIterator

    from lightbulb_lavalink.resuming.outcome import ResumeReport

GUILDS = 200
SHORT = 20  # guilds whose track ends while the bot is away
EMPTY = 20  # guilds whose listener leaves while the bot is away (mix)
REFUSED = 30  # guilds whose recovery PATCH the node refuses (mix)
SHARDS = 4
GUILD_BASE = 1_250_000_000_000_000_000
DOWNTIME = 5.0  # emulated seconds between two bot processes


@pytest.fixture
async def world(tmp_path: pathlib.Path) -> AsyncIterator[World]:
    clock = ManualClock()
    async with FakeLavalink(clock=clock, player_update_interval=1.0, password="s3cr3t-pass") as lavalink:
        # Discord's gateway rate limit on the same clock, and 200 guilds over 4 shards (50 each) as a bot of that
        # size has them: every join fits in a shard's first minute (the pacing itself: test_rejoin_pacing.py).
        discord = FakeDiscord(clock=clock, shard_count=SHARDS)
        guilds = [await discord.add_guild(GUILD_BASE + (n << 22), members=2) for n in range(GUILDS)]
        w = World(
            lavalink=lavalink,
            discord=discord,
            store_url=f"sqlite:///{tmp_path / 'sessions.db'}",
            guilds=guilds,
            clock=clock,
        )
        try:
            yield w
        finally:
            await w.close()


async def settled(world: World, process: BotProcess, *, limit: float = 120.0) -> ResumeReport:
    """Move the clock until the process's `ResumeCompletedEvent` comes; return its report."""
    future = process.expect(events.ResumeCompletedEvent, seen=True)
    clock = clock_of(world)
    moved = 0.0
    while not future.done():
        assert moved < limit, f"no ResumeCompletedEvent within {limit} emulated seconds"
        await asyncio.wait([future], timeout=0.005)  # a real-time slice for the sockets, then the clock moves
        clock.advance(0.05)
        moved += 0.05
    event: events.ResumeCompletedEvent = future.result()
    assert process.of_type(events.ResumeCompletedEvent) == [event], "one report per ready"
    assert event.node.last_resume is event.report
    return event.report


async def play_everywhere(world: World, process: BotProcess) -> None:
    """Every guild: a listener, the bot joins, a track plays with one queued after it (the first `SHORT` guilds'
    tracks end 3 s in, while the bot is away)."""
    for n, guild in enumerate(world.guilds):
        first, second = make_tracks(world.lavalink, f"Secret Song {n}", 2, length=3_000 if n < SHORT else 600_000)
        await world.seat_listener(guild)
        player = await process.client.join(guild.id, guild.voice_channel_ids[0])
        player.queue.add(second)
        await player.play(first)
    assert len(world.lavalink.players_of(process.client.nodes["main"].session_id or "")) == GUILDS


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(metrics: LavalinkMetrics) -> tuple[str, Samples]:
    text = prometheus_client.generate_latest(metrics.registry).decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def assert_nothing_secret(world: World, process: BotProcess, text: str) -> None:
    assert world.lavalink.password not in text
    assert "Secret Song" not in text, "a track title in a metric label"
    session = process.client.nodes["main"].session_id
    assert session is not None and session not in text
    assert not any(str(guild.id) in text for guild in world.guilds), "a raw path with ids in a metric label"


def assert_settled_metrics(samples: Samples, report: ResumeReport) -> None:
    assert value(samples, "lightbulb_lavalink_resumes_total", kind=report.kind) == 1
    assert value(samples, "lightbulb_lavalink_resume_seconds_count", kind=report.kind) == 1
    for outcome, guilds in (
        ("resumed", report.resumed),
        ("recovered", report.recovered),
        ("failed", report.failed),
        ("left_alone", report.left_alone),
    ):
        assert value(samples, "lightbulb_lavalink_resume_guilds_total", outcome=outcome) == len(guilds), outcome
    for phase, _ in report.phases.items():
        assert value(samples, "lightbulb_lavalink_resume_phase_seconds_count", phase=phase) == 1, phase
    assert value(samples, "lightbulb_lavalink_node_state", node="main", state="ready") == 1
    assert value(samples, "lightbulb_lavalink_node_state", node="main", state="failed") == 0


async def test_a_resumed_restart_reports_every_guild_resumed_with_its_replayed_events(world: World) -> None:
    first = await world.boot()
    await play_everywhere(world, first)
    clock_of(world).advance(2.0)
    session = first.client.nodes["main"].session_id
    await world.stop(first)
    clock_of(world).advance(DOWNTIME)  # the short tracks end while the bot is away: the node queues their ends

    metrics = LavalinkMetrics()
    second = await world.boot(metrics=metrics)
    report = await settled(world, second)

    gids = tuple(sorted(g.id for g in world.guilds))
    assert (report.kind, report.session_id, report.previous_session_id) == ("resumed", session, session)
    assert report.complete
    assert report.resumed == gids
    assert (report.recovered, dict(report.failed), dict(report.left_alone)) == ((), {}, {})
    assert report.events_replayed == SHORT, "one queued track end per short track"
    assert (report.events_applied, report.events_dropped) == (SHORT, 0)
    assert report.largest_jump is not None
    assert abs(report.largest_jump.jump) <= 1_000, "the node kept playing: a listener hears no jump"
    phases = report.phases
    assert phases.store_read is not None and phases.handshake is not None
    assert phases.sync is not None and phases.replay is not None and phases.voice is not None
    assert phases.recovery is None
    assert phases.replay <= 1.5, "the replay ends at the first playerUpdate (1 s) at the latest"
    resumed = second.of_type(events.SessionResumedEvent)
    assert len(resumed) == 1 and resumed[0].replayed_events == 0  # deprecated: the report has the count

    text, samples = scrape(metrics)
    assert_nothing_secret(world, second, text)
    assert_settled_metrics(samples, report)
    assert value(samples, "lightbulb_lavalink_replayed_events_total", result="applied") == SHORT
    assert value(samples, "lightbulb_lavalink_replayed_events_total", result="dropped") == 0
    assert value(samples, "lightbulb_lavalink_players", node="main") == GUILDS
    assert value(samples, "lightbulb_lavalink_players", node="main", state="playing") == GUILDS
    fetches = "lightbulb_lavalink_rest_request_seconds_count"
    assert value(samples, fetches, method="GET", route="/v4/sessions/{sessionId}/players") == 1
    assert value(samples, fetches, method="PATCH", route="/v4/sessions/{sessionId}/players/{guildId}") >= GUILDS
    assert value(samples, "lightbulb_lavalink_rest_errors_total") == 0
    assert value(samples, "lightbulb_lavalink_store_write_seconds_count") > 0
    assert value(samples, "lightbulb_lavalink_store_write_failures_total") == 0

    shown = status_embed(status_view(second.client))
    field = shown.fields[0].value
    assert "Last resumed settled in" in field and f"{GUILDS} resumed · 0 recovered · 0 failed" in field
    assert world.lavalink.password not in str(shown.fields) + str(shown.description)


async def test_a_restart_after_the_node_restarted_reports_every_guild_recovered(world: World) -> None:
    first = await world.boot()
    await play_everywhere(world, first)
    clock_of(world).advance(1.0)
    previous = first.client.nodes["main"].session_id
    await world.stop(first)
    await world.lavalink.restart()  # every session and player lost

    metrics = LavalinkMetrics()
    second = await world.boot(metrics=metrics)
    report = await settled(world, second)

    assert (report.kind, report.previous_session_id) == ("recovered", previous)
    assert report.session_id != previous
    assert report.recovered == tuple(sorted(g.id for g in world.guilds))
    assert (report.resumed, dict(report.failed), dict(report.left_alone)) == ((), {}, {})
    assert report.events_replayed == 0
    assert report.phases.recovery is not None and report.phases.sync is None and report.phases.replay is None
    assert report.largest_jump is not None and report.largest_jump.jump <= 0, "back where it was saved"
    assert len(world.lavalink.players_of(report.session_id)) == GUILDS

    text, samples = scrape(metrics)
    assert_nothing_secret(world, second, text)
    assert_settled_metrics(samples, report)
    # The first SHORT guilds' tracks were recovered 1 s into their 3 s: while the clock moves towards the report,
    # some end and their next track is starting (pending) when it is read.
    playing = value(samples, "lightbulb_lavalink_players", node="main", state="playing")
    pending = value(samples, "lightbulb_lavalink_players", node="main", state="pending")
    assert playing + pending == GUILDS
    assert playing >= GUILDS - SHORT


async def test_a_first_start_with_nothing_saved_reports_a_fresh_session(world: World) -> None:
    metrics = LavalinkMetrics()
    process = await world.boot(metrics=metrics)
    report = await settled(world, process)

    assert (report.kind, report.previous_session_id, report.guild_count) == ("fresh", None, 0)
    assert report.largest_jump is None and report.events_replayed == 0
    assert report.phases.store_read is not None and report.phases.handshake is not None

    text, samples = scrape(metrics)
    assert_nothing_secret(world, process, text)
    assert_settled_metrics(samples, report)
    assert value(samples, "lightbulb_lavalink_players") == 0


async def test_a_mixed_restart_reports_failed_and_left_alone_guilds_with_their_reasons(world: World) -> None:
    first = await world.boot()
    await play_everywhere(world, first)
    await world.stop(first)
    await world.lavalink.restart()
    emptied = world.guilds[SHORT : SHORT + EMPTY]
    for guild in emptied:  # the only listener leaves while the bot is away
        await world.discord.voice_state(guild.id, world.listener_in(guild), None)
    refused = world.guilds[-REFUSED:]
    faults = [
        world.lavalink.faults.add("PATCH", "/v4/sessions/*/players/*", guild_id=g.id, status=500, times=None)
        for g in refused
    ]

    metrics = LavalinkMetrics()
    second = await world.boot(metrics=metrics)
    report = await settled(world, second)

    assert report.kind == "recovered" and report.complete
    assert set(report.left_alone) == {g.id for g in emptied}
    assert set(report.left_alone.values()) == {"voice channel has no listeners"}
    assert set(report.failed) == {g.id for g in refused}
    assert all("500" in reason for reason in report.failed.values()), report.failed
    assert len(report.recovered) == GUILDS - EMPTY - REFUSED
    assert report.guild_count == GUILDS
    assert all(len(f.hits) >= 4 for f in faults), "the first pass and three retry rounds, then the report"

    text, samples = scrape(metrics)
    assert_nothing_secret(world, second, text)
    assert_settled_metrics(samples, report)
    refusals = sum(len(f.hits) for f in faults)  # the recovery's PATCHes and the voice updates sent meanwhile
    route = "/v4/sessions/{sessionId}/players/{guildId}"
    errors = value(samples, "lightbulb_lavalink_rest_errors_total", method="PATCH", route=route, error="500")
    assert 4 * REFUSED <= errors <= refusals
    assert value(samples, "lightbulb_lavalink_rest_errors_total") == errors, "no other request failed"
    assert value(samples, "lightbulb_lavalink_players", state="recovering") == REFUSED, "still retried"

    shown = status_embed(status_view(second.client)).fields[0].value
    assert f"{REFUSED} failed · {EMPTY} left alone" in shown
    assert "⚠️ Failed:" in shown and "Left alone:" in shown
