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

__all__ = [
    "HandoffKind",
    "HandoffMessage",
    "HandoffStore",
    "HandoffSubscription",
    "handoff_channel_name",
    "supports_handoff",
]

_VERSION: typing.Final = 1


class HandoffKind(enum.Enum):
    """What a handoff message says."""

    REQUEST = "request"
    """New process → old: "let your sessions go, I take the cluster over"."""
    RELEASED = "released"
    """Old → new: "my websockets are closed, the sessions resumable, my last snapshots written"."""
    RESUMED = "resumed"
    """New → old: "every node is back under me": the old process may exit."""
    ABORTED = "aborted"
    """Either way: "this handoff is off" (the new process gave up, or the old one took its sessions back)."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class HandoffMessage:
    """One message of a handoff, tied to it by `nonce`."""

    kind: HandoffKind
    """What it says."""
    nonce: str
    """The id of the handoff, chosen by the new process: messages of another handoff are ignored."""
    sender: str = ""
    """Who sent it, for the logs (``host:pid``); never a secret."""

    def encode(self) -> str:
        """The message as the JSON text sent over the channel."""
        return json.dumps({"v": _VERSION, "kind": self.kind.value, "nonce": self.nonce, "sender": self.sender})

    @classmethod
    def decode(cls, text: str | bytes) -> HandoffMessage | None:
        """Read a message; `None` for anything that is not one (another version, garbage on the channel)."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("v") != _VERSION:
                return None
            nonce, sender = data.get("nonce"), data.get("sender", "")
            if not isinstance(nonce, str) or not isinstance(sender, str):
                return None
            return cls(kind=HandoffKind(data.get("kind")), nonce=nonce, sender=sender)
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
