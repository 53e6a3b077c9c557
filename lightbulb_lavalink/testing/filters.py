"""Player filters as the emulator keeps them: parsed from a PATCH body, rendered back as player JSON."""

from __future__ import annotations

import typing

from lightbulb_lavalink.testing.wire import HttpError, read_float, read_int, read_object

__all__ = ["FILTER_NAMES", "FilterSet", "parse_filters"]

FILTER_NAMES: tuple[str, ...] = (
    "volume",
    "equalizer",
    "karaoke",
    "timescale",
    "tremolo",
    "vibrato",
    "distortion",
    "rotation",
    "channelMix",
    "lowPass",
)
"""The built-in filters in the order Lavalink writes them (``/v4/info`` and player JSON)."""

_OBJECT_DEFAULTS: dict[str, tuple[tuple[str, float], ...]] = {
    "karaoke": (("level", 1.0), ("monoLevel", 1.0), ("filterBand", 220.0), ("filterWidth", 100.0)),
    "timescale": (("speed", 1.0), ("pitch", 1.0), ("rate", 1.0)),
    "tremolo": (("frequency", 2.0), ("depth", 0.5)),
    "vibrato": (("frequency", 2.0), ("depth", 0.5)),
    "distortion": (
        ("sinOffset", 0.0),
        ("sinScale", 1.0),
        ("cosOffset", 0.0),
        ("cosScale", 1.0),
        ("tanOffset", 0.0),
        ("tanScale", 1.0),
        ("offset", 0.0),
        ("scale", 1.0),
    ),
    "rotation": (("rotationHz", 0.0),),
    "channelMix": (("leftToLeft", 1.0), ("leftToRight", 0.0), ("rightToLeft", 0.0), ("rightToRight", 1.0)),
    "lowPass": (("smoothing", 20.0),),
}

_BAND_COUNT = 15


class FilterSet:
    """One player's filter chain: the filters present in the last ``filters`` PATCH (absent or null = off)."""

    __slots__ = ("_values", "present")

    def __init__(self, values: dict[str, typing.Any] | None = None, present: tuple[str, ...] = ()) -> None:
        self._values: dict[str, typing.Any] = dict(values or {})
        self.present = present
        """The filter keys the request named (null ones included): what the disabled-filter check looks at."""

    @property
    def values(self) -> dict[str, typing.Any]:
        """Enabled filters: ``volume`` float, ``equalizer`` list of ``(band, gain)``, others field → float."""
        return dict(self._values)

    @property
    def speed(self) -> float:
        """How fast the track position advances under the timescale filter (``speed * rate``)."""
        timescale = self._values.get("timescale")
        if timescale is None:
            return 1.0
        return float(timescale["speed"]) * float(timescale["rate"])

    def check_bands(self) -> None:
        """Raise the 500 a real server gives when an equalizer band index is outside 0..14."""
        for band, _ in self._values.get("equalizer", ()):
            if not 0 <= band < _BAND_COUNT:
                raise HttpError(
                    500,
                    f"Index {band} out of bounds for length {_BAND_COUNT}",
                    exception="java.lang.ArrayIndexOutOfBoundsException",
                )

    def to_nodelink_json(self) -> dict[str, typing.Any]:
        """The filters as NodeLink reports them (see `_nodelink_json`)."""
        return _nodelink_json(self)

    def to_json(self, *, omit_defaults: bool) -> dict[str, typing.Any]:
        """Player JSON ``filters``: enabled filters in wire order; 4.0.x omits sub-fields at their default."""
        out: dict[str, typing.Any] = {}
        for name in FILTER_NAMES:
            if name not in self._values:
                continue
            value = self._values[name]
            if name == "volume":
                out[name] = value
            elif name == "equalizer":
                out[name] = [
                    {"band": band} if omit_defaults and gain == 1.0 else {"band": band, "gain": gain}
                    for band, gain in value
                ]
            else:
                out[name] = {
                    field: value[field]
                    for field, default in _OBJECT_DEFAULTS[name]
                    if not (omit_defaults and value[field] == default)
                }
        return out


def _nodelink_json(filters: FilterSet) -> dict[str, typing.Any]:
    """NodeLink's player ``filters`` (transcript 04): wrapped in ``{"filters": …}``, every field written, the
    volume filter as ``{}`` and the equalizer as ``{"bands": […]}``."""
    inner = filters.to_json(omit_defaults=False)
    if "volume" in inner:
        inner["volume"] = {}
    if "equalizer" in inner:
        inner["equalizer"] = {"bands": inner["equalizer"]}
    return {"filters": inner}


def parse_filters(raw: object) -> FilterSet:
    """Read a request's ``filters`` object strictly (400 on wrong types or a null volume/equalizer).

    Unknown keys are ignored; ``pluginFilters`` is accepted and dropped (the emulator has no plugins).
    """
    body = read_object(raw, "filters")
    values: dict[str, typing.Any] = {}
    present: list[str] = []
    for name in FILTER_NAMES:
        if name not in body:
            continue
        present.append(name)
        item = body[name]
        where = f"filters.{name}"
        if name == "volume":
            values[name] = read_float(item, where)
        elif name == "equalizer":
            if not isinstance(item, list):
                raise HttpError(400, f"Failed to read request: expected an array at '{where}'")
            bands: list[tuple[int, float]] = []
            for index, entry in enumerate(item):
                band_obj = read_object(entry, f"{where}[{index}]")
                if "band" not in band_obj:
                    raise HttpError(400, f"Failed to read request: missing field 'band' at '{where}[{index}]'")
                band = read_int(band_obj["band"], f"{where}[{index}].band", bits=32)
                gain = read_float(band_obj["gain"], f"{where}[{index}].gain") if "gain" in band_obj else 1.0
                bands.append((band, gain))
            values[name] = bands
        elif item is not None:
            obj = read_object(item, where)
            values[name] = {
                field: read_float(obj[field], f"{where}.{field}") if field in obj else default
                for field, default in _OBJECT_DEFAULTS[name]
            }
    if "pluginFilters" in body:
        read_object(body["pluginFilters"], "filters.pluginFilters")
    return FilterSet(values, tuple(present))
