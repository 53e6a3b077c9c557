"""``python -m lightbulb_lavalink check`` against FakeLavalink: one line per thing, non-zero on any problem."""

from __future__ import annotations

import asyncio
import io
import os
import pathlib

import pytest

from lightbulb_lavalink.__main__ import main as cli_main
from lightbulb_lavalink.check import check_nodes, main
from lightbulb_lavalink.settings import LavalinkSettings, NodeSettings
from lightbulb_lavalink.testing import FakeLavalink

PASSWORD = "n0de-secret-never-printed"


def run(environ: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(environ, out), out.getvalue()


def env(node: FakeLavalink, tmp_path: pathlib.Path, password: str = PASSWORD, **extra: str) -> dict[str, str]:
    return {
        "LAVALINK_NODES": f"main=http://{password}@127.0.0.1:{node.port}",
        "LAVALINK_STORE": f"sqlite:///{tmp_path / 'sessions.db'}",
        **extra,
    }


async def test_everything_fine_is_one_ok_line_each_and_exit_zero(tmp_path: pathlib.Path) -> None:
    async with FakeLavalink(password=PASSWORD) as node:
        code, out = await _in_thread(env(node, tmp_path))
        lines = out.splitlines()
        assert code == 0, out
        assert lines[0].startswith("ok   settings: from the environment; nodes: main")
        assert lines[1] == (
            f"ok   node 'main' at 127.0.0.1:{node.port}: Lavalink {node.version}, plugins: none, "
            "resuming: accepted (60 s)"
        )
        assert lines[2] == (
            f"ok   store sqlite:///{tmp_path / 'sessions.db'}: no file yet; the bot creates it at its first start "
            "(the folder is writable)"
        )
        assert lines[-1] == "everything is ready"
        assert PASSWORD not in out
        assert node.sessions == {}  # the check's throwaway session did not stay resumable
    assert os.listdir(tmp_path) == [], "a check leaves no file behind"


async def test_an_existing_store_file_is_opened_and_read(tmp_path: pathlib.Path) -> None:
    from lightbulb_lavalink.stores import StoreKey, open_store

    for url in (f"sqlite:///{tmp_path / 'sessions.db'}", f"json:///{tmp_path / 'sessions.json'}"):
        store = open_store(url)
        await store.open()
        await store.set_session(StoreKey(0, "main"), "s1")
        await store.close()
        async with FakeLavalink(password=PASSWORD) as node:
            code, out = await _in_thread({**env(node, tmp_path), "LAVALINK_STORE": url})
        assert code == 0, out
        assert f"ok   store {url}: opens and reads (1 scope(s) saved for bot 0)" in out


async def test_a_store_folder_that_is_missing_or_read_only_fails(tmp_path: pathlib.Path) -> None:
    async with FakeLavalink(password=PASSWORD) as node:
        missing = f"sqlite:///{tmp_path / 'nowhere' / 'sessions.db'}"
        code, out = await _in_thread({**env(node, tmp_path), "LAVALINK_STORE": missing})
        assert code == 1
        assert f"FAIL store {missing}: cannot be used:" in out and "does not exist" in out
        if os.geteuid() != 0:  # root writes anywhere
            locked = tmp_path / "locked"
            locked.mkdir(mode=0o500)
            url = f"json:///{locked / 'sessions.json'}"
            code, out = await _in_thread({**env(node, tmp_path), "LAVALINK_STORE": url})
            assert code == 1
            assert f"FAIL store {url}: cannot be used: the folder {locked} is not writable" in out
    assert not (tmp_path / "nowhere").exists()


async def test_a_wrong_password_and_an_unreachable_port_say_what_to_do(tmp_path: pathlib.Path) -> None:
    async with FakeLavalink(password=PASSWORD) as node:
        code, out = await _in_thread(env(node, tmp_path, password="guess-not-printed"))
        assert code == 1
        assert "FAIL node 'main'" in out and "refused the password" in out and "LAVALINK_PASSWORD" in out
        assert "guess-not-printed" not in out
    closed = LavalinkSettings(nodes=(NodeSettings(name="main", host="127.0.0.1", port=9, password=PASSWORD),))
    (line,) = await check_nodes(closed)
    assert not line.ok and "cannot be reached" in line.detail and "is Lavalink running" in line.detail


async def test_a_corrupt_store_file_fails(tmp_path: pathlib.Path) -> None:
    (tmp_path / "sessions.db").write_bytes(b"this is not a database" * 100)
    async with FakeLavalink(password=PASSWORD) as node:
        code, out = await _in_thread(env(node, tmp_path))
    assert code == 1
    (store_line,) = [line for line in out.splitlines() if " store " in line]
    assert store_line.startswith("FAIL store sqlite:///")


async def test_bad_settings_and_unknown_variables_are_problems(tmp_path: pathlib.Path) -> None:
    code, out = await _in_thread({"LAVALINK_PORT": "lots", "LAVALINK_PASWORD": "typo-secret"})
    assert code == 1
    assert "FAIL LAVALINK_PASWORD: is not a lightbulb-lavalink variable; did you mean LAVALINK_PASSWORD?" in out
    assert "FAIL settings: invalid setting 'LAVALINK_PORT'" in out
    assert "typo-secret" not in out


def test_the_command_line_runs_it(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in [n for n in os.environ if n.startswith("LAVALINK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LAVALINK_PORT", "0")
    assert cli_main(["check"]) == 1
    assert "FAIL settings: invalid setting 'LAVALINK_PORT'" in capsys.readouterr().out


async def _in_thread(environ: dict[str, str]) -> tuple[int, str]:
    """`main` runs its own event loop (it is the command line): run it beside the test's loop."""
    return await asyncio.to_thread(run, environ)
