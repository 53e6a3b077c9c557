"""What a person sees after running a slash command: `Reply`, built from what the bot sent `FakeDiscordRest`."""

from __future__ import annotations

__all__ = ["NoReplyError", "Option", "Reply", "command_options"]

import typing

import attrs
import hikari

from lightbulb_lavalink.testing.discord_rest import Answer

_DEFERRED: typing.Final[int] = int(hikari.ResponseType.DEFERRED_MESSAGE_CREATE)
_KINDS: typing.Final[dict[type, hikari.OptionType]] = {
    bool: hikari.OptionType.BOOLEAN,
    int: hikari.OptionType.INTEGER,
    float: hikari.OptionType.FLOAT,
    str: hikari.OptionType.STRING,
}


class NoReplyError(AssertionError):
    """The command finished without answering: Discord would show "The application did not respond"."""


@attrs.frozen(weakref_slot=False)
class Option:
    """An option value of a type Python values do not say: ``Option(hikari.OptionType.USER, user_id)``."""

    type: hikari.OptionType
    """The Discord option type."""
    value: typing.Any
    """The value as Discord sends it (an id for users, channels and roles)."""


def command_options(options: typing.Mapping[str, object]) -> list[dict[str, typing.Any]]:
    """Interaction options as Discord sends them: `str`, `int`, `float`, `bool` typed by value, else `Option`.

    Raises:
        TypeError: A value is of none of those types.
    """
    payload = []
    for name, value in options.items():
        if isinstance(value, Option):
            kind, sent = value.type, value.value
            if kind in {hikari.OptionType.USER, hikari.OptionType.CHANNEL, hikari.OptionType.ROLE}:
                sent = str(int(sent))
        elif type(value) in _KINDS:
            kind, sent = _KINDS[type(value)], value
        else:
            raise TypeError(f"option {name!r}: pass a str, int, float, bool or testing.Option, not {type(value)}")
        payload.append({"type": int(kind), "name": name, "value": sent})
    return payload


@attrs.frozen(kw_only=True, weakref_slot=False)
class Reply:
    """The bot's answer to one command: the response message (after its edits) and any follow-ups."""

    command: str
    """The command as invoked (``"play"``, ``"lavalink status"``)."""
    answers: tuple[Answer, ...]
    """Everything sent for the interaction, oldest first: the callback, edits of it, follow-ups."""

    @property
    def deferred(self) -> bool:
        """Whether the bot deferred first ("the bot is thinking...")."""
        return bool(self.answers) and self.answers[0].response_type == _DEFERRED

    @property
    def ephemeral(self) -> bool:
        """Whether only the person who ran the command sees the response (set by the first answer)."""
        return bool(self.answers) and self.answers[0].ephemeral

    def _split(self) -> tuple[dict[str, typing.Any], list[Answer]]:
        """The response message as it finally reads, and the follow-up messages.

        Discord's rule: after a deferral, the first follow-up (or an edit) replaces the "thinking..." message.
        """
        data: dict[str, typing.Any] = {}
        followups: list[Answer] = []
        loading = False
        for answer in self.answers:
            if answer.kind == "callback":
                data.update(answer.data)
                loading = answer.response_type == _DEFERRED
            elif answer.kind == "edit" or loading:
                data.update({k: v for k, v in answer.data.items() if k != "flags"})
                loading = False
            else:
                followups.append(answer)
        return data, followups

    @property
    def message(self) -> dict[str, typing.Any]:
        """The response message as it finally reads: after a deferral, the first follow-up replaces it (as on
        Discord); edits apply to it."""
        return self._split()[0]

    @property
    def content(self) -> str:
        """The response's text (``""`` without one)."""
        return str(self.message.get("content") or "")

    @property
    def embeds(self) -> list[dict[str, typing.Any]]:
        """The response's embeds as Discord received them (``title``, ``description``, ``fields``...)."""
        return list(self.message.get("embeds") or [])

    @property
    def followups(self) -> list[Answer]:
        """Messages sent after the response (``ctx.respond`` again, ``create_followup``)."""
        return self._split()[1]

    @property
    def text(self) -> str:
        """Everything a person reads: the response's content and embeds (title, description, fields, footer),
        then each follow-up's."""
        response = Answer(kind="edit", response_type=None, data=self.message)
        return "\n".join(part for part in (response.text(), *(f.text() for f in self.followups)) if part.strip())

    def fields(self) -> dict[str, str]:
        """Every embed field of the response as name -> value."""
        return {field["name"]: field["value"] for embed in self.embeds for field in embed.get("fields", [])}

    def __str__(self) -> str:
        flags = ", ".join(f for f, on in (("ephemeral", self.ephemeral), ("deferred", self.deferred)) if on)
        return f"/{self.command}{f' ({flags})' if flags else ''}: {self.text!r}"

