"""Exponential reconnect backoff with jitter, as a frozen policy value."""

from __future__ import annotations

import random
import typing

import attrs

__all__ = ["Backoff"]


def _check_positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"Backoff.{attribute.name} must be > 0, got {value!r}")


@attrs.frozen(kw_only=True, weakref_slot=False)
class Backoff:
    """How long to wait before reconnect attempt number `attempt` (0 for the first retry).

    The delay grows as ``initial * factor ** attempt`` up to `maximum`, then `jitter` removes a random
    fraction of it (up to ``jitter``) so that many clients cut off together do not reconnect in lockstep.
    Being a frozen value it is safe to share; the attempt count is kept by whoever uses it.
    """

    initial: float = attrs.field(default=1.0, validator=_check_positive)
    """Delay in seconds before the first retry (before jitter)."""
    maximum: float = attrs.field(default=60.0, validator=_check_positive)
    """Upper bound of every delay, in seconds."""
    factor: float = attrs.field(default=2.0)
    """Growth factor between consecutive attempts; at least 1."""
    jitter: float = attrs.field(default=0.25)
    """Largest fraction of the delay removed at random, in ``[0, 1)``; 0 disables jitter."""

    @factor.validator
    def _check_factor(self, _: attrs.Attribute[float], value: float) -> None:
        if not value >= 1:
            raise ValueError(f"Backoff.factor must be >= 1, got {value!r}")

    @jitter.validator
    def _check_jitter(self, _: attrs.Attribute[float], value: float) -> None:
        if not 0 <= value < 1:
            raise ValueError(f"Backoff.jitter must be in [0, 1), got {value!r}")

    def base_delay(self, attempt: int) -> float:
        """The delay before attempt `attempt` without jitter: ``min(maximum, initial * factor**attempt)``."""
        if attempt < 0:
            raise ValueError(f"attempt must be >= 0, got {attempt!r}")
        try:
            delay = self.initial * self.factor**attempt
        except OverflowError:
            return self.maximum
        return min(self.maximum, delay)

    def delay(self, attempt: int, *, rng: random.Random | None = None) -> float:
        """The jittered delay before attempt `attempt`: in ``(base * (1 - jitter), base]``.

        `rng` is the random source (the `random` module's when None); tests pass a seeded one.
        """
        base = self.base_delay(attempt)
        if not self.jitter:
            return base
        draw = rng.random() if rng is not None else random.random()
        return base * (1.0 - self.jitter * draw)

    def delays(self, *, rng: random.Random | None = None) -> typing.Iterator[float]:
        """Yield the delays of attempts 0, 1, 2, ... forever."""
        attempt = 0
        while True:
            yield self.delay(attempt, rng=rng)
            attempt += 1
