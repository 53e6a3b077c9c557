"""Issue 10, item 8: `resume_timeout` stays within what the node accepts, and a session the node would not make
resumable is an ERROR that `/lavalink status` shows.

A timeout larger than the node accepts was taken; the node refused the ``PATCH /v4/sessions/{id}`` and the
sessions were silently not resumable (one warning). Lavalink reads that ``timeout`` as a Java ``long``
(``SessionUpdate.timeoutSeconds``), so the setting goes from 1 to 2**63 - 1.
"""

from __future__ import annotations

import json
import logging
import typing

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightbulb_lavalink.errors import RestError, SettingsError
from lightbulb_lavalink.ext.presentation import status_embed
from lightbulb_lavalink.ext.reports import status_view
from lightbulb_lavalink.protocol.rest import RestClient
from lightbulb_lavalink.settings import MAX_RESUME_TIMEOUT, LavalinkSettings
from lightbulb_lavalink.testing import FakeLavalink
from lightbulb_lavalink.testing.gateway import FakeDiscord

from .test_nodes import bot_with, node_settings

if typing.TYPE_CHECKING:
    import pathlib

    from lightbulb_lavalink.client import LavalinkClient

JAVA_LONG_MAX = 2**63 - 1

timeouts = st.integers() | st.integers(JAVA_LONG_MAX - 5, JAVA_LONG_MAX + 5) | st.sampled_from([0, 1, 10**30])


@given(timeouts)
def test_the_setting_takes_exactly_what_the_node_takes(timeout: int) -> None:
    if 1 <= timeout <= JAVA_LONG_MAX:
        assert LavalinkSettings(resume_timeout=timeout).resume_timeout == timeout
        assert LavalinkSettings.from_env({"LAVALINK_RESUME_TIMEOUT": str(timeout)}).resume_timeout == timeout
        return
    with pytest.raises(SettingsError) as raised:
        LavalinkSettings(resume_timeout=timeout)
    assert raised.value.field == "resume_timeout"
    with pytest.raises(SettingsError) as raised:
        LavalinkSettings.from_env({"LAVALINK_RESUME_TIMEOUT": str(timeout)})
    assert raised.value.field == "LAVALINK_RESUME_TIMEOUT"


def test_the_bound_is_a_java_long() -> None:
    assert MAX_RESUME_TIMEOUT == JAVA_LONG_MAX


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(timeout=st.integers(1, JAVA_LONG_MAX) | st.integers(JAVA_LONG_MAX + 1, 2**70))
async def test_the_node_takes_what_the_setting_takes_and_refuses_the_rest(timeout: int) -> None:
    async with (
        FakeLavalink() as node,
        RestClient(node.url, node.password) as rest,
        aiohttp.ClientSession() as http,
        http.ws_connect(
            f"{node.url}/v4/websocket",
            headers={"Authorization": node.password, "User-Id": "1", "Client-Name": "test/1"},
        ) as ws,
    ):
        session_id = json.loads((await ws.receive()).data)["sessionId"]  # ready
        if timeout <= JAVA_LONG_MAX:
            info = await rest.update_session(session_id, resuming=True, timeout=timeout)
            assert (info.resuming, info.timeout) == (True, timeout)
        else:
            with pytest.raises(RestError) as raised:
                await rest.update_session(session_id, resuming=True, timeout=timeout)
            assert raised.value.status == 400


async def _booted(client: LavalinkClient) -> None:
    await client.wait_ready(5)  # a fresh ready is handled, PATCH /v4/sessions/{id} included, before this returns


async def test_the_largest_timeout_makes_the_session_resumable(tmp_path: pathlib.Path) -> None:
    async with FakeLavalink() as node:
        discord = FakeDiscord()
        nodes = [node_settings("main", node)]
        store = f"sqlite:///{tmp_path / 's.db'}"
        async with bot_with(nodes, store, discord, resume_timeout=MAX_RESUME_TIMEOUT) as (client, _voice):
            await _booted(client)
            session_id = client.nodes["main"].session_id
            assert session_id is not None
            session = node.sessions[session_id]
            assert (session.resuming, session.timeout) == (True, MAX_RESUME_TIMEOUT)
            assert client.nodes["main"].last_error is None


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 400, "message": "timeout out of range"},
        {"status": 500},
        {"status": 200, "body": '{"resuming": false, "timeout": 60}', "content_type": "application/json"},
    ],
    ids=["refused", "proxy-error", "answered-not-resuming"],
)
async def test_a_session_the_node_would_not_make_resumable_is_an_error_status_shows(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture, fault: dict[str, typing.Any]
) -> None:
    async with FakeLavalink() as node:
        node.faults.add("PATCH", "/v4/sessions/*", times=None, **fault)
        discord = FakeDiscord()
        nodes = [node_settings("main", node)]
        with caplog.at_level(logging.WARNING, logger="lightbulb_lavalink"):
            async with bot_with(nodes, f"sqlite:///{tmp_path / 's.db'}", discord) as (client, _voice):
                await _booted(client)
                main = client.nodes["main"]
                assert main.connected
                assert main.last_error is not None and "not resumable" in main.last_error
                embed = status_embed(status_view(client))
                assert any("not resumable" in field.value for field in embed.fields)
        errors = [r for r in caplog.records if r.levelno == logging.ERROR and "not resumable" in r.getMessage()]
        assert len(errors) == 1
