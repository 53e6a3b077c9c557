"""Guild ownership in Redis (`OwnershipStore`): one hash of owners per bot, one release inbox per process."""

from __future__ import annotations

import typing
import urllib.parse

if typing.TYPE_CHECKING:
    import collections.abc

    import redis.asyncio

__all__ = ["RedisOwnership"]

_T = typing.TypeVar("_T")
_BATCH: typing.Final = 2000
"""Guilds per claim script: each batch is atomic, and Redis serves other clients between batches."""

# KEYS[1]: the owners hash; ARGV[1]: the claimer (percent-encoded cluster); ARGV[2]: the inbox key prefix;
# ARGV[3...]: guild ids. Returns guild, previous owner pairs (flat) for guilds another cluster owned.
_CLAIM: typing.Final = """
local taken = {}
for i = 3, #ARGV do
  local guild = ARGV[i]
  local owner = redis.call('HGET', KEYS[1], guild)
  if owner and owner ~= ARGV[1] then
    redis.call('SADD', ARGV[2] .. owner, guild)
    taken[#taken + 1] = guild
    taken[#taken + 1] = owner
  end
  redis.call('HSET', KEYS[1], guild, ARGV[1])
end
return taken
"""


class RedisOwnership:
    """The `OwnershipStore` half of `RedisStore`.

    Keys, beside the store's: ``P:{B}:owners`` (a hash: guild id → the owner's percent-encoded cluster) and
    ``P:{B}:release:C`` (a set of the guild ids taken from cluster ``C``). A claim is one Lua script per 2,000
    guilds: it reads each guild's owner, puts the guild in that owner's inbox and writes the claimer, with no
    other command in between. The keys carry the bot's ``{B}`` hash tag, like every key of the store.
    """

    __slots__ = ()

    if typing.TYPE_CHECKING:

        @property
        def prefix(self) -> str: ...

        async def _call(
            self, func: collections.abc.Callable[[redis.asyncio.Redis], typing.Awaitable[_T]]
        ) -> _T: ...

    def _owners(self, bot_id: int) -> str:
        return f"{self.prefix}:{{{bot_id}}}:owners"

    def _inbox(self, bot_id: int, cluster: str = "") -> str:
        return f"{self.prefix}:{{{bot_id}}}:release:{urllib.parse.quote(cluster, safe='')}"

    async def claim_guilds(
        self, bot_id: int, cluster: str, guild_ids: collections.abc.Collection[int]
    ) -> dict[int, str]:
        """Make `cluster` the owner of `guild_ids` (atomic per batch of 2,000); return what others owned."""
        ids = sorted({int(g) for g in guild_ids})
        me = urllib.parse.quote(cluster, safe="")
        taken: dict[int, str] = {}
        for start in range(0, len(ids), _BATCH):
            batch = [str(g) for g in ids[start : start + _BATCH]]

            async def run(client: redis.asyncio.Redis, batch: list[str] = batch) -> list[typing.Any]:
                result = client.eval(_CLAIM, 1, self._owners(bot_id), me, self._inbox(bot_id), *batch)
                return typing.cast("list[typing.Any]", await result)

            flat = await self._call(run)
            for i in range(0, len(flat), 2):
                taken[int(_text(flat[i]))] = urllib.parse.unquote(_text(flat[i + 1]))
        return taken

    async def get_owners(self, bot_id: int, guild_ids: collections.abc.Collection[int]) -> dict[int, str]:
        """The owner cluster of each guild that has one."""
        ids = sorted({int(g) for g in guild_ids})
        if not ids:
            return {}

        async def get(client: redis.asyncio.Redis) -> list[typing.Any]:
            return typing.cast("list[typing.Any]", await client.hmget(self._owners(bot_id), [str(g) for g in ids]))

        values = await self._call(get)
        return {g: urllib.parse.unquote(_text(v)) for g, v in zip(ids, values, strict=True) if v is not None}

    async def take_releases(self, bot_id: int, cluster: str) -> set[int]:
        """Empty `cluster`'s release inbox (one MULTI/EXEC) and return the guild ids that were in it."""
        key = self._inbox(bot_id, cluster)

        async def take(client: redis.asyncio.Redis) -> list[typing.Any]:
            async with client.pipeline(transaction=True) as pipe:
                pipe.smembers(key)
                pipe.delete(key)
                return await pipe.execute()

        members, _ = await self._call(take)
        return {int(_text(m)) for m in members}


def _text(value: str | bytes | int) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
