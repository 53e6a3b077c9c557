"""`Shards`: which of the bot's shards this process holds, and so which guilds are its own."""

from __future__ import annotations

import typing

import attrs

if typing.TYPE_CHECKING:
    import hikari

__all__ = ["Shards", "shard_of"]


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that serves `guild_id` when the bot runs `shard_count` shards, as Discord computes it."""
    return (int(guild_id) >> 22) % shard_count


def _to_ids(value: typing.Iterable[int]) -> frozenset[int]:
    return frozenset(int(v) for v in value)


@attrs.frozen(kw_only=True, weakref_slot=False)
class Shards:
    """The shards one process holds out of `count`; a guild belongs to the process that holds its shard."""

    ids: frozenset[int] = attrs.field(converter=_to_ids)
    """The shard ids this process runs."""
    count: int = attrs.field(validator=attrs.validators.instance_of(int))
    """How many shards the whole bot runs."""

    def __attrs_post_init__(self) -> None:
        if self.count < 1 or not self.ids or not all(0 <= i < self.count for i in self.ids):
            raise ValueError(f"shard ids {sorted(self.ids)} must be a non-empty subset of 0..{self.count - 1}")

    @classmethod
    def of(cls, ids: typing.Iterable[int], count: int) -> Shards:
        """`ids` of `count` shards."""
        return cls(ids=frozenset(ids), count=count)

    @classmethod
    def from_bot(cls, app: hikari.GatewayBot) -> Shards | None:
        """The shards a started `GatewayBot` runs, or `None` before it has any."""
        count = app.shard_count
        if count < 1 or not app.shards:
            return None
        return cls(ids=frozenset(app.shards), count=count)

    @property
    def whole_bot(self) -> bool:
        """Whether this process holds every shard (the bot runs in one process)."""
        return len(self.ids) == self.count

    def holds(self, guild_id: int) -> bool:
        """Whether `guild_id` is served by one of these shards."""
        return shard_of(guild_id, self.count) in self.ids

    def __str__(self) -> str:
        ids = sorted(self.ids)
        contiguous = len(ids) > 1 and ids == list(range(ids[0], ids[-1] + 1))
        span = f"{ids[0]}-{ids[-1]}" if contiguous else ",".join(map(str, ids))
        return f"shards {span} of {self.count}"
