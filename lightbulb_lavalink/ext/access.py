"""Who may use the `/lavalink` commands: the bot's owners, and members with Manage Server or Administrator."""

from __future__ import annotations

import typing

import hikari

__all__ = ["ALLOWING_PERMISSIONS", "has_manage_permission", "owner_ids_of"]

ALLOWING_PERMISSIONS: typing.Final[hikari.Permissions] = (
    hikari.Permissions.MANAGE_GUILD | hikari.Permissions.ADMINISTRATOR
)
"""Either of these lets a member use `/lavalink` (Discord calls Manage Guild "Manage Server")."""


def has_manage_permission(permissions: hikari.Permissions | None) -> bool:
    """Whether a member's permissions (as in the interaction) include Manage Server or Administrator."""
    return permissions is not None and bool(permissions & ALLOWING_PERMISSIONS)


def owner_ids_of(application: hikari.Application) -> frozenset[int]:
    """The bot's owners: the application's owner and, for a team-owned application, every team member."""
    owners = {int(application.owner.id)}
    if application.team is not None:
        owners.update(int(user_id) for user_id in application.team.members)
    return frozenset(owners)
