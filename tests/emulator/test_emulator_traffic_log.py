"""FakeLavalink's request and handshake logs: what a user's bot sent, in order, never with the password."""

from __future__ import annotations

import aiohttp

from lightbulb_lavalink.testing import FakeLavalink

PASSWORD = "s3cret-node-password"


async def test_requests_are_logged_with_body_status_and_the_password_hidden() -> None:
    async with FakeLavalink(password=PASSWORD) as node, aiohttp.ClientSession() as http:
        async with http.get(
            f"{node.url}/v4/loadtracks", params={"identifier": "ytsearch:x"}, headers={"Authorization": PASSWORD}
        ) as response:
            assert response.status == 200
        async with http.patch(
            f"{node.url}/v4/sessions/nope", json={"resuming": True, "timeout": 60}, headers={"Authorization": "wrong"}
        ) as response:
            assert response.status == 403
        load, patch = node.requests
        assert (load.method, load.path, load.query, load.status) == (
            "GET",
            "/v4/loadtracks",
            {"identifier": "ytsearch:x"},
            200,
        )
        assert load.password_ok and load.headers["Authorization"] == "***"
        assert (patch.method, patch.body, patch.status, patch.password_ok) == (
            "PATCH",
            {"resuming": True, "timeout": 60},
            403,
            False,
        )
        assert PASSWORD not in repr(node.requests) and "wrong" not in repr(node.requests)
        assert node.traffic.requests_to("patch", "/v4/sessions") == [patch]
        node.traffic.clear()
        assert node.requests == []


async def test_handshakes_are_logged_accepted_or_refused() -> None:
    async with FakeLavalink(password=PASSWORD) as node, aiohttp.ClientSession() as http:
        headers = {"Authorization": PASSWORD, "User-Id": "42", "Client-Name": "my-bot/1.0"}
        async with http.ws_connect(f"{node.url}/v4/websocket", headers=headers) as ws:
            await ws.receive()  # ready
        refused = {**headers, "Authorization": "guess", "Session-Id": "abc"}
        try:
            async with http.ws_connect(f"{node.url}/v4/websocket", headers=refused):
                pass
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 401
        first, second = node.handshakes
        assert (first.status, first.password_ok, first.user_id, first.client_name, first.resumed) == (
            101,
            True,
            "42",
            "my-bot/1.0",
            False,
        )
        assert (second.status, second.password_ok, second.session_id) == (401, False, "abc")
        assert second.headers["Authorization"] == "***"
        assert node.requests == []  # the websocket is not a REST request
