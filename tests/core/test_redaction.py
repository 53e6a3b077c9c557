"""Issue 10, item 2: no URL we print ever shows a password, wherever the password was written."""

from __future__ import annotations

import string
import typing
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightbulb_lavalink.errors import SettingsError
from lightbulb_lavalink.redact import redact_secret, redact_url
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.stores import open_store

SECRET = "Hunter2Secret"

# The password is made of upper-case runs joined by the characters that end a URL part; everything else in the
# URLs below is lower case, so any upper-case run of the password found in the output is a leak.
password_pieces = st.lists(st.text(string.ascii_uppercase, min_size=3, max_size=8), min_size=1, max_size=4)
delimiters = st.sampled_from(["/", "?", "#", "@", ":", "&", "=", "%", ";", "+", " ", "[", "]"])
hosts = st.sampled_from(["db.internal", "127.0.0.1", "lava", "[::1]", "cache-1.example.com"])
ports = st.sampled_from(["", ":6379", ":5432", ":2333"])
paths = st.sampled_from(["", "/", "/0", "/music", "/a/b"])
queries = st.sampled_from(["", "?prefix=bot", "?schema=x&table=y", "?sslmode=disable"])
users = st.sampled_from(["", "bot", "user.name", "u"])
schemes = st.sampled_from(["redis", "rediss", "postgresql", "postgres", "http", "https", "ws", "wss", "mysql", "x-y"])
separators = st.sampled_from(["://", ":/", ":", ":///"])
secret_keys = st.sampled_from(["password", "sslpassword", "pass", "passwd", "pwd"])


@st.composite
def passwords(draw: st.DrawFn, *, allow: str = "/?#@:&=%;+ []") -> tuple[str, list[str]]:
    pieces = draw(password_pieces)
    joints = [draw(delimiters.filter(lambda d: d in allow)) for _ in pieces[1:]]
    text = pieces[0] + "".join(j + p for j, p in zip(joints, pieces[1:], strict=True))
    return text, pieces


@st.composite
def urls_with_a_password(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A URL (well formed or typed wrong) with a password where users write one."""
    scheme = draw(schemes)
    prefix = draw(st.sampled_from([scheme + draw(separators), ""]))  # "" : the scheme forgotten
    host, port, path, query = draw(hosts), draw(ports), draw(paths), draw(queries)
    position = draw(st.sampled_from(["user:password", ":password", "password@", "query", "port"]))
    if position == "port":
        # Where the port goes (``http://host:password``). Not after an '@': that one would be the host's.
        password, pieces = draw(passwords(allow="/?#:&=%;+ "))
        return f"{prefix}{host}:{password}{path}{query}", pieces
    password, pieces = draw(passwords())
    if position == "query":
        key = draw(secret_keys)
        joiner = "&" if query else "?"
        return f"{prefix}{host}{port}{path}{query}{joiner}{key}={password}", pieces
    user = draw(users)
    userinfo = {"user:password": f"{user}:{password}", ":password": f":{password}", "password@": password}[position]
    return f"{prefix}{userinfo}@{host}{port}{path}{query}", pieces


@given(urls_with_a_password())
def test_redact_url_hides_a_password_in_any_position(case: tuple[str, list[str]]) -> None:
    url, pieces = case
    shown = redact_url(url)
    for piece in pieces:
        assert piece not in shown, f"{piece!r} of the password shows in {shown!r} (from {url!r})"
    assert "***" in shown


@given(
    st.sampled_from(["redis://", "rediss://", "postgresql://", "http://", "sqlite:///", "json:///", "memory://"]),
    st.sampled_from(["", "db.internal", "127.0.0.1:6379", "[::1]:5432", "lava:2333"]),
    paths,
    queries,
)
def test_redact_url_leaves_a_url_without_password_alone(scheme: str, host: str, path: str, query: str) -> None:
    url = f"{scheme}{host}{path}{query}"
    assert redact_url(url) == url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@127.0.0.1:6379/3?prefix=bot", "redis://***@127.0.0.1:6379/3?prefix=bot"),
        ("redis://user:pa/ss@cache:6379/0", "redis://***@cache:6379/0"),
        ("redis:/user:hunter2@cache", "redis:/***@cache"),
        ("http://lava:hunter2", "http://lava:***"),
        ("postgresql://db/music?sslmode=require&PassWord=x&y=1", "postgresql://db/music?sslmode=require&PassWord=***"),
        ("sqlite:///C:/bots/sessions.db", "sqlite:///C:/bots/sessions.db"),
    ],
)
def test_redact_url_examples(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@given(passwords(), st.text(max_size=40), st.text(max_size=40))
def test_redact_secret_hides_the_secret_and_its_encoded_forms(
    case: tuple[str, list[str]], before: str, after: str
) -> None:
    password, _ = case
    for form in (password, password.replace("/", "%2F").replace("@", "%40")):
        text = redact_secret(f"{before}{form}{after}", password)
        assert password not in text


# -- what users saw: the password in a SettingsError (and so in the ERROR log line that prints it) ------------


def _assert_hidden(exc: BaseException | None) -> None:
    """Not in the error, nor in anything chained to it (a suppressed context is still reachable)."""
    while exc is not None:
        for text in (str(exc), repr(exc), getattr(exc, "field", "")):
            assert SECRET not in text
            assert "Secret" not in text  # nor a piece of it
        _assert_hidden(exc.__cause__)
        exc = exc.__context__


@pytest.mark.parametrize(
    "build",
    [
        lambda: LavalinkSettings(store=f"redis:/user:{SECRET}@cache:6379/0"),  # the scheme typo
        lambda: LavalinkSettings(store=f"redis//user:{SECRET}@cache"),
        lambda: LavalinkSettings.from_env({"LAVALINK_NODES": f"http://lava:{SECRET}"}),  # password where the port goes
        lambda: LavalinkSettings.from_env({"LAVALINK_NODES": f"http://lava:{SECRET}/x"}),
        lambda: LavalinkSettings.from_env({"LAVALINK_HOST": f"lava:{SECRET}"}),
        lambda: LavalinkSettings.from_env({"LAVALINK_HOST": f"{SECRET}@lava"}),
        lambda: NodeSettings(host=f"http://{SECRET}@lava"),
        lambda: open_store(f"redis://user:{SECRET[:4]}/{SECRET[4:]}@cache:6379/0"),
        lambda: open_store(f"redis://user:{SECRET[:4]}?{SECRET[4:]}@cache:6379/0"),
        lambda: open_store(f"redis://user:{SECRET[:4]}#{SECRET[4:]}@cache:6379/0"),
        lambda: open_store(f"postgresql://user:{SECRET[:4]}/{SECRET[4:]}@db:5432/x"),
        lambda: open_store(f"redis:/user:{SECRET}@cache"),
        lambda: open_store(f"sqlite://user:{SECRET}@host/x.db"),
        lambda: open_store(f"memory://user:{SECRET}@x"),
    ],
)
def test_settings_errors_never_show_the_password(build: typing.Callable[[], object]) -> None:
    with pytest.raises(SettingsError) as info:
        build()
    _assert_hidden(info.value)


@pytest.mark.parametrize("password", ["plain-pw", "p@ss/w?rd#1", "späß word"])
def test_a_store_read_failure_shown_on_the_nodes_hides_the_store_password(password: str) -> None:
    """A store of the bot's own that raises something else than `StoreError` at start: its error, shown as the
    nodes' `last_error`, may quote the password as the URL writes it or as the driver decoded it."""
    from lightbulb_lavalink.resuming.store_read import _unexpected

    encoded = urllib.parse.quote(password, safe="")
    url = f"redis://user:{encoded}@cache.example:6379/0"
    shown = _unexpected(ConnectionResetError(f"auth {password} refused at {url}"), url)
    assert password not in shown and encoded not in shown
    assert shown.startswith("ConnectionResetError: auth *** refused")
