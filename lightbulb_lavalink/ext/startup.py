"""What the extension does before it builds its client: find the settings and the store, open the store; and
what happens when that fails (a degraded load that says why, or, with ``fail_fast``, a fatal one).

Shared by both lightbulb majors; imports no lightbulb.
"""

from __future__ import annotations

import asyncio
import collections.abc
import logging
import os
import typing

import attrs

from lightbulb_lavalink.errors import MusicUnavailableError, SettingsError, StoreError
from lightbulb_lavalink.ext.config import ResolvedSettings, resolve_settings
from lightbulb_lavalink.settings import LavalinkSettings
from lightbulb_lavalink.stores import SessionStore, open_store

if typing.TYPE_CHECKING:
    from collections.abc import Mapping

    from lightbulb_lavalink.ext.runtime import ExtensionRuntime

__all__ = [
    "UNAVAILABLE_PREFIX",
    "Prepared",
    "Unavailable",
    "fail_fast_wanted",
    "open_within",
    "prepare",
    "unavailable_cause",
    "unavailable_text",
]

_LOGGER = logging.getLogger("lightbulb_lavalink.ext.startup")

UNAVAILABLE_PREFIX: typing.Final[str] = "Music is unavailable"
"""How the answer to a command that needs music starts while the extension is degraded."""
_TRUE: typing.Final = frozenset({"1", "true", "yes", "on"})


@attrs.frozen(kw_only=True, weakref_slot=False)
class Prepared:
    """Settings found and a store opened: what the extension builds its client from."""

    resolved: ResolvedSettings
    """The settings and where they came from."""
    store: SessionStore
    """The session store, opened."""
    owns_store: bool
    """Whether the extension opened the store from the settings' URL (and so closes it); `False` for the bot's
    own store (registered in DI or at ``bot.d.lavalink_store``), which its owner closes."""
    store_source: str
    """Where the store came from: the registration's name, or ``settings``."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class Unavailable:
    """The extension is loaded degraded: kept in the bot's DI or datastore, so that commands can say why."""

    reason: str
    """Why it could not start (no secret in it)."""
    runtime: ExtensionRuntime | None = None
    """The extension's runtime when it loaded but its client could not start (a failed handoff deploy): unload
    unsubscribes and closes it. `None` when the load itself failed."""


def unavailable_text(reason: str) -> str:
    """The answer a person gets to a music command while the extension is degraded."""
    return f"⚠️ {UNAVAILABLE_PREFIX}: {reason}"


async def prepare(
    configured: object | None,
    *,
    registered_as: str,
    store: object | None,
    store_registered_as: str,
    environ: Mapping[str, str] | None = None,
) -> Prepared:
    """Resolve the settings, pick the store (the bot's own `store` wins over the settings' URL) and open it.

    Raises `SettingsError` for bad settings (or a registered store that is not a `SessionStore`), `StoreError`
    when the store cannot be opened within the settings' ``request_timeout``; an owned store is closed again.
    """
    resolved = resolve_settings(configured, registered_as=registered_as, environ=environ)
    settings = resolved.settings
    if store is not None:
        if not isinstance(store, SessionStore):
            raise SettingsError(store_registered_as, f"expected a SessionStore, got {type(store).__name__}")
        chosen, owned, source = store, False, store_registered_as
    else:
        chosen, owned, source = open_store(settings.store), True, "settings"
    await open_within(chosen, owned=owned, timeout=settings.request_timeout)
    _LOGGER.debug("session store %s from %s", chosen.url, source)
    return Prepared(resolved=resolved, store=chosen, owns_store=owned, store_source=source)


async def open_within(store: SessionStore, *, owned: bool, timeout: float) -> None:
    """Open `store` within `timeout` seconds (the settings' ``request_timeout``).

    Raises `StoreError` saying which store (its URL without a password) and why; an `owned` store is closed again.
    """
    try:
        async with asyncio.timeout(timeout):
            await store.open()
    except (StoreError, TimeoutError) as exc:
        if owned:
            await store.close()
        why = str(exc) or f"no answer within {timeout:g} s"
        raise StoreError(f"the session store {store.url} cannot be opened: {why}") from None


def fail_fast_wanted(configured: object | None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether a failed start is fatal: ``fail_fast`` of the registered settings (valid or not), else
    ``LAVALINK_FAIL_FAST`` (read on its own, so that it works when other variables are wrong)."""
    if isinstance(configured, LavalinkSettings):
        return configured.fail_fast
    if isinstance(configured, collections.abc.Mapping):
        return configured.get("fail_fast") is True
    env = os.environ if environ is None else environ
    return env.get("LAVALINK_FAIL_FAST", "").strip().lower() in _TRUE



def unavailable_cause(exc: BaseException) -> MusicUnavailableError | None:
    """The `MusicUnavailableError` behind a failed command, however lightbulb (2 or 3) and linkd wrapped it."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, MusicUnavailableError):
            return current
        pending.extend(getattr(current, "causes", ()) or ())
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None
