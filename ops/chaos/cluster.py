"""The chaos cluster: LocalNet's keys, genesis and configs, moved onto a Fabric, and a gateway.

LocalNet writes everything for 127.0.0.1; this rewrites each node's listen address, genesis address
and peer overrides for the fabric, then starts each node through the fabric's command prefix (e.g.
`ip netns exec`). Stopping, killing, pausing and waiting are LocalNet's own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import grpc

from ops.chaos.fabric import Fabric
from ops.localnet import ClusterError, LocalNet, free_port
from votestore.genesis import Timeouts

GATEWAY_READY_S: Final = 30.0
GATEWAY_REQUESTS_PER_S: Final = 10_000
PAGE_BYTES: Final = 1024
DECODE_TRACEBACK: Final = "Unexpected [DecodeError] raised by servicer method"
"""What grpc logs (with a traceback) for each request whose bytes do not parse."""


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def peak_rss_bytes(pid: int) -> int | None:
    """The process's high-water resident set (VmHWM), or None if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) * PAGE_BYTES if found else None


@dataclass
class ChaosNet(LocalNet):
    fabric: Fabric | None = None
    gateway: subprocess.Popen[bytes] | None = None
    gateway_target: str = ""

    @classmethod
    def build(
        cls,
        workdir: Path,
        make_fabric: Callable[[list[int]], Fabric],
        n: int = 4,
        timeouts: Timeouts | None = None,
    ) -> ChaosNet:
        """Keys, genesis and configs for `n` nodes on the fabric `make_fabric(loopback ports)` makes."""
        base = LocalNet.create(workdir, n, chain_id="votestore-chaos", timeouts=timeouts)
        fabric = make_fabric([_port(a) for a in base.addresses])
        try:
            validators = tuple(
                dataclasses.replace(v, address=fabric.address(v.index)) for v in base.genesis.validators
            )
            genesis = dataclasses.replace(base.genesis, validators=validators)
            base.genesis_path.write_text(genesis.to_json())
            for i in range(n):
                path = base.config_path(i)
                lines = [
                    f'listen = "{fabric.listen(i)}"' if line.startswith("listen =") else line
                    for line in path.read_text().splitlines()
                ]
                peers = fabric.peers(i)
                if peers:
                    lines += ["[peers]", *(f'{j} = "{address}"' for j, address in sorted(peers.items()))]
                path.write_text("\n".join([*lines, ""]))
            gateway_port = free_port()
            net = cls(
                workdir,
                genesis,
                base.admin_key,
                [v.address for v in validators],
                fabric=fabric,
                gateway_target=f"127.0.0.1:{gateway_port}",
            )
            net._write_gateway_config(gateway_port)
        except BaseException:
            fabric.close()
            raise
        return net

    @property
    def mode(self) -> str:
        assert self.fabric is not None
        return self.fabric.mode

    def _write_gateway_config(self, port: int) -> None:
        self.gateway_config.write_text(
            "\n".join(
                [
                    f'listen = "127.0.0.1:{port}"',
                    f'genesis = "{self.genesis_path}"',
                    "insecure_plaintext = true",
                    "[limits]",
                    f"client_requests_per_s = {GATEWAY_REQUESTS_PER_S}",
                    f"client_burst = {GATEWAY_REQUESTS_PER_S}",
                    "",
                ]
            )
        )

    @property
    def gateway_config(self) -> Path:
        return self.workdir / "gateway.toml"

    def _spawn(self, command: list[str], log_name: str) -> subprocess.Popen[bytes]:
        log = open(self.workdir / log_name, "ab")  # noqa: SIM115 — the child owns it
        try:
            return subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()

    def start(self, i: int) -> None:
        if i in self.processes and self.processes[i].poll() is None:
            raise ClusterError(f"node {i} is already running")
        assert self.fabric is not None
        command = [sys.executable, "-m", "votestore", "node", "run", "--config", str(self.config_path(i))]
        self.processes[i] = self._spawn([*self.fabric.command_prefix(i), *command], f"node{i}.log")

    def start_gateway(self) -> None:
        assert self.gateway is None or self.gateway.poll() is not None, "gateway already running"
        command = [sys.executable, "-m", "votestore", "gateway", "run", "--config", str(self.gateway_config)]
        self.gateway = self._spawn(command, "gateway.log")
        with grpc.insecure_channel(self.gateway_target) as channel:
            try:
                grpc.channel_ready_future(channel).result(timeout=GATEWAY_READY_S)
            except grpc.FutureTimeoutError:
                raise ClusterError(f"gateway did not listen within {GATEWAY_READY_S:.0f} s") from None

    def kill_gateway(self) -> None:
        """kill -9, like a node's crash."""
        if self.gateway is not None and self.gateway.poll() is None:
            os.killpg(self.gateway.pid, signal.SIGKILL)
            self.gateway.wait()
        self.gateway = None

    def stop_gateway(self) -> int:
        if self.gateway is None:
            return 0
        gateway, self.gateway = self.gateway, None
        if gateway.poll() is None:
            gateway.send_signal(signal.SIGTERM)
            try:
                return gateway.wait(10.0)
            except subprocess.TimeoutExpired:
                gateway.kill()
        return gateway.wait()

    def peak_rss(self) -> dict[int, int]:
        """Each running node's high-water RSS in bytes (since its last start)."""
        peaks = {i: peak_rss_bytes(p.pid) for i, p in self.processes.items() if p.poll() is None}
        return {i: peak for i, peak in peaks.items() if peak is not None}

    def close(self) -> None:
        try:
            with contextlib.suppress(ProcessLookupError):
                self.kill_gateway()
            super().close()
        finally:
            if self.fabric is not None:
                self.fabric.close()

    def logs_with_tracebacks(self) -> list[str]:
        return sorted(self.tracebacks())

    def tracebacks(self) -> dict[str, Counter[str]]:
        """Per log holding any: its tracebacks by kind (DECODE_TRACEBACK, else the line before)."""
        found: dict[str, Counter[str]] = {}
        for log in sorted(self.workdir.glob("*.log")):
            lines = ["", *log.read_text(errors="replace").splitlines()]
            kinds: Counter[str] = Counter(
                DECODE_TRACEBACK if DECODE_TRACEBACK in lines[i - 1] else lines[i - 1][-120:]
                for i, line in enumerate(lines)
                if line.startswith("Traceback")
            )
            if kinds:
                found[log.name] = kinds
        return found
