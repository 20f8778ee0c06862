"""The voter page's own origin beside a LocalNet: a `votestore web serve` process, started, waited
for (bounded) and always stopped — a process apart from the gateway, as in production (docs/web.md)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Final

from ops.cluster import process
from ops.cluster.localnet import HOST, free_port
from ops.cluster.process import ClusterError

READY_TIMEOUT_S: Final = 30.0
READY_POLL_S: Final = 0.1


class PageProcess(process.Started):
    """`with PageProcess(workdir, folder, bridge_url, genesis) as page:` serving `folder` on
    `page.origin`, stopped after."""

    def __init__(
        self,
        workdir: Path,
        folder: Path,
        bridge_url: str,
        genesis: Path,
        port: int = 0,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.workdir = workdir
        self.folder = folder
        self.bridge_url = bridge_url
        self.genesis = genesis
        self.port = port or free_port()
        self.tls = tls
        """Certificate chain and key (PEM): serve HTTPS."""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def origin(self) -> str:
        return f"{'http' if self.tls is None else 'https'}://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "page-origin.log"

    def command(self) -> list[str]:
        return [
            "web",
            "serve",
            "--dir",
            str(self.folder.resolve()),
            "--listen",
            f"{HOST}:{self.port}",
            "--bridge",
            self.bridge_url,
            "--genesis",
            str(self.genesis.resolve()),
            *([] if self.tls is None else ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]),
        ]

    def start(self) -> None:
        assert self.process is None, "page origin already started"
        child = self.process = process.start_command(self.command(), self.log_path, self.workdir)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                with socket.create_connection((HOST, self.port), timeout=READY_POLL_S):
                    return
            except OSError:
                pass
            code = child.poll()
            if code is not None or time.monotonic() > deadline:
                self.stop()
                state = f"exited with {code}" if code is not None else f"not ready in {READY_TIMEOUT_S:.0f} s"
                raise ClusterError(f"page origin {state}:\n{process.log_tail(self.log_path)}")
            time.sleep(READY_POLL_S)

    def stop(self) -> int:
        """SIGTERM, SIGKILL if it does not stop in time; its exit code (0 if none ran)."""
        child, self.process = self.process, None
        return 0 if child is None else process.stop(child, group=True)
