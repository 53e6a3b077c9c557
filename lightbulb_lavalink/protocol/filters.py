"""Audio filters: one frozen model per Lavalink filter, with the server's defaults, and `Filters`, the set."""

from __future__ import annotations

import typing

import attrs

from lightbulb_lavalink.protocol._parse import at, fail, get_float, get_int, require_object

__all__ = [
    "ChannelMix",
    "Distortion",
    "EqualizerBand",
    "Filters",
    "Karaoke",
    "LowPass",
    "Rotation",
    "Timescale",
    "Tremolo",
    "Vibrato",
]

BAND_FREQUENCIES: typing.Final[tuple[int, ...]] = (
    25, 40, 63, 100, 160, 250, 400, 630, 1000, 1600, 2500, 4000, 6300, 10000, 16000,
)  # fmt: skip
"""Centre frequency in Hz of each of the 15 equalizer bands, by band index."""


@attrs.frozen(kw_only=True, weakref_slot=False)
class EqualizerBand:
    """One band of the 15-band equalizer."""

    band: int
    """The band index, 0 to 14 (see `BAND_FREQUENCIES`)."""
    gain: float
    """The gain, -0.25 (muted) to 1.0 (doubled); 0.0 leaves the band unchanged."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "band") -> typing.Self:
        """Parse ``{"band": int, "gain": float}``; a missing gain is 1.0, as on the server."""
        d = require_object(data, where)
        return cls(band=get_int(d, "band", where), gain=get_float(d, "gain", where, 1.0))

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire band."""
        return {"band": self.band, "gain": self.gain}


@attrs.frozen(kw_only=True, weakref_slot=False)
class Karaoke:
    """Removes a band of frequencies (typically the lead vocals)."""

    level: float = 1.0
    """Effect level, 0 to 1."""
    mono_level: float = 1.0
    """Mono level, 0 to 1."""
    filter_band: float = 220.0
    """Centre of the filtered band, in Hz."""
    filter_width: float = 100.0
    """Width of the filtered band."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "karaoke") -> typing.Self:
        """Parse the wire filter; missing fields take their defaults."""
        d = require_object(data, where)
        return cls(
            level=get_float(d, "level", where, 1.0),
            mono_level=get_float(d, "monoLevel", where, 1.0),
            filter_band=get_float(d, "filterBand", where, 220.0),
            filter_width=get_float(d, "filterWidth", where, 100.0),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire filter, every field written."""
        return {
            "level": self.level,
            "monoLevel": self.mono_level,
            "filterBand": self.filter_band,
            "filterWidth": self.filter_width,
        }


@attrs.frozen(kw_only=True, weakref_slot=False)
class Timescale:
    """Changes speed, pitch and rate."""

    speed: float = 1.0
    """Playback speed (1.0 is normal), changes the pitch too."""
    pitch: float = 1.0
    """Pitch (1.0 is normal)."""
    rate: float = 1.0
    """Rate (1.0 is normal): speed and pitch together."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "timescale") -> typing.Self:
        """Parse the wire filter; missing fields take their defaults."""
        d = require_object(data, where)
        return cls(
            speed=get_float(d, "speed", where, 1.0),
            pitch=get_float(d, "pitch", where, 1.0),
            rate=get_float(d, "rate", where, 1.0),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire filter, every field written."""
        return {"speed": self.speed, "pitch": self.pitch, "rate": self.rate}


@attrs.frozen(kw_only=True, weakref_slot=False)
class Tremolo:
    """Oscillates the volume."""

    frequency: float = 2.0
    """Oscillation frequency in Hz (> 0)."""
    depth: float = 0.5
    """Oscillation depth, 0 (excluded) to 1."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "tremolo") -> typing.Self:
        """Parse the wire filter; missing fields take their defaults."""
        d = require_object(data, where)
        return cls(frequency=get_float(d, "frequency", where, 2.0), depth=get_float(d, "depth", where, 0.5))

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire filter, every field written."""
        return {"frequency": self.frequency, "depth": self.depth}


@attrs.frozen(kw_only=True, weakref_slot=False)
class Vibrato:
    """Oscillates the pitch."""

    frequency: float = 2.0
    """Oscillation frequency in Hz (0 excluded to 14)."""
    depth: float = 0.5
    """Oscillation depth, 0 (excluded) to 1."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "vibrato") -> typing.Self:
        """Parse the wire filter; missing fields take their defaults."""
        d = require_object(data, where)
        return cls(frequency=get_float(d, "frequency", where, 2.0), depth=get_float(d, "depth", where, 0.5))

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire filter, every field written."""
        return {"frequency": self.frequency, "depth": self.depth}


@attrs.frozen(kw_only=True, weakref_slot=False)
class Rotation:
    """Rotates the sound around the stereo channels ("8D audio")."""

    rotation_hz: float = 0.0
    """Rotation frequency in Hz (0.2 is a common value)."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "rotation") -> typing.Self:
        """Parse the wire filter; a missing field takes its default."""
        d = require_object(data, where)
        return cls(rotation_hz=get_float(d, "rotationHz", where, 0.0))

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire filter."""
        return {"rotationHz": self.rotation_hz}


@attrs.frozen(kw_only=True, weakref_slot=False)
class Distortion:
    """Distorts the audio with sine, cosine and tangent terms."""

    sin_offset: float = 0.0
    """Sine offset."""
    sin_scale: float = 1.0
    """Sine scale."""
    cos_offset: float = 0.0
    """Cosine offset."""
    cos_scale: float = 1.0
    """Cosine scale."""
    tan_offset: float = 0.0
    """Tangent offset."""
    tan_scale: float = 1.0
    """Tangent scale."""
    offset: float = 0.0
    """Overall offset."""
    scale: float = 1.0
    """Overall scale."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "distortion") -> typing.Self:
        """Parse the wire filter; missing fields take their defaults."""
        d = require_object(data, where)
        return cls(
            sin_offset=get_float(d, "sinOffset", where, 0.0),
            sin_scale=get_float(d, "sinScale", where, 1.0),
            cos_offset=get_float(d, "cosOffset", where, 0.0),
            cos_scale=get_float(d, "cosScale", where, 1.0),
            tan_offset=get_float(d, "tanOffset", where, 0.0),
            tan_scale=get_float(d, "tanScale", where, 1.0),
            offset=get_float(d, "offset", where, 0.0),
            scale=get_float(d, "scale", where, 1.0),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire filter, every field written."""
        return {
            "sinOffset": self.sin_offset,
            "sinScale": self.sin_scale,
            "cosOffset": self.cos_offset,
            "cosScale": self.cos_scale,
            "tanOffset": self.tan_offset,
            "tanScale": self.tan_scale,
            "offset": self.offset,
            "scale": self.scale,
        }


@attrs.frozen(kw_only=True, weakref_slot=False)
class ChannelMix:
    """Mixes the left and right channels (1/0/0/1 is unchanged; all 0.5 is mono)."""

    left_to_left: float = 1.0
    """Share of the left channel kept on the left, 0 to 1."""
    left_to_right: float = 0.0
    """Share of the left channel sent to the right, 0 to 1."""
    right_to_left: float = 0.0
    """Share of the right channel sent to the left, 0 to 1."""
    right_to_right: float = 1.0
    """Share of the right channel kept on the right, 0 to 1."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "channelMix") -> typing.Self:
        """Parse the wire filter; missing fields take their defaults."""
        d = require_object(data, where)
        return cls(
            left_to_left=get_float(d, "leftToLeft", where, 1.0),
            left_to_right=get_float(d, "leftToRight", where, 0.0),
            right_to_left=get_float(d, "rightToLeft", where, 0.0),
            right_to_right=get_float(d, "rightToRight", where, 1.0),
        )

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire filter, every field written."""
        return {
            "leftToLeft": self.left_to_left,
            "leftToRight": self.left_to_right,
            "rightToLeft": self.right_to_left,
            "rightToRight": self.right_to_right,
        }


@attrs.frozen(kw_only=True, weakref_slot=False)
class LowPass:
    """Suppresses high frequencies."""

    smoothing: float = 20.0
    """Smoothing factor; values above 1.0 enable the filter."""

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "lowPass") -> typing.Self:
        """Parse the wire filter; a missing field takes its default."""
        d = require_object(data, where)
        return cls(smoothing=get_float(d, "smoothing", where, 20.0))

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire filter."""
        return {"smoothing": self.smoothing}


def _bands(value: typing.Iterable[EqualizerBand] | None) -> tuple[EqualizerBand, ...] | None:
    return None if value is None else tuple(value)


def _plugin_filters(value: typing.Mapping[str, typing.Any] | None) -> dict[str, typing.Any] | None:
    return None if value is None else dict(value)


_Filter = Karaoke | Timescale | Tremolo | Vibrato | Rotation | Distortion | ChannelMix | LowPass

# (wire key, attribute, model) in Lavalink's output order; volume and equalizer are handled apart.
_OBJECT_FILTERS: typing.Final[tuple[tuple[str, str, type[_Filter]], ...]] = (
    ("karaoke", "karaoke", Karaoke),
    ("timescale", "timescale", Timescale),
    ("tremolo", "tremolo", Tremolo),
    ("vibrato", "vibrato", Vibrato),
    ("distortion", "distortion", Distortion),
    ("rotation", "rotation", Rotation),
    ("channelMix", "channel_mix", ChannelMix),
    ("lowPass", "low_pass", LowPass),
)


@attrs.frozen(kw_only=True, weakref_slot=False)
class Filters:
    """The full set of filters of a player; ``None`` means that filter is off.

    Setting filters replaces all of them: ``Filters(timescale=Timescale(speed=1.2))`` turns every other filter
    off. ``Filters()`` clears them all.
    """

    volume: float | None = None
    """Filter volume, 0.0 to 5.0 (1.0 is unchanged); distinct from the player's volume."""
    equalizer: tuple[EqualizerBand, ...] | None = attrs.field(default=None, converter=_bands)
    """Equalizer bands to change (unlisted bands stay at 0.0)."""
    karaoke: Karaoke | None = None
    """The karaoke filter."""
    timescale: Timescale | None = None
    """The timescale filter."""
    tremolo: Tremolo | None = None
    """The tremolo filter."""
    vibrato: Vibrato | None = None
    """The vibrato filter."""
    rotation: Rotation | None = None
    """The rotation filter."""
    distortion: Distortion | None = None
    """The distortion filter."""
    channel_mix: ChannelMix | None = None
    """The channel mix filter."""
    low_pass: LowPass | None = None
    """The low pass filter."""
    plugin_filters: dict[str, typing.Any] | None = attrs.field(default=None, converter=_plugin_filters, hash=False)
    """Filters of Lavalink plugins, by plugin filter name, as raw JSON."""

    @property
    def is_empty(self) -> bool:
        """Whether no filter is set."""
        return self == _NO_FILTERS

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "filters") -> typing.Self:
        """Parse the wire Filters; a ``null`` filter is off and a filter's missing fields take defaults."""
        d = require_object(data, where)
        kwargs: dict[str, typing.Any] = {}
        volume = d.get("volume")
        if volume is not None:
            kwargs["volume"] = get_float(d, "volume", where)
        equalizer = d.get("equalizer")
        if equalizer is not None:
            eq_where = at(where, "equalizer")
            if type(equalizer) is not list:
                fail(eq_where, "an array", equalizer)
            parse_band = EqualizerBand.from_payload
            kwargs["equalizer"] = [parse_band(band, at(eq_where, i)) for i, band in enumerate(equalizer)]
        for key, attribute, model in _OBJECT_FILTERS:
            value = d.get(key)
            if value is not None:
                kwargs[attribute] = model.from_payload(value, at(where, key))
        plugin_filters = d.get("pluginFilters")
        if plugin_filters is not None:
            kwargs["plugin_filters"] = require_object(plugin_filters, at(where, "pluginFilters"))
        return cls(**kwargs)

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire Filters, with only the filters that are set (``{}`` when none is)."""
        payload: dict[str, typing.Any] = {}
        if self.volume is not None:
            payload["volume"] = self.volume
        if self.equalizer is not None:
            payload["equalizer"] = [band.to_payload() for band in self.equalizer]
        for key, attribute, _ in _OBJECT_FILTERS:
            value: _Filter | None = getattr(self, attribute)
            if value is not None:
                payload[key] = value.to_payload()
        if self.plugin_filters is not None:
            payload["pluginFilters"] = dict(self.plugin_filters)
        return payload


_NO_FILTERS: typing.Final = Filters()
