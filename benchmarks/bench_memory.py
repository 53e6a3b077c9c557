"""Case 4, memory: resident bytes per queued track, 10,000 guilds x 100 queued tracks.

Each subject runs in a fresh process. It creates its 10,000 players first; then, measured by the growth of
the process's resident set size (RSS, `/proc/self/statm`, after a full `gc.collect()`), every guild parses
the JSON text of a 100-track `loadtracks` playlist result as the library parses a REST answer and appends
the tracks to that guild's queue. All 1,000,000 tracks are distinct (their own identifier, title and blob),
so nothing can be shared between guilds.

Subjects: ours (`LoadResult.from_payload` into `Player.queue.extend`), Lavalink.py (`LoadResult.from_dict`,
`DefaultPlayer.add`), hikari-ongaku (`EntityBuilder.build_playlist`, `Player.add`) and the baseline: the
parsed JSON dicts of the tracks kept in a list per guild (what "just keep the JSON" costs).

Driver usage: ``python -m benchmarks.bench_memory {ours,baseline} '{"guilds": 10000, "tracks": 100}'``.
"""

from __future__ import annotations

import gc
import json
import time
import typing

from benchmarks._drive import main, rss_bytes
from benchmarks._harness import BASELINE, INFO, OURS, PEER, CaseResult, Context, run_json
from benchmarks._pushserver import guild_ids
from benchmarks._vectors import distinct_playlist_text

__all__ = ["run"]


def _result(before: int, after: int, queued: int, elapsed: float) -> dict[str, typing.Any]:
    return {
        "bytes": after - before,
        "tracks": queued,
        "per_track": (after - before) / queued,
        "seconds": elapsed,
    }


def ours(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """Our players and queues, fed with `LoadResult.from_payload` as `RestClient.load_tracks` does."""
    import hikari

    from benchmarks._drive import TOKEN
    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.player import Player
    from lightbulb_lavalink.protocol.tracks import LoadResult
    from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings

    guilds, per_guild = params["guilds"], params["tracks"]
    bot = hikari.GatewayBot(TOKEN, banner=None, suppress_optimization_warning=True, logs="WARNING")
    settings = LavalinkSettings(nodes=[NodeSettings(name="bench", host="127.0.0.1", port=1)], store="memory://")
    client = LavalinkClient(bot, settings)
    node = client.nodes["bench"]
    players = [Player(client._hub, node, gid) for gid in guild_ids(guilds)]
    for player in players:
        client._hub.add_player(player)
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    for g, player in enumerate(players):
        result = LoadResult.from_payload(json.loads(distinct_playlist_text(g, per_guild)))
        player.queue.extend(result.tracks)
    elapsed = time.perf_counter() - start
    if params.get("read_info"):  # what a /queue listing does: every track's title read once
        for player in players:
            for track in player.queue:
                _ = track.info.title
    gc.collect()
    after = rss_bytes()
    return _result(before, after, sum(len(p.queue) for p in players), elapsed)


def baseline(params: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """The parsed JSON dict of every track, kept in one list per guild."""
    guilds, per_guild = params["guilds"], params["tracks"]
    queues: list[list[typing.Any]] = [[] for _ in range(guilds)]
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    for g, queue in enumerate(queues):
        queue.extend(json.loads(distinct_playlist_text(g, per_guild))["data"]["tracks"])
    elapsed = time.perf_counter() - start
    gc.collect()
    after = rss_bytes()
    return _result(before, after, sum(len(q) for q in queues), elapsed)


def run(ctx: Context) -> list[CaseResult]:
    """One fresh process per subject (memory is not noisy enough to need rounds)."""
    guilds = 1_000 if ctx.quick else 10_000
    per_guild = 100
    case = CaseResult(
        key="memory",
        title="memory per queued track",
        unit="B/track",
        higher_is_better=False,
        notes=[
            f"{guilds:,} guilds x {per_guild} tracks queued from parsed playlist JSON; RSS growth / tracks, "
            "one fresh process per subject."
        ],
    )
    subjects: list[tuple[str, str, str, str, str]] = [
        ("ours", OURS, ctx.main_python, "benchmarks.bench_memory", "ours"),
        ("baseline: parsed JSON dicts", BASELINE, ctx.main_python, "benchmarks.bench_memory", "baseline"),
    ]
    if ctx.peers_python:
        subjects[1:1] = [
            (ctx.peer_label("lavalink", "Lavalink.py"), PEER, ctx.peers_python,
             "benchmarks.peers.lavalinkpy", "memory"),
            (ctx.peer_label("hikari-ongaku", "hikari-ongaku"), PEER, ctx.peers_python,
             "benchmarks.peers.hikari_ongaku", "memory"),
        ]  # fmt: skip
    subjects.insert(1, ("ours after every track's info was read once", INFO, ctx.main_python,
                        "benchmarks.bench_memory", "ours_read"))  # fmt: skip
    for label, kind, python, module, op in subjects:
        row = case.row(label, kind)
        ctx.log(f"memory: {label}")
        try:
            params = {"guilds": guilds, "tracks": per_guild, "read_info": op == "ours_read"}
            result = run_json(python, module, [op.removesuffix("_read"), json.dumps(params)], timeout=600)
        except RuntimeError as exc:
            ctx.log(f"memory: {label} failed: {exc}")
            row.note = "failed"
            continue
        row.values.append(result["per_track"])
    return [case]


if __name__ == "__main__":
    main({"ours": ours, "baseline": baseline})
