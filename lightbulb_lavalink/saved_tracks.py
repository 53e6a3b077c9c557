"""Tracks rebuilt from their snapshots: a saved queue's blobs are checked cheaply (base64 and the size their header
declares) and decoded only when a track's `info` is first read, so a restart of 10,000 queues does not decode a
million tracks up front."""

from __future__ import annotations

import binascii
import logging
import typing

from lightbulb_lavalink.errors import TrackDecodeError
from lightbulb_lavalink.protocol.track import new_track

if typing.TYPE_CHECKING:
    from collections.abc import Iterable

    from lightbulb_lavalink.protocol.tracks import Track
    from lightbulb_lavalink.snapshot import TrackSnapshot

__all__ = ["restore_list", "restore_track"]

_LOGGER = logging.getLogger("lightbulb_lavalink.queue")


def restore_track(saved: TrackSnapshot) -> Track:
    """The `Track` a saved track stands for, with its user data (raises `TrackDecodeError` for a bad blob)."""
    return _restore_track(saved, {})


def restore_list(saved: Iterable[TrackSnapshot], cache: dict[str, Track], where: str, strict: bool) -> list[Track]:
    """The tracks of one saved list (see `_restore_track`); one that fails the check is dropped with a warning, or
    with `strict` raises. The usual entry (no user data nor plugin info) is checked and built inline: a restart
    restores a million of them."""
    out: list[Track] = []
    append = out.append
    cached = cache.get
    a2b = binascii.a2b_base64
    for i, item in enumerate(saved):
        encoded = item.encoded
        try:
            if item.user_data or item.plugin_info:
                append(_restore_track(item, cache))
                continue
            track = cached(encoded)
            if track is None:
                try:
                    raw = a2b(encoded, strict_mode=True)
                except (binascii.Error, ValueError) as exc:
                    raise TrackDecodeError(f"not a track: invalid base64 ({exc})") from None
                if len(raw) < 4 or (int.from_bytes(raw[:4], "big") & 0x3FFFFFFF) != len(raw) - 4:
                    raise TrackDecodeError("not a track: truncated, or the declared size does not match")
                track = cache[encoded] = new_track(encoded, None)
            append(track)
        except TrackDecodeError as exc:
            if strict:
                raise
            _LOGGER.warning("dropping undecodable track %s[%d] from a saved queue: %s", where, i, exc)
    return out


def _restore_track(saved: TrackSnapshot, cache: dict[str, Track]) -> Track:
    # Tracks are immutable, so duplicates (a looped queue, the history) share one object. The blob is checked
    # cheaply here (base64 and its declared size) and decoded when its `info` is first read, so a resumed sync
    # of 10,000 queues does not decode a million tracks up front. User data is not checked either: it was read
    # from JSON, and the stores and the REST client repair what is not strict JSON when they write it.
    if saved.plugin_info:
        _check_blob(saved.encoded)
        return new_track(saved.encoded, None, dict(saved.plugin_info), dict(saved.user_data) or None)
    track = cache.get(saved.encoded)
    if track is None:
        _check_blob(saved.encoded)
        track = cache[saved.encoded] = new_track(saved.encoded, None)
    return new_track(saved.encoded, None, None, dict(saved.user_data)) if saved.user_data else track


def _check_blob(encoded: str) -> None:
    """Raise `TrackDecodeError` unless `encoded` is base64 of a message whose header gives its exact size."""
    try:
        raw = binascii.a2b_base64(encoded, strict_mode=True)  # base64.b64decode(validate=True) without its wrapper
    except (binascii.Error, ValueError) as exc:
        raise TrackDecodeError(f"not a track: invalid base64 ({exc})") from None
    if len(raw) < 4 or (int.from_bytes(raw[:4], "big") & 0x3FFFFFFF) != len(raw) - 4:
        raise TrackDecodeError("not a track: truncated, or the declared size does not match")
