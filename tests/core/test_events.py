"""lightbulb-lavalink events are real hikari events: listeners on a never-started GatewayBot receive them."""

from __future__ import annotations

import asyncio
import types
import typing

import hikari
import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.protocol.tracks import ExceptionInfo, Severity, Track, TrackInfo

# The objects events carry (client, node, player, stats, ...) are plain stand-ins here: what is under test is
# the event classes and their delivery through hikari's event manager, not the objects they point to.
CLIENT: typing.Any = types.SimpleNamespace(name="client")
NODE: typing.Any = types.SimpleNamespace(name="main")
OTHER_NODE: typing.Any = types.SimpleNamespace(name="backup")
PLAYER: typing.Any = types.SimpleNamespace(guild_id=1180000000000000042, node=NODE)
FINISHED: typing.Any = types.SimpleNamespace(value="finished", may_start_next=True)
REPLACED: typing.Any = types.SimpleNamespace(value="replaced", may_start_next=False)
TRACK = Track(
    encoded="QAAAjQIAJVJpY2sgQXN0bGV5IC0gTmV2ZXIgR29ubmEgR2l2ZSBZb3UgVXA",
    info=TrackInfo(
        identifier="dQw4w9WgXcQ",
        is_seekable=True,
        author="RickAstleyVEVO",
        length=212000,
        is_stream=False,
        position=0,
        title="Rick Astley - Never Gonna Give You Up",
        uri="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        source_name="youtube",
        artwork_url=None,
        isrc=None,
    ),
)


def build_all(app: hikari.GatewayBot) -> list[events.LavalinkEvent]:
    """One instance of every concrete event type."""
    common: dict[str, typing.Any] = {"app": app, "client": CLIENT}
    player: dict[str, typing.Any] = {**common, "player": PLAYER}
    return [
        events.NodeReadyEvent(**common, node=NODE, session_id="s1", resumed=False),
        events.NodeDisconnectedEvent(**common, node=NODE, code=1006, reason="dropped", will_reconnect=True),
        events.NodeStatsEvent(**common, node=NODE, stats=types.SimpleNamespace(players=3)),
        events.SessionResumedEvent(
            **common,
            node=NODE,
            session_id="s1",
            guild_ids=(1, 2),
            players_synced=2,
            replayed_events=1,
            duration=0.1,
        ),
        events.SessionRecoveredEvent(
            **common,
            node=NODE,
            session_id="s2",
            previous_session_id="s1",
            guild_ids=(1,),
            failed={2: "voice channel has no listeners"},
            duration=0.2,
        ),
        events.TrackStartEvent(**player, track=TRACK),
        events.TrackEndEvent(**player, track=TRACK, reason=FINISHED),
        events.TrackExceptionEvent(
            **player, track=TRACK, exception=ExceptionInfo(message="x", severity=Severity.COMMON, cause="y")
        ),
        events.TrackStuckEvent(**player, track=TRACK, threshold_ms=10000),
        events.VoiceClosedEvent(**player, code=4014, reason="Disconnected", by_remote=True),
        events.PlayerUpdateEvent(**player, state=types.SimpleNamespace(position=1000)),
        events.QueueEndEvent(**player),
    ]


CONCRETE = [type(event) for event in build_all(typing.cast("hikari.GatewayBot", None))]


class Inbox:
    """A listener that keeps what it receives and lets a test wait for a number of events."""

    def __init__(self) -> None:
        self.received: list[hikari.Event] = []
        self._changed = asyncio.Event()

    async def receive(self, event: hikari.Event) -> None:
        self.received.append(event)
        self._changed.set()

    async def wait_for(self, count: int) -> list[hikari.Event]:
        async with asyncio.timeout(5):
            while len(self.received) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.received


async def dispatch_all(bot: hikari.GatewayBot, to_send: list[events.LavalinkEvent], watcher: Inbox) -> None:
    """Dispatch every event and wait until the catch-all `watcher` saw them all (all listeners then ran)."""
    bot.event_manager.subscribe(hikari.Event, watcher.receive)
    for event in to_send:
        bot.event_manager.dispatch(event)
    await watcher.wait_for(len(to_send))
    for _ in range(3):
        await asyncio.sleep(0)


def test_every_documented_event_exists_and_is_a_hikari_event() -> None:
    assert set(events.__all__) >= {
        "NodeReadyEvent",
        "SessionResumedEvent",
        "SessionRecoveredEvent",
        "NodeDisconnectedEvent",
        "TrackStartEvent",
        "TrackEndEvent",
        "TrackExceptionEvent",
        "TrackStuckEvent",
        "VoiceClosedEvent",
        "PlayerUpdateEvent",
        "NodeStatsEvent",
        "QueueEndEvent",
    }
    for name in events.__all__:
        assert issubclass(getattr(events, name), hikari.Event), name


@pytest.mark.parametrize("event_type", CONCRETE, ids=lambda t: t.__name__)
async def test_a_listener_receives_its_event_type(
    bot: hikari.GatewayBot, event_type: type[hikari.Event]
) -> None:
    inbox = Inbox()
    bot.event_manager.subscribe(event_type, inbox.receive)
    all_events = build_all(bot)

    await dispatch_all(bot, all_events, Inbox())

    assert inbox.received == [e for e in all_events if type(e) is event_type]
    (event,) = inbox.received
    assert event.app is bot


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        (events.LavalinkEvent, CONCRETE),
        (events.NodeEvent, [t for t in CONCRETE if t.__name__.startswith(("Node", "Session"))]),
        (
            events.PlayerEvent,
            [t for t in CONCRETE if t.__name__.startswith(("Track", "Voice", "Player", "Queue"))],
        ),
        (events.TrackEvent, [t for t in CONCRETE if t.__name__.startswith("Track")]),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
async def test_listening_to_a_base_class_receives_its_subclasses(
    bot: hikari.GatewayBot, base: type[hikari.Event], expected: list[type[hikari.Event]]
) -> None:
    inbox = Inbox()
    bot.event_manager.subscribe(base, inbox.receive)

    await dispatch_all(bot, build_all(bot), Inbox())

    assert [type(e) for e in inbox.received] == expected
    assert len(expected) >= 4


async def test_bot_listen_and_event_manager_wait_for(bot: hikari.GatewayBot) -> None:
    ended: list[events.TrackEndEvent] = []

    @bot.listen(events.TrackEndEvent)
    async def on_end(event: events.TrackEndEvent) -> None:
        ended.append(event)

    waiter = asyncio.ensure_future(
        bot.event_manager.wait_for(events.TrackEndEvent, timeout=5, predicate=lambda e: e.reason is REPLACED)
    )
    await asyncio.sleep(0)
    first = events.TrackEndEvent(app=bot, client=CLIENT, player=PLAYER, track=TRACK, reason=FINISHED)
    second = events.TrackEndEvent(
        app=bot, client=CLIENT, player=PLAYER, track=TRACK, reason=REPLACED, replayed=True
    )
    bot.event_manager.dispatch(first)
    bot.event_manager.dispatch(second)

    assert await waiter is second
    for _ in range(5):
        await asyncio.sleep(0)
    assert ended == [first, second]


async def test_lightbulb_loader_listener_receives_lavalink_events(bot: hikari.GatewayBot) -> None:
    lightbulb = pytest.importorskip("lightbulb")
    if not hasattr(lightbulb, "Loader"):
        pytest.skip("lightbulb 2 has no Loader")
    client = lightbulb.client_from_app(bot)
    loader = lightbulb.Loader()
    received: list[events.PlayerEvent] = []
    done = asyncio.Event()

    @loader.listener(events.TrackStartEvent, events.QueueEndEvent)
    async def on_player_event(event: events.PlayerEvent) -> None:
        received.append(event)
        if len(received) == 2:
            done.set()

    await loader.add_to_client(client)
    start = events.TrackStartEvent(app=bot, client=CLIENT, player=PLAYER, track=TRACK)
    end = events.QueueEndEvent(app=bot, client=CLIENT, player=PLAYER)
    bot.event_manager.dispatch(start)
    bot.event_manager.dispatch(
        events.NodeReadyEvent(app=bot, client=CLIENT, node=NODE, session_id="s", resumed=True)
    )
    bot.event_manager.dispatch(end)

    async with asyncio.timeout(5):
        await done.wait()
    assert received == [start, end]


def test_player_events_default_guild_and_node_from_the_player(bot: hikari.GatewayBot) -> None:
    event = events.QueueEndEvent(app=bot, client=CLIENT, player=PLAYER)

    assert event.guild_id == PLAYER.guild_id
    assert isinstance(event.guild_id, hikari.Snowflake)
    assert event.node is NODE

    # The node the player was on when it happened is kept, even if the player moves later.
    moved = events.QueueEndEvent(app=bot, client=CLIENT, player=PLAYER, node=OTHER_NODE)
    assert moved.node is OTHER_NODE


def test_track_end_defaults_may_start_next_from_the_reason(bot: hikari.GatewayBot) -> None:
    finished = events.TrackEndEvent(app=bot, client=CLIENT, player=PLAYER, track=TRACK, reason=FINISHED)
    replaced = events.TrackEndEvent(app=bot, client=CLIENT, player=PLAYER, track=TRACK, reason=REPLACED)
    forced = events.TrackEndEvent(
        app=bot, client=CLIENT, player=PLAYER, track=TRACK, reason=REPLACED, may_start_next=True
    )

    assert (finished.may_start_next, replaced.may_start_next, forced.may_start_next) == (True, False, True)
    assert not finished.replayed


def test_each_event_type_has_its_own_dispatch_bitmask() -> None:
    classes = [getattr(events, name) for name in events.__all__]
    masks = [cls.bitmask() for cls in classes]
    assert len(set(masks)) == len(masks)
    assert events.TrackEndEvent.dispatches()[:4] == (
        events.TrackEndEvent,
        events.TrackEvent,
        events.PlayerEvent,
        events.LavalinkEvent,
    )
    assert hikari.Event in events.TrackEndEvent.dispatches()
