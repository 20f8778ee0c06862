"""The voter page's way in: the Gateway and IdentityProvider services over gRPC-Web (docs/web.md).

The browser cannot speak gRPC (it has no HTTP/2 trailers), so the page calls the very servicer
objects the gRPC server serves — registered with the same `add_service` guard, behind the same
rate limits and status mapping — through `sonora`'s gRPC-Web ASGI application, served by
Hypercorn on a port of its own, in the gateway's own event loop. Nothing here knows a message:
there is no JSON mirror of the proto.

What must hold:
- Cross-origin calls are answered for the one configured app origin only; sonora's own CORS (which
  echoes the caller's host) is off.
- A request body is read whole, bounded by the gateway's `max_message_bytes`, before sonora sees
  it (sonora itself reads without a bound).
- No access log: the page's personal link keeps the credential in the URL fragment, which a
  browser never sends, and nothing here logs a path or a body either.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

import grpc
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config as HypercornConfig
from sonora.asgi import ServicerContext, grpcASGI
from sonora.protocol import pack_trailers

from gateway.config import WebBridge
from votestore.errors import ConfigError

log = logging.getLogger("votestore.gateway.web")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

GRPC_WEB_CONTENT_TYPE: Final = b"application/grpc-web+proto"
GRPC_WEB_FRAME_HEADER_BYTES: Final = 5
"""A gRPC-Web message frame: one flag byte and a 4-byte length before the message."""
PREFLIGHT_MAX_AGE_S: Final = 600
ALLOWED_HEADERS: Final = b"content-type, x-grpc-web, x-user-agent, grpc-timeout"
EXPOSED_HEADERS: Final = b"grpc-status, grpc-message"
SHUTDOWN_GRACE_S: Final = 2.0


class _Context(ServicerContext):  # type: ignore[misc]
    """sonora's context, with the caller's address (the gateway's per-client rate limit keys on
    `peer()`, which sonora leaves unimplemented) and the gRPC-Web content type on every answer
    (sonora copies the request's Accept header, which a browser's fetch sends as */*, and
    Connect-ES refuses an answer of that type)."""

    def __init__(self, peer: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._peer = peer
        self._response_headers = [(b"content-type", GRPC_WEB_CONTENT_TYPE)]

    def peer(self) -> str:
        return self._peer


class _GrpcWeb(grpcASGI):  # type: ignore[misc]
    """sonora's gRPC-Web application with two repairs, both pinned by tests/gateway/test_web_bridge.py:
    the context above, and the unary answer's trailer frame, which sonora 0.2.3 writes from bytes
    keys as "b'grpc-status': b'0'" (no client finds a status in it). Every Gateway and
    IdentityProvider method is unary, so no other path of sonora is used."""

    def _create_context(self, scope: Scope) -> _Context:
        plain: ServicerContext = super()._create_context(scope)
        client = scope.get("client") or ("unknown", 0)
        return _Context(f"ipv4:{client[0]}:{client[1]}", plain._timeout, plain._invocation_metadata, False)

    async def _do_unary_response(
        self, rpc_method: Any, receive: Receive, send: Send, wrap_message: Any, context: Any, coroutine: Any
    ) -> None:
        message = None if coroutine is None else await coroutine
        body = b"" if message is None else wrap_message(False, False, rpc_method.response_serializer(message))
        trailers = [("grpc-status", str(context.code.value[0]))]
        if context.details:
            trailers.append(("grpc-message", quote(context.details)))
        body += wrap_message(True, False, pack_trailers(trailers))
        headers = [*context._response_headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def grpc_web_server() -> Any:
    """The object servicers are registered on (`add_service`), like a `grpc.aio.server`."""
    return _GrpcWeb(enable_cors=False)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


async def _plain(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                *headers,
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class Bridge:
    """CORS for the app origin and a bounded body, in front of the gRPC-Web application."""

    def __init__(self, grpc_web: App, app_origin: str, max_message_bytes: int) -> None:
        self._inner = grpc_web
        self._origin = app_origin.rstrip("/").encode()
        self._max_body = max_message_bytes + GRPC_WEB_FRAME_HEADER_BYTES

    def _cors(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"access-control-allow-origin", self._origin),
            (b"access-control-expose-headers", EXPOSED_HEADERS),
            (b"vary", b"origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan and websockets: nothing to do
        origin = _header(scope, b"origin")
        if origin is not None and origin != self._origin:
            await _plain(send, 403, "origin not allowed", [(b"vary", b"origin")])
            return
        cors = self._cors() if origin is not None else []
        if scope["method"] == "OPTIONS":
            await _plain(
                send,
                204 if origin is not None else 400,
                "",
                [
                    *cors,
                    (b"access-control-allow-methods", b"POST, OPTIONS"),
                    (b"access-control-allow-headers", ALLOWED_HEADERS),
                    (b"access-control-max-age", str(PREFLIGHT_MAX_AGE_S).encode()),
                ],
            )
            return
        if scope["method"] != "POST":
            await _plain(send, 405, "gRPC-Web takes POST only", cors)
            return
        body = await self._read_body(receive)
        if body is None:
            await _grpc_status(send, cors, grpc.StatusCode.RESOURCE_EXHAUSTED, "request over the size cap")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        await self._inner(scope, replay, with_cors)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes the cap (the rest is not read)."""
        chunks = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return bytes(chunks)
            chunks += message.get("body", b"")
            if len(chunks) > self._max_body:
                return None
            if not message.get("more_body", False):
                return bytes(chunks)


async def _grpc_status(
    send: Send, cors: list[tuple[bytes, bytes]], code: grpc.StatusCode, details: str
) -> None:
    """A gRPC-Web answer with no message: the status in the headers (trailers-only)."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                *cors,
                (b"content-type", GRPC_WEB_CONTENT_TYPE),
                (b"grpc-status", str(code.value[0]).encode()),
                (b"grpc-message", quote(details).encode()),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def listening_socket(listen: str) -> socket.socket:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # A restart after a crash must not wait out the dead process's TIME_WAIT connections;
    # SO_REUSEADDR (not SO_REUSEPORT) still refuses a second live listener (votestore/serving.py).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, int(port)))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {listen}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


@dataclass(slots=True)
class WebServing:
    """The bridge, running in this event loop."""

    bridge_port: int
    task: asyncio.Task[None]
    stopping: asyncio.Event

    async def stop(self) -> None:
        """Hypercorn stops serving and closes the listening socket it was handed."""
        self.stopping.set()
        try:
            await asyncio.wait_for(self.task, SHUTDOWN_GRACE_S)
        except TimeoutError:
            self.task.cancel()


def hypercorn_config(sock: socket.socket, errors: logging.Logger = log) -> HypercornConfig:
    """Hypercorn's config serving on `sock`, whose descriptor it takes over: detached here, so
    that only Hypercorn closes it (a second close at shutdown hit EBADF, or another descriptor
    that had taken the number since). No access log; errors to `errors`."""
    config = HypercornConfig()
    config.bind = [f"fd://{sock.detach()}"]
    config.accesslog = None
    config.errorlog = errors
    config.graceful_timeout = SHUTDOWN_GRACE_S
    return config


async def start_web(web: WebBridge, grpc_web: Any, max_message_bytes: int) -> WebServing:
    """Bind the bridge, then serve it until `stop`. The voter page is served apart, by
    `votestore web serve` (ops/web/origin.py), never by the gateway."""
    stopping = asyncio.Event()
    sock = listening_socket(web.listen)
    bridge_port: int = sock.getsockname()[1]
    bridge = Bridge(grpc_web, web.app_origin, max_message_bytes)
    serve: Any = hypercorn_serve  # its ASGI types are narrower than the plain mappings used here
    task = asyncio.create_task(serve(bridge, hypercorn_config(sock), shutdown_trigger=stopping.wait))
    return WebServing(bridge_port, task, stopping)
