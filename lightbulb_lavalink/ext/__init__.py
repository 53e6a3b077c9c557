"""The hikari-lightbulb glue: lightbulb 3 `Loader`, lightbulb 2 `load`/`unload`, the `/lavalink` commands.

`lightbulb_lavalink.ext.lightbulb3` and `lightbulb_lavalink.ext.lightbulb2` import their lightbulb major; the
other modules here (settings lookup, access rule, status views and embeds) need only hikari and the core, so
they import under either major.
"""

from __future__ import annotations

__all__: list[str] = []
