"""The gRPC-Web bridge (gateway/web_bridge.py) as a browser meets it, with a stand-in servicer
registered through the same `add_service` guard the gateway uses: the answer's framing (sonora's
two repairs), CORS for the app origin only, the body cap, undecodable requests, the caller's
address for the rate limit, and the page's static origin."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any, Final

import grpc
import httpx
import pytest

from gateway.config import WebBridge
from gateway.web_bridge import Bridge, grpc_web_server, listening_socket, start_web
from proto.votestore.v1 import gateway_pb2, gateway_pb2_grpc
from votestore.config_file import parse
from votestore.errors import ConfigError
from votestore.grpc_service import add_service

ORIGIN: Final = "http://127.0.0.1:8181"
CAP: Final = 2048
PATH: Final = "/votestore.v1.Gateway/GetElection"
BROWSER_HEADERS: Final = {
    "content-type": "application/grpc-web+proto",
    "x-grpc-web": "1",
    "accept": "*/*",  # what fetch sends: the answer must still say grpc-web+proto
    "origin": ORIGIN,
}


class Servicer(gateway_pb2_grpc.GatewayServicer):
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def GetElection(self, request: Any, context: Any) -> gateway_pb2.ElectionInfo:
        self.calls.append(request.election_id)
        if request.election_id == "missing":
            await context.abort(grpc.StatusCode.NOT_FOUND, "unknown election 'missing'")
        return gateway_pb2.ElectionInfo(chain_id=f"seen from {context.peer()}")


def frame(message: bytes, flags: int = 0) -> bytes:
    return struct.pack(">BI", flags, len(message)) + message


def frames(body: bytes) -> list[tuple[int, bytes]]:
    out = []
    while body:
        flags, length = struct.unpack(">BI", body[:5])
        out.append((flags, body[5 : 5 + length]))
        body = body[5 + length :]
    return out


def call(
    servicer: Servicer, body: bytes, headers: dict[str, str] = BROWSER_HEADERS, method: str = "POST"
) -> httpx.Response:
    server = grpc_web_server()
    add_service(server, servicer, gateway_pb2.DESCRIPTOR.services_by_name["Gateway"])
    transport = httpx.ASGITransport(app=Bridge(server, ORIGIN, CAP), client=("10.1.2.3", 5555))

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
            return await client.request(method, PATH, content=body, headers=headers)

    return asyncio.run(go())


def request(election: str) -> bytes:
    return frame(gateway_pb2.GetElectionGatewayRequest(election_id=election).SerializeToString())


def test_answer_is_a_message_frame_then_a_trailer_frame_with_the_status() -> None:
    servicer = Servicer()
    answer = call(servicer, request("city-2026"))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/grpc-web+proto"
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    (flags, message), (trailer_flags, trailers) = frames(answer.content)
    assert flags == 0 and trailer_flags == 0x80
    assert gateway_pb2.ElectionInfo.FromString(message).chain_id == "seen from ipv4:10.1.2.3:5555"
    assert trailers.split(b"\r\n")[0] == b"grpc-status: 0"  # sonora 0.2.3 wrote "b'grpc-status': b'0'"
    assert servicer.calls == ["city-2026"]


def test_a_refusal_carries_its_status_and_message() -> None:
    answer = call(Servicer(), request("missing"))
    assert answer.headers["grpc-status"] == str(grpc.StatusCode.NOT_FOUND.value[0])
    assert "unknown%20election" in answer.headers["grpc-message"]


def test_another_origin_is_refused_before_the_servicer() -> None:
    servicer = Servicer()
    answer = call(servicer, request("city-2026"), {**BROWSER_HEADERS, "origin": "http://evil.example"})
    assert answer.status_code == 403 and "access-control-allow-origin" not in answer.headers
    assert servicer.calls == []


def test_preflight_allows_the_app_origin_only() -> None:
    preflight = {"origin": ORIGIN, "access-control-request-method": "POST"}
    answer = call(Servicer(), b"", preflight, method="OPTIONS")
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert "x-grpc-web" in answer.headers["access-control-allow-headers"]
    refused = call(Servicer(), b"", {**preflight, "origin": "http://evil.example"}, method="OPTIONS")
    assert refused.status_code == 403


def test_a_body_over_the_cap_is_refused_unread() -> None:
    servicer = Servicer()
    answer = call(servicer, request("x" * (CAP + 10)))
    assert answer.headers["grpc-status"] == str(grpc.StatusCode.RESOURCE_EXHAUSTED.value[0])
    assert servicer.calls == []


def test_bytes_that_do_not_decode_get_invalid_argument() -> None:
    servicer = Servicer()
    answer = call(servicer, frame(b"\xff\xff\xff"))
    assert answer.headers["grpc-status"] == str(grpc.StatusCode.INVALID_ARGUMENT.value[0])
    assert servicer.calls == []


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_other_methods_are_refused(method: str) -> None:
    assert call(Servicer(), b"", method=method).status_code == 405


def test_the_gateway_serves_no_page() -> None:
    """The page comes from an origin of its own (`votestore web serve`, tests/web/
    test_bundle_origin.py): a gateway config that still asks it to serve one is refused."""
    with pytest.raises(ConfigError, match="unknown keys"):
        parse(WebBridge, {"listen": "127.0.0.1:0", "app_origin": ORIGIN, "app_dir": "web/dist"}, "web")


def test_a_live_listener_keeps_its_port_but_a_dead_ones_is_taken_at_once() -> None:
    """SO_REUSEADDR lets a restarted gateway bind while the crashed one's connections sit in
    TIME_WAIT (the browser test's gateway kill found the restart refused), and still refuses a
    second live listener on the same address."""
    first = listening_socket("127.0.0.1:0")
    port = first.getsockname()[1]
    try:
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            listening_socket(f"127.0.0.1:{port}")
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = first.accept()
        accepted.close()  # the server side closes first: its end goes to TIME_WAIT
        client.close()
    finally:
        first.close()
    again = listening_socket(f"127.0.0.1:{port}")
    again.close()


def test_served_for_real_then_stopped_cleanly_with_its_port_closed() -> None:
    """Hypercorn on a real loopback socket, in this event loop: the bridge answers a browser's
    preflight, and `stop` returns without error (it once closed the socket Hypercorn had already
    closed: EBADF at every gateway stop) and leaves the port closed."""
    web = WebBridge(listen="127.0.0.1:0", app_origin=ORIGIN)

    async def go() -> tuple[int, int]:
        serving = await start_web(web, grpc_web_server(), CAP)
        async with httpx.AsyncClient() as client:
            preflight = await client.options(
                f"http://127.0.0.1:{serving.bridge_port}{PATH}",
                headers={"origin": ORIGIN, "access-control-request-method": "POST"},
            )
        await serving.stop()
        return preflight.status_code, serving.bridge_port

    preflight, port = asyncio.run(go())
    assert preflight == 204
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
