"""The pieces of issue 13's resume report and metrics, one at a time: the collector, the replay counts, route
templates, the metrics' labels and the extra being optional."""

from __future__ import annotations

import datetime
import subprocess
import sys

import prometheus_client
import pytest

from lightbulb_lavalink import LavalinkClient
from lightbulb_lavalink.errors import LavalinkError, RestError
from lightbulb_lavalink.metrics import LavalinkMetrics
from lightbulb_lavalink.protocol.codec import decode_track, encode_track
from lightbulb_lavalink.protocol.messages import TrackEndMessage, TrackEndReason
from lightbulb_lavalink.protocol.rest import RestClient, route_of
from lightbulb_lavalink.protocol.tracks import TrackInfo
from lightbulb_lavalink.resuming.outcome import ResumeCollector, ResumeReport
from lightbulb_lavalink.resuming.replay import ReplayWindow
from lightbulb_lavalink.testing import FakeLavalink, ManualClock
from lightbulb_lavalink.testing.gateway import make_bot


def collector(clock: ManualClock, done: list[ResumeReport], *, resumed: bool = True) -> ResumeCollector:
    return ResumeCollector(
        node="main",
        session_id="new",
        previous_session_id="old",
        resumed=resumed,
        at=datetime.datetime.now(datetime.UTC),
        clock=clock,
        on_done=done.append,
    )


def test_the_report_waits_for_every_part_and_times_each_phase() -> None:
    clock, done = ManualClock(), []
    report = collector(clock, done)
    ready = report.hold()
    report.took("handshake", 0.25)
    syncing = report.hold("sync")
    clock.advance(0.5)
    report.outcome(1, "resumed")
    syncing.release()
    replaying = report.hold("replay")
    recovering = report.hold("recovery")
    ready.release()
    clock.advance(1.0)
    replaying.release()
    replaying.release()  # idempotent
    report.outcome(2, "failed", "500")
    assert not done, "a recovery still runs"
    clock.advance(2.0)
    report.outcome(2, "recovered")  # a retry brought it back: the later outcome wins
    recovering.release()
    [settled] = done
    assert settled.complete and settled.kind == "resumed"
    assert (settled.resumed, settled.recovered, dict(settled.failed)) == ((1,), (2,), {})
    assert settled.phases.items() == [("handshake", 0.25), ("sync", 0.5), ("replay", 1.0), ("recovery", 3.0)]
    assert settled.duration == 3.5


def test_a_newer_ready_cuts_the_report_short() -> None:
    clock, done = ManualClock(), []
    report = collector(clock, done, resumed=False)
    recovering = report.hold("recovery")
    report.outcome(7, "failed", "timeout")
    clock.advance(2.0)
    report.finish(complete=False)
    recovering.release()  # the task ends later: nothing more is reported
    [settled] = done
    assert (settled.kind, settled.complete, dict(settled.failed)) == ("recovered", False, {7: "timeout"})
    assert settled.phases.recovery == 2.0


def test_a_ready_with_nothing_to_bring_back_is_fresh() -> None:
    done: list[ResumeReport] = []
    report = collector(ManualClock(), done, resumed=False)
    report.hold().release()
    assert done[0].kind == "fresh" and done[0].guild_count == 0


def test_the_replay_window_counts_applied_and_duplicate_events() -> None:
    track = decode_track(
        encode_track(TrackInfo(identifier="x", author="a", length=1_000, title="t", source_name="http"))
    )
    end = TrackEndMessage(guild_id=1, track=track, reason=TrackEndReason.FINISHED)
    window = ReplayWindow()
    window.open()
    assert window.admit(end)
    window.note_applied()
    assert not window.admit(end), "the same end twice is dropped"
    assert (window.count, window.applied, window.dropped) == (2, 1, 1)
    window.open()
    assert (window.count, window.applied, window.dropped) == (0, 0, 0)


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/v4/sessions/abc123/players/1234567890", "/v4/sessions/{sessionId}/players/{guildId}"),
        ("/v4/sessions/abc123/players", "/v4/sessions/{sessionId}/players"),
        ("/v4/sessions/abc123", "/v4/sessions/{sessionId}"),
        ("/v4/loadtracks", "/v4/loadtracks"),
        ("/version", "/version"),
    ],
)
def test_a_route_is_a_template_without_ids(path: str, route: str) -> None:
    assert route_of(path) == route


class Requests:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, LavalinkError | None]] = []

    def request_done(self, method: str, route: str, seconds: float, error: LavalinkError | None) -> None:
        self.seen.append((method, route, error))


async def test_the_rest_client_tells_its_observer_each_request_by_route() -> None:
    async with FakeLavalink() as node:
        requests = Requests()
        async with RestClient(node.url, node.password, observer=requests) as rest:
            await rest.info()
            with pytest.raises(RestError):
                await rest.get_player("no-such-session", 42)
    assert [(m, r) for m, r, _ in requests.seen] == [
        ("GET", "/v4/info"),
        ("GET", "/v4/sessions/{sessionId}/players/{guildId}"),
    ]
    assert requests.seen[0][2] is None and isinstance(requests.seen[1][2], RestError)


async def test_two_clients_share_one_metrics_object_with_a_label_each() -> None:
    registry = prometheus_client.CollectorRegistry()
    metrics = LavalinkMetrics(registry)
    first = LavalinkClient(make_bot(), metrics=metrics)
    second = LavalinkClient(make_bot())
    second.attach_metrics(metrics, label="eu")
    with pytest.raises(ValueError, match="eu"):
        LavalinkClient(make_bot()).attach_metrics(metrics, label="eu")
    with pytest.raises(LavalinkError, match="already"):
        first.attach_metrics(LavalinkMetrics())
    text = prometheus_client.generate_latest(registry).decode()
    assert 'lightbulb_lavalink_node_state{client="default",node="default",state="disconnected"} 1.0' in text
    assert 'lightbulb_lavalink_node_state{client="eu",node="default",state="disconnected"} 1.0' in text
    assert prometheus_client.generate_latest(prometheus_client.REGISTRY).find(b"lightbulb_lavalink") == -1


def test_without_prometheus_client_the_core_imports_and_the_metrics_say_which_extra_to_install() -> None:
    script = (
        "import sys\n"
        "sys.modules['prometheus_client'] = None\n"
        "import lightbulb_lavalink, lightbulb_lavalink.client\n"
        "try:\n"
        "    import lightbulb_lavalink.metrics\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=".")
    assert "pip install 'lightbulb-lavalink[metrics]'" in out.stdout
