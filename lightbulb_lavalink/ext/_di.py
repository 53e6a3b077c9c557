"""Put values into, find them in, and take them back out of a lightbulb 3 client's DI (DEFAULT context).

lightbulb freezes the DEFAULT registry once its default container exists (the first command or listener,
or a started client); from then on a value can only go into that live container. linkd has no public way to
take a registration back, so `withdraw` edits the registry's and the live container's graphs directly; it is
the one place that knows linkd's internals, and the extension's tests hold it to its promise.
"""

from __future__ import annotations

import collections.abc
import logging
import typing

import linkd
import linkd.utils

from lightbulb_lavalink.errors import LavalinkError

__all__ = ["lookup", "provide", "provide_factory", "withdraw"]

_LOGGER = logging.getLogger("lightbulb_lavalink.ext.di")

_T = typing.TypeVar("_T")


def _registry(manager: linkd.DependencyInjectionManager) -> linkd.Registry:
    return manager.registry_for(linkd.Contexts.ROOT)


def provide(manager: linkd.DependencyInjectionManager, typ: type[_T], value: _T) -> str:
    """Make `value` injectable as `typ` in the DEFAULT context; returns ``registry`` or ``container``.

    Registers it in the DEFAULT registry, or, when that registry is frozen, adds it to the live default
    container. Raises `LavalinkError` when neither is possible.
    """
    try:
        _registry(manager).register_value(typ, value)
    except linkd.RegistryFrozenException:
        container = manager.default_container
        if container is None:
            raise LavalinkError(
                f"cannot register {typ.__name__} for dependency injection: the DEFAULT registry is frozen "
                "by a container lightbulb does not expose"
            ) from None
        container.add_value(typ, value)
        return "container"
    return "registry"


def provide_factory(
    manager: linkd.DependencyInjectionManager, typ: type[_T], factory: collections.abc.Callable[[], _T]
) -> None:
    """Make `typ` injectable in the DEFAULT context through `factory` (called when something asks for it).

    As `provide`: in the registry, or in the live default container when the registry is frozen.
    """
    try:
        _registry(manager).register_factory(typ, factory)
    except linkd.RegistryFrozenException:
        container = manager.default_container
        if container is None:
            raise LavalinkError(
                f"cannot register {typ.__name__} for dependency injection: the DEFAULT registry is frozen "
                "by a container lightbulb does not expose"
            ) from None
        container.add_factory(typ, factory)


async def lookup(manager: linkd.DependencyInjectionManager, typ: type[_T]) -> _T | None:
    """The value injectable as `typ` in the DEFAULT context, or `None` when nothing provides it.

    Reads the live default container when there is one; otherwise resolves from the registry in a throwaway
    container, so that looking does not freeze the registry for the bot.
    """
    container = manager.default_container
    if container is not None:
        if typ not in container:
            return None
        return await container.get(typ)
    registry = _registry(manager)
    if typ not in registry:
        return None
    scratch = linkd.Container(registry)
    try:
        scratch.add_value(linkd.DependencyInjectionManager, manager)
        return await scratch.get(typ)
    finally:
        await scratch.close()


def withdraw(manager: linkd.DependencyInjectionManager, typ: type[typing.Any]) -> None:
    """Stop providing `typ` in the DEFAULT context (registry and live container); no-op when not provided.

    Dependencies of other registrations on `typ` are kept, so a later `provide` satisfies them again.
    """
    dependency_id = linkd.utils.get_dependency_id(typing.cast("collections.abc.Hashable", typ))
    # linkd has no public way to withdraw a registration: its graphs and instance cache are reached directly.
    graphs: list[linkd.DiGraph] = [_registry(manager)._graph]  # noqa: SLF001 - linkd internals, see above
    container = manager.default_container
    if container is not None:
        graphs.append(container._graph)  # noqa: SLF001 - linkd internals, see above
    for graph in graphs:
        if graph.nodes.get(dependency_id) is not None:
            graph.replace_node(dependency_id, None)
    if container is not None:
        container._instances.pop(dependency_id, None)  # noqa: SLF001 - linkd internals, see above
        container._on_change()  # noqa: SLF001 - linkd internals, see above
    _LOGGER.debug("withdrew %s from dependency injection", dependency_id)
