"""The one gateway launcher: a `votestore gateway run` process beside a LocalNet, started, waited
for (bounded), and always stopped — used by the demo, the chaos harness and the benchmarks.

Demo and benchmark loads come from one 127.0.0.1 address, which the per-client token bucket would
throttle as one noisy client; so each caller names the limits its load needs (`write_config`).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import grpc

from ops.cluster import process
from ops.cluster.localnet import HOST, free_port
from ops.cluster.process import ClusterError

READY_TIMEOUT_S: Final = 30.0
READY_POLL_S: Final = 0.2
"""How often the wait for the port also looks whether the process already exited."""
CLIENT_REQUESTS_PER_S: Final = 5000
"""All demo voters share one client address; sized far above what 2 cores can cast."""
CLIENT_BURST: Final = 5000
DEMO_LIMITS: Final = {"client_requests_per_s": CLIENT_REQUESTS_PER_S, "client_burst": CLIENT_BURST}


@dataclass(frozen=True, slots=True)
class WebPorts:
    """The voter page on loopback: the gateway's gRPC-Web bridge and the page's own static origin
    (a `votestore web serve` process, ops/cluster/page.py), each on a port of its own — two
    origins and two processes, as in production."""

    bridge: int = field(default_factory=free_port)
    app: int = field(default_factory=free_port)

    @property
    def app_origin(self) -> str:
        return f"http://{HOST}:{self.app}"

    @property
    def bridge_url(self) -> str:
        return f"http://{HOST}:{self.bridge}"

    def table(self) -> list[str]:
        return [
            "[web]",
            f'listen = "{HOST}:{self.bridge}"',
            f'app_origin = "{self.app_origin}"',
        ]


class GatewayError(ClusterError):
    """The gateway (or the identity provider) did not start in time; the message holds the tail
    of its log."""


def write_config(
    workdir: Path,
    genesis: Path,
    identity_store: Path | None = None,
    identity_provider_key: Path | None = None,
    *,
    limits: Mapping[str, int] = DEMO_LIMITS,
    validator_cas: Path | None = None,
    web: WebPorts | None = None,
    identity_provider: str | None = None,
) -> tuple[Path, str]:
    """gateway.toml in `workdir` listening on a free loopback port; returns its path and the target.

    `validator_cas`: reach the validators over TLS with this bundle; without it, plaintext (which
    the gateway allows only on loopback). `identity_store` with `identity_provider_key`: serve the
    identity provider's step (docs/roles.md) with its key and the store the credential authority
    handed it. `web`: also serve the gRPC-Web bridge for the voter page (docs/web.md).
    `identity_provider`: instead, the address of the identity provider's own process
    (`write_provider_config`), which assisted casting asks."""
    target = f"{HOST}:{free_port()}"
    config = workdir / "gateway.toml"
    transport = "insecure_plaintext = true"
    if validator_cas is not None:
        transport = f'validator_cas = "{validator_cas.resolve()}"'
    assert (identity_store is None) == (identity_provider_key is None), "both or neither"
    identity = (
        [
            f'identity_store = "{identity_store.resolve()}"',
            f'identity_provider_key = "{identity_provider_key.resolve()}"',
            "insecure_plaintext_key = true  # an unsealed key: a local test cluster",
        ]
        if identity_store is not None and identity_provider_key is not None
        else []
    )
    if identity_provider is not None:
        identity.append(f'identity_provider = "{identity_provider}"')
    config.write_text(
        "\n".join(
            [
                f'listen = "{target}"',
                f'genesis = "{genesis.resolve()}"',
                *identity,
                transport,
                "[limits]",
                *(f"{key} = {value}" for key, value in limits.items()),
                *(web.table() if web is not None else []),
                "",
            ]
        )
    )
    return config, target


def write_provider_config(
    directory: Path, genesis: Path, key: Path, store: Path, *, limits: Mapping[str, int] = DEMO_LIMITS
) -> tuple[Path, str]:
    """identity-provider.toml in `directory` (the provider's own) on a free loopback port, in
    plaintext (loopback only); returns its path and the target. `limits` as the gateway's: the
    demo's voters and its gateway all ask from 127.0.0.1."""
    target = f"{HOST}:{free_port()}"
    config = directory / "identity-provider.toml"
    config.write_text(
        "\n".join(
            [
                f'listen = "{target}"',
                f'genesis = "{genesis.resolve()}"',
                f'key = "{key.resolve()}"',
                f'store = "{store.resolve()}"',
                "insecure_plaintext_key = true  # an unsealed key: a local cluster",
                "[limits]",
                *(f"{name} = {value}" for name, value in limits.items()),
                "",
            ]
        )
    )
    return config, target


class GatewayProcess(process.Started):
    """`with GatewayProcess(workdir, config, target) as gw:` — started and ready inside, stopped after.

    It may be started again after `stop` or `kill` (the chaos harness's gateway crash). `role`
    "identity-provider" runs the identity provider's own server the same way."""

    def __init__(self, workdir: Path, config: Path, target: str, role: process.Role = "gateway") -> None:
        self.workdir = workdir
        self.config = config
        self.target = target
        self.role = role
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.role}.log"

    def start(self) -> None:
        assert self.process is None, f"{self.role} already started"
        self.process = process.spawn(self.role, self.config, self.log_path)
        try:
            self._wait_ready(self.process)
        except BaseException as exc:
            # Not ready, or interrupted while waiting: the caller's `with` has no exit to run yet.
            code = self.process.poll()
            self.stop()
            if not isinstance(exc, grpc.FutureTimeoutError):
                raise
            state = f"exited with {code}" if code is not None else f"not ready in {READY_TIMEOUT_S:.0f} s"
            raise GatewayError(f"{self.role} {state}:\n{process.log_tail(self.log_path)}") from None

    def _wait_ready(self, child: subprocess.Popen[bytes]) -> None:
        """Until the port answers; FutureTimeoutError at the deadline or as soon as the process exits."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        with grpc.insecure_channel(self.target) as channel:
            ready = grpc.channel_ready_future(channel)
            while True:
                try:
                    ready.result(timeout=READY_POLL_S)
                    return
                except grpc.FutureTimeoutError:
                    if child.poll() is not None or time.monotonic() > deadline:
                        raise

    def stop(self) -> int:
        """SIGTERM the process group, SIGKILL if it does not stop in time; its exit code (0 if none ran)."""
        child, self.process = self.process, None
        return 0 if child is None else process.stop(child, group=True)

    def kill(self) -> None:
        """kill -9, like a node's crash."""
        child, self.process = self.process, None
        if child is not None:
            process.kill(child)
