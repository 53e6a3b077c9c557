"""The user's report, end to end: a queued track whose user data stopped being JSON no longer costs the guild
its saved queue, nor the track its PATCH. A real client, FakeLavalink and the SQLite store."""

from __future__ import annotations

import datetime
import math
import typing

from lightbulb_lavalink.queue import LoopMode
from lightbulb_lavalink.stores import StoreKey, open_store

from .conftest import World, joined, make_tracks


def without(data: typing.Mapping[str, typing.Any], *keys: str) -> dict[str, typing.Any]:
    return {k: v for k, v in data.items() if k not in keys}


async def test_a_track_whose_user_data_stopped_being_json_costs_only_that_data(world: World) -> None:
    first = await world.boot()
    player = await joined(world, first)
    tracks = make_tracks(world.lavalink, "ud", 5)
    player.queue.extend(t.with_user_data(requester=i) for i, t in enumerate(tracks[1:], 1))
    await player.play(tracks[0].with_user_data(requester=0))
    player.queue.loop = LoopMode.QUEUE
    # The bot changes queued tracks' user data in place (read-only by contract, a dict at run time): Track's
    # check cannot see it.
    typing.cast("dict[str, typing.Any]", player.queue[0].user_data)["when"] = datetime.datetime(2024, 5, 1)
    typing.cast("dict[str, typing.Any]", player.queue[2].user_data)["score"] = math.nan

    await player.skip()  # the PATCH carries queue[0]'s user data: it is sent without what is not JSON
    assert player.track is not None and player.track.info.identifier == "ud-1"
    session = first.client.nodes["main"].session_id
    assert session is not None
    on_node = world.lavalink.players_of(session)[player.guild_id].track
    assert on_node is not None and dict(on_node.user_data) == {"requester": 1}

    live_track, live_queue, live_history = player.track, list(player.queue), list(player.queue.history)
    await world.stop(first)  # a clean stop writes every pending snapshot

    store = open_store(world.store_url)
    await store.open()
    try:
        saved = (await store.get_guilds(StoreKey(world.discord.bot_id, "main")))[player.guild_id]
    finally:
        await store.close()
    assert saved.track is not None and saved.track.encoded == live_track.encoded
    assert saved.track.user_data == {"requester": 1}
    assert [t.encoded for t in saved.queue.tracks] == [t.encoded for t in live_queue]
    assert [t.user_data for t in saved.queue.tracks] == [without(t.user_data, "score") for t in live_queue]
    assert {"requester": 3} in [t.user_data for t in saved.queue.tracks]  # the NaN track kept its requester
    assert [(t.encoded, t.user_data) for t in saved.queue.history] == [
        (t.encoded, dict(t.user_data)) for t in live_history
    ]
    assert saved.queue.loop == "queue"
