"""One bot process of a multi-process test: its own hikari bot, fake Discord and `LavalinkClient`.

Run by `test_reshard.py` and `test_handoff.py` as ``python -m tests.multiprocess.worker '<json>'``. It starts,
holds the guilds of its shards, prints one JSON line (``{"ready": ...}``) with what each of its guilds plays and
has queued, then waits for ``stop`` on stdin and closes its client (sessions kept resumable), as a deploy's stop
does. With ``"handoff": true`` it starts by taking its cluster over from the running process (a handoff deploy);
a process whose cluster is taken over that way prints ``{"handed_off": ...}``, closes and exits by itself.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import logging
import os
import sys
import time
import typing

from lightbulb_lavalink import LavalinkClient, LavalinkSettings, NodeSettings, Shards
from lightbulb_lavalink.player import GuildState
from lightbulb_lavalink.stores import open_store
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeVoiceGateway, make_bot

BOT_ID = 1_180_000_000_000_000_001
TRACKS_PER_GUILD = 4
_BACK: typing.Final = frozenset({GuildState.PLAYING, GuildState.PENDING, GuildState.IDLE})


def identifier(guild_id: int, index: int) -> str:
    """The catalogue identifier of the `index`-th track queued in a guild."""
    return f"mp-{guild_id}-{index}"


async def main(config: dict[str, typing.Any]) -> None:
    shards = Shards.of(config["shard_ids"], config["shard_count"])
    guilds = [g for g in config["guilds"] if shards.holds(g)]
    discord = FakeDiscord(bot_id=BOT_ID, shard_count=shards.count)
    # Every process sees every guild, added in one order so that channel and member ids are the same everywhere
    # (a snapshot names its voice channel), with a listener in its voice channel.
    for guild_id in config["guilds"]:
        await discord.add_guild(guild_id, members=2, voice_channels=1)
    bot = make_bot(bot_id=BOT_ID)
    await discord.connect(bot)
    for guild_id in guilds:
        guild = discord.guild(guild_id)
        await discord.voice_state(guild_id, guild.member_ids[1], guild.voice_channel_ids[0])
    voice = FakeVoiceGateway(discord)
    settings = LavalinkSettings(
        nodes=(NodeSettings(name="main", host="127.0.0.1", port=config["port"], password="youshallnotpass"),),
        store=config["store"],
        cluster=config["cluster"],
        snapshot_interval=0.05,
        reconnect_delay=0.05,
        reconnect_max_delay=0.2,
        handoff_timeout=float(config.get("handoff_timeout", 20)),
    )
    store = open_store(config["store"])
    if config.get("crash_after_claim"):
        claim = type(store).claim_guilds  # type: ignore[attr-defined]

        async def claim_then_die(self: typing.Any, *args: typing.Any) -> typing.Any:
            await claim(self, *args)
            os._exit(3)  # killed between the claim and filing the guilds under its own keys

        type(store).claim_guilds = claim_then_die  # type: ignore[attr-defined]
    client = LavalinkClient(bot, settings, store=store, voice_gateway=voice, shards=shards, release_poll=0.2)
    started = time.monotonic()
    await client.start(BOT_ID, handoff=bool(config.get("handoff")))
    await client.wait_ready(30)
    if config.get("seed"):
        await _seed(client, discord, guilds)
    else:
        await _wait_back(client, guilds, timeout=float(config.get("timeout", 20)))
    report = {
        str(g): {
            "track": None if (p := client.players[g]).track is None else p.track.info.identifier,
            "queue": [t.info.identifier for t in p.queue],
            "session": p.node.session_id,
        }
        for g in guilds
        if g in client.players
    }
    extra = sorted(set(client.players) - set(guilds))
    ownership = client._hub.ownership
    session = client.nodes["main"].session_id
    line = {
        "ready": report,
        "extra": extra,
        "taken_over": ownership.taken_over,
        "session": session,
        "seconds": time.monotonic() - started,  # client start to every guild back
    }
    print(json.dumps(line), flush=True)
    stop = asyncio.ensure_future(_read_stop())
    handed_off = asyncio.ensure_future(client.wait_handed_off())
    await asyncio.wait((stop, handed_off), return_when=asyncio.FIRST_COMPLETED)
    stop.cancel()
    handed_off.cancel()
    if client.handed_off:
        print(json.dumps({"handed_off": True, "players": len(client.players)}), flush=True)
    # A stop that hangs says where: every thread's stack on stderr after 20 s, then the process exits (the test
    # shows that stderr in its failure).
    faulthandler.dump_traceback_later(20, exit=True)
    watchdog = asyncio.get_running_loop().call_later(15, _dump_tasks)
    await client.close()
    watchdog.cancel()
    await store.close()
    await voice.close()


def _dump_tasks() -> None:
    """Where every task of a stop that hangs waits (the thread stacks faulthandler prints show only the loop)."""
    for task in asyncio.all_tasks():
        print(f"task {task.get_name()}:", file=sys.stderr)
        task.print_stack(file=sys.stderr)


async def _read_stop() -> None:
    """Until a line (``stop``) comes on stdin, or it closes."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        await reader.readline()
    finally:
        transport.close()


async def _seed(client: LavalinkClient, discord: FakeDiscord, guilds: list[int]) -> None:
    async def one(guild_id: int) -> None:
        player = await client.join(guild_id, discord.guild(guild_id).voice_channel_ids[0])
        tracks = [(await client.load_tracks(identifier(guild_id, i))).tracks[0] for i in range(TRACKS_PER_GUILD)]
        player.queue.extend(tracks[1:])
        await player.play(tracks[0])

    limit = asyncio.Semaphore(20)

    async def limited(guild_id: int) -> None:
        async with limit:
            await one(guild_id)

    await asyncio.gather(*(limited(g) for g in guilds))
    await client._hub.writer.flush()  # type: ignore[union-attr]


async def _wait_back(client: LavalinkClient, guilds: list[int], *, timeout: float) -> None:
    """Until every guild of our shards has a player that is back (a condition, polled; bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        missing = [g for g in guilds if (p := client.players.get(g)) is None or p.guild_state not in _BACK]
        if not missing:
            return
        if loop.time() > deadline:
            states = {g: None if (p := client.players.get(g)) is None else p.guild_state.name for g in missing[:5]}
            raise SystemExit(f"{len(missing)} guilds not back within {timeout} s: {states}")
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    logging.basicConfig(level=os.environ.get("WORKER_LOG", "WARNING"), stream=sys.stderr)
    asyncio.run(main(json.loads(sys.argv[1])))
