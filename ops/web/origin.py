"""The voter page's static origin (`votestore web serve`): a process of its own, apart from the
gateway, serving a built page folder (docs/web.md, "The bundle on the ledger").

What must hold:
- Only the files the folder's manifest lists are served, read and checked against it once at
  start (so a file changed on disk afterwards is not served), plus `config.json` (the bridge's
  address) and `genesis.json`; everything else is 404 — no directory listing, no path walking.
- Each answer has its MIME type from a fixed table, `nosniff`, no referrer, and a
  Content-Security-Policy whose `script-src` is the SHA-384 of the page's one script (for an
  HTML page: its own; otherwise the voter bundle's): a browser runs no script but those bytes,
  inline or from anywhere (CSP 3 hash-sources match an external script through its integrity
  attribute).
- No access log: nothing here logs a path, and the personal link's secret is in the fragment,
  which a browser never sends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hypercorn.asyncio import serve as hypercorn_serve

from gateway.web_bridge import hypercorn_config, listening_socket
from ops.web.bundle import INDEX_FILE, BuiltPage
from votestore.errors import ConfigError
from votestore.serving import until_stopped

log = logging.getLogger("votestore.web.origin")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MIME: Final = {
    ".html": b"text/html; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".json": b"application/json",
    ".png": b"image/png",
    ".svg": b"image/svg+xml",
    ".ico": b"image/x-icon",
}
"""The only types served; a listed file of another kind is refused at start."""
APP_CONFIG_PATH: Final = "/config.json"
"""Where the page learns the bridge's address: from the origin that serves it, not from the link."""
APP_GENESIS_PATH: Final = "/genesis.json"
"""The genesis the page checks receipts against."""


def content_security_policy(integrity: str, bridge_url: str) -> str:
    """Scripts: the bundle's bytes only. Connections: this origin (config, genesis) and the bridge."""
    return (
        f"default-src 'none'; script-src '{integrity}'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {bridge_url}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@dataclass(frozen=True, slots=True)
class _Answer:
    body: bytes
    content_type: bytes
    policy: bytes = b""
    """This answer's Content-Security-Policy; empty: the voter page's."""


class PageOrigin:
    """The ASGI application: a fixed map from path to bytes, decided at start."""

    def __init__(self, page: BuiltPage, bridge_url: str, genesis_json: bytes) -> None:
        answers: dict[str, _Answer] = {}
        for name, data in page.files.items():
            suffix = Path(name).suffix
            if suffix not in MIME:
                raise ValueError(f"{name}: no MIME type for {suffix!r} files")
            own = page.page_integrity.get(name)
            policy = b"" if own is None else content_security_policy(own, bridge_url).encode()
            answers[f"/{name}"] = _Answer(data, MIME[suffix], policy)
        answers["/"] = answers[f"/{INDEX_FILE}"]
        answers[APP_CONFIG_PATH] = _Answer(json.dumps({"gateway": bridge_url}).encode(), MIME[".json"])
        answers[APP_GENESIS_PATH] = _Answer(genesis_json, MIME[".json"])
        self._answers = answers
        self._policy = content_security_policy(page.integrity, bridge_url).encode()
        self._headers = [
            (b"referrer-policy", b"no-referrer"),
            (b"x-content-type-options", b"nosniff"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cache-control", b"no-cache"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan: nothing to set up
        method = scope["method"]
        answer = self._answers.get(scope["path"])
        if method not in ("GET", "HEAD"):
            status, answer = 405, _Answer(b"GET only\n", b"text/plain; charset=utf-8")
        elif answer is None:
            status, answer = 404, _Answer(b"not found\n", b"text/plain; charset=utf-8")
        else:
            status = 200
        headers = [
            *self._headers,
            (b"content-security-policy", answer.policy or self._policy),
            (b"content-type", answer.content_type),
            (b"content-length", str(len(answer.body)).encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else answer.body})


def check_tls_files(tls: tuple[Path, Path]) -> None:
    """ConfigError, one line, unless the certificate chain and key load (before serving starts,
    so that a bad file is not a traceback from inside the server)."""
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(tls[0]), str(tls[1]))
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"TLS certificate {tls[0]} with key {tls[1]} does not load: {exc}") from None


async def serve_page(
    origin: PageOrigin, listen: str, ready: Callable[[int], None], tls: tuple[Path, Path] | None = None
) -> None:
    """Serve `origin` on `listen` until the process's SIGTERM or SIGINT, over TLS with `tls`
    (certificate chain, key: PEM files); `ready` gets the port."""
    sock = listening_socket(listen)
    port: int = sock.getsockname()[1]
    config = hypercorn_config(sock, log)
    if tls is not None:
        config.certfile, config.keyfile = str(tls[0]), str(tls[1])
    serve: Any = hypercorn_serve  # its ASGI types are narrower than the plain mappings used here
    task = asyncio.create_task(serve(origin, config, shutdown_trigger=until_stopped))
    ready(port)
    await task
