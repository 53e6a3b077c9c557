"""The user commands a schedule is made of: each runs as a task on the client and, once the client accepted
it, on the model. Queue indexes are taken modulo the model's queue, so every command means something."""

from __future__ import annotations

import contextlib
import random
import typing

import attrs

from lightbulb_lavalink.errors import LavalinkError

from .harness import entry_of
from .runner import Rejected

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.client import LavalinkClient

    from .runner import Simulation

__all__ = [
    "Add",
    "Clear",
    "Insert",
    "Join",
    "Leave",
    "Move",
    "Pause",
    "Play",
    "PlayNow",
    "Remove",
    "Seek",
    "SetLoop",
    "Shuffle",
    "Skip",
    "Step",
    "Stop",
    "UserCommand",
    "Volume",
]


@attrs.frozen
class Step:
    """One thing that happens; `run` does it and says what it did (the runner settles the loop afterwards)."""

    async def run(self, sim: Simulation) -> str:
        raise NotImplementedError


# -- user commands ----------------------------------------------------------------------------------------------


@attrs.frozen
class UserCommand(Step):
    """A user's command in one guild, run as a task (it may wait, and overlap later steps)."""

    guild: int

    async def run(self, sim: Simulation) -> str:
        g = self.guild % sim.guild_count
        sim.issue(g, f"{type(self).__name__} g{g}", lambda client: self.perform(sim, client, g))
        return "issued"

    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        """Act on the client; once it accepted, on the model; say what happened."""
        raise NotImplementedError


@attrs.frozen
class Join(UserCommand):
    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        guild = sim.world.guilds[g]
        await client.join(guild.id, guild.voice_channel_ids[0])
        sim.model.join(g)
        return "joined"


@attrs.frozen
class Leave(UserCommand):
    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        await client.leave(sim.guild_id(g))
        sim.model.leave(g)
        return "left"


@attrs.frozen
class PlayNow(UserCommand):
    """Play a new entry now, replacing what plays."""

    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        player = sim.player(client, g)
        entry, track = sim.new_entry()
        await player.play(track)
        # A track that was waiting to start (pending) never played: play-now puts it back at the front of the
        # queue rather than dropping it, which shows as that very object at the head.
        requeued = bool(player.queue) and sim.model.guilds[g].current is not None and (
            entry_of(player.queue[0]) == sim.model.guilds[g].current
        )
        sim.model.play_now(g, entry, requeue=requeued)
        return f"plays e{entry}" + (" (the waiting track goes back to the front)" if requeued else "")


@attrs.frozen
class Play(UserCommand):
    """`Player.play()` with no track: play the queue's next entry."""

    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        player = sim.player(client, g)
        with contextlib.suppress(LavalinkError):
            # What waits to start is known once the guild is restored (a restarted client rebuilds it then);
            # play() waits for that too, and nothing runs between the two.
            await player.wait_restored()
        waiting = player.pending
        played = await player.play()
        if waiting is not None and played is waiting:
            # A track waiting to start (its request failed, or the replay is not over) is what plays: play()
            # starts it now; the queue does not move. Like any start a command makes, it un-pauses the player.
            sim.model.set_paused(g, False)
            return f"started the waiting e{entry_of(played)}"
        sim.model.play_queue(g)
        return f"plays e{entry_of(played)}" if played is not None else "nothing to play"


@attrs.frozen
class Add(UserCommand):
    count: int = 1

    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        player = sim.player(client, g)
        new = [sim.new_entry() for _ in range(self.count)]
        player.queue.extend(track for _, track in new)
        sim.model.add(g, [entry for entry, _ in new])
        return "queued " + ", ".join(f"e{entry}" for entry, _ in new)


@attrs.frozen
class Insert(UserCommand):
    index: int = 0

    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        player = sim.player(client, g)
        index = self.index % (len(sim.model.guilds[g].upcoming) + 1)
        entry, track = sim.new_entry()
        try:
            player.queue.insert(index, track)
        except IndexError as exc:  # the index came from the model: the client's queue is not the model's
            raise Rejected(f"the client's queue is not the model's ({exc})") from None
        sim.model.insert(g, index, entry)
        return f"inserted e{entry} at {index}"


@attrs.frozen
class Remove(UserCommand):
    index: int = 0

    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        player = sim.player(client, g)
        size = len(sim.model.guilds[g].upcoming)
        if not size:
            raise Rejected("the model's queue is empty")
        index = self.index % size
        try:
            removed = player.queue.remove(index)
        except IndexError as exc:  # the index came from the model: the client's queue is not the model's
            raise Rejected(f"the client's queue is not the model's ({exc})") from None
        entry = sim.model.remove(g, index)
        return f"removed #{index}: e{entry_of(removed)} (the model: e{entry})"


@attrs.frozen
class Move(UserCommand):
    source: int = 0
    destination: int = 1

    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        player = sim.player(client, g)
        size = len(sim.model.guilds[g].upcoming)
        if size < 2:
            raise Rejected("fewer than two entries queued in the model")
        source, destination = self.source % size, self.destination % size
        try:
            player.queue.move(source, destination)
        except IndexError as exc:  # the index came from the model: the client's queue is not the model's
            raise Rejected(f"the client's queue is not the model's ({exc})") from None
        sim.model.move(g, source, destination)
        return f"moved #{source} to #{destination}"


@attrs.frozen
class Clear(UserCommand):
    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        removed = sim.player(client, g).queue.clear()
        sim.model.clear(g)
        return f"cleared {removed}"


@attrs.frozen
class Shuffle(UserCommand):
    seed: int = 0

    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        sim.player(client, g).queue.shuffle(random.Random(self.seed))
        sim.model.shuffle(g, self.seed)
        return "shuffled"


@attrs.frozen
class SetLoop(UserCommand):
    mode: str = "off"

    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        sim.player(client, g).queue.loop = self.mode
        sim.model.set_loop(g, self.mode)
        return f"loop {self.mode}"


@attrs.frozen
class Skip(UserCommand):
    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        played = await sim.player(client, g).skip()
        sim.model.skip(g)
        return f"skipped to e{entry_of(played)}" if played is not None else "skipped, the queue ended"


@attrs.frozen
class Stop(UserCommand):
    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        await sim.player(client, g).stop()
        sim.model.stop(g)
        return "stopped"


@attrs.frozen
class Seek(UserCommand):
    position: int = 0

    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        await sim.player(client, g).seek(self.position)
        return f"seeked to {self.position} ms"


@attrs.frozen
class Pause(UserCommand):
    paused: bool = True

    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        await sim.player(client, g).set_pause(self.paused)
        sim.model.set_paused(g, self.paused)
        return "paused" if self.paused else "resumed"


@attrs.frozen
class Volume(UserCommand):
    volume: int = 100

    async def perform(self, sim: Simulation, client: LavalinkClient, g: int) -> str:
        await sim.player(client, g).set_volume(self.volume)
        sim.model.set_volume(g, self.volume)
        return f"volume {self.volume}"
