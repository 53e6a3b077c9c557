"""Settings: defaults, node URLs, the environment, config mappings, validation naming its field, secrets."""

from __future__ import annotations

import ipaddress
import math
import os
import typing

import attrs
import hypothesis
import pytest
from hypothesis import strategies as st

from lightbulb_lavalink.errors import SettingsError
from lightbulb_lavalink.settings import DEFAULT_CLIENT_NAME, LavalinkSettings, NodeSettings

SECRET = "hunter2-Zq9"


def node(**kwargs: typing.Any) -> NodeSettings:
    return NodeSettings(**kwargs)


# ----------------------------------------------------------------------------------------------- defaults


def test_defaults() -> None:
    settings = LavalinkSettings()
    (default,) = settings.nodes
    assert default == NodeSettings(
        name="default", host="localhost", port=2333, password="youshallnotpass", secure=False, region=None
    )
    assert default.url == "http://localhost:2333"
    assert default.websocket_url == "ws://localhost:2333/v4/websocket"
    assert settings.resume_timeout == 60
    assert settings.store == "sqlite:///lavalink_sessions.db"
    assert settings.cluster == ""
    assert settings.client_name == DEFAULT_CLIENT_NAME
    assert settings.client_name.startswith("lightbulb-lavalink/")
    assert settings.voice_timeout == 10.0
    assert settings.request_timeout == 10.0
    assert settings.rejoin_empty_channels is False
    assert settings.history_limit == 100
    assert settings.snapshot_interval == 1.0
    assert settings.position_save_interval == 5.0
    assert settings.recovery_concurrency >= 1
    assert settings.reconnect_delay <= settings.reconnect_max_delay


def test_settings_are_frozen_and_hashable() -> None:
    settings = LavalinkSettings()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        settings.resume_timeout = 5  # type: ignore[misc]
    assert hash(settings) == hash(LavalinkSettings())


def test_secure_urls_and_ipv6() -> None:
    assert node(host="lava.example.com", port=443, secure=True).url == "https://lava.example.com:443"
    v6 = node(host="::1", secure=True)
    assert v6.url == "https://[::1]:2333"
    assert v6.websocket_url == "wss://[::1]:2333/v4/websocket"


def test_ints_are_accepted_for_seconds() -> None:
    settings = LavalinkSettings(voice_timeout=3, snapshot_interval=0)
    assert settings.voice_timeout == 3.0
    assert isinstance(settings.voice_timeout, float)


def test_a_list_of_nodes_becomes_a_tuple() -> None:
    settings = LavalinkSettings(nodes=[node(name="a"), node(name="b")])
    assert settings.nodes == (node(name="a"), node(name="b"))
    assert settings.node("b").name == "b"
    with pytest.raises(KeyError):
        settings.node("c")


def test_with_overrides_validates_again() -> None:
    settings = LavalinkSettings().with_overrides(resume_timeout=300, cluster="blue")
    assert (settings.resume_timeout, settings.cluster) == (300, "blue")
    with pytest.raises(SettingsError) as info:
        settings.with_overrides(resume_timeout=0)
    assert info.value.field == "resume_timeout"
    with pytest.raises(SettingsError) as info:
        settings.with_overrides(resume_timout=5)
    assert info.value.field == "resume_timout"


# ------------------------------------------------------------------------------------------ validation

INVALID_NODES: list[tuple[dict[str, typing.Any], str]] = [
    ({"name": ""}, "name"),
    ({"name": "has space"}, "name"),
    ({"name": "a,b"}, "name"),
    ({"name": "x" * 65}, "name"),
    ({"name": 3}, "name"),
    ({"host": ""}, "host"),
    ({"host": "http://localhost"}, "host"),
    ({"host": "local host"}, "host"),
    ({"host": "pw@host"}, "host"),
    ({"host": "::zz"}, "host"),
    ({"host": None}, "host"),
    ({"port": 0}, "port"),
    ({"port": 65536}, "port"),
    ({"port": -1}, "port"),
    ({"port": "2333"}, "port"),
    ({"port": 2333.0}, "port"),
    ({"port": True}, "port"),
    ({"password": None}, "password"),
    ({"password": "a\nb"}, "password"),
    ({"secure": "yes"}, "secure"),
    ({"secure": 1}, "secure"),
    ({"region": ""}, "region"),
    ({"region": 5}, "region"),
]


@pytest.mark.parametrize(("kwargs", "field"), INVALID_NODES)
def test_invalid_node_settings_name_the_field(kwargs: dict[str, typing.Any], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        NodeSettings(**kwargs)
    assert info.value.field == field
    assert repr(field) in str(info.value)
    assert info.value.problem


INVALID_SETTINGS: list[tuple[dict[str, typing.Any], str]] = [
    ({"nodes": ()}, "nodes"),
    ({"nodes": "localhost"}, "nodes"),
    ({"nodes": (node(), {"host": "x"})}, "nodes[1]"),
    ({"nodes": (node(name="a"), node(name="b"), node(name="a", port=1))}, "nodes[2].name"),
    ({"resume_timeout": 0}, "resume_timeout"),
    ({"resume_timeout": -5}, "resume_timeout"),
    ({"resume_timeout": 60.0}, "resume_timeout"),
    ({"resume_timeout": 1.5}, "resume_timeout"),
    ({"resume_timeout": True}, "resume_timeout"),
    ({"resume_timeout": "60"}, "resume_timeout"),
    ({"store": "mysql://db"}, "store"),
    ({"store": "lavalink.db"}, "store"),
    ({"store": ""}, "store"),
    ({"store": None}, "store"),
    ({"cluster": "two words"}, "cluster"),
    ({"cluster": None}, "cluster"),
    ({"client_name": ""}, "client_name"),
    ({"client_name": "bot\r\nX-Evil: 1"}, "client_name"),
    ({"client_name": "bøt/1"}, "client_name"),
    ({"voice_timeout": 0}, "voice_timeout"),
    ({"voice_timeout": -1.0}, "voice_timeout"),
    ({"voice_timeout": math.inf}, "voice_timeout"),
    ({"voice_timeout": math.nan}, "voice_timeout"),
    ({"voice_timeout": "10"}, "voice_timeout"),
    ({"request_timeout": 0.0}, "request_timeout"),
    ({"request_timeout": True}, "request_timeout"),
    ({"rejoin_empty_channels": "no"}, "rejoin_empty_channels"),
    ({"rejoin_empty_channels": 0}, "rejoin_empty_channels"),
    ({"history_limit": -1}, "history_limit"),
    ({"history_limit": 10.0}, "history_limit"),
    ({"snapshot_interval": -0.5}, "snapshot_interval"),
    ({"position_save_interval": -1}, "position_save_interval"),
    ({"recovery_concurrency": 0}, "recovery_concurrency"),
    ({"reconnect_delay": 0}, "reconnect_delay"),
    ({"reconnect_delay": 10, "reconnect_max_delay": 5}, "reconnect_max_delay"),
]


@pytest.mark.parametrize(("kwargs", "field"), INVALID_SETTINGS)
def test_invalid_settings_name_the_field(kwargs: dict[str, typing.Any], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        LavalinkSettings(**kwargs)
    assert info.value.field == field
    assert repr(field) in str(info.value)


@pytest.mark.parametrize("store", [
    "sqlite:///lavalink_sessions.db", "sqlite:////var/lib/bot.db", "json:///sessions.json", "memory://",
    "redis://localhost:6379/0", "rediss://:pw@cache:6380", "postgresql://bot@db/music", "postgres://db/x",
    "SQLITE:///upper.db",
])  # fmt: skip
def test_every_store_scheme_is_accepted(store: str) -> None:
    assert LavalinkSettings(store=store).store == store


# ------------------------------------------------------------------------------------------ passwords


def test_password_never_in_repr_or_str() -> None:
    settings = LavalinkSettings(
        nodes=(node(password=SECRET), node(name="b", password=SECRET)),
        store=f"redis://user:{SECRET}@cache:6379/0",
    )
    for text in (repr(settings), str(settings), repr(settings.nodes[0]), str(settings.nodes[1])):
        assert SECRET not in text
    assert "password='***'" in repr(settings.nodes[0])
    assert "redis://***@cache:6379/0" in repr(settings)
    assert settings.nodes[0].password == SECRET


@pytest.mark.parametrize("build", [
    lambda: LavalinkSettings(store=f"mysql://root:{SECRET}@db"),
    lambda: LavalinkSettings.from_env({"LAVALINK_STORE": f"mongo://u:{SECRET}@db"}),
    lambda: LavalinkSettings.from_env({"LAVALINK_NODES": f"a=http://{SECRET}@host:70000"}),
    lambda: LavalinkSettings.from_env({"LAVALINK_NODES": f"a=ftp://{SECRET}@host:1"}),
    lambda: LavalinkSettings.from_env({"LAVALINK_NODES": f"a=http://{SECRET}@host:1/path"}),
    lambda: LavalinkSettings.from_env({"LAVALINK_NODES": f"a=http://{SECRET}@host:port"}),
    lambda: LavalinkSettings.from_env({"LAVALINK_NODES": f"a=http://{SECRET}@:1"}),
    lambda: LavalinkSettings.from_env({"LAVALINK_NODES": f"{SECRET}@host"}),
    lambda: LavalinkSettings.from_env({"LAVALINK_PASSWORD": SECRET, "LAVALINK_PORT": "99999"}),
    lambda: LavalinkSettings.from_env({"LAVALINK_PASSWORD": SECRET, "LAVALINK_NODES": "http://h:1"}),
    lambda: LavalinkSettings.from_mapping({"nodes": [f"http://{SECRET}@host:0"]}),
    lambda: LavalinkSettings.from_mapping({"nodes": [{"url": f"http://{SECRET}@h", "port": 1}]}),
    lambda: NodeSettings(password=SECRET + "\x00"),
    lambda: NodeSettings.from_url(f"http://{SECRET}@[::1"),
])  # fmt: skip
def test_password_never_in_errors(build: typing.Callable[[], object]) -> None:
    with pytest.raises(SettingsError) as info:
        build()
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)
    assert SECRET not in info.value.field
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__ or info.value.__context__ is None


# ------------------------------------------------------------------------------------------ node URLs


@pytest.mark.parametrize(("text", "expected"), [
    ("http://localhost:2333", node()),
    ("http://pw@lava:80", node(host="lava", port=80, password="pw")),
    ("https://pw@lava.example.com", node(host="lava.example.com", port=443, password="pw", secure=True)),
    ("http://pw@lava", node(host="lava", port=2333, password="pw")),
    ("wss://pw@lava:4443", node(host="lava", port=4443, password="pw", secure=True)),
    ("ws://pw@lava:1", node(host="lava", port=1, password="pw")),
    ("HTTP://pw@Lava.Example:2", node(host="Lava.Example", port=2, password="pw")),
    ("http://pw@lava:2333#eu-west", node(host="lava", password="pw", region="eu-west")),
    ("http://pw@lava:2333/", node(host="lava", password="pw")),
    ("http://pw@lava:2333#", node(host="lava", password="pw")),
    ("http://:pw@lava", node(host="lava", password="pw")),
    ("http://p%40ss%23w%2Cd%20x@lava", node(host="lava", password="p@ss#w,d x")),
    ("http://p@ss@lava", node(host="lava", password="p@ss")),
    ("http://@lava", node(host="lava", password="")),
    ("http://pw@[::1]:9", node(host="::1", port=9, password="pw")),
    ("http://pw@[2001:db8::7]", node(host="2001:db8::7", password="pw")),
    ("  http://pw@10.0.0.5:2333  ", node(host="10.0.0.5", password="pw")),
])  # fmt: skip
def test_from_url(text: str, expected: NodeSettings) -> None:
    assert NodeSettings.from_url(text) == expected


def test_from_url_takes_the_name() -> None:
    assert NodeSettings.from_url("http://h:1", name="eu").name == "eu"


@pytest.mark.parametrize(("text", "field"), [
    ("localhost:2333", "url"),
    ("ftp://pw@host:21", "url"),
    ("http://pw@host:2333/v4", "url"),
    ("http://pw@host:2333?x=1", "url"),
    ("http://pw@::1:2333", "url"),
    ("http://pw@[::1", "url"),
    ("http://pw@[::1]x", "url"),
    ("http://pw@host:abc", "port"),
    ("http://pw@host:-1", "port"),
    ("http://pw@host:0", "port"),
    ("http://pw@host:99999", "port"),
    ("http://pw@:2333", "host"),
    ("http://pw@ho st:2333", "host"),
])  # fmt: skip
def test_from_url_errors(text: str, field: str) -> None:
    with pytest.raises(SettingsError) as info:
        NodeSettings.from_url(text)
    assert info.value.field == field


def test_to_url() -> None:
    text = node(host="::1", port=4, password="a b/c", secure=True, region="us east").to_url()
    assert text == "https://a%20b%2Fc@[::1]:4#us%20east"


_label = r"[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?"
hosts = st.one_of(
    st.from_regex(rf"{_label}(\.{_label}){{0,3}}", fullmatch=True),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
)
no_controls = st.characters(blacklist_categories=("Cc", "Cs"))
nodes = st.builds(
    NodeSettings,
    name=st.from_regex(r"[\w.-]{1,64}", fullmatch=True),
    host=hosts,
    port=st.integers(1, 65535),
    password=st.text(no_controls, max_size=30),
    secure=st.booleans(),
    region=st.none() | st.text(no_controls, min_size=1, max_size=12),
)


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(nodes)
def test_node_url_round_trip(original: NodeSettings) -> None:
    hypothesis.assume(original.name != "spare")
    text = original.to_url()
    assert NodeSettings.from_url(text, name=original.name) == original
    # The same text works as a LAVALINK_NODES entry, alone or among others.
    env = {"LAVALINK_NODES": f"{original.name}={text}, spare=http://x@spare:1"}
    assert LavalinkSettings.from_env(env).nodes[0] == original


@hypothesis.settings(max_examples=100, deadline=None)
@hypothesis.given(st.ip_addresses(v=6))
def test_ipv6_hosts_are_bracketed(address: ipaddress.IPv6Address) -> None:
    url = node(host=str(address)).url
    assert url == f"http://[{address}]:2333"


# ------------------------------------------------------------------------------------------ environment


def test_from_env_with_nothing_set_gives_defaults() -> None:
    assert LavalinkSettings.from_env({}) == LavalinkSettings()


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("LAVALINK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LAVALINK_RESUME_TIMEOUT", "90")
    assert LavalinkSettings.from_env().resume_timeout == 90


@pytest.mark.parametrize(("text", "expected"), [
    ("main=http://pw@lava:2333", [("main", "lava", 2333, "pw", None)]),
    ("http://pw@lava:2333", [("default", "lava", 2333, "pw", None)]),
    ("a=http://p1@h1:1,b=https://p2@h2:2#eu", [("a", "h1", 1, "p1", None), ("b", "h2", 2, "p2", "eu")]),
    ("a=http://p1@h1:1 b=http://p2@h2:2", [("a", "h1", 1, "p1", None), ("b", "h2", 2, "p2", None)]),
    (
        "\n  a=http://p1@h1:1 ,\n\tb=http://p2@h2:2 ,, \n",
        [("a", "h1", 1, "p1", None), ("b", "h2", 2, "p2", None)],
    ),
    ("http://p1@h1:1, http://p2@h2:2", [("node-1", "h1", 1, "p1", None), ("node-2", "h2", 2, "p2", None)]),
    ("eu=http://p1@h1:1 http://p2@h2:2", [("eu", "h1", 1, "p1", None), ("node-2", "h2", 2, "p2", None)]),
    ("x=http://a=b@h:1", [("x", "h", 1, "a=b", None)]),
    ("http://a=b@h:1", [("default", "h", 1, "a=b", None)]),
])  # fmt: skip
def test_lavalink_nodes_variations(text: str, expected: list[tuple[typing.Any, ...]]) -> None:
    nodes = LavalinkSettings.from_env({"LAVALINK_NODES": text}).nodes
    assert [(n.name, n.host, n.port, n.password, n.region) for n in nodes] == expected


def test_single_node_variables() -> None:
    env = {
        "LAVALINK_HOST": "lava.internal",
        "LAVALINK_PORT": "8080",
        "LAVALINK_PASSWORD": SECRET,
        "LAVALINK_SECURE": "true",
        "LAVALINK_REGION": "eu",
    }
    (only,) = LavalinkSettings.from_env(env).nodes
    assert only == node(host="lava.internal", port=8080, password=SECRET, secure=True, region="eu")
    (only,) = LavalinkSettings.from_env({"LAVALINK_PASSWORD": SECRET}).nodes
    assert only == node(password=SECRET)


def test_every_other_variable() -> None:
    env = {
        "LAVALINK_RESUME_TIMEOUT": " 120 ",
        "LAVALINK_STORE": "redis://localhost:6379/1",
        "LAVALINK_CLUSTER": "shard-a",
        "LAVALINK_CLIENT_NAME": "mybot/2.0",
        "LAVALINK_VOICE_TIMEOUT": "2.5",
        "LAVALINK_REQUEST_TIMEOUT": "3",
        "LAVALINK_REJOIN_EMPTY_CHANNELS": "Yes",
        "LAVALINK_HISTORY_LIMIT": "0",
        "LAVALINK_SNAPSHOT_INTERVAL": "0.25",
        "LAVALINK_POSITION_SAVE_INTERVAL": "10",
        "LAVALINK_RECOVERY_CONCURRENCY": "2",
        "LAVALINK_RECONNECT_DELAY": "0.5",
        "LAVALINK_RECONNECT_MAX_DELAY": "30",
    }
    assert LavalinkSettings.from_env(env) == LavalinkSettings(
        resume_timeout=120,
        store="redis://localhost:6379/1",
        cluster="shard-a",
        client_name="mybot/2.0",
        voice_timeout=2.5,
        request_timeout=3.0,
        rejoin_empty_channels=True,
        history_limit=0,
        snapshot_interval=0.25,
        position_save_interval=10.0,
        recovery_concurrency=2,
        reconnect_delay=0.5,
        reconnect_max_delay=30.0,
    )


@pytest.mark.parametrize(("text", "expected"), [
    ("1", True), ("true", True), ("YES", True), ("on", True),
    ("0", False), ("False", False), ("no", False), ("off", False),
])  # fmt: skip
def test_boolean_variables(text: str, expected: bool) -> None:
    settings = LavalinkSettings.from_env({"LAVALINK_REJOIN_EMPTY_CHANNELS": text})
    assert settings.rejoin_empty_channels is expected


def test_empty_variables_are_unset() -> None:
    env = {"LAVALINK_NODES": "  ", "LAVALINK_STORE": "", "LAVALINK_RESUME_TIMEOUT": "", "LAVALINK_HOST": ""}
    assert LavalinkSettings.from_env(env) == LavalinkSettings()


@pytest.mark.parametrize(("env", "field"), [
    ({"LAVALINK_RESUME_TIMEOUT": "1.5"}, "LAVALINK_RESUME_TIMEOUT"),
    ({"LAVALINK_RESUME_TIMEOUT": "sixty"}, "LAVALINK_RESUME_TIMEOUT"),
    ({"LAVALINK_RESUME_TIMEOUT": "0"}, "LAVALINK_RESUME_TIMEOUT"),
    ({"LAVALINK_RESUME_TIMEOUT": "-3"}, "LAVALINK_RESUME_TIMEOUT"),
    ({"LAVALINK_STORE": "mysql://db"}, "LAVALINK_STORE"),
    ({"LAVALINK_CLUSTER": "a b"}, "LAVALINK_CLUSTER"),
    ({"LAVALINK_VOICE_TIMEOUT": "soon"}, "LAVALINK_VOICE_TIMEOUT"),
    ({"LAVALINK_VOICE_TIMEOUT": "nan"}, "LAVALINK_VOICE_TIMEOUT"),
    ({"LAVALINK_REJOIN_EMPTY_CHANNELS": "maybe"}, "LAVALINK_REJOIN_EMPTY_CHANNELS"),
    ({"LAVALINK_HISTORY_LIMIT": "-1"}, "LAVALINK_HISTORY_LIMIT"),
    ({"LAVALINK_RECONNECT_DELAY": "9", "LAVALINK_RECONNECT_MAX_DELAY": "1"}, "LAVALINK_RECONNECT_MAX_DELAY"),
    ({"LAVALINK_PORT": "http"}, "LAVALINK_PORT"),
    ({"LAVALINK_PORT": "0"}, "LAVALINK_PORT"),
    ({"LAVALINK_HOST": "a/b"}, "LAVALINK_HOST"),
    ({"LAVALINK_SECURE": "tls"}, "LAVALINK_SECURE"),
    ({"LAVALINK_NODES": "a=http://h:1", "LAVALINK_HOST": "h"}, "LAVALINK_HOST"),
    ({"LAVALINK_NODES": "localhost:2333"}, "LAVALINK_NODES[0].url"),
    ({"LAVALINK_NODES": "a=http://h:1 b=ftp://h:2"}, "LAVALINK_NODES[1].url"),
    ({"LAVALINK_NODES": "a=http://h:1 b=http://h:65536"}, "LAVALINK_NODES[1].port"),
    ({"LAVALINK_NODES": "a=http://h:1 a=http://h:2"}, "LAVALINK_NODES[1].name"),
    ({"LAVALINK_NODES": "a=http://h:1 http://h:2 http://h:3 node-2=http://h:4"}, "LAVALINK_NODES[3].name"),
    ({"LAVALINK_NODES": "a=http://:1"}, "LAVALINK_NODES[0].host"),
])  # fmt: skip
def test_bad_variables_are_named(env: dict[str, str], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        LavalinkSettings.from_env(env)
    assert info.value.field == field
    assert repr(field) in str(info.value)


# ------------------------------------------------------------------------------------------ mappings


def test_from_mapping() -> None:
    settings = LavalinkSettings.from_mapping(
        {
            "nodes": [
                {
                    "name": "eu",
                    "host": "eu.lava",
                    "port": 443,
                    "password": SECRET,
                    "secure": True,
                    "region": "eu",
                },
                "us=http://pw@us.lava:2333#us",
                "http://pw@spare.lava",
                {"url": "http://pw@other.lava:1", "name": "other"},
                {"url": "http://pw@unnamed.lava:1"},
                {"host": "nameless.lava"},
            ],
            "resume_timeout": 300,
            "store": "postgresql://bot@db/music",
            "cluster": "blue",
            "voice_timeout": 5,
            "rejoin_empty_channels": True,
            "history_limit": 20,
        }
    )
    assert [(n.name, n.host) for n in settings.nodes] == [
        ("eu", "eu.lava"),
        ("us", "us.lava"),
        ("node-3", "spare.lava"),
        ("other", "other.lava"),
        ("node-5", "unnamed.lava"),
        ("node-6", "nameless.lava"),
    ]
    assert settings.nodes[0] == node(
        name="eu", host="eu.lava", port=443, password=SECRET, secure=True, region="eu"
    )
    assert settings.nodes[1].region == "us"
    assert (settings.resume_timeout, settings.store, settings.cluster) == (
        300,
        "postgresql://bot@db/music",
        "blue",
    )
    assert settings.voice_timeout == 5.0
    assert settings.rejoin_empty_channels is True
    assert settings.history_limit == 20


def test_from_mapping_single_unnamed_node_is_default() -> None:
    assert LavalinkSettings.from_mapping({"nodes": ["http://pw@h:1"]}).nodes[0].name == "default"
    assert LavalinkSettings.from_mapping({"nodes": [{"port": 7}]}).nodes == (node(port=7),)
    assert LavalinkSettings.from_mapping({}) == LavalinkSettings()


@pytest.mark.parametrize(("data", "field"), [
    ({"resume_timout": 60}, "resume_timout"),
    ({"zeta": 1, "alpha": 2}, "alpha"),
    ({"nodes": [{"host": "h", "pasword": "x"}]}, "nodes[0].pasword"),
    ({"nodes": [{"url": "http://h:1", "port": 2}]}, "nodes[0].port"),
    ({"nodes": ["http://h:1", {"port": 70000}]}, "nodes[1].port"),
    ({"nodes": ["http://h:1", "localhost"]}, "nodes[1].url"),
    ({"nodes": ["http://h:1", 5]}, "nodes[1]"),
    ({"nodes": "http://h:1"}, "nodes"),
    ({"nodes": {"host": "h"}}, "nodes"),
    ({"nodes": []}, "nodes"),
    ({"nodes": [{"name": "a"}, {"name": "a", "port": 1}]}, "nodes[1].name"),
    ({"resume_timeout": "60"}, "resume_timeout"),
    ({"resume_timeout": 60.5}, "resume_timeout"),
    ({"store": "mongodb://x"}, "store"),
    ({"history_limit": None}, "history_limit"),
])  # fmt: skip
def test_from_mapping_errors(data: dict[str, typing.Any], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        LavalinkSettings.from_mapping(data)
    assert info.value.field == field


def test_from_mapping_lists_unknown_keys() -> None:
    with pytest.raises(SettingsError, match="unknown settings 'alpha', 'zeta'; known: client_name, cluster"):
        LavalinkSettings.from_mapping({"zeta": 1, "alpha": 2})


def test_from_mapping_needs_a_mapping() -> None:
    with pytest.raises(SettingsError) as info:
        LavalinkSettings.from_mapping(["nodes"])  # type: ignore[arg-type]
    assert info.value.field == "settings"
