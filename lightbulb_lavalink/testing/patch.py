"""A player PATCH body (protocol §4.3): parsed strictly, then applied in Lavalink's exact step order."""

from __future__ import annotations

import typing

from lightbulb_lavalink.errors import TrackDecodeError
from lightbulb_lavalink.protocol.codec import decode_track
from lightbulb_lavalink.testing.filters import FilterSet, parse_filters
from lightbulb_lavalink.testing.player import FakeVoice
from lightbulb_lavalink.testing.wire import HttpError, read_bool, read_int, read_object, read_str

if typing.TYPE_CHECKING:
    from lightbulb_lavalink.protocol.tracks import Track
    from lightbulb_lavalink.testing.server import FakeLavalink
    from lightbulb_lavalink.testing.session import FakeSession

__all__ = ["PlayerPatch", "decode_blob"]

_DECODE_FAILED = "Failed to decode track due to a mismatching version or missing source manager"
_FRIENDLY = "com.sedmelluq.discord.lavaplayer.tools.FriendlyException"
_UNSET: typing.Any = object()


def decode_blob(encoded: str, sources: typing.Container[str]) -> Track:
    """Decode a track blob as the server does: 500 on bad data or a source it has no manager for."""
    try:
        track = decode_track(encoded)
    except TrackDecodeError as exc:
        raise HttpError(500, str(exc), exception="java.lang.IllegalArgumentException") from None
    if track.info.source_name not in sources:
        raise HttpError(500, _DECODE_FAILED, exception=_FRIENDLY)
    return track


class PlayerPatch:
    """A parsed PlayerUpdate body (deserialization errors are 400 before anything else happens).

    Absent fields are `_UNSET` (or ``None`` where ``null`` is not allowed on the wire).
    """

    def __init__(self) -> None:
        self.has_track_object = False
        self.has_top_level_track = False
        self.encoded: typing.Any = _UNSET
        self.identifier: typing.Any = _UNSET
        self.user_data: typing.Any = _UNSET
        self.position: int | None = None
        self.end_time: typing.Any = _UNSET
        self.volume: int | None = None
        self.paused: bool | None = None
        self.filters: FilterSet | None = None
        self.voice: dict[str, typing.Any] | None = None

    @classmethod
    def parse(cls, body: dict[str, typing.Any], *, channel_ids: bool) -> PlayerPatch:
        """Read the body with kotlinx rules (explicit nulls and wrong types are 400; unknown keys ignored)."""
        update = cls()
        if "track" in body:
            update.has_track_object = True
            track = read_object(body["track"], "track")
            if "encoded" in track:
                enc = track["encoded"]
                update.encoded = None if enc is None else read_str(enc, "track.encoded")
            if "identifier" in track:
                update.identifier = read_str(track["identifier"], "track.identifier")
            if "userData" in track:
                update.user_data = read_object(track["userData"], "track.userData")
        if "encodedTrack" in body:
            update.has_top_level_track = True
            enc = body["encodedTrack"]
            update.encoded = None if enc is None else read_str(enc, "encodedTrack")
        if "identifier" in body:
            update.has_top_level_track = True
            update.identifier = read_str(body["identifier"], "identifier")
        if "position" in body:
            update.position = read_int(body["position"], "position")
        if "endTime" in body:
            end = body["endTime"]
            update.end_time = None if end is None else read_int(end, "endTime")
        if "volume" in body:
            update.volume = read_int(body["volume"], "volume", bits=32)
        if "paused" in body:
            update.paused = read_bool(body["paused"], "paused")
        if "filters" in body:
            update.filters = parse_filters(body["filters"])
        if "voice" in body:
            voice = read_object(body["voice"], "voice")
            fields = ["token", "endpoint", "sessionId"]
            parsed: dict[str, typing.Any] = {}
            for name in fields:
                if name not in voice:
                    raise HttpError(400, f"Failed to read request: missing field '{name}' at 'voice'")
                parsed[name] = read_str(voice[name], f"voice.{name}")
            if channel_ids:
                if "channelId" not in voice:
                    raise HttpError(400, "Failed to read request: missing field 'channelId' at 'voice'")
                channel = voice["channelId"]
                parsed["channelId"] = None if channel is None else read_str(channel, "voice.channelId")
            update.voice = parsed
        return update

    def apply(
        self, node: FakeLavalink, session: FakeSession, guild_id: int, *, no_replace: bool
    ) -> dict[str, typing.Any]:
        """Apply the update in Lavalink's order (§4.3 steps 2-14); return the Player JSON."""
        version = node.context.version
        # 2. track sources
        if self.has_track_object and self.has_top_level_track:
            raise HttpError(400, "Cannot specify both track and encodedTrack/identifier")
        if self.encoded is not _UNSET and self.identifier is not _UNSET:
            raise HttpError(400, "Cannot specify both encodedTrack and identifier")
        new_track = self.encoded is not _UNSET or self.identifier is not _UNSET
        # 3. disabled filters
        if self.filters is not None:
            disabled = [name for name in self.filters.present if name in node.disabled_filters]
            if disabled:
                raise HttpError(400, f"Following filters are disabled in the config: {', '.join(disabled)}")
        # 4. voice
        voice: FakeVoice | None = None
        if self.voice is not None:
            voice = _validate_voice(self.voice, channel_ids=version.channel_id)
        # 5. end time
        if self.end_time is not _UNSET and self.end_time is not None and self.end_time <= 0:
            raise HttpError(400, "End time must be greater than 0")
        # 6. player
        player = session.get_or_create_player(guild_id)
        # 7. voice connection
        if voice is not None:
            if voice.channel_id is not None and not voice.channel_id.lstrip("-").isdigit():
                raise HttpError(
                    500,
                    f'For input string: "{voice.channel_id}"',
                    exception="java.lang.NumberFormatException",
                )
            player.connect_voice(voice)
        # 8. pause and user data of the current track
        if not new_track:
            if self.paused is not None:
                player.set_paused(self.paused)
            if self.user_data is not _UNSET:
                player.set_user_data(self.user_data)
        # 9. volume
        if self.volume is not None:
            player.set_volume(self.volume)
        # 10. seek
        if not new_track and self.position is not None and player.has_track:
            player.seek(self.position)
        # 11. end marker
        if not new_track and self.end_time is not _UNSET and self.end_time is not None:
            player.set_end_time(self.end_time)
        # 12. filters
        if self.filters is not None:
            self.filters.check_bands()
            player.set_filters(self.filters)
        # 13. new track
        if new_track:
            if no_replace and player.has_track:
                return player.to_json()
            player.set_paused(self.paused if self.paused is not None else False)
            if self.encoded is None:
                player.stop()
            else:
                track = (
                    decode_blob(self.encoded, node.catalog.sources) if self.encoded is not _UNSET else self._load(node)
                )
                track = track.with_user_data(self.user_data if self.user_data is not _UNSET else {})
                end = self.end_time if self.end_time is not _UNSET else None
                player.play(track, position=self.position, end_time=end)
        return player.to_json()

    def _load(self, node: FakeLavalink) -> Track:
        outcome = node.catalog.load(self.identifier)
        status = node.context.version.identifier_error_status
        if outcome.load_type == "track":
            return outcome.tracks[0]
        if outcome.load_type == "empty":
            raise HttpError(status, "No matches found for identifier")
        if outcome.load_type == "error":
            raise HttpError(status, outcome.message)
        raise HttpError(status, "Cannot play a playlist or search result")


def _validate_voice(voice: dict[str, typing.Any], *, channel_ids: bool) -> FakeVoice:
    token, endpoint, session_id = voice["token"], voice["endpoint"], voice["sessionId"]
    if channel_ids:
        channel = voice["channelId"]
        blank = any(not value.strip() for value in (token, endpoint, session_id))
        if blank or channel is None or not channel.strip():
            raise HttpError(400, "token, endpoint, sessionId and channelId must be provided in voice state")
        return FakeVoice(token=token, endpoint=endpoint, session_id=session_id, channel_id=channel)
    if not token or not endpoint or not session_id:
        raise HttpError(
            400,
            f"Partial Lavalink voice state: VoiceState(token={token}, endpoint={endpoint}, sessionId={session_id})",
        )
    return FakeVoice(token=token, endpoint=endpoint, session_id=session_id)
