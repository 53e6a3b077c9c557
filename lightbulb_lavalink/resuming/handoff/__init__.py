"""Handoff deploys: a new process of a cluster takes the Lavalink sessions over from the running one, with no gap.

Both processes hold the same shards (the same ``cluster``) and share a Redis or PostgreSQL store; they talk on
the cluster's handoff channel (`lightbulb_lavalink.stores.handoff`), every message tied to the handoff's nonce:

1. The new process opens the store and starts voice (its bot is connected to Discord), subscribes and publishes
   ``request``.
2. The running process, which listens on the channel from its start, writes what it changed, notes from then on
   the guilds it changes (`Hub.changed`) and answers ``prepared``; it plays on.
3. The new process reads the store (the long part, for a big cluster) and publishes ``release``.
4. The old process lets go: it closes its node websockets, which leaves every session resumable (Lavalink queues
   the events it would have sent), waits for the commands in flight, writes its last snapshots (with every change
   made until that last write began; from then on a change is refused, never lost), stops writing, and publishes
   ``released`` with the guilds it changed since ``prepared``.
5. The new process reads again the session ids and those guilds (`SessionBook.refresh`; every guild when too
   many changed) and connects every node asking to resume its saved session: the usual resume flow syncs every
   guild and applies the queued events in order. Once every node is ready it publishes ``resumed``.
6. The old process, told ``resumed``, is done: `HandoffCompletedEvent` and `LavalinkClient.wait_handed_off`
   tell the bot to exit. It writes nothing more.

Failures: before step 4 the old process has let nothing go: without ``release`` within ``handoff_timeout`` (or on
``aborted``) it stops noting changes and runs on. After it, with no ``resumed`` within ``handoff_timeout`` (the
new process died, or hangs), or on ``aborted``, the old process resumes its own sessions and keeps running,
losing nothing (Lavalink queued their events). The new process gives up well before that deadline (see
`taking_over`). Whenever the old process did not let go (no answer, no ``released`` in time, or ``stopped``: it
closed first, writing everything), the new process starts normally if no live connection holds the saved
sessions (`probe`), and fails with `HandoffError` otherwise; an old process that refuses (``aborted``: busy with
another handoff, or its store writes fail) fails it at once, saying why.

Modules: `channel` (the messages and who waits for them), `releasing` (the running process's side), `taking_over`
(the new process's side), `probe` (whether a live connection holds a session), `process` (`Handoff`, both sides
as the client owns them).
"""

from __future__ import annotations

from lightbulb_lavalink.resuming.handoff.process import Handoff
from lightbulb_lavalink.resuming.handoff.releasing import HandoffState

__all__ = ["Handoff", "HandoffState"]
