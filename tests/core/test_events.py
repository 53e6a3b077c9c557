"""lightbulb-lavalink events are real hikari events: listeners on a never-started GatewayBot receive them."""

from __future__ import annotations

import asyncio
import typing

import hikari
import pytest

from lightbulb_lavalink import events
from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import NodeUnavailable
from lightbulb_lavalink.player import Player
from lightbulb_lavalink.protocol.messages import TrackEndReason
from lightbulb_lavalink.protocol.player import PlayerState
from lightbulb_lavalink.protocol.stats import Stats
from lightbulb_lavalink.protocol.tracks import ExceptionInfo, Severity, Track, TrackInfo

GUILD_ID = 1180000000000000042
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
STATS = Stats.from_payload(
    {
        "players": 1,
        "playingPlayers": 1,
        "uptime": 123456789,
        "memory": {"free": 123456789, "used": 123456789, "allocated": 123456789, "reservable": 123456789},
        "cpu": {"cores": 4, "systemLoad": 0.5, "lavalinkLoad": 0.5},
    }
)


class World:
    """A never-started bot with a real (never-started) LavalinkClient and one Player."""

    def __init__(self, bot: hikari.GatewayBot) -> None:
        self.bot = bot
        self.client = LavalinkClient(bot)
        self.node = next(iter(self.client.nodes.values()))
        self.player = Player(self.client._hub, self.node, GUILD_ID)


@pytest.fixture
def world(bot: hikari.GatewayBot) -> World:
    return World(bot)


def build_all(world: World) -> list[events.LavalinkEvent]:
    """One instance of every concrete event type."""
    common: dict[str, typing.Any] = {"app": world.bot, "client": world.client}
    node: dict[str, typing.Any] = {**common, "node": world.node}
    player: dict[str, typing.Any] = {**common, "player": world.player}
    return [
        events.NodeReadyEvent(**node, session_id="s1", resumed=False),
        events.NodeDisconnectedEvent(**node, code=1006, reason="dropped", will_reconnect=True),
        events.NodeStatsEvent(**node, stats=STATS),
        events.SessionResumedEvent(
            **node, session_id="s1", guild_ids=(1, 2), players_synced=2, replayed_events=1, duration=0.1
        ),
        events.SessionRecoveredEvent(
            **node,
            session_id="s2",
            previous_session_id="s1",
            guild_ids=(1,),
            failed={2: "voice channel has no listeners"},
            duration=0.2,
        ),
        events.TrackStartEvent(**player, track=TRACK),
        events.TrackEndEvent(**player, track=TRACK, reason=TrackEndReason.FINISHED),
        events.TrackExceptionEvent(
            **player, track=TRACK, exception=ExceptionInfo(message="x", severity=Severity.COMMON, cause="y")
        ),
        events.TrackStuckEvent(**player, track=TRACK, threshold_ms=10000),
        events.TrackStartFailedEvent(**player, track=TRACK, error=NodeUnavailable("node away"), refused=False),
        events.VoiceClosedEvent(**player, code=4014, reason="Disconnected", by_remote=True),
        events.PlayerUpdateEvent(**player, state=PlayerState(time=1, position=1000, connected=True, ping=20)),
        events.QueueEndEvent(**player),
    ]


CONCRETE = [
    events.NodeReadyEvent,
    events.NodeDisconnectedEvent,
    events.NodeStatsEvent,
    events.SessionResumedEvent,
    events.SessionRecoveredEvent,
    events.TrackStartEvent,
    events.TrackEndEvent,
    events.TrackExceptionEvent,
    events.TrackStuckEvent,
    events.TrackStartFailedEvent,
    events.VoiceClosedEvent,
    events.PlayerUpdateEvent,
    events.QueueEndEvent,
]


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
async def test_a_listener_receives_its_event_type(world: World, event_type: type[hikari.Event]) -> None:
    inbox = Inbox()
    world.bot.event_manager.subscribe(event_type, inbox.receive)
    all_events = build_all(world)

    await dispatch_all(world.bot, all_events, Inbox())

    assert inbox.received == [e for e in all_events if type(e) is event_type]
    (event,) = inbox.received
    assert isinstance(event, events.LavalinkEvent)
    assert event.app is world.bot and event.client is world.client


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        (events.LavalinkEvent, CONCRETE),
        (events.NodeEvent, CONCRETE[:5]),
        (events.PlayerEvent, CONCRETE[5:]),
        (events.TrackEvent, CONCRETE[5:10]),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else "",
)
async def test_listening_to_a_base_class_receives_its_subclasses(
    world: World, base: type[hikari.Event], expected: list[type[hikari.Event]]
) -> None:
    inbox = Inbox()
    world.bot.event_manager.subscribe(base, inbox.receive)

    await dispatch_all(world.bot, build_all(world), Inbox())

    assert [type(e) for e in inbox.received] == expected
    assert all(isinstance(e, base) for e in inbox.received)


async def test_bot_listen_and_event_manager_wait_for(world: World) -> None:
    bot = world.bot
    ended: list[events.TrackEndEvent] = []

    @bot.listen(events.TrackEndEvent)
    async def on_end(event: events.TrackEndEvent) -> None:
        ended.append(event)

    waiter = asyncio.ensure_future(
        bot.event_manager.wait_for(
            events.TrackEndEvent, timeout=5, predicate=lambda e: e.reason is TrackEndReason.REPLACED
        )
    )
    await asyncio.sleep(0)
    common: dict[str, typing.Any] = {"app": bot, "client": world.client, "player": world.player, "track": TRACK}
    first = events.TrackEndEvent(**common, reason=TrackEndReason.FINISHED)
    second = events.TrackEndEvent(**common, reason=TrackEndReason.REPLACED, replayed=True)
    bot.event_manager.dispatch(first)
    bot.event_manager.dispatch(second)

    assert await waiter is second
    for _ in range(5):
        await asyncio.sleep(0)
    assert ended == [first, second]


async def test_lightbulb_loader_listener_receives_lavalink_events(world: World) -> None:
    lightbulb = pytest.importorskip("lightbulb")
    if not hasattr(lightbulb, "Loader"):
        pytest.skip("lightbulb 2 has no Loader")
    bot = world.bot
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
    common: dict[str, typing.Any] = {"app": bot, "client": world.client}
    start = events.TrackStartEvent(**common, player=world.player, track=TRACK)
    end = events.QueueEndEvent(**common, player=world.player)
    bot.event_manager.dispatch(start)
    bot.event_manager.dispatch(events.NodeReadyEvent(**common, node=world.node, session_id="s", resumed=True))
    bot.event_manager.dispatch(end)

    async with asyncio.timeout(5):
        await done.wait()
    assert received == [start, end]


def test_player_events_default_guild_and_node_from_the_player(world: World) -> None:
    event = events.QueueEndEvent(app=world.bot, client=world.client, player=world.player)

    assert event.guild_id == GUILD_ID
    assert isinstance(event.guild_id, hikari.Snowflake)
    assert event.node is world.node

    # The node the player was on when it happened is kept, even if the player moves later.
    other: typing.Any = object()
    moved = events.QueueEndEvent(app=world.bot, client=world.client, player=world.player, node=other)
    assert moved.node is other


@pytest.mark.parametrize("reason", list(TrackEndReason))
def test_track_end_defaults_may_start_next_from_the_reason(world: World, reason: TrackEndReason) -> None:
    common: dict[str, typing.Any] = {"app": world.bot, "client": world.client, "player": world.player}

    event = events.TrackEndEvent(**common, track=TRACK, reason=reason)
    forced = events.TrackEndEvent(**common, track=TRACK, reason=reason, may_start_next=not reason.may_start_next)

    assert event.may_start_next is (reason in {TrackEndReason.FINISHED, TrackEndReason.LOAD_FAILED})
    assert forced.may_start_next is not event.may_start_next
    assert not event.replayed


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
