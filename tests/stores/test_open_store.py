"""open_store(url): the right store for each scheme, clear errors for bad URLs, no secrets in `url`."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

from lightbulb_lavalink.errors import SettingsError
from lightbulb_lavalink.stores import (
    DEFAULT_STORE_URL,
    JSONFileStore,
    MemoryStore,
    PostgresStore,
    RedisStore,
    SessionStore,
    SQLiteStore,
    StoreKey,
    open_store,
)


def test_memory() -> None:
    store = open_store("memory://")
    assert isinstance(store, MemoryStore) and store.url == "memory://"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///relative.db", "relative.db"),
        ("sqlite:///data/sub/bot.db", "data/sub/bot.db"),
        ("sqlite:////abs/path.db", "/abs/path.db"),
        ("sqlite:///with%20space.db", "with space.db"),
    ],
)
def test_sqlite_paths(url: str, path: str) -> None:
    store = open_store(url)
    assert isinstance(store, SQLiteStore)
    assert store.path == path
    assert store.url == f"sqlite:///{path}"


def test_json_path_and_home() -> None:
    store = open_store("json:////srv/bot/sessions.json")
    assert isinstance(store, JSONFileStore) and store.path == pathlib.Path("/srv/bot/sessions.json")
    home = open_store("json:///~/sessions.json")
    assert isinstance(home, JSONFileStore) and home.path == pathlib.Path.home() / "sessions.json"


def test_default_is_a_relative_sqlite_file() -> None:
    store = open_store(DEFAULT_STORE_URL)
    assert isinstance(store, SQLiteStore) and not pathlib.Path(store.path).is_absolute()


def test_sqlite_query_options_and_keyword_options() -> None:
    store = open_store("sqlite:///x.db?synchronous=full&timeout=2.5")
    assert isinstance(store, SQLiteStore)
    with pytest.raises(SettingsError, match="synchronous"):
        open_store("sqlite:///x.db?synchronous=sometimes")
    with pytest.raises(SettingsError, match="timeout"):
        open_store("sqlite:///x.db?timeout=soon")
    with pytest.raises(SettingsError, match="unknown sqlite URL options"):
        open_store("sqlite:///x.db?journal=off")
    with pytest.raises(SettingsError, match="bad option"):
        open_store("memory://", colour="blue")


def test_redis_urls_prefix_and_redaction() -> None:
    store = open_store("redis://:hunter2@127.0.0.1:6379/3?prefix=mybot")
    assert isinstance(store, RedisStore)
    assert store.prefix == "mybot"
    assert "hunter2" not in store.url and "hunter2" not in repr(store)
    assert store.url == "redis://***@127.0.0.1:6379/3?prefix=mybot"  # the whole user info: one rule for every URL
    assert isinstance(open_store("rediss://user:pw@example.com:6380/0"), RedisStore)
    assert open_store("redis://127.0.0.1", prefix="explicit").prefix == "explicit"  # type: ignore[attr-defined]
    assert RedisStore("redis://127.0.0.1").prefix == "lavalink"


def test_postgres_urls_schema_table_and_redaction() -> None:
    store = open_store("postgresql://bot:s3cret@db.internal:5433/music?schema=bots&table=lava&sslmode=disable")
    assert isinstance(store, PostgresStore)
    assert store.tables == ('"bots"."lava_sessions"', '"bots"."lava_guilds"', '"bots"."lava_migrations"')
    assert "s3cret" not in store.url and "s3cret" not in repr(store)
    default = open_store("postgres://localhost/db")
    assert isinstance(default, PostgresStore) and default.tables[1] == '"public"."lavalink_guilds"'
    quoted = PostgresStore("postgresql://localhost/db", table='odd"name')
    assert quoted.tables[0] == '"public"."odd""name_sessions"'
    with pytest.raises(SettingsError, match="pool"):
        open_store("postgresql://localhost/db?min_size=5&max_size=2")
    with pytest.raises(SettingsError, match="table"):
        PostgresStore("postgresql://localhost/db", table="")


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("mongodb://localhost/db", "unknown store scheme 'mongodb'"),
        ("sessions.db", "expected a URL"),
        ("sqlite://relative.db", "three slashes"),
        ("sqlite:///", "three slashes"),
        ("json://host/x.json", "three slashes"),
        ("memory://somewhere", "memory://"),
    ],
)
def test_bad_urls_name_the_store_setting(url: str, match: str) -> None:
    with pytest.raises(SettingsError, match=match) as info:
        open_store(url)
    assert info.value.field == "store"


def test_unknown_scheme_error_hides_the_password() -> None:
    with pytest.raises(SettingsError) as info:
        open_store("mysql://root:topsecret@localhost/db")
    assert "topsecret" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "package", "extra"),
    [("redis://localhost", "redis", "redis"), ("postgresql://localhost/db", "asyncpg", "postgres")],
)
def test_missing_optional_dependency_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, url: str, package: str, extra: str
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: object, **kwargs: object) -> object:
        return None if name == package else real_find_spec(name)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(SettingsError, match=rf"pip install 'lightbulb-lavalink\[{extra}\]'"):
        open_store(url)


def test_open_store_does_no_io(tmp_path: pathlib.Path) -> None:
    # Building stores for unreachable servers and missing files succeeds; only open() touches them.
    open_store("redis://127.0.0.1:1/0")
    open_store("postgresql://127.0.0.1:1/db")
    open_store(f"sqlite:///{tmp_path}/missing/dir/x.db")
    assert not list(tmp_path.iterdir())


def test_every_store_satisfies_the_protocol(tmp_path: pathlib.Path) -> None:
    for url in ("memory://", f"json:///{tmp_path}/s.json", f"sqlite:///{tmp_path}/s.db", "redis://h", "postgres://h/d"):
        assert isinstance(open_store(url), SessionStore)


def test_store_key() -> None:
    assert StoreKey(1, "main") == StoreKey(bot_id=1, node="main", cluster="")
    assert len({StoreKey(1, "main"), StoreKey(1, "main"), StoreKey(1, "main", "c")}) == 2
    assert str(StoreKey(1, "main", "c")) == "bot 1 cluster 'c' node 'main'"
    with pytest.raises(TypeError):
        StoreKey("1", "main")  # type: ignore[arg-type]
