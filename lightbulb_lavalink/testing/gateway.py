"""Drive a real, never-started `hikari.GatewayBot` with the gateway payloads Discord sends.

Nothing here talks to Discord. `make_bot` builds a `GatewayBot` whose cache and event manager work without
starting it (its REST client is inactive and points at a closed loopback port, so any REST call fails
loudly). `FakeDiscord` is a small model of Discord's side (the bot user, guilds, channels, members, voice
states, the bot's gateway session) that feeds READY, GUILD_CREATE, VOICE_STATE_UPDATE and VOICE_SERVER_UPDATE
payloads, shaped exactly as Discord sends them, through `bot.event_manager.consume_raw_event`.
`FakeVoiceGateway` stands in for the one call that would leave the machine, `update_voice_state`, and
answers as Discord does.

```python
bot = make_bot()
discord = FakeDiscord()
guild = await discord.add_guild(voice_channels=2, members=3)
await discord.connect(bot)                       # READY + GUILD_CREATE
async with FakeVoiceGateway(discord) as voice:   # pass as LavalinkClient(..., voice_gateway=voice)
    await voice.update_voice_state(guild.id, guild.voice_channel_ids[0], self_mute=False, self_deaf=True)
    await voice.wait_idle()                      # VOICE_STATE_UPDATE then VOICE_SERVER_UPDATE were fed
    await discord.connect(make_bot())            # a bot restart: new process, new gateway session id
```
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_BOT_ID",
    "FakeDiscord",
    "FakeGuild",
    "FakeShard",
    "FakeVoiceGateway",
    "GatewayOfflineError",
    "PayloadRejectedError",
    "VoiceCall",
    "VoiceRecord",
    "guild_create_payload",
    "make_bot",
    "make_token",
    "member_payload",
    "ready_payload",
    "text_channel_payload",
    "user_payload",
    "voice_channel_payload",
    "voice_server_update_payload",
    "voice_state_payload",
]

# The pieces live in their own modules; this one gathers them under the documented import path.
from lightbulb_lavalink.testing.fake_discord import FakeDiscord, FakeGuild, PayloadRejectedError, VoiceRecord
from lightbulb_lavalink.testing.gateway_payloads import (
    guild_create_payload,
    member_payload,
    ready_payload,
    text_channel_payload,
    user_payload,
    voice_channel_payload,
    voice_server_update_payload,
    voice_state_payload,
)
from lightbulb_lavalink.testing.offline_bot import (
    DEFAULT_BOT_ID,
    FakeShard,
    GatewayOfflineError,
    make_bot,
    make_token,
)
from lightbulb_lavalink.testing.voice_gateway import FakeVoiceGateway, VoiceCall
