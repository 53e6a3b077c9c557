"""Peer drivers: each module drives one other Lavalink client library and runs in `benchmarks/.peers/venv`.

They import only the stdlib, aiohttp, the peer library and `benchmarks._vectors` / `benchmarks._drive`, never
`lightbulb_lavalink` (which is not installed in the peers' environment).
"""
