"""What a node sent that differs from the Lavalink v4 protocol and was read anyway: noted, and logged once per node.

Real servers differ (Lavalink 4.0 to 4.2, NodeLink): a field named otherwise, an extra wrapper, a value of the
wrong type in a field the library does not need, an enum value from a newer server. The parsers read what they
can and *note* the rest here instead of refusing the message. A `Deviations` belongs to one node: each kind of
deviation is logged the first time it is seen (INFO for a known variant or an unknown value, WARNING for a
malformed field or a refused message), then only counted, so a server that always words something its own way
costs one log line, not one per frame.

Parsers do not take the collector as an argument: whoever parses a node's payload runs the parse inside
``with deviations.reading():`` and the parsers call `note`. Outside of one, a note is logged at DEBUG.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import typing

if typing.TYPE_CHECKING:
    from collections.abc import Iterator

    from lightbulb_lavalink.errors import ProtocolError

__all__ = ["Deviations", "note"]

_LOGGER: typing.Final = logging.getLogger("lightbulb_lavalink.protocol.deviations")

# The collector of the parse running in this context (a task's own copy): a context variable, so nothing is shared
# between tasks, clients or nodes, and no parser signature has to carry it.
_CURRENT: typing.Final[contextvars.ContextVar[Deviations | None]] = contextvars.ContextVar(
    "lightbulb_lavalink_deviations", default=None
)
_INDEX = re.compile(r"\[\d+\]")


def _kind(where: str, problem: str) -> str:
    """One kind per field and problem, whatever the list index: ``tracks[3].info.length`` reads ``tracks[]…``."""
    return f"{_INDEX.sub('[]', where) or '<payload>'}: {problem}"


def note(where: str, problem: str, *, malformed: bool = False) -> None:
    """Report that the payload being parsed deviates at `where` (a dotted path) and how it was read anyway.

    `malformed`: a value of the wrong type (logged as a warning), rather than a known variant or a value from a
    newer server (logged as info).
    """
    current = _CURRENT.get()
    if current is not None:
        current.note(where, problem, malformed=malformed)
    elif _LOGGER.isEnabledFor(logging.DEBUG):
        _LOGGER.debug("read a payload that deviates from the protocol: %s", _kind(where, problem))


class Deviations:
    """The deviations one node's payloads showed, by kind, each logged once.

    ``with node.deviations.reading(): Model.from_payload(data)`` attributes what the parse notes to this node.
    """

    __slots__ = ("_counts", "_logger", "source")

    def __init__(self, source: str, *, logger: logging.Logger = _LOGGER) -> None:
        self.source = source
        """Who sent the payloads (``node 'main'``), for the log lines."""
        self._logger = logger
        self._counts: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"Deviations({self.source!r}, kinds={len(self._counts)})"

    @property
    def counts(self) -> typing.Mapping[str, int]:
        """How often each kind of deviation was seen (``"stats.cpu.lavalinkLoad: sent as nodelinkLoad"``)."""
        return dict(self._counts)

    def note(self, where: str, problem: str, *, malformed: bool = False) -> None:
        """Count a deviation; log it if it is the first of its kind for this node."""
        kind = _kind(where, problem)
        seen = self._counts.get(kind, 0)
        self._counts[kind] = seen + 1
        if not seen:
            self._logger.log(
                logging.WARNING if malformed else logging.INFO,
                "%s sent %s; read anyway (logged once per node)",
                self.source,
                kind,
            )

    def refused(self, error: ProtocolError, what: str) -> None:
        """Count a message that could not be used at all (`what`: ``"websocket message"``); log the first of each
        kind as a warning."""
        kind = _kind(error.where, f"{error.problem.split(':')[0]} (the {what} was ignored)")
        seen = self._counts.get(kind, 0)
        self._counts[kind] = seen + 1
        if not seen:
            self._logger.warning("%s sent an unusable %s: %s (logged once per node)", self.source, what, error)

    def bind(self) -> None:
        """Attribute what every parse of the current task notes to this node, for the rest of the task.

        For a task the node owns and that parses nothing else (its websocket reader): a task runs in its own copy
        of the context, so this ends with it. Costs nothing per message, unlike `reading`.
        """
        _CURRENT.set(self)

    @contextlib.contextmanager
    def reading(self) -> Iterator[typing.Self]:
        """Attribute what the parses in the block note to this node."""
        token = _CURRENT.set(self)
        try:
            yield self
        finally:
            _CURRENT.reset(token)
