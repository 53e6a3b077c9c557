"""Which track objects stand for the same track, and how a track is named in logs."""

from __future__ import annotations

import binascii
import logging
import typing

from lightbulb_lavalink.errors import TrackDecodeError
from lightbulb_lavalink.saved_tracks import restore_track
from lightbulb_lavalink.snapshot import TrackSnapshot

if typing.TYPE_CHECKING:

    from lightbulb_lavalink.protocol.tracks import Track


__all__ = ["restored", "same_track", "title"]

_LOGGER = logging.getLogger("lightbulb_lavalink.player")


def title(track: Track) -> str:
    """A track's title for a log line, even when its blob cannot be decoded."""
    try:
        return repr(track.info.title)
    except TrackDecodeError:
        return "<undecodable track>"


def restored(saved: TrackSnapshot) -> Track | None:
    """The track a snapshot saved, or `None` (with a warning) when its blob is unreadable."""
    try:
        return restore_track(saved)
    except TrackDecodeError as exc:
        _LOGGER.warning("cannot read a saved track: %s", exc)
        return None


def _same_blob_but_position(a: str, b: str) -> bool:
    """Whether two blobs differ only in the position they carry (its last 8 bytes): the same track re-encoded by
    the node where an event or answer saw it. Cheap: no field is decoded."""
    if len(a) != len(b):
        return False
    # Every whole base64 group before the last 8 bytes (and the padding) must match as written: two different
    # tracks differ there, mostly in their first characters, and are told apart without decoding.
    whole = max(0, (len(a) // 4 * 3 - 10) // 3 * 4)
    if a[:whole] != b[:whole]:
        return False
    try:
        raw_a, raw_b = binascii.a2b_base64(a), binascii.a2b_base64(b)
    except (binascii.Error, ValueError):
        return False
    return len(raw_a) > 12 and raw_a[:-8] == raw_b[:-8]


def same_track(a: Track | None, b: Track | None) -> bool:
    """Whether two track objects stand for the same track.

    Lavalink re-encodes tracks (with the current position), so the `encoded` strings of one track differ between
    a REST answer and an event; identity is the source and its identifier.
    """
    if a is None or b is None:
        return a is b
    if a.encoded == b.encoded or _same_blob_but_position(a.encoded, b.encoded):
        return True
    try:
        return a.source_and_identifier == b.source_and_identifier
    except TrackDecodeError:
        return False
