"""A local SMS provider and a local SMTP server for the notices tests and bench.notices.

FakeSmsProvider: an HTTP server on 127.0.0.1 (a thread) with the shape of a typical provider API:
POST /v1/messages with an `Idempotency-Key` header answers {"messageId"}; a repeated key answers
the first message's id and sends nothing. GET /v1/messages/<id> answers {"status"}: SENT until
`report_delay_s` has passed, then DELIVERED. It fails every `fail_every`-th request with a 503 —
alternately BEFORE doing the work and AFTER it (the reply lost: a client that retries without the
key would send twice) — and sleeps a seeded random time up to `max_delay_s` on each request.

SmtpSink: aiosmtpd's Controller on 127.0.0.1, counting each Message-ID it receives.
"""

from __future__ import annotations

import email
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from ops.cluster import free_port


@dataclass
class ProviderLog:
    requests: int = 0
    failed_before: int = 0
    failed_after: int = 0
    repeats: int = 0
    created: Counter[str] = field(default_factory=Counter)
    """Messages actually sent to a phone, by idempotency key."""
    ids: dict[str, str] = field(default_factory=dict)
    created_at: dict[str, float] = field(default_factory=dict)
    bodies: list[dict[str, Any]] = field(default_factory=list)


class FakeSmsProvider:
    def __init__(
        self,
        *,
        seed: int = 1,
        fail_every: int = 10,
        max_delay_s: float = 0.05,
        report_delay_s: float = 0.05,
        token: str = "test-token",
        keep_bodies: bool = True,
    ) -> None:
        self.log = ProviderLog()
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.fail_every = fail_every
        self.max_delay_s = max_delay_s
        self.report_delay_s = report_delay_s
        self.token = token
        self.keep_bodies = keep_bodies
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _answer(self, code: int, document: dict[str, Any]) -> None:
                raw = json.dumps(document).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                code, document = provider.post(
                    self.path,
                    self.headers.get("Authorization", ""),
                    self.headers.get("Idempotency-Key", ""),
                    body,
                )
                self._answer(code, document)

            def do_GET(self) -> None:
                code, document = provider.get(self.path)
                self._answer(code, document)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1/messages"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeSmsProvider:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _fault(self) -> tuple[str, float]:
        """Under the lock: this request's fate ("", "before", "after") and its delay."""
        self.log.requests += 1
        n = self.log.requests
        fate = ""
        if self.fail_every and n % self.fail_every == 0:
            fate = "before" if (n // self.fail_every) % 2 else "after"
        return fate, self._rng.uniform(0, self.max_delay_s)

    def post(self, path: str, auth: str, key: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            fate, delay = self._fault()
        time.sleep(delay)
        if path != "/v1/messages":
            return 404, {"error": "no such path"}
        if auth != f"Bearer {self.token}":
            return 401, {"error": "bad token"}
        if not key:
            return 400, {"error": "Idempotency-Key required"}
        try:
            document = json.loads(body)
        except ValueError:
            return 400, {"error": "body is not JSON"}  # a request cut by the client's death
        if fate == "before":
            with self._lock:
                self.log.failed_before += 1
            return 503, {"error": "busy"}
        with self._lock:
            if key in self.log.ids:
                self.log.repeats += 1
            else:
                self.log.ids[key] = f"m{len(self.log.ids) + 1}"
                self.log.created[key] += 1
                self.log.created_at[key] = time.monotonic()
                if self.keep_bodies:
                    self.log.bodies.append(document)
            message_id = self.log.ids[key]
            if fate == "after":
                self.log.failed_after += 1
                return 503, {"error": "busy"}
        return 200, {"messageId": message_id, "status": "ACCEPTED"}

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            fate, delay = self._fault()
            by_id = {v: k for k, v in self.log.ids.items()}
        time.sleep(delay)
        if fate:
            return 503, {"error": "busy"}
        message_id = path.rsplit("/", 1)[-1]
        key = by_id.get(message_id)
        if key is None:
            return 404, {"error": "no such message"}
        ready = time.monotonic() - self.log.created_at[key] >= self.report_delay_s
        return 200, {"messageId": message_id, "status": "DELIVERED" if ready else "SENT"}


class SmtpSink:
    """Counts received Message-IDs; `refuse` holds addresses answered 550."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.received: Counter[str] = Counter()
        self.texts: list[str] = []
        self._lock = threading.Lock()
        self.refuse = refuse
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        parsed = email.message_from_bytes(raw)
        with self._lock:
            self.received[str(parsed["Message-ID"])] += 1
            self.texts.append(raw.decode("utf-8", "replace"))
        return "250 Message accepted"

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()
