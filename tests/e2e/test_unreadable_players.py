"""A resumed session whose ``GET players`` has one entry the client cannot read: only that guild is recovered."""

from __future__ import annotations

import typing

from lightbulb_lavalink import events

from .conftest import World
from .test_resume import assert_queue, lavalink_players, play_everywhere

if typing.TYPE_CHECKING:
    import pytest


async def test_one_unreadable_player_is_recovered_and_the_others_are_synced(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await world.boot()
    plan = await play_everywhere(world, first)
    broken, *kept = list(plan)
    fake = lavalink_players(world, first)[broken]
    await world.stop(first)
    # What a newer server (or a plugin) might send for one player in the list: a track the client cannot read.
    # Only that once: the recovery replaces the track, and the node then reports the new one readably.
    readable = fake.to_json

    def unreadable_once() -> dict[str, typing.Any]:
        monkeypatch.setattr(fake, "to_json", readable)
        return {"guildId": str(broken), "track": {"encoded": 5}}

    monkeypatch.setattr(fake, "to_json", unreadable_once)

    second = await world.boot()

    resumed = await second.wait_for(events.SessionResumedEvent)
    assert sorted(resumed.guild_ids) == sorted(kept)  # the readable players were synced, not thrown away
    for gid in kept:
        assert_queue(second.client.get_player(gid), plan[gid][0], plan[gid][1:])
    # The unreadable one is brought back from its snapshot on the same session, its queue intact.
    recovered = await second.wait_for(events.SessionRecoveredEvent)
    assert recovered.guild_ids == (broken,)
    assert_queue(second.client.get_player(broken), plan[broken][0], plan[broken][1:])
    assert not [e for e in second.of_type(events.TrackStartEvent) if e.guild_id != broken]  # nothing else restarted
