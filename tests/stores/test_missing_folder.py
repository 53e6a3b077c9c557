"""A file store whose folder does not exist says so: a mistyped path never creates a tree of folders."""

from __future__ import annotations

import typing

import pytest

from lightbulb_lavalink.errors import StoreError
from lightbulb_lavalink.stores import StoreKey, open_store

if typing.TYPE_CHECKING:
    import pathlib


@pytest.mark.parametrize("scheme", ["sqlite", "json"])
async def test_a_store_in_a_folder_that_does_not_exist_fails_clearly_and_creates_nothing(
    tmp_path: pathlib.Path, scheme: str
) -> None:
    missing = tmp_path / "no-such-folder" / "deeper"
    store = open_store(f"{scheme}:///{missing / 'sessions.db'}")
    with pytest.raises(StoreError, match="does not exist") as caught:
        await store.open()
        await store.set_session(StoreKey(bot_id=1, node="main"), "s")
    assert str(tmp_path / "no-such-folder") in str(caught.value)
    assert not (tmp_path / "no-such-folder").exists()
    await store.close()


@pytest.mark.parametrize("scheme", ["sqlite", "json"])
async def test_a_store_in_an_existing_folder_creates_its_file(tmp_path: pathlib.Path, scheme: str) -> None:
    store = open_store(f"{scheme}:///{tmp_path / 'sessions.db'}")
    await store.open()
    await store.set_session(StoreKey(bot_id=1, node="main"), "s")
    assert await store.get_session(StoreKey(bot_id=1, node="main")) == "s"
    await store.close()
    assert (tmp_path / "sessions.db").exists()
