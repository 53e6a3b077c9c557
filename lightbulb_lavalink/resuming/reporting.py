"""The resume reports being gathered, one per node: opened by a `ready`, completed once all it set off settled.

`ResumeCoordinator` opens a report for every `ready` (`ReportBook.open`); the report (`outcome.ResumeCollector`)
calls back when its last part is done, and the book keeps it on the node, tells the metrics, logs one line and
dispatches `ResumeCompletedEvent`.
"""

from __future__ import annotations

import logging
import typing

from lightbulb_lavalink import events
from lightbulb_lavalink.resuming.outcome import ResumeCollector
from lightbulb_lavalink.resuming.report import utc

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.hub import Hub
    from lightbulb_lavalink.node import Node
    from lightbulb_lavalink.protocol.messages import ReadyMessage
    from lightbulb_lavalink.resuming.outcome import ResumeReport

__all__ = ["ReportBook"]

_LOGGER = logging.getLogger("lightbulb_lavalink.resuming")


class ReportBook:
    """The open resume report of each node. Owned by the `ResumeCoordinator`."""

    __slots__ = ("_hub", "_open", "_store_read")

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._open: dict[str, ResumeCollector] = {}
        self._store_read: dict[str, float] = {}

    def store_read(self, seconds: float) -> None:
        """The client read the saved sessions in `seconds`: the first report of each node says so."""
        self._store_read = dict.fromkeys(self._hub.client.nodes, seconds)

    def of(self, node: Node) -> ResumeCollector | None:
        """The report being gathered for `node`'s latest `ready`, until it settles."""
        return self._open.get(node.name)

    def open(self, node: Node, ready: ReadyMessage, previous: str | None, *, resumed: bool) -> ResumeCollector:
        """Start the report of this `ready` (the previous one, if still open, is cut short: `complete=False`)."""
        client = self._hub.client
        old = self._open.pop(node.name, None)
        if old is not None:
            old.finish(complete=False)
        report = ResumeCollector(
            node=node.name,
            session_id=ready.session_id,
            previous_session_id=previous,
            resumed=resumed,
            at=utc(client.clock),
            clock=client.clock,
            on_done=lambda done: self._completed(node, done),
        )
        store_read = self._store_read.pop(node.name, None)
        if store_read is not None:
            report.took("store_read", store_read)
        if node.last_handshake is not None:
            report.took("handshake", node.last_handshake)
        self._open[node.name] = report
        return report

    def _completed(self, node: Node, report: ResumeReport) -> None:
        """Everything a `ready` set off has settled: keep the report, tell the metrics and the bot."""
        hub = self._hub
        client = hub.client
        current = self._open.get(node.name)
        if current is not None and current.done:
            del self._open[node.name]
        node.last_resume = report
        _LOGGER.info(
            "node %s: %s session %s settled in %.1f ms: %d resumed, %d recovered, %d failed, %d left alone",
            node.name,
            report.kind,
            report.session_id,
            report.duration * 1000,
            len(report.resumed),
            len(report.recovered),
            len(report.failed),
            len(report.left_alone),
        )
        if client.observer is not None:
            client.observer.resume_completed(report)
        if not hub.closing:
            client.dispatch(events.ResumeCompletedEvent(app=client.app, client=client, node=node, report=report))
