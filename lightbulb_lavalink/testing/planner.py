"""An emulated route planner (``RotatingIpRoutePlanner``) for the ``/v4/routeplanner`` endpoints."""

from __future__ import annotations

import ipaddress
import time
import typing

from lightbulb_lavalink.testing.wire import HttpError

__all__ = ["FakeRoutePlanner"]


class FakeRoutePlanner:
    """A rotating IPv6 /64 planner whose failing addresses tests can add and the free endpoints remove."""

    def __init__(self) -> None:
        self.failing: dict[str, int] = {}
        """Failing addresses → epoch milliseconds they were marked failing."""

    def mark_failing(self, address: str, at_ms: int | None = None) -> None:
        """Mark `address` failing (as if a source had rate-limited it)."""
        self.failing[address] = int(time.time() * 1000) if at_ms is None else at_ms

    def free(self, address: str) -> None:
        """Unmark one address; 400 ``Invalid address`` if it is not an IP address."""
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise HttpError(400, f"Invalid address: {address}") from None
        self.failing.pop(address, None)

    def free_all(self) -> None:
        """Unmark every address."""
        self.failing.clear()

    def status_json(self) -> dict[str, typing.Any]:
        """The RoutePlannerStatus body: ``class`` and ``details``."""
        return {
            "class": "RotatingIpRoutePlanner",
            "details": {
                "ipBlock": {"type": "Inet6Address", "size": "18446744073709551616"},
                "failingAddresses": [
                    {
                        "failingAddress": address,
                        "failingTimestamp": at,
                        "failingTime": time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(at / 1000)),
                    }
                    for address, at in self.failing.items()
                ],
                "rotateIndex": "0",
                "ipIndex": "0",
                "currentAddress": "2001:db8::1",
            },
        }
