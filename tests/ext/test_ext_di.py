"""Providing and withdrawing values in a real lightbulb 3 client's DI, before and after it freezes."""

from __future__ import annotations

import lightbulb
import linkd
import pytest

from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.ext import _di
from lightbulb_lavalink.testing.gateway import make_bot


class Thing:
    def __init__(self, name: str) -> None:
        self.name = name


class NeedsThing:
    def __init__(self, thing: Thing) -> None:
        self.thing = thing


def new_client() -> lightbulb.Client:
    return lightbulb.client_from_app(make_bot(), sync_commands=False)


async def injected(client: lightbulb.Client) -> Thing:
    """What a command or listener would receive as ``thing: Thing``."""

    @lightbulb.di.with_di
    async def use(thing: Thing = lightbulb.di.INJECTED) -> Thing:
        return thing

    async with client.di.enter_context(lightbulb.di.Contexts.DEFAULT):
        return await use()


async def test_provided_before_any_container_goes_to_the_registry() -> None:
    client = new_client()
    thing = Thing("a")
    assert _di.provide(client.di, Thing, thing) == "registry"
    assert await _di.lookup(client.di, Thing) is thing
    assert await injected(client) is thing


async def test_looking_up_does_not_freeze_the_registry() -> None:
    client = new_client()
    _di.provide(client.di, Thing, Thing("a"))
    await _di.lookup(client.di, Thing)
    assert await _di.lookup(client.di, NeedsThing) is None
    # the bot can still register its own dependencies afterwards
    client.di.registry_for(lightbulb.di.Contexts.DEFAULT).register_factory(NeedsThing, NeedsThing)


async def test_provided_after_the_registry_froze_goes_to_the_live_container() -> None:
    client = new_client()
    async with client.di.enter_context(lightbulb.di.Contexts.DEFAULT):
        pass  # the default container now exists: lightbulb froze the registry
    with pytest.raises(linkd.RegistryFrozenException):
        client.di.registry_for(lightbulb.di.Contexts.DEFAULT).register_value(Thing, Thing("x"))
    thing = Thing("b")
    assert _di.provide(client.di, Thing, thing) == "container"
    assert await _di.lookup(client.di, Thing) is thing
    assert await injected(client) is thing


@pytest.mark.parametrize("freeze_first", [False, True])
async def test_withdraw_then_provide_again(freeze_first: bool) -> None:
    client = new_client()
    if freeze_first:
        async with client.di.enter_context(lightbulb.di.Contexts.DEFAULT):
            pass
    first = Thing("first")
    _di.provide(client.di, Thing, first)
    assert await injected(client) is first  # instantiated in the live container
    _di.withdraw(client.di, Thing)
    assert await _di.lookup(client.di, Thing) is None
    with pytest.raises(linkd.DependencyNotSatisfiableException):
        await injected(client)
    _di.withdraw(client.di, Thing)  # idempotent
    second = Thing("second")
    _di.provide(client.di, Thing, second)
    assert await injected(client) is second


async def test_withdraw_keeps_what_depends_on_it_satisfiable_later() -> None:
    client = new_client()
    client.di.registry_for(lightbulb.di.Contexts.DEFAULT).register_factory(NeedsThing, NeedsThing)
    _di.provide(client.di, Thing, Thing("one"))
    _di.withdraw(client.di, Thing)
    _di.provide(client.di, Thing, Thing("two"))
    needs = await _di.lookup(client.di, NeedsThing)
    assert needs is not None and needs.thing.name == "two"


async def test_two_clients_do_not_share_values() -> None:
    one, two = new_client(), new_client()
    _di.provide(one.di, Thing, Thing("one"))
    assert await _di.lookup(two.di, Thing) is None


async def test_a_registry_frozen_without_a_default_container_is_a_clear_error() -> None:
    client = new_client()
    registry = client.di.registry_for(lightbulb.di.Contexts.DEFAULT)
    holder = linkd.Container(registry)  # someone else's container, invisible to lightbulb
    try:
        with pytest.raises(LavalinkError, match="frozen"):
            _di.provide(client.di, Thing, Thing("x"))
    finally:
        await holder.close()
