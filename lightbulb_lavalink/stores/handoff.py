"""`HandoffStore`: the messages two processes of one cluster exchange through a shared store during a handoff.

A handoff deploy (see `lightbulb_lavalink.resuming.handoff`) replaces a running process by a new one of the same
cluster with no gap: the new process asks, the old one lets its Lavalink sessions go, the new one resumes them.
They talk over a channel of the store that both reach: Redis PUBLISH/SUBSCRIBE, PostgreSQL LISTEN/NOTIFY. A
message is delivered to whoever listens at that moment and to nobody else (nothing is kept).
"""

from __future__ import annotations

import enum
import hashlib
import json
import typing

import attrs

if typing.TYPE_CHECKING:
    import collections.abc

    from lightbulb_lavalink.snapshot import GuildSnapshot
    from lightbulb_lavalink.stores.base import StoreKey

__all__ = [
    "MAX_LISTED",
    "HandoffKind",
    "HandoffMessage",
    "HandoffStore",
    "HandoffSubscription",
    "handoff_channel_name",
    "supports_handoff",
]

_VERSION: typing.Final = 1
MAX_LISTED: typing.Final = 300
"""The most guilds a ``released`` message lists (a PostgreSQL NOTIFY carries at most 8,000 bytes)."""


class HandoffKind(enum.Enum):
    """What a handoff message says."""

    REQUEST = "request"
    """New process → old: "I take the cluster over: get ready"."""
    PREPARED = "prepared"
    """Old → new: "what I changed so far is written; from now on I note which guilds I change": the new process
    reads the store meanwhile, while the old one still plays."""
    RELEASE = "release"
    """New → old: "I have read the store: let your sessions go"."""
    RELEASED = "released"
    """Old → new: "my websockets are closed, the sessions resumable, my last snapshots written"; `guilds` names
    those changed since ``prepared`` (for the new process to read again)."""
    RESUMED = "resumed"
    """New → old: "every node is back under me": the old process may exit."""
    ABORTED = "aborted"
    """Either way: "this handoff is off": the new process gave up, or the old one took its sessions back, could
    not get ready or is busy with another handoff (`HandoffMessage.reason` says why)."""
    STOPPED = "stopped"
    """Old → new: "I stopped before letting my sessions go (a clean close), and wrote everything": the new process
    starts as it would with no process running (once no live connection holds the sessions)."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class HandoffMessage:
    """One message of a handoff, tied to it by `nonce`."""

    kind: HandoffKind
    """What it says."""
    nonce: str
    """The id of the handoff, chosen by the new process: messages of another handoff are ignored."""
    sender: str = ""
    """Who sent it, for the logs (``host:pid``); never a secret."""
    guilds: tuple[int, ...] | None = None
    """``released``: the guilds whose snapshots changed since ``prepared``; `None` when too many to list (at most
    `MAX_LISTED`): the new process reads every guild again."""
    reason: str = ""
    """``aborted``: why, in words, for the logs and the other process's error (``""``: not said); never a secret."""

    def encode(self) -> str:
        """The message as the JSON text sent over the channel."""
        data: dict[str, typing.Any] = {"v": _VERSION, "kind": self.kind.value, "nonce": self.nonce}
        data["sender"] = self.sender
        if self.guilds is not None:
            data["guilds"] = [str(g) for g in self.guilds]
        if self.reason:
            data["reason"] = self.reason
        return json.dumps(data)

    @classmethod
    def decode(cls, text: str | bytes) -> HandoffMessage | None:
        """Read a message; `None` for anything that is not one (another version, garbage on the channel)."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("v") != _VERSION:
                return None
            nonce, sender, listed = data.get("nonce"), data.get("sender", ""), data.get("guilds")
            if not isinstance(nonce, str) or not isinstance(sender, str):
                return None
            guilds = None if listed is None else tuple(int(g) for g in listed)
            reason = data.get("reason", "")
            reason = reason if isinstance(reason, str) else ""  # liberal: a reason we cannot read costs the reason
            return cls(kind=HandoffKind(data.get("kind")), nonce=nonce, sender=sender, guilds=guilds, reason=reason)
        except (ValueError, TypeError):
            return None


@typing.runtime_checkable
class HandoffSubscription(typing.Protocol):
    """A channel being listened to: open once subscribed (nothing published after that is missed)."""

    async def receive(self) -> HandoffMessage:
        """The next message on the channel (others' and our own alike).

        Raises:
            StoreError: The connection was lost: the subscription is dead, open another.
        """
        ...

    async def close(self) -> None:
        """Stop listening and give the connection back. Idempotent."""
        ...


@typing.runtime_checkable
class HandoffStore(typing.Protocol):
    """A store two processes of one cluster can talk through (Redis, PostgreSQL)."""

    async def subscribe_handoff(self, bot_id: int, cluster: str) -> HandoffSubscription:
        """Listen to the handoff channel of (`bot_id`, `cluster`); returns once subscribed.

        Raises:
            StoreError: The server cannot be reached.
        """
        ...

    async def publish_handoff(self, bot_id: int, cluster: str, message: HandoffMessage) -> None:
        """Send `message` to whoever listens to that channel now.

        Raises:
            StoreError: The server cannot be reached.
        """
        ...

    async def get_some_guilds(
        self, key: StoreKey, guild_ids: collections.abc.Collection[int]
    ) -> dict[int, GuildSnapshot]:
        """The snapshots of `guild_ids` saved under `key` (those that have one): what the old process changed
        while the new one read the store.

        Raises:
            StoreError: The server cannot be reached.
        """
        ...


def supports_handoff(store: object) -> typing.TypeGuard[HandoffStore]:
    """Whether two processes can hand a cluster over through `store` (it implements `HandoffStore`)."""
    return isinstance(store, HandoffStore)


def handoff_channel_name(namespace: str, bot_id: int, cluster: str, *, limit: int = 63) -> str:
    """The channel of (`bot_id`, `cluster`) under `namespace` (a schema and table), as a PostgreSQL identifier
    of at most `limit` characters: ``namespace:handoff:bot_id:cluster`` folded to ``[a-z0-9_]`` and cut to fit,
    ended with a hash of the whole name, so that two namespaces or clusters that fold alike never share one."""
    full = f"{namespace}:handoff:{bot_id}:{cluster}"
    digest = hashlib.sha256(full.encode()).hexdigest()[:10]
    plain = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in full.lower())
    return f"{plain[: limit - len(digest) - 1]}_{digest}"
