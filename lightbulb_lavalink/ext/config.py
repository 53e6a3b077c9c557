"""Where the extension's settings come from: what the bot registered, else the environment, else the defaults.

The bot registers settings as a `LavalinkSettings` in lightbulb 3's DI (DEFAULT context) or as
``bot.d.lavalink_settings`` on lightbulb 2; both also take a plain mapping (`LavalinkSettings.from_mapping`).
With nothing registered, `LavalinkSettings.from_env()` reads the ``LAVALINK_*`` variables and falls back to
the embedded defaults. Bad settings raise `SettingsError` naming the field.
"""

from __future__ import annotations

import collections.abc
import logging
import os
import typing

import attrs

from lightbulb_lavalink.errors import SettingsError
from lightbulb_lavalink.settings import LavalinkSettings

if typing.TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ENV_PREFIX", "ResolvedSettings", "resolve_settings"]

_LOGGER = logging.getLogger("lightbulb_lavalink.ext.config")

ENV_PREFIX: typing.Final[str] = "LAVALINK_"
"""Environment variables starting with this configure the extension when the bot registered no settings."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class ResolvedSettings:
    """The settings in force and where they came from."""

    settings: LavalinkSettings
    """The settings."""
    source: str
    """Where they came from: the registration's name (``bot.d.lavalink_settings``, ...), ``environment`` or
    ``defaults``."""


def resolve_settings(
    configured: object | None, *, registered_as: str, environ: Mapping[str, str] | None = None
) -> ResolvedSettings:
    """Settings by precedence: `configured` (what the bot registered, `None` if none), then the environment.

    `registered_as` names the registration in messages (``bot.d.lavalink_settings``); `environ` defaults to
    `os.environ`. Raises `SettingsError` naming the field when the registered value or the environment is
    invalid.
    """
    if configured is not None:
        if isinstance(configured, LavalinkSettings):
            settings = configured
        elif isinstance(configured, collections.abc.Mapping):
            settings = LavalinkSettings.from_mapping(dict(configured))
        else:
            raise SettingsError(
                registered_as, f"expected LavalinkSettings or a mapping, got {type(configured).__name__}"
            )
        _LOGGER.debug("using the settings registered as %s", registered_as)
        return ResolvedSettings(settings=settings, source=registered_as)
    env = os.environ if environ is None else environ
    settings = LavalinkSettings.from_env(env)
    from_environment = any(name.startswith(ENV_PREFIX) and value.strip() for name, value in env.items())
    source = "environment" if from_environment else "defaults"
    _LOGGER.debug("no settings registered as %s: using the %s", registered_as, source)
    return ResolvedSettings(settings=settings, source=source)
