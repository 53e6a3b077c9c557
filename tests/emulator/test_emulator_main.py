"""``python -m lightbulb_lavalink.testing`` serves until SIGINT/SIGTERM and shuts down cleanly."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

import aiohttp
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_module_serves_until_signalled(sig: signal.Signals) -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "lightbulb_lavalink.testing", "--host", "127.0.0.1", "--port", str(port),
        "--password", "youshallnotpass", "--version", "4.1.2",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        version = None
        async with aiohttp.ClientSession() as http:
            for _ in range(300):  # wait for the server to come up (failsafe, not a timing assertion)
                try:
                    async with http.get(
                        f"http://127.0.0.1:{port}/version", headers={"Authorization": "youshallnotpass"}
                    ) as response:
                        version = await response.text()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
        assert version == "4.1.2"
        process.send_signal(sig)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    log = stderr.decode()
    assert f"listening on http://127.0.0.1:{port}" in log
    assert "stopped" in log
