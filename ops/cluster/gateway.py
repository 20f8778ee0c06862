"""The gateway as its own `votestore gateway run` process, started and always stopped by the demo.

Its limits are raised above the defaults: every demo voter casts from the same 127.0.0.1 address,
which the per-client token bucket would otherwise throttle as one noisy client.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Final

import grpc

from ops.localnet import HOST, STOP_TIMEOUT_S, free_port
from votestore.errors import VotestoreError

READY_TIMEOUT_S: Final = 30.0
READY_POLL_S: Final = 0.2
"""How often the wait for the port also looks whether the process already exited."""
CLIENT_REQUESTS_PER_S: Final = 5000
"""All demo voters share one client address; sized far above what 2 cores can cast."""
CLIENT_BURST: Final = 5000
LOG_TAIL_LINES: Final = 20


class GatewayError(VotestoreError):
    """The gateway did not start in time; the message holds the tail of its log."""


def write_config(workdir: Path, genesis: Path, identity_store: Path) -> tuple[Path, str]:
    """gateway.toml in `workdir` listening on a free port; returns its path and the target."""
    target = f"{HOST}:{free_port()}"
    config = workdir / "gateway.toml"
    config.write_text(
        "\n".join(
            [
                f'listen = "{target}"',
                f'genesis = "{genesis.resolve()}"',
                f'identity_store = "{identity_store.resolve()}"',
                "insecure_plaintext = true",
                "[limits]",
                f"client_requests_per_s = {CLIENT_REQUESTS_PER_S}",
                f"client_burst = {CLIENT_BURST}",
                "",
            ]
        )
    )
    return config, target


class GatewayProcess:
    """`with GatewayProcess(workdir, config, target) as gw:` — started and ready inside, stopped after."""

    def __init__(self, workdir: Path, config: Path, target: str) -> None:
        self.workdir = workdir
        self.config = config
        self.target = target
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "gateway.log"

    def start(self) -> None:
        assert self.process is None, "gateway already started"
        log = open(self.log_path, "ab")  # noqa: SIM115 — the child owns it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "votestore", "gateway", "run", "--config", str(self.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        try:
            self._wait_ready(self.process)
        except BaseException as exc:
            # Not ready, or interrupted while waiting: the caller's `with` has no exit to run yet.
            code = self.process.poll()
            self.stop()
            if not isinstance(exc, grpc.FutureTimeoutError):
                raise
            tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])
            state = f"exited with {code}" if code is not None else f"not ready in {READY_TIMEOUT_S:.0f} s"
            raise GatewayError(f"gateway {state}:\n{tail}") from None

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> None:
        """Until the port answers; FutureTimeoutError at the deadline or as soon as the process exits."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        with grpc.insecure_channel(self.target) as channel:
            ready = grpc.channel_ready_future(channel)
            while True:
                try:
                    ready.result(timeout=READY_POLL_S)
                    return
                except grpc.FutureTimeoutError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL if it does not stop in time."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> GatewayProcess:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
