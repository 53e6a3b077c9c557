"""Issue 10, done-when: a whole session with a wrong node password, a node redirecting in a loop and a bad store URL
leaves no password in any log record (captured at DEBUG, every logger), repr, exception or `/lavalink` embed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import typing

import pytest
from aiohttp import web
from ext_lightbulb3 import EXTENSION, running_bot
from ext_world import NODE_PASSWORD, World

from lightbulb_lavalink.errors import LavalinkError
from lightbulb_lavalink.node import NodeState
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from tests.exception_texts import exception_texts

if typing.TYPE_CHECKING:
    from collections.abc import Iterator

WRONG_PASSWORD = "Wrong-Node-Pass-7731"
LOOP_PASSWORD = "Redirect-Loop-Pass-4492"
STORE_PASSWORD = "Store-Pass-0e9a"
SECRETS = (NODE_PASSWORD, WRONG_PASSWORD, LOOP_PASSWORD, STORE_PASSWORD)
GUARD = 10.0


class Everything(logging.Handler):
    """Every record of every logger, kept whole (args, exception) and formatted as a log file would show it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.texts: list[str] = []
        self.changed = asyncio.Event()
        self._format = logging.Formatter("%(levelname)s %(name)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.texts += [self._format.format(record), repr(record.args), repr(record.msg)]
        if record.exc_info and record.exc_info[1] is not None:
            self.texts += exception_texts(record.exc_info[1])
        self.changed.set()

    async def wait_for(self, text: str) -> None:
        async with asyncio.timeout(GUARD):
            while not any(text in record.getMessage() for record in self.records):
                self.changed.clear()
                await self.changed.wait()


@contextlib.contextmanager
def capture_everything() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


def assert_no_secret(texts: typing.Iterable[str], where: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"a password in {where}: {text[:300]!r}"


def redirect_loop_app() -> web.Application:
    async def loop(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.path)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", loop)
    return app


async def test_a_hostile_session_never_shows_a_password(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = web.AppRunner(redirect_loop_app(), shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    loop_port = runner.addresses[0][1]
    raised: list[BaseException] = []
    reprs: list[str] = []
    try:
        with capture_everything() as log:
            # 1. A bad store URL, from the environment and from a config mapping: the load is degraded, saying why.
            monkeypatch.setenv("LAVALINK_STORE", f"redis:/user:{STORE_PASSWORD}@cache:6379/0")
            async with running_bot(world, default_settings=False, load=False) as bot:
                await bot.client.load_extensions(EXTENSION)
            monkeypatch.delenv("LAVALINK_STORE")
            bad_store = {"store": f"redis://user:{STORE_PASSWORD[:5]}/{STORE_PASSWORD[5:]}@cache:6379/0"}
            async with running_bot(world, settings=bad_store, load=False) as bot:
                await bot.client.load_extensions(EXTENSION)
            for build in (
                lambda: LavalinkSettings(store=f"postgresql://u:{STORE_PASSWORD}@[::1/db"),
                lambda: LavalinkSettings.from_env({"LAVALINK_NODES": f"http://lava:{STORE_PASSWORD}"}),
            ):
                with pytest.raises(LavalinkError) as error:
                    build()
                raised.append(error.value)
            assert len([r for r in log.records if "cannot start" in r.getMessage()]) == 2

            # 2. A session: one good node, one with the wrong password, one that redirects in a loop.
            settings = world.settings(
                nodes=(
                    NodeSettings(name="main", host="127.0.0.1", port=world.node.port, password=NODE_PASSWORD),
                    NodeSettings(name="wrong", host="127.0.0.1", port=world.node.port, password=WRONG_PASSWORD),
                    NodeSettings(name="loop", host="127.0.0.1", port=loop_port, password=LOOP_PASSWORD),
                ),
                reconnect_delay=0.05,
                reconnect_max_delay=0.2,
            )
            async with running_bot(world, settings=settings) as bot:
                await bot.started()
                lavalink = await bot.lavalink()
                assert lavalink is not None
                await lavalink.nodes["main"].wait_ready(GUARD)
                await log.wait_for("node wrong failed")
                await log.wait_for("cannot connect to Lavalink at ws://127.0.0.1:" + str(loop_port))
                assert lavalink.nodes["wrong"].state is NodeState.FAILED
                player = await lavalink.join(world.guild.id, world.guild.voice_channel_ids[0], node="main")
                tracks = (await lavalink.load_tracks("ytsearch:never gonna give you up")).tracks
                player.queue.extend(tracks[1:3])
                await player.play(tracks[0])
                for name in ("wrong", "loop"):
                    with pytest.raises(LavalinkError) as error:
                        await lavalink.nodes[name].rest.info()
                    raised.append(error.value)
                for subcommand in ("status", "nodes", "sessions", "resume-info"):
                    await bot.invoke(subcommand)
                reprs += [repr(lavalink), repr(lavalink.settings), *map(repr, lavalink.nodes.values())]
                reprs += [repr(node.rest) for node in lavalink.nodes.values()]
                reprs += [str(node.last_error) for node in lavalink.nodes.values()]
                answers = [json.dumps(request.body) for request in world.rest.requests]
    finally:
        await runner.cleanup()

    assert any("Lavalink status" in text for text in answers) and any("Lavalink nodes" in text for text in answers)
    assert "redirect" in str(raised[-1]) and "refused the password" in str(raised[-2])
    assert len(log.records) > 100  # a DEBUG session: every request, message and retry
    assert_no_secret(log.texts, "a log record")
    assert_no_secret(answers, "what Discord was sent")
    assert_no_secret([text for exc in raised for text in exception_texts(exc)], "an exception")
    assert_no_secret(reprs, "a repr")
