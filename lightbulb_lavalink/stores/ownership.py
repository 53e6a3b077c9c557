"""`OwnershipStore`: the guild claims that let several processes of one bot share a store (Redis, PostgreSQL)."""

from __future__ import annotations

import typing

if typing.TYPE_CHECKING:
    import collections.abc

__all__ = ["OwnershipStore", "supports_ownership"]


@typing.runtime_checkable
class OwnershipStore(typing.Protocol):
    """A store shared by several processes of one bot, each one owning the guilds of its shards.

    Every guild has at most one owner, a process named by its ``cluster``. A claim makes the claimer the owner
    of each guild it names in one atomic step (a Lua script in Redis, a transaction under an advisory lock in
    PostgreSQL), whoever owned it before: the process that now holds a guild's shard wins. Each previous owner
    finds the guilds taken from it in its release inbox (`take_releases`) and lets them go.
    """

    async def claim_guilds(
        self, bot_id: int, cluster: str, guild_ids: collections.abc.Collection[int]
    ) -> dict[int, str]:
        """Make `cluster` the owner of `guild_ids`, all at once; return the guilds another cluster owned (guild id
        → that cluster), each of which is put in that cluster's release inbox."""
        ...

    async def get_owners(self, bot_id: int, guild_ids: collections.abc.Collection[int]) -> dict[int, str]:
        """The owner cluster of each of `guild_ids` that has one."""
        ...

    async def take_releases(self, bot_id: int, cluster: str) -> set[int]:
        """Empty `cluster`'s release inbox and return the guilds in it (claimed from it by other processes)."""
        ...


def supports_ownership(store: object) -> typing.TypeGuard[OwnershipStore]:
    """Whether `store` can be shared by several processes (it implements `OwnershipStore`)."""
    return isinstance(store, OwnershipStore)
