"""`python -m lightbulb_lavalink demo`: the main job shown with no Discord and no Lavalink.

The embedded emulator (`FakeLavalink`) plays the Lavalink node, `FakeDiscord` feeds real gateway payloads to a
real, never-started `hikari.GatewayBot` with the extension loaded through lightbulb 3. Guilds play with queues,
the bot "restarts" (a new process: new bot, new gateway session) and resumes; then the node restarts and the
still-running bot recovers every guild.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pathlib
import sys
import tempfile
import time
import typing

import attrs

from lightbulb_lavalink import events
from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.testing import FakeLavalink
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeGuild, FakeVoiceGateway, make_bot
from lightbulb_lavalink.voice import VoiceGateway

if typing.TYPE_CHECKING:
    import hikari

    from lightbulb_lavalink.player import Player

__all__ = ["main", "run_demo"]

# Emulated seconds per real second: tracks advance visibly, the whole demo stays well under a minute.
TIME_SCALE = 20.0
QUERIES = ("ytsearch:lofi beats", "scsearch:synthwave night drive", "ytsearch:piano etudes", "ytsearch:jazz trio")
GUILD_NAMES = ("Night Owls", "Study Hall", "Garage Band", "Jazz Club")


class Console:
    """What the demo shows a person: headings, aligned lines and one progress line rewritten in place."""

    def __init__(self, stream: typing.TextIO) -> None:
        self._out = stream
        self._tty = stream.isatty()
        self._progress = False

    def line(self, text: str = "") -> None:
        self._end_progress()
        self._out.write(text + "\n")
        self._out.flush()

    def heading(self, step: int, text: str) -> None:
        self.line()
        self.line(f"[{step}/5] {text}")

    def progress(self, text: str) -> None:
        if self._tty:
            self._out.write("\r\x1b[2K    " + text)
            self._progress = True
        else:
            self._out.write("    " + text + "\n")
        self._out.flush()

    def _end_progress(self) -> None:
        if self._progress:
            self._out.write("\n")
            self._progress = False


@attrs.define
class BotRun:
    """One run of the bot process."""

    bot: hikari.GatewayBot
    lightbulb_client: typing.Any
    lavalink: LavalinkClient
    seen: list[events.LavalinkEvent]


def _clock(ms: int) -> str:
    seconds = max(0, ms) // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


def _describe(player: Player | None) -> tuple[str, str]:
    if player is None:
        return ("(no player)", "")
    track = player.track
    now = (
        "idle"
        if track is None
        else f"{track.info.title[:34]:<34} {_clock(player.position)}/{_clock(track.info.length)}"
    )
    if track is not None and player.paused:
        now += " (paused)"
    upcoming = ", ".join(t.info.title[:18] for t in list(player.queue)[:3])
    more = len(player.queue) - 3
    return (now, f"{len(player.queue)} queued: {upcoming}" + (f" +{more}" if more > 0 else ""))


def _show_guilds(console: Console, client: LavalinkClient, guilds: list[FakeGuild]) -> None:
    for guild in guilds:
        now, queue = _describe(client.get_player(guild.id))
        console.line(f"    {guild.name:<12} ▶ {now}")
        if queue:
            console.line(f"    {'':<12}   {queue}")


def _queue_fingerprint(client: LavalinkClient) -> dict[int, tuple[str | None, tuple[str, ...]]]:
    return {
        gid: (p.track.info.identifier if p.track else None, tuple(t.info.identifier for t in p.queue))
        for gid, p in client.players.items()
    }


async def _boot(discord: FakeDiscord, settings: LavalinkSettings) -> BotRun:
    """Start a bot "process": a new GatewayBot, a gateway session, lightbulb 3 and the extension."""
    import lightbulb  # the demo shows the extension, which needs lightbulb 3

    bot = make_bot(bot_id=discord.bot_id)
    await discord.connect(bot)  # READY and GUILD_CREATE, as Discord sends them
    lb = lightbulb.client_from_app(bot)
    registry = lb.di.registry_for(lightbulb.di.Contexts.DEFAULT)
    registry.register_value(LavalinkSettings, settings)
    # The one call that would leave the machine (OP4, voice state update) is answered by FakeDiscord.
    registry.register_value(VoiceGateway, FakeVoiceGateway(discord))  # type: ignore[type-abstract]
    seen: list[events.LavalinkEvent] = []

    async def record(event: events.LavalinkEvent) -> None:
        seen.append(event)

    bot.event_manager.subscribe(events.LavalinkEvent, record)
    await lb.load_extensions("lightbulb_lavalink")
    async with lb.di.enter_context(lightbulb.di.Contexts.DEFAULT) as container:
        client = await container.get(LavalinkClient)
    await client.wait_ready(10)
    return BotRun(bot=bot, lightbulb_client=lb, lavalink=client, seen=seen)


async def _stop(run: BotRun) -> None:
    """Stop the bot process the way a deploy does: unloading closes the client, sessions stay resumable."""
    await run.lightbulb_client.unload_extensions("lightbulb_lavalink")


async def _wait_event(run: BotRun, kind: type[events.LavalinkEvent], timeout: float = 15.0) -> typing.Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in run.seen:
            if isinstance(event, kind):
                return event
        await asyncio.sleep(0.02)
    raise TimeoutError(f"no {kind.__name__} within {timeout:g}s")


async def _watch(console: Console, client: LavalinkClient, guilds: list[FakeGuild], seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        parts = []
        for guild in guilds:
            player = client.get_player(guild.id)
            pos = _clock(player.position) if player is not None and player.track is not None else "-:--"
            parts.append(f"{guild.name.split()[0]} {pos}")
        console.progress("playing  " + "  ".join(parts))
        await asyncio.sleep(0.25)
    console.line()


async def run_demo(stream: typing.TextIO | None = None) -> bool:
    """Run the whole demo; return whether every queue came back intact both times."""
    console = Console(stream if stream is not None else sys.stdout)
    started = time.monotonic()
    ok = True
    with tempfile.TemporaryDirectory(prefix="lightbulb-lavalink-demo-") as tmp:
        store = f"sqlite:///{pathlib.Path(tmp) / 'sessions.db'}"
        async with FakeLavalink(time_scale=TIME_SCALE, player_update_interval=1.0) as node:
            settings = LavalinkSettings(
                nodes=(NodeSettings(name="local", host="127.0.0.1", port=node.port, password=node.password),),
                store=store,
                resume_timeout=60,
                reconnect_delay=0.2,
                reconnect_max_delay=1.0,
            )
            discord = FakeDiscord()
            guilds = [await discord.add_guild(name=name, members=3) for name in GUILD_NAMES]
            console.line("lightbulb-lavalink demo: restart the bot, and every guild keeps playing with its queue.")
            console.line(f"    Lavalink emulator on {node.url} (time runs {TIME_SCALE:g}x), store {store}")

            console.heading(1, "Start the bot, join four guilds, play and queue music")
            run = await _boot(discord, settings)
            client = run.lavalink
            session = client.nodes["local"].session_id
            console.line(f"    node 'local' ready, new session {session}, resuming enabled for 60 s")
            for guild, query in zip(guilds, QUERIES, strict=True):
                await discord.voice_state(guild.id, guild.member_ids[1], guild.voice_channel_ids[0])
                player = await client.join(guild.id, guild.voice_channel_ids[0])
                result = await client.load_tracks(query)
                tracks = result.tracks
                player.queue.extend(tracks[1:])
                await player.play(tracks[0])
            await _watch(console, client, guilds, 1.5)
            await client.players[guilds[2].id].pause()
            _show_guilds(console, client, guilds)
            before = _queue_fingerprint(client)

            console.heading(2, "Restart the bot (deploy): a new process, a new Discord gateway session")
            await _stop(run)
            console.line("    old process stopped; Lavalink keeps playing the paused session meanwhile")
            await asyncio.sleep(0.5)
            run = await _boot(discord, settings)
            client = run.lavalink
            resumed: events.SessionResumedEvent = await _wait_event(run, events.SessionResumedEvent)
            console.line(
                f"    session {resumed.session_id} RESUMED: {resumed.players_synced} players synced "
                f"in {resumed.duration * 1000:.1f} ms, voice re-joined with gateway session "
                f"{(discord.session_id or '')[:8]}…"
            )
            await asyncio.sleep(0.3)
            after = _queue_fingerprint(client)
            same = after == before
            ok = ok and same
            _show_guilds(console, client, guilds)
            console.line(f"    every queue back exactly: {'yes' if same else 'NO'}")

            console.heading(3, "Keep playing")
            await _watch(console, client, guilds, 1.5)

            console.heading(4, "Restart the Lavalink node: every session lost, the running bot recovers")
            before = _queue_fingerprint(client)
            await node.restart()
            recovered: events.SessionRecoveredEvent = await _wait_event(run, events.SessionRecoveredEvent)
            console.line(
                f"    session {recovered.previous_session_id} lost; new session {recovered.session_id}: "
                f"{len(recovered.guild_ids)} guilds RECOVERED in {recovered.duration * 1000:.1f} ms"
                + (f", {len(recovered.failed)} failed" if recovered.failed else "")
            )
            await asyncio.sleep(0.3)
            same = _queue_fingerprint(client) == before
            ok = ok and same and not recovered.failed
            _show_guilds(console, client, guilds)
            console.line(f"    every queue back exactly: {'yes' if same else 'NO'}")

            console.heading(5, "Stop")
            await _stop(run)
    console.line(
        f"    done in {time.monotonic() - started:.1f} s: {'all guilds kept playing' if ok else 'SOMETHING WAS LOST'}"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m lightbulb_lavalink demo``."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        import lightbulb  # noqa: F401
    except ImportError:
        sys.stderr.write("the demo needs hikari-lightbulb 3: pip install 'lightbulb-lavalink[lightbulb]'\n")
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        return 0 if asyncio.run(run_demo()) else 1
    return 130
