"""Prometheus metrics of a `LavalinkClient`: resumes, nodes, players, REST calls and store writes.

Needs the ``metrics`` extra (``pip install 'lightbulb-lavalink[metrics]'``, which installs prometheus-client).
Nothing is registered in prometheus-client's global registry unless you pass it: by default each
`LavalinkMetrics` has a `CollectorRegistry` of its own (`LavalinkMetrics.registry`), so two clients in one
process never collide. Every metric carries a ``client`` label (``default`` unless `attach_metrics` says
otherwise) and none carries a password, a URL or a track title: REST routes are templates
(``/v4/sessions/{sessionId}/players/{guildId}``) from a bounded set (`route_of`: a plugin path of the caller's is cut
to ``/v4/{other}``), so no label grows a series per request. docs/guides/metrics.md lists the names.

```python
metrics = LavalinkMetrics()
client = LavalinkClient(bot, settings, metrics=metrics)
text = prometheus_client.generate_latest(metrics.registry)
```
"""

from __future__ import annotations

import typing

try:
    from prometheus_client import CollectorRegistry, Counter, Histogram
    from prometheus_client.core import GaugeMetricFamily
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "lightbulb_lavalink.metrics needs prometheus-client: pip install 'lightbulb-lavalink[metrics]'"
    ) from exc

from lightbulb_lavalink.errors import LavalinkError, NodeUnavailable, ProtocolError, RequestTimeoutError, RestError
from lightbulb_lavalink.node import NodeState
from lightbulb_lavalink.player import GuildState

if typing.TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.metrics_core import Metric

    from lightbulb_lavalink.client import LavalinkClient
    from lightbulb_lavalink.observe import StoreWrite
    from lightbulb_lavalink.resuming.outcome import ResumeReport

__all__ = ["LavalinkMetrics"]

_PHASE_BUCKETS: typing.Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_REQUEST_BUCKETS: typing.Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def error_label(error: LavalinkError) -> str:
    """A failed request's ``error`` label: the HTTP status, or what kind of failure it was (never its text)."""
    if isinstance(error, RestError):
        return str(error.status)
    if isinstance(error, RequestTimeoutError):
        return "timeout"
    if isinstance(error, NodeUnavailable):
        return "unreachable"
    if isinstance(error, ProtocolError):
        return "malformed"
    return "other"


class LavalinkMetrics:
    """The Prometheus metrics of one or more clients (each attached with its own ``client`` label).

    `registry`: where the metrics are registered; a new `CollectorRegistry` by default (pass
    `prometheus_client.REGISTRY` to expose them with the process's default metrics).
    """

    def __init__(self, registry: CollectorRegistry | None = None, *, namespace: str = "lightbulb_lavalink") -> None:
        self.registry: CollectorRegistry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        """Where the metrics live: scrape it with `prometheus_client.generate_latest(metrics.registry)`."""
        self._namespace = namespace
        self._clients: dict[str, LavalinkClient] = {}
        r, ns = self.registry, namespace
        self.resumes = Counter(
            "resumes",
            "Node readys whose work has settled, by kind",
            ["client", "node", "kind"],
            namespace=ns,
            registry=r,
        )
        self.resume_seconds = Histogram(
            "resume_seconds",
            "Seconds from a node's ready to everything it set off settled",
            ["client", "node", "kind"],
            namespace=ns,
            registry=r,
            buckets=_PHASE_BUCKETS,
        )
        self.resume_phase_seconds = Histogram(
            "resume_phase_seconds",
            "Seconds spent in each phase of a ready (store_read, handshake, sync, replay, voice, recovery)",
            ["client", "node", "phase"],
            namespace=ns,
            registry=r,
            buckets=_PHASE_BUCKETS,
        )
        self.resume_guilds = Counter(
            "resume_guilds",
            "Guilds a ready concerned, by where they ended up (resumed, recovered, failed, left_alone)",
            ["client", "node", "outcome"],
            namespace=ns,
            registry=r,
        )
        self.replayed_events = Counter(
            "replayed_events",
            "Events a resumed session replayed: applied, dropped (duplicates) or ignored (no player)",
            ["client", "node", "result"],
            namespace=ns,
            registry=r,
        )
        self.websocket_reconnects = Counter(
            "websocket_reconnects",
            "Websocket closes after which the node is reconnected",
            ["client", "node"],
            namespace=ns,
            registry=r,
        )
        self.rest_seconds = Histogram(
            "rest_request_seconds",
            "REST request latency by route template",
            ["client", "node", "method", "route"],
            namespace=ns,
            registry=r,
            buckets=_REQUEST_BUCKETS,
        )
        self.rest_errors = Counter(
            "rest_errors",
            "Failed REST requests by route template and error (HTTP status, timeout, unreachable, malformed)",
            ["client", "node", "method", "route", "error"],
            namespace=ns,
            registry=r,
        )
        self.store_write_seconds = Histogram(
            "store_write_seconds",
            "Session store write latency by operation",
            ["client", "operation"],
            namespace=ns,
            registry=r,
            buckets=_REQUEST_BUCKETS,
        )
        self.store_write_failures = Counter(
            "store_write_failures",
            "Failed session store writes by operation",
            ["client", "operation"],
            namespace=ns,
            registry=r,
        )
        self.registry.register(_StateCollector(self))

    def __repr__(self) -> str:
        return f"LavalinkMetrics(clients={sorted(self._clients)})"

    @property
    def clients(self) -> typing.Mapping[str, LavalinkClient]:
        """The measured clients by label."""
        return self._clients

    @property
    def namespace(self) -> str:
        """The prefix of every metric name."""
        return self._namespace

    def observer_for(self, client: LavalinkClient, label: str) -> _ClientObserver:
        """Measure `client` under ``client=label`` (called by `LavalinkClient.attach_metrics`).

        Raises:
            ValueError: Another client is measured under `label`.
        """
        if label in self._clients and self._clients[label] is not client:
            raise ValueError(f"a client is measured as {label!r} already: attach this one with another label")
        self._clients[label] = client
        return _ClientObserver(self, label)


class _ClientObserver:
    """One client's `Observer`: turns what it is told into samples labelled with the client."""

    __slots__ = ("_label", "_metrics")

    def __init__(self, metrics: LavalinkMetrics, label: str) -> None:
        self._metrics = metrics
        self._label = label

    def requests(self, node: str) -> _RequestObserver:
        return _RequestObserver(self._metrics, self._label, node)

    def websocket_reconnect(self, node: str) -> None:
        self._metrics.websocket_reconnects.labels(self._label, node).inc()

    def store_write(self, operation: StoreWrite, seconds: float, error: Exception | None) -> None:
        m = self._metrics
        m.store_write_seconds.labels(self._label, operation).observe(seconds)
        if error is not None:
            m.store_write_failures.labels(self._label, operation).inc()

    def resume_completed(self, report: ResumeReport) -> None:
        m, client, node = self._metrics, self._label, report.node
        m.resumes.labels(client, node, report.kind).inc()
        m.resume_seconds.labels(client, node, report.kind).observe(report.duration)
        for phase, seconds in report.phases.items():
            m.resume_phase_seconds.labels(client, node, phase).observe(seconds)
        for outcome, count in (
            ("resumed", len(report.resumed)),
            ("recovered", len(report.recovered)),
            ("failed", len(report.failed)),
            ("left_alone", len(report.left_alone)),
        ):
            m.resume_guilds.labels(client, node, outcome).inc(count)
        ignored = max(0, report.events_replayed - report.events_applied - report.events_dropped)
        for result, count in (
            ("applied", report.events_applied),
            ("dropped", report.events_dropped),
            ("ignored", ignored),
        ):
            m.replayed_events.labels(client, node, result).inc(count)


class _RequestObserver:
    """One node's REST `RequestObserver`."""

    __slots__ = ("_label", "_metrics", "_node")

    def __init__(self, metrics: LavalinkMetrics, label: str, node: str) -> None:
        self._metrics = metrics
        self._label = label
        self._node = node

    def request_done(self, method: str, route: str, seconds: float, error: LavalinkError | None) -> None:
        m = self._metrics
        m.rest_seconds.labels(self._label, self._node, method, route).observe(seconds)
        if error is not None:
            m.rest_errors.labels(self._label, self._node, method, route, error_label(error)).inc()


class _StateCollector:
    """Gauges read from the clients' public state at each scrape: players by node and state, node states."""

    def __init__(self, metrics: LavalinkMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        ns = self._metrics.namespace
        players = GaugeMetricFamily(
            f"{ns}_players", "Players by node and guild state", labels=["client", "node", "state"]
        )
        nodes = GaugeMetricFamily(
            f"{ns}_node_state", "1 for the state each node is in, 0 for the others", labels=["client", "node", "state"]
        )
        for label, client in self._metrics.clients.items():
            counts = {(name, state): 0 for name in client.nodes for state in GuildState}
            for player in list(client.players.values()):
                key = (player.node.name, player.guild_state)
                counts[key] = counts.get(key, 0) + 1
            for (node, state), count in counts.items():
                players.add_metric([label, node, state.value], count)
            for name, each in client.nodes.items():
                for node_state in NodeState:
                    nodes.add_metric([label, name, node_state.value], 1 if each.state is node_state else 0)
        yield players
        yield nodes
