"""The chaos cluster: LocalNet's keys, genesis and configs, moved onto a Fabric, and a gateway.

LocalNet writes everything for 127.0.0.1; this rewrites each node's listen address, genesis address
and peer overrides for the fabric, and gives LocalNet the fabric's command prefix (e.g. `ip netns
exec`) to start each node through. Starting, stopping, killing, pausing and waiting are LocalNet's
own; the gateway is ops.cluster's GatewayProcess.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ops.chaos.fabric import Fabric
from ops.cluster import GatewayProcess, LocalNet
from ops.cluster.gateway import write_config
from votestore.genesis import Timeouts

GATEWAY_REQUESTS_PER_S: Final = 10_000
GATEWAY_LIMITS: Final = {
    "client_requests_per_s": GATEWAY_REQUESTS_PER_S,
    "client_burst": GATEWAY_REQUESTS_PER_S,
}
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
    gateway: GatewayProcess | None = None

    @classmethod
    def build(
        cls,
        workdir: Path,
        make_fabric: Callable[[list[int], list[int]], Fabric],
        n: int = 4,
        timeouts: Timeouts | None = None,
    ) -> ChaosNet:
        """Keys, genesis and configs for `n` nodes on the fabric `make_fabric(peer ports, API
        ports)` makes (loopback ports)."""
        base = LocalNet.create(workdir, n, chain_id="votestore-chaos", timeouts=timeouts)
        fabric = make_fabric(
            [_port(v.address) for v in base.genesis.validators], [_port(a) for a in base.addresses]
        )
        try:
            validators = tuple(
                dataclasses.replace(
                    v, address=fabric.peer_address(v.index), api_address=fabric.address(v.index)
                )
                for v in base.genesis.validators
            )
            genesis = dataclasses.replace(base.genesis, validators=validators)
            base.genesis_path.write_text(genesis.to_json())
            for i in range(n):
                path = base.config_path(i)
                rewritten = {"listen =": fabric.api_listen(i), "peer_listen =": fabric.listen(i)}
                lines = [
                    next((f'{k} "{a}"' for k, a in rewritten.items() if line.startswith(k)), line)
                    for line in path.read_text().splitlines()
                ]
                peers = fabric.peers(i)
                if peers:
                    lines += ["[peers]", *(f'{j} = "{address}"' for j, address in sorted(peers.items()))]
                path.write_text("\n".join([*lines, ""]))
            net = cls(workdir, genesis, base.admin_key, [v.public_address for v in validators], fabric=fabric)
            config, target = write_config(workdir, net.genesis_path, limits=GATEWAY_LIMITS)
            net.gateway = GatewayProcess(workdir, config, target)
        except BaseException:
            fabric.close()
            raise
        return net

    @property
    def mode(self) -> str:
        assert self.fabric is not None
        return self.fabric.mode

    @property
    def gateway_target(self) -> str:
        assert self.gateway is not None
        return self.gateway.target

    def command_prefix(self, i: int) -> list[str]:
        assert self.fabric is not None
        return self.fabric.command_prefix(i)

    def start_gateway(self) -> None:
        assert self.gateway is not None
        self.gateway.start()

    def kill_gateway(self) -> None:
        """kill -9, like a node's crash."""
        if self.gateway is not None:
            self.gateway.kill()

    def stop_gateway(self) -> int:
        return 0 if self.gateway is None else self.gateway.stop()

    def gateway_running(self) -> bool:
        child = self.gateway.process if self.gateway is not None else None
        return child is not None and child.poll() is None

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
