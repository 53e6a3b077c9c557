"""Case 7, restart to every guild audible: a bot with N playing guilds per shard restarts, under Discord's rate limit.

A restarted bot has a new Discord gateway session, so each guild must rejoin its voice channel (one OP4) before
Lavalink can play into it again, and Discord takes 120 commands per minute per shard connection. Measured in
emulated time, on one `ManualClock` driving the real `LavalinkClient`, `FakeLavalink` (loopback HTTP and
websocket) and the fake Discord, whose gateway applies hikari's own pacing and Discord's limit
(`lightbulb_lavalink.testing.gateway_limits`: a shard that goes over is closed with 4008):

1. A first bot process opens a resumable Lavalink session; the node is given a player per guild (playing an
   hour-long track, voice connected with the old gateway session) and the store a snapshot per guild (the
   channel, the track, 5 queued tracks); Discord keeps the bot's voice states. It closes as a bot does on restart.
2. The restart: every shard connects again (IDENTIFY, a new session: time zero), a new process starts the
   client, which resumes the session and rejoins each guild's channel. A guild is **audible** once its node
   player holds the voice of the new gateway session. 60% of the guilds have a listener; the others are
   rejoined too (``rejoin_empty_channels``), after them.

The **floor** is what Discord's rate allows a hikari bot: hikari keeps 3 of the 120 commands a minute for
heartbeats and the IDENTIFY takes one of the other 117 in the first minute, so the N-th voice command of a shard
cannot leave before 60 * ceil((N - 116) / 117) seconds after the shard connected. Target: within 10% of it.

Driver usage: ``python -m benchmarks.bench_rejoin measure '{"shards": 1, "per_shard": 1000}'``; `restart()` is
also what ``tests/e2e/test_rejoin_pacing.py`` runs, with smaller sizes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import typing

from benchmarks._drive import main
from benchmarks._harness import BASELINE, INFO, OURS, CaseResult, Context, run_json

if typing.TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["floor_seconds", "restart", "run"]

NODE: typing.Final = "bench"
QUEUED: typing.Final = 5
LISTENED_SHARE: typing.Final = 0.6
FIRST_OP4_BUDGET: typing.Final = 116
"""OP4s hikari lets out in a shard's first minute: 117 non-heartbeat commands, less the IDENTIFY."""
OP4_PER_WINDOW: typing.Final = 117
"""OP4s hikari lets out in each later minute (120 less 3 kept for heartbeats)."""
WINDOW: typing.Final = 60.0
_QUIET_ROUNDS: typing.Final = 30
_MAX_ROUNDS: typing.Final = 2_000_000


def floor_seconds(per_shard: int) -> float:
    """The earliest the last of `per_shard` voice commands of one shard can leave, after the shard connected."""
    if per_shard <= FIRST_OP4_BUDGET:
        return 0.0
    return WINDOW * math.ceil((per_shard - FIRST_OP4_BUDGET) / OP4_PER_WINDOW)


class _Warnings(logging.Handler):
    """Counts the library's warnings (a rejoin that failed or timed out logs one)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def _settle() -> None:
    """Run the event loop until nothing is runnable for a while (loopback data is readable on the next turn)."""
    loop = asyncio.get_running_loop()
    quiet = rounds = 0
    while quiet < _QUIET_ROUNDS:
        await asyncio.sleep(0)
        rounds += 1
        quiet = 0 if len(getattr(loop, "_ready", ())) else quiet + 1
        if rounds > _MAX_ROUNDS:
            raise RuntimeError("the event loop never went quiet")


async def _drive(
    clock: typing.Any, done: Callable[[], bool], *, limit: float, what: str, tick: Callable[[], None]
) -> None:
    """Settle, and move the manual clock timer by timer, until `done()`; `tick()` after every settle."""
    deadline = clock.now() + limit
    while True:
        await _settle()
        tick()
        if done():
            return
        next_deadline = clock.next_deadline
        if next_deadline is None or next_deadline > deadline:
            raise RuntimeError(f"{what}: not done after {limit:g} emulated seconds")
        clock.advance(max(0.0, next_deadline - clock.now()))


async def _run_task(clock: typing.Any, coro: typing.Any, *, what: str) -> typing.Any:
    task = asyncio.ensure_future(coro)
    await _drive(clock, task.done, limit=600.0, what=what, tick=lambda: None)
    return task.result()


async def restart(
    shards: int,
    per_shard: int,
    *,
    listened_share: float = LISTENED_SHARE,
    hikari_pacing: bool = True,
    start_delay: float = 0.0,
    lose_session: bool = False,
    pause_last: bool = False,
) -> dict[str, typing.Any]:
    """Build the world, restart the bot, and report when each guild became audible again (emulated seconds).

    `start_delay`: seconds between the shards' reconnect and the client's start (a bot's own start-up);
    `hikari_pacing`: whether the OP4s go through the model of hikari's shard limiter (as on a real shard);
    `lose_session`: the node restarts too, so every guild is recovered from its snapshot instead of resumed;
    `pause_last`: a user pauses the last guild without listeners as soon as the client is up (reported as
    ``pause_s``, the emulated second it was done, or ``pause_error``).
    """
    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
    from lightbulb_lavalink.snapshot import GuildSnapshot, QueueSnapshot, TrackSnapshot
    from lightbulb_lavalink.stores import MemoryStore
    from lightbulb_lavalink.testing import FakeLavalink, ManualClock
    from lightbulb_lavalink.testing.fake_discord import VoiceRecord
    from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeVoiceGateway, make_bot
    from lightbulb_lavalink.testing.player import FakeVoice

    warnings = _Warnings()
    library_log = logging.getLogger("lightbulb_lavalink")
    library_log.addHandler(warnings)
    clock = ManualClock(start_epoch_ms=1_767_225_600_000)
    lavalink = FakeLavalink(clock=clock, player_update_interval=3600.0, stats_interval=3600.0)
    discord = FakeDiscord(clock=clock, shard_count=shards)
    store = MemoryStore()
    processes: list[tuple[LavalinkClient, FakeVoiceGateway]] = []
    await lavalink.start()
    try:
        settings = LavalinkSettings(
            nodes=(NodeSettings(name=NODE, host="127.0.0.1", port=lavalink.port, password=lavalink.password),),
            store="memory://",
            resume_timeout=3600,
            rejoin_empty_channels=True,
            snapshot_interval=5.0,
            position_save_interval=60.0,
        )
        # Guild ids chosen so that guild k of shard s is on shard s: (id >> 22) % shards == s.
        base = (300_000_000_000_000_000 >> 22) // shards * shards
        listened: set[int] = set()
        shard_of: dict[int, int] = {}
        old_session = "old-gateway-session"
        for k in range(per_shard):
            for s in range(shards):
                gid = (base + k * shards + s) << 22
                guild = await discord.add_guild(gid, voice_channels=1, text_channels=0, members=1)
                shard_of[gid] = s
                channel = guild.voice_channel_ids[0]
                guild.voice[discord.bot_id] = VoiceRecord(channel_id=channel, session_id=old_session, self_deaf=True)
                if (k * shards + s) % 10 < round(listened_share * 10):
                    listener = guild.member_ids[0]
                    guild.voice[listener] = VoiceRecord(channel_id=channel, session_id=f"{listener:032x}")
                    listened.add(gid)
        guild_ids = list(shard_of)
        tracks = [lavalink.add_track(title=f"rejoin {i}", length=3_600_000, identifier=f"rj-{i}") for i in range(8)]

        # 1. The bot before its restart: a resumable session, a player per guild, a snapshot per guild.
        bot = make_bot(bot_id=discord.bot_id)
        await discord.connect(bot, session_id=old_session)
        voice = FakeVoiceGateway(discord)
        first = LavalinkClient(bot, settings, store=store, voice_gateway=voice, clock=clock)
        processes.append((first, voice))
        await _run_task(clock, first.start(), what="first start")
        await _run_task(clock, first.wait_ready(30), what="first ready")
        session_id = first.nodes[NODE].session_id
        assert session_id is not None
        session = lavalink.sessions[session_id]
        snapshots = []
        for i, gid in enumerate(guild_ids):
            channel = discord.guild(gid).voice_channel_ids[0]
            player = session.get_or_create_player(gid)
            player.connect_voice(FakeVoice(token=f"t{gid}", endpoint="c-rot01.discord.media:443",
                                           session_id=old_session, channel_id=str(channel)))  # fmt: skip
            player.play(tracks[i % len(tracks)])
            queue = tuple(TrackSnapshot(encoded=tracks[(i + q) % len(tracks)].encoded, user_data={})
                          for q in range(1, QUEUED + 1))  # fmt: skip
            snapshots.append(GuildSnapshot(
                guild_id=gid, node=NODE, channel_id=channel, position=1000, queue=QueueSnapshot(tracks=queue),
                track=TrackSnapshot(encoded=tracks[i % len(tracks)].encoded, user_data={}),
            ))  # fmt: skip
        await store.put_guilds(first.store_key(NODE), snapshots)
        await _run_task(clock, first.close(), what="first close")
        await voice.close()
        processes.clear()
        if lose_session:
            await lavalink.restart()

        # 2. The restart: every shard connects again (time zero), then the client starts and resumes.
        wall = time.perf_counter()
        restarted = clock.now()
        bot = make_bot(bot_id=discord.bot_id)
        new_session = await discord.connect(bot)
        voice = FakeVoiceGateway(discord, hikari_pacing=hikari_pacing)
        client = LavalinkClient(bot, settings, store=store, voice_gateway=voice, clock=clock)
        processes.append((client, voice))
        if start_delay:
            await _run_task(clock, clock.sleep(start_delay), what="the bot's start-up")
        audible: dict[int, float] = {}
        waiting = set(guild_ids)

        def stamp() -> None:
            current = client.nodes[NODE].session_id
            if current is None or current not in lavalink.sessions:
                return
            players = lavalink.players_of(current)
            for gid in list(waiting):
                fake = players.get(gid)
                if (
                    fake is not None
                    and fake.connected
                    and fake.voice is not None
                    and fake.voice.session_id == new_session
                ):
                    audible[gid] = clock.now() - restarted
                    waiting.discard(gid)

        await _run_task(clock, client.start(), what="restart")
        paused: dict[str, typing.Any] = {}
        pause_task: asyncio.Task[None] | None = None
        if pause_last:
            target = [gid for gid in guild_ids if gid not in listened][-1]

            async def pause() -> None:
                try:
                    await client.wait_ready(30)
                    player = client.get_player(target)
                    assert player is not None
                    await player.pause()
                    paused["pause_s"] = clock.now() - restarted
                except Exception as exc:
                    paused["pause_error"] = repr(exc)

            pause_task = asyncio.get_running_loop().create_task(pause())
        await _drive(clock, lambda: not waiting or bool(discord.closes), limit=3600.0, what="rejoin", tick=stamp)
        if pause_task is not None:
            await pause_task
        wall = time.perf_counter() - wall
        report = client.nodes[NODE].last_sync
        # What Discord saw: the OP4 order per shard, listened guilds first?
        order_ok = True
        for s in range(shards):
            calls = [c.guild_id for c in voice.calls if c.channel_id is not None and shard_of[c.guild_id] == s]
            seen_background = False
            for gid in calls:
                if gid not in listened:
                    seen_background = True
                elif seen_background:
                    order_ok = False
        listened_times = [audible[g] for g in listened if g in audible]
        background_times = [t for g, t in audible.items() if g not in listened]
        per_shard_last = [
            max((t for g, t in audible.items() if shard_of[g] == s), default=math.nan) for s in range(shards)
        ]
        return {
            "shards": shards,
            "per_shard": per_shard,
            "guilds": len(guild_ids),
            "listened": len(listened),
            "audible": len(audible),
            "kind": None if report is None else report.kind,
            "measured_s": max(audible.values(), default=math.nan),
            "per_shard_last_s": per_shard_last,
            "floor_s": floor_seconds(per_shard),
            "listened_last_s": max(listened_times, default=0.0),
            "background_first_s": min(background_times, default=math.nan),
            "order_ok": order_ok,
            "op4": sum(1 for c in voice.calls if c.channel_id is not None),
            "closes_4008": sum(1 for c in discord.closes if c.code == 4008),
            "warnings": warnings.messages[:20],
            "warning_count": len(warnings.messages),
            "wall_s": wall,
            **paused,
        }
    finally:
        library_log.removeHandler(warnings)
        for client, voice in processes:
            with contextlib.suppress(Exception):
                await _run_task(clock, client.close(), what="close")
            await voice.close()
        await lavalink.close()


async def measure(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """One restart of `shards` x `per_shard` playing guilds."""
    return await restart(
        int(params["shards"]),
        int(params["per_shard"]),
        start_delay=float(params.get("start_delay", 0.0)),
        hikari_pacing=bool(params.get("hikari_pacing", True)),
    )


def run(ctx: Context) -> list[CaseResult]:
    """Both sizes, one restart each (emulated time does not vary from run to run; the wall time is shown too)."""
    cases: list[CaseResult] = []
    sizes = [(1, 200), (2, 200)] if ctx.quick else [(1, 1_000), (8, 1_000)]
    for shards, per_shard in sizes:
        title = f"restart to every guild audible, {shards} shard{'s' if shards > 1 else ''} x {per_shard:,} guilds"
        case = CaseResult(
            key=f"rejoin_{shards}x{per_shard}",
            title=title,
            unit="s",
            higher_is_better=False,
            notes=[
                f"emulated seconds from the shards' reconnect to the last of {shards * per_shard:,} playing guilds "
                "audible again (its node player has the new session's voice); 60% with a listener, rejoined first. "
                "Floor: hikari sends at most 116 voice commands per shard in the first minute of a connection "
                "(120 less 3 kept for heartbeats, less the IDENTIFY) and 117 in each after: "
                f"60 * ceil(({per_shard} - 116) / 117) s per shard. Target: within 10% of it.",
            ],
        )
        ours = case.row("ours", OURS)
        floor = case.row("floor: Discord's rate (hikari's pacing)", BASELINE)
        listened = case.row("ours, last guild with listeners", INFO)
        wall = case.row("real seconds to emulate it", INFO)
        ctx.log(f"rejoin {shards}x{per_shard}: restart")
        try:
            r = run_json(
                ctx.main_python,
                "benchmarks.bench_rejoin",
                ["measure", f'{{"shards": {shards}, "per_shard": {per_shard}}}'],
                timeout=1800,
            )
        except RuntimeError as exc:
            ctx.log(f"rejoin {shards}x{per_shard}: failed: {exc}")
            ours.note = "failed: " + str(exc).splitlines()[-1]
            cases.append(case)
            continue
        problems = []
        if r["audible"] != r["guilds"]:
            problems.append(f"{r['audible']}/{r['guilds']} audible")
        if r["closes_4008"]:
            problems.append(f"{r['closes_4008']} shard(s) closed with 4008")
        if not r["order_ok"]:
            problems.append("a guild without listeners went before one with")
        if r["warning_count"]:
            problems.append(f"{r['warning_count']} warnings")
        if problems:
            ours.note = "INCOMPLETE: " + ", ".join(problems)
        ours.values.append(r["measured_s"])
        floor.values.append(r["floor_s"])
        listened.values.append(r["listened_last_s"])
        wall.values.append(r["wall_s"])
        cases.append(case)
    return cases


if __name__ == "__main__":
    main({"measure": measure})
