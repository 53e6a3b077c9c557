"""Audio filters: one frozen model per Lavalink filter, with the server's defaults, and `Filters`, the set."""

from __future__ import annotations

import typing

import attrs

from lightbulb_lavalink.errors import ProtocolError
from lightbulb_lavalink.protocol._parse import at, get_int, require_object, unreadable
from lightbulb_lavalink.protocol.deviations import note

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

def _fields(data: typing.Any, where: str) -> dict[str, typing.Any]:
    """A filter's object; anything else reads as no field (every field at its default), noted."""
    if type(data) is dict:
        return data
    unreadable(where, "an object", data)
    return {}


def _number(data: dict[str, typing.Any], key: str, where: str, default: float) -> float:
    """A filter's field: missing or null is its default, as on the server; of the wrong type too, noted."""
    value = data.get(key)
    if value is None:
        return default
    if type(value) is float:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    unreadable(at(where, key), "a number", value)
    return default


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
        """Parse ``{"band": int, "gain": float}``; a missing gain is 1.0, as on the server.

        Raises `ProtocolError` without a readable band index (`Filters` then leaves that band out).
        """
        d = require_object(data, where)
        return cls(band=get_int(d, "band", where), gain=_number(d, "gain", where, 1.0))

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
        d = _fields(data, where)
        return cls(
            level=_number(d, "level", where, 1.0),
            mono_level=_number(d, "monoLevel", where, 1.0),
            filter_band=_number(d, "filterBand", where, 220.0),
            filter_width=_number(d, "filterWidth", where, 100.0),
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
        d = _fields(data, where)
        return cls(
            speed=_number(d, "speed", where, 1.0),
            pitch=_number(d, "pitch", where, 1.0),
            rate=_number(d, "rate", where, 1.0),
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
        d = _fields(data, where)
        return cls(frequency=_number(d, "frequency", where, 2.0), depth=_number(d, "depth", where, 0.5))

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
        d = _fields(data, where)
        return cls(frequency=_number(d, "frequency", where, 2.0), depth=_number(d, "depth", where, 0.5))

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
        d = _fields(data, where)
        return cls(rotation_hz=_number(d, "rotationHz", where, 0.0))

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
        d = _fields(data, where)
        return cls(
            sin_offset=_number(d, "sinOffset", where, 0.0),
            sin_scale=_number(d, "sinScale", where, 1.0),
            cos_offset=_number(d, "cosOffset", where, 0.0),
            cos_scale=_number(d, "cosScale", where, 1.0),
            tan_offset=_number(d, "tanOffset", where, 0.0),
            tan_scale=_number(d, "tanScale", where, 1.0),
            offset=_number(d, "offset", where, 0.0),
            scale=_number(d, "scale", where, 1.0),
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
        d = _fields(data, where)
        return cls(
            left_to_left=_number(d, "leftToLeft", where, 1.0),
            left_to_right=_number(d, "leftToRight", where, 0.0),
            right_to_left=_number(d, "rightToLeft", where, 0.0),
            right_to_right=_number(d, "rightToRight", where, 1.0),
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
        d = _fields(data, where)
        return cls(smoothing=_number(d, "smoothing", where, 20.0))

    def to_payload(self) -> dict[str, typing.Any]:
        """Return the wire filter."""
        return {"smoothing": self.smoothing}


def _bands(value: typing.Iterable[EqualizerBand] | None) -> tuple[EqualizerBand, ...] | None:
    return None if value is None else tuple(value)


def _names(value: typing.Iterable[str]) -> frozenset[str]:
    return frozenset(value)


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
    _unread: frozenset[str] = attrs.field(
        default=frozenset(), alias="unread", converter=_names, eq=False, hash=False, repr=False
    )

    @property
    def unread(self) -> frozenset[str]:
        """The filters (by wire name) a node reported but that could not be read, so read here as off or at their
        defaults (NodeLink reports the volume filter as ``{}``). Not part of the filters' value: two sets of
        filters are equal whatever they could not read."""
        return self._unread

    def with_unread_from(self, known: Filters) -> Filters:
        """These filters, with each one in `unread` taken from `known` (what the bot last set or saved)."""
        if not self._unread:
            return self
        changes: dict[str, typing.Any] = {}
        for key in self._unread:
            attribute = _ATTRIBUTES.get(key)
            if attribute is not None:
                changes[attribute] = getattr(known, attribute)
        return attrs.evolve(self, unread=frozenset(), **changes)

    @property
    def is_empty(self) -> bool:
        """Whether no filter is set."""
        return self == _NO_FILTERS

    @classmethod
    def from_payload(cls, data: typing.Any, where: str = "filters") -> typing.Self:
        """Parse the wire Filters; a ``null`` filter is off and a filter's missing fields take defaults.

        Read liberally, as servers send them: NodeLink's wrapper (``{"filters": {…}}``) and equalizer object
        (``{"bands": […]}``) are unwrapped; a filter, field or band that cannot be read (NodeLink's volume
        filter ``{}``) is left out or at its default, and noted, rather than costing every other filter.
        """
        if type(data) is not dict:
            unreadable(where, "an object", data)
            return cls()
        d: dict[str, typing.Any] = data
        wrapped = d.get("filters")
        if type(wrapped) is dict:
            note(where, 'wrapped in {"filters": …} (NodeLink)')
            d = wrapped
        kwargs: dict[str, typing.Any] = {}
        unread: set[str] = set()
        volume = d.get("volume")
        if volume is not None:
            if isinstance(volume, (int, float)) and not isinstance(volume, bool):
                kwargs["volume"] = float(volume)
            else:
                unreadable(at(where, "volume"), "a number", volume)
                unread.add("volume")
        equalizer = d.get("equalizer")
        if equalizer is not None:
            bands = _equalizer(equalizer, at(where, "equalizer"))
            if bands is None or (type(equalizer) is list and len(bands) != len(equalizer)):
                unread.add("equalizer")
            kwargs["equalizer"] = bands
        for key, attribute, model in _OBJECT_FILTERS:
            value = d.get(key)
            if value is not None:
                if not _readable(value, _FIELDS[key]):
                    unread.add(key)
                kwargs[attribute] = model.from_payload(value, at(where, key))
        plugin_filters = d.get("pluginFilters")
        if type(plugin_filters) is dict:
            kwargs["plugin_filters"] = plugin_filters
        elif plugin_filters is not None:
            unreadable(at(where, "pluginFilters"), "an object", plugin_filters)
            unread.add("pluginFilters")
        return cls(**kwargs, unread=unread)

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


def _equalizer(data: typing.Any, where: str) -> list[EqualizerBand] | None:
    """The equalizer's bands (NodeLink wraps them: ``{"bands": […]}``); a band without a readable index is left
    out, anything else than an array reads as no equalizer; both noted."""
    if type(data) is dict and type(data.get("bands")) is list:
        note(where, 'sent as {"bands": […]} (NodeLink)')
        data = data["bands"]
    if type(data) is not list:
        unreadable(where, "an array", data)
        return None
    bands = []
    for i, item in enumerate(data):
        try:
            bands.append(EqualizerBand.from_payload(item, at(where, i)))
        except ProtocolError as exc:
            note(exc.where, f"{exc.problem}; band left out", malformed=True)
    return bands


_NO_FILTERS: typing.Final = Filters()
_ATTRIBUTES: typing.Final[typing.Mapping[str, str]] = {
    "volume": "volume",
    "equalizer": "equalizer",
    "pluginFilters": "plugin_filters",
    **{key: attribute for key, attribute, _ in _OBJECT_FILTERS},
}
_FIELDS: typing.Final[typing.Mapping[str, frozenset[str]]] = {
    key: frozenset(model().to_payload()) for key, _, model in _OBJECT_FILTERS
}


def _readable(value: typing.Any, fields: frozenset[str]) -> bool:
    """Whether a filter's object holds only readable values for its fields (missing ones take defaults)."""
    if type(value) is not dict:
        return False
    return all(
        value.get(field) is None or (isinstance(value[field], (int, float)) and not isinstance(value[field], bool))
        for field in fields
    )
