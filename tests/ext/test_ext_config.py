"""Settings precedence: what the bot registered, the environment, the defaults; bad ones name the field."""

from __future__ import annotations

import pytest

from lightbulb_lavalink.errors import SettingsError
from lightbulb_lavalink.ext.config import resolve_settings
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings

ENV = {"LAVALINK_NODES": "eu=http://envpass@lava-eu:2444#europe", "LAVALINK_RESUME_TIMEOUT": "120"}


def test_registered_settings_win_over_the_environment() -> None:
    registered = LavalinkSettings(nodes=(NodeSettings(name="mine", host="10.0.0.5"),), resume_timeout=30)
    resolved = resolve_settings(registered, registered_as="bot.d.lavalink_settings", environ=ENV)
    assert resolved.settings is registered
    assert resolved.source == "bot.d.lavalink_settings"


def test_a_registered_mapping_is_read_like_a_config_file() -> None:
    resolved = resolve_settings(
        {"nodes": ["http://pw@music:2333"], "store": "memory://"}, registered_as="DI", environ=ENV
    )
    (node,) = resolved.settings.nodes
    assert (node.host, node.port, node.password) == ("music", 2333, "pw")
    assert resolved.settings.store == "memory://"
    assert resolved.source == "DI"


def test_the_environment_is_used_when_nothing_is_registered() -> None:
    resolved = resolve_settings(None, registered_as="DI", environ=ENV)
    (node,) = resolved.settings.nodes
    assert (node.name, node.host, node.port, node.password, node.region) == (
        "eu",
        "lava-eu",
        2444,
        "envpass",
        "europe",
    )
    assert resolved.settings.resume_timeout == 120
    assert resolved.source == "environment"


def test_the_defaults_are_used_when_nothing_is_set() -> None:
    resolved = resolve_settings(None, registered_as="DI", environ={"LAVALINK_STORE": "  ", "PATH": "/bin"})
    assert resolved.settings == LavalinkSettings()
    (node,) = resolved.settings.nodes
    assert (node.host, node.port, node.password) == ("localhost", 2333, "youshallnotpass")
    assert resolved.source == "defaults"


def test_the_process_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAVALINK_RESUME_TIMEOUT", "75")
    resolved = resolve_settings(None, registered_as="DI")
    assert resolved.settings.resume_timeout == 75
    assert resolved.source == "environment"


def test_a_bad_environment_variable_is_named() -> None:
    with pytest.raises(SettingsError) as caught:
        resolve_settings(None, registered_as="DI", environ={"LAVALINK_RESUME_TIMEOUT": "soon"})
    assert caught.value.field == "LAVALINK_RESUME_TIMEOUT"


def test_a_bad_registered_mapping_names_the_field() -> None:
    with pytest.raises(SettingsError) as caught:
        resolve_settings({"nodes": [{"host": "x", "port": 0}]}, registered_as="DI", environ={})
    assert "port" in caught.value.field


def test_a_registration_of_the_wrong_type_names_where_it_was_registered() -> None:
    with pytest.raises(SettingsError) as caught:
        resolve_settings("http://localhost:2333", registered_as="bot.d.lavalink_settings", environ={})
    assert caught.value.field == "bot.d.lavalink_settings"
    assert "LavalinkSettings" in caught.value.problem
