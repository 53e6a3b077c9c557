"""Issue 10, item 7: every store setting is checked when the settings are built; a failed start closes what it opened.

``sqlite:///x?timeout=1e308``, ``?timeout=nan`` or ``postgresql://u@[::1/db`` were accepted by the settings and
crashed `start()` with `OverflowError` / `ValueError`, leaving the HTTP session open.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import typing
import urllib.parse
import uuid

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lightbulb_lavalink.client import LavalinkClient
from lightbulb_lavalink.errors import SettingsError, StoreError
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.stores import SQLiteStore, open_store
from lightbulb_lavalink.testing.gateway import FakeDiscord, FakeVoiceGateway, make_bot

from .helpers import DATABASE_URL, REDIS_URL

if typing.TYPE_CHECKING:
    import pathlib

ISSUE = ["sqlite:///x.db?timeout=1e308", "sqlite:///x.db?timeout=nan", "postgresql://u@[::1/db"]

_TABLE = f"hostile_urls_{uuid.uuid4().hex[:12]}"  # unique per run: runs of two branches never share it


@pytest.mark.parametrize("url", ISSUE)
def test_the_reported_store_urls_are_refused_when_the_settings_are_built(url: str) -> None:
    with pytest.raises(SettingsError) as raised:
        LavalinkSettings(store=url)
    assert raised.value.field == "store"
    with pytest.raises(SettingsError) as raised:
        LavalinkSettings.from_env({"LAVALINK_STORE": url})
    assert raised.value.field == "LAVALINK_STORE"


# What a user may type where a number, a name or a flag goes.
hostile_values = st.sampled_from(
    ["", "0", "1", "-1", "0.5", "nan", "NaN", "inf", "-inf", "1e308", "1e-308", "99999999999999999999",
     "1" * 5000, "0x10", "1_000", "٣", "true", "off", "yes", " 1", "%00", "a&b", "disable", "verify-full", "any"]
)  # fmt: skip
option_names = st.sampled_from(
    ["timeout", "synchronous", "prefix", "db", "socket_timeout", "socket_connect_timeout", "max_connections",
     "health_check_interval", "socket_keepalive", "protocol", "client_name", "ssl_cert_reqs", "sslmode",
     "min_size", "max_size", "target_session_attrs", "application_name", "bogus", "schema", "table"]
)  # fmt: skip
query_pairs = st.lists(st.tuples(option_names, hostile_values), max_size=3)
queries = query_pairs.map(lambda pairs: ("?" + urllib.parse.urlencode(pairs)) if pairs else "")


@st.composite
def store_urls(draw: st.DrawFn, folder: str) -> str:
    kind = draw(st.sampled_from(["sqlite", "json", "memory", "redis", "postgres"]))
    query = draw(queries)
    if kind in ("sqlite", "json"):
        name = draw(st.sampled_from(["s.db", "%00.db", "a%2Fb", "", "x\x00y", "[", "é.db"]))
        return f"{kind}:///{folder}/{name}{query}"
    if kind == "memory":
        return "memory://" + draw(st.sampled_from(["", "x", "/", "?a=1"]))
    if kind == "redis":
        real = urllib.parse.urlsplit(REDIS_URL)
        host = draw(st.sampled_from([real.netloc, "[::1", "127.0.0.1:99999", "127.0.0.1:x", ":pw@"]))
        path = draw(st.sampled_from(["", "/15", "/x", "/-1", "/99999999999999", "/1/2"]))
        return f"redis://{host}{path}{query}"
    real = urllib.parse.urlsplit(DATABASE_URL)
    host = draw(st.sampled_from([real.netloc, "u@[::1", "postgres@127.0.0.1:99999", "postgres@[::1]x"]))
    # Accepted URLs are opened on the test database: their tables are kept apart.
    pairs = [pair for pair in draw(query_pairs) if pair[0] not in ("schema", "table")]
    pairs += [("schema", "public"), ("table", _TABLE)]
    return f"postgresql://{host}{real.path}?{urllib.parse.urlencode(pairs)}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
async def test_a_store_url_the_settings_accept_never_crashes_opening(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = data.draw(store_urls(folder), label="url")
        try:
            LavalinkSettings(store=url)
        except SettingsError as exc:
            assert exc.field == "store"
            event("refused")
            return
        event(f"accepted {url.partition(':')[0]}")
        store = open_store(url)  # accepted by the settings: the store can be built...
        try:
            async with asyncio.timeout(15):
                with contextlib.suppress(StoreError):  # ...and opened, or it fails the way a store fails
                    await store.open()
        finally:
            await store.close()


# -- a start that fails closes what it opened ------------------------------------------------------------------


async def test_a_failed_start_closes_the_http_session_and_the_store(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store driver failing in a way no setting check foresaw (here: SQLite raising OverflowError)."""
    opened: list[SQLiteStore] = []
    closed: list[SQLiteStore] = []
    real_open, real_close = SQLiteStore.open, SQLiteStore.close

    async def broken_open(store: SQLiteStore) -> None:
        opened.append(store)
        await real_open(store)
        raise OverflowError("cannot convert float infinity to integer")

    async def tracked_close(store: SQLiteStore) -> None:
        closed.append(store)
        await real_close(store)

    monkeypatch.setattr(SQLiteStore, "open", broken_open)
    monkeypatch.setattr(SQLiteStore, "close", tracked_close)
    discord = FakeDiscord()
    bot = make_bot(bot_id=discord.bot_id)
    settings = LavalinkSettings(
        nodes=(NodeSettings(host="127.0.0.1", port=1),), store=f"sqlite:///{tmp_path / 's.db'}"
    )
    client = LavalinkClient(bot, settings, voice_gateway=FakeVoiceGateway(discord))
    with pytest.raises(OverflowError):
        await client.start(bot_id=discord.bot_id)
    assert client.started is False and client.bot_id is None
    assert client._session is None  # closed, not left for the garbage collector to warn about
    assert opened and closed == opened

    monkeypatch.setattr(SQLiteStore, "open", real_open)  # the cause fixed: the same client starts
    await client.start(bot_id=discord.bot_id)
    try:
        assert client.started and client._session is not None and not client._session.closed
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("redis://127.0.0.1:6379/0?socket_timeout=abc", "socket_timeout must be a number of seconds, not 'abc'"),
        ("redis://127.0.0.1:6379/0?socket_connect_timeout=1s", "must be a number of seconds, not '1s'"),
        ("sqlite:///x.db?timeout=ten", "the sqlite timeout must be a number of seconds, not 'ten'"),
    ],
)
def test_a_timeout_that_is_no_number_is_named_as_typed(url: str, named: str) -> None:
    """Not "not nan": the user sees the value they typed."""
    with pytest.raises(SettingsError) as raised:
        LavalinkSettings(store=url)
    assert named in str(raised.value) and "nan" not in str(raised.value)
