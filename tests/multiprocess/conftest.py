"""Fixtures of the multi-process tests: the store servers' status, shared with the store tests."""

from __future__ import annotations

from tests.stores.conftest import server_status

__all__ = ["server_status"]
