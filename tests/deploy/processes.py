"""Processes a deploy test starts beside a LocalNet — the gateway, the verifier, Prometheus —
each with its log in the test's directory, each stopped by the test that started it."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Self, TypeVar

STOP_TIMEOUT_S: Final = 10.0
POLL_INTERVAL_S: Final = 0.2
HTTP_TIMEOUT_S: Final = 2.0

T = TypeVar("T")


@dataclass
class Process:
    name: str
    log: Path
    popen: subprocess.Popen[bytes]

    @classmethod
    def start(cls, name: str, args: list[str], log: Path) -> Self:
        with log.open("ab") as out:
            popen = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        return cls(name, log, popen)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped in time."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        assert self.popen.poll() is None, f"{self.name} exited with {self.popen.returncode}:\n{self.tail()}"


def http_get(url: str) -> bytes | None:
    """The body, or None while the server does not answer yet."""
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
            body: bytes = response.read()
            return body
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float, watch: list[Process]) -> T:
    """Poll `probe` until it gives a value; fail naming `what` (and any process that died)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for process in watch:
            process.check_alive()
        value = probe()
        if value is not None:
            return value
        time.sleep(POLL_INTERVAL_S)
    raise AssertionError(f"{what} within {timeout_s:.0f} s")
