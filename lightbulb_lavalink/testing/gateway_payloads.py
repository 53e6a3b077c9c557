"""Discord gateway payloads (API v10: READY, GUILD_CREATE, voice updates), shaped exactly as Discord sends them.

Ids are strings on the wire. `FakeDiscord` feeds these to a never-started bot; tests may build their own.
"""

from __future__ import annotations

__all__ = [
    "guild_create_payload",
    "member_payload",
    "ready_payload",
    "text_channel_payload",
    "user_payload",
    "voice_channel_payload",
    "voice_server_update_payload",
    "voice_state_payload",
]

import typing

if typing.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

_JOINED_AT: typing.Final[str] = "2024-03-01T12:00:00.000000+00:00"


def user_payload(user_id: int, username: str, *, bot: bool = False) -> dict[str, typing.Any]:
    """A user object as it appears in members, voice states and READY."""
    payload: dict[str, typing.Any] = {
        "id": str(user_id),
        "username": username,
        "global_name": None if bot else username.title(),
        "discriminator": "4821" if bot else "0",
        "avatar": None,
        "avatar_decoration_data": None,
        "public_flags": 0,
        "primary_guild": None,
        "clan": None,
    }
    if bot:
        payload["bot"] = True
    return payload


def member_payload(user: Mapping[str, typing.Any], *, joined_at: str = _JOINED_AT) -> dict[str, typing.Any]:
    """A guild member object wrapping `user` (no roles beyond @everyone)."""
    return {
        "user": dict(user),
        "roles": [],
        "nick": None,
        "avatar": None,
        "banner": None,
        "joined_at": joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }


def _guild_channel_payload(
    channel_id: int,
    channel_type: int,
    name: str,
    position: int,
    guild_id: int | None,
    extra: Mapping[str, typing.Any],
) -> dict[str, typing.Any]:
    """The fields every guild channel carries, then `extra`; `guild_id` only when given."""
    payload: dict[str, typing.Any] = {
        "id": str(channel_id),
        "type": channel_type,
        "name": name,
        "position": position,
        "parent_id": None,
        "permission_overwrites": [],
        "nsfw": False,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
        **extra,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    return payload


def voice_channel_payload(
    channel_id: int, name: str, *, position: int = 0, guild_id: int | None = None
) -> dict[str, typing.Any]:
    """A guild voice channel (type 2); `guild_id` is absent inside GUILD_CREATE, as Discord sends it."""
    extra = {"bitrate": 64000, "user_limit": 0, "rtc_region": None}
    return _guild_channel_payload(channel_id, 2, name, position, guild_id, extra)


def text_channel_payload(
    channel_id: int, name: str, *, position: int = 0, guild_id: int | None = None
) -> dict[str, typing.Any]:
    """A guild text channel (type 0); `guild_id` is absent inside GUILD_CREATE, as Discord sends it."""
    extra = {"topic": None, "last_pin_timestamp": None}
    return _guild_channel_payload(channel_id, 0, name, position, guild_id, extra)


def voice_state_payload(
    guild_id: int | None,
    user_id: int,
    channel_id: int | None,
    session_id: str,
    *,
    member: Mapping[str, typing.Any] | None = None,
    self_mute: bool = False,
    self_deaf: bool = False,
) -> dict[str, typing.Any]:
    """A voice state: the VOICE_STATE_UPDATE body (with `guild_id` and `member`) or a GUILD_CREATE entry.

    Inside GUILD_CREATE Discord omits `guild_id` and `member`: pass `guild_id=None` and no member.
    """
    payload: dict[str, typing.Any] = {
        "channel_id": None if channel_id is None else str(channel_id),
        "user_id": str(user_id),
        "session_id": session_id,
        "deaf": False,
        "mute": False,
        "self_deaf": self_deaf,
        "self_mute": self_mute,
        "self_video": False,
        "suppress": False,
        "request_to_speak_timestamp": None,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    if member is not None:
        payload["member"] = dict(member)
    return payload


def voice_server_update_payload(guild_id: int, token: str, endpoint: str | None) -> dict[str, typing.Any]:
    """The VOICE_SERVER_UPDATE body; `endpoint` is ``host:port`` (no scheme), or `None` (reallocating)."""
    return {"token": token, "guild_id": str(guild_id), "endpoint": endpoint}


def ready_payload(
    user: Mapping[str, typing.Any],
    session_id: str,
    *,
    guild_ids: Iterable[int] = (),
    application_id: int | None = None,
    shard: tuple[int, int] = (0, 1),
) -> dict[str, typing.Any]:
    """The READY body for a bot: its user, the gateway session id and its guilds (all unavailable)."""
    own_user = {
        **user,
        "bot": True,
        "verified": True,
        "mfa_enabled": False,
        "email": None,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "bio": "",
    }
    return {
        "v": 10,
        "user_settings": {},
        "user": own_user,
        "session_type": "normal",
        "session_id": session_id,
        "resume_gateway_url": "wss://gateway-us-east1-b.discord.gg",
        "relationships": [],
        "private_channels": [],
        "presences": [],
        "guilds": [{"id": str(guild_id), "unavailable": True} for guild_id in guild_ids],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["rotterdam", "milan", "russia", "madrid", "frankfurt"],
        "auth": {},
        "application": {
            "id": str(application_id if application_id is not None else user["id"]),
            "flags": 565248,
        },
        "shard": list(shard),
        "_trace": ['["gateway-prd-us-east1-b-abcd",{"micros":61234}]'],
    }


def guild_create_payload(
    guild_id: int,
    name: str,
    owner_id: int,
    *,
    channels: Sequence[Mapping[str, typing.Any]] = (),
    members: Sequence[Mapping[str, typing.Any]] = (),
    voice_states: Sequence[Mapping[str, typing.Any]] = (),
    available: bool = True,
) -> dict[str, typing.Any]:
    """The GUILD_CREATE body: the guild with its @everyone role, channels, members and voice states.

    `available=True` marks a guild that was listed (unavailable) in READY, so hikari dispatches
    `GuildAvailableEvent`; `available=False` omits the flag, as for a guild the bot was just added to.
    """
    payload: dict[str, typing.Any] = {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "icon_hash": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "widget_enabled": False,
        "widget_channel_id": None,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": [
            {
                "id": str(guild_id),
                "name": "@everyone",
                "description": None,
                "color": 0,
                "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                "hoist": False,
                "icon": None,
                "unicode_emoji": None,
                "position": 0,
                "permissions": "2248473465835073",
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "max_members": 500000,
        "max_presences": None,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "en-US",
        "nsfw": False,
        "nsfw_level": 0,
        "hub_type": None,
        "incidents_data": None,
        "latest_onboarding_question_id": None,
        "home_header": None,
        "inventory_settings": None,
        "version": 1709294400000,
        "lazy": True,
        "large": False,
        "joined_at": _JOINED_AT,
        "member_count": len(members),
        "channels": [dict(channel) for channel in channels],
        "threads": [],
        "members": [dict(member) for member in members],
        "voice_states": [dict(state) for state in voice_states],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "embedded_activities": [],
        "activity_instances": [],
        "application_command_counts": {},
    }
    if available:
        payload["unavailable"] = False
    return payload
