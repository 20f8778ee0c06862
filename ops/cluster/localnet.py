"""A local cluster of real validator processes on 127.0.0.1, for the demo, tests and benchmarks.

It makes validator and admin keys, a genesis with free ports, one TOML config and data directory
per node, and starts each node as its own `votestore node run` process (ops.cluster.process), over
TLS or, with the explicit `insecure_plaintext` setting, plaintext on loopback. Every process it
starts it also stops: `close()` (or leaving the `with` block) ends them all, even after an error.
Waits are bounded and name the node, what it did not do, and the tail of its log.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Self

import grpc
import nacl.signing

from ops.cluster import process
from ops.cluster.process import ClusterError
from proto.votestore.v1 import node_pb2, node_pb2_grpc
from votestore import tls
from votestore.channels import ValidatorDialer
from votestore.genesis import Genesis, Timeouts, Validator
from votestore.keys import new_signing_key, write_key_file

HOST: Final = "127.0.0.1"
READY_TIMEOUT_S: Final = 60.0
POLL_INTERVAL_S: Final = 0.05
RPC_TIMEOUT_S: Final = 2.0


VALIDATOR_CAS: Final = "validators.ca.pem"


def _issue_tls(workdir: Path, keys: list[nacl.signing.SigningKey], chain_id: str) -> None:
    """What `votestore keys tls issue` and `bundle` make, for every node, into `workdir`."""
    for i, key in enumerate(keys):
        for old in (f"node{i}.tls.key", f"node{i}.tls.pem", f"node{i}.ca.pem"):
            (workdir / old).unlink(missing_ok=True)
        identity = tls.issue(key, chain_id, i)
        tls.write_identity(
            identity, workdir / f"node{i}.tls.key", workdir / f"node{i}.tls.pem", workdir / f"node{i}.ca.pem"
        )
    (workdir / VALIDATOR_CAS).write_bytes(
        b"".join((workdir / f"node{i}.ca.pem").read_bytes() for i in range(len(keys)))
    )


LISTEN_PORTS: Final = range(20_000, 32_000)
"""Where local clusters listen: below Linux's ephemeral range (32768-60999). A port the kernel
picked (bind to 0) lies in that range, and between choosing it and the node binding it an
outgoing connection of any process may take it as its local port: a CI run lost a cluster to
`Address already in use` that way."""
_port_rng = random.Random(os.getpid())  # concurrent test processes choose apart
_handed_out: set[int] = set()


def free_port() -> int:
    """A port on HOST no one listens on now, never handed out before by this process."""
    for _ in range(1000):
        port = _port_rng.choice(LISTEN_PORTS)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise ClusterError(f"no free port in {LISTEN_PORTS.start}-{LISTEN_PORTS.stop - 1} on {HOST}")


@dataclass
class LocalNet:
    workdir: Path
    genesis: Genesis
    admin: nacl.signing.SigningKey | None
    """The administrator's key, when this cluster made it (None: the administrator keeps its own)."""
    addresses: list[str]
    """Each node's public Node API (`listen`), what clients and these helpers dial; genesis
    names them as `api_address` and the peer ports (`peer_listen`) as `address`."""
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    metrics_ports: list[int] = field(default_factory=list)
    dialer: ValidatorDialer = field(default_factory=lambda: ValidatorDialer(None))
    """How a client of this cluster reaches node i (TLS when the cluster was made with it)."""

    # ------------------------------------------------------------------ making

    @classmethod
    def create(
        cls,
        workdir: Path,
        n: int = 4,
        *,
        chain_id: str = "votestore-local",
        timeouts: Timeouts | None = None,
        verify_workers: int = 1,
        metrics: bool = False,
        empty_block_interval_ms: int = 500,
        tls: bool = False,
        admin_public: bytes | None = None,
    ) -> LocalNet:
        """`tls`: each node serves a certificate issued by its genesis key and trusts only the
        others' (as a real deployment does); otherwise plaintext, which loopback allows.
        `admin_public`: the genesis names this administrator key, made and kept by the
        administrator (the demo); else a fresh one is made here, in `admin.key.json`."""
        workdir.mkdir(parents=True, exist_ok=True)
        keys = [new_signing_key() for _ in range(n)]
        admin = None
        if admin_public is None:
            admin = new_signing_key()
            write_key_file(workdir / "admin.key.json", admin, overwrite=True)
            admin_public = bytes(admin.verify_key)
        addresses = [f"{HOST}:{free_port()}" for _ in range(n)]
        peer_addresses = [f"{HOST}:{free_port()}" for _ in range(n)]
        genesis = Genesis(
            chain_id=chain_id,
            genesis_time_ms=int(time.time() * 1000) - 1000,
            validators=tuple(
                Validator(i, f"site-{i}", bytes(k.verify_key), peer_addresses[i], addresses[i])
                for i, k in enumerate(keys)
            ),
            admins=(admin_public,),
            timeouts=timeouts or Timeouts(),
        )
        (workdir / "genesis.json").write_text(genesis.to_json())
        metrics_ports = [free_port() if metrics else 0 for _ in range(n)]
        if tls:
            _issue_tls(workdir, keys, chain_id)
        # An inline table: settings appended later (bench.common.configure_nodes) stay top-level.
        transport = (
            [
                'tls = { cert = "node{i}.tls.pem", key = "node{i}.tls.key", '
                + f'validator_cas = "{VALIDATOR_CAS}" }}'
            ]
            if tls
            else ["insecure_plaintext = true"]
        )
        for i, key in enumerate(keys):
            write_key_file(workdir / f"node{i}.key.json", key, overwrite=True)
            (workdir / f"node{i}.toml").write_text(
                "\n".join(
                    [
                        f'key_file = "node{i}.key.json"',
                        'genesis = "genesis.json"',
                        f'listen = "{addresses[i]}"',
                        f'peer_listen = "{peer_addresses[i]}"',
                        f'data_dir = "node{i}.data"',
                        f"metrics_port = {metrics_ports[i]}",
                        f"verify_workers = {verify_workers}",
                        f"empty_block_interval_ms = {empty_block_interval_ms}",
                        "insecure_plaintext_key = true  # unsealed keys: a local test cluster",
                        *(line.replace("{i}", str(i)) for line in transport),
                        "",
                    ]
                )
            )
        cas = workdir / VALIDATOR_CAS
        dialer = ValidatorDialer.with_tls(genesis, cas) if tls else ValidatorDialer(None)
        return cls(workdir, genesis, admin, addresses, metrics_ports=metrics_ports, dialer=dialer)

    @property
    def peer_addresses(self) -> list[str]:
        """Each node's peer port (`peer_listen`, genesis `address`): Peer.Connect and catch-up."""
        return [v.address for v in self.genesis.validators]

    @property
    def admin_key(self) -> nacl.signing.SigningKey:
        """The administrator's key, for runs that play the administrator in this process."""
        assert self.admin is not None, "this cluster's administrator keeps its own key"
        return self.admin

    @property
    def genesis_path(self) -> Path:
        return self.workdir / "genesis.json"

    def config_path(self, i: int) -> Path:
        return self.workdir / f"node{i}.toml"

    def data_dir(self, i: int) -> Path:
        return self.workdir / f"node{i}.data"

    def connect(self, address: str) -> grpc.Channel:
        """A channel to the node at `address`, TLS when the cluster runs it (NodeClient's connect)."""
        return self.dialer.sync(self.addresses.index(address), address)

    # ------------------------------------------------------------------ processes

    def command_prefix(self, i: int) -> list[str]:
        """What node i's command runs through; nothing here, the chaos fabric's namespace there."""
        del i
        return []

    def start(self, i: int) -> None:
        if i in self.processes and self.processes[i].poll() is None:
            raise ClusterError(f"node {i} is already running")
        self.processes[i] = process.spawn(
            "node", self.config_path(i), self.workdir / f"node{i}.log", self.command_prefix(i)
        )

    def start_all(self) -> None:
        for i in range(self.genesis.n):
            self.start(i)

    def stop(self, i: int) -> int:
        """SIGTERM and wait; SIGKILL if it does not stop in time. Returns the exit code."""
        child = self.processes.pop(i, None)
        return 0 if child is None else process.stop(child)

    def kill(self, i: int) -> None:
        """kill -9: no chance to flush or say goodbye."""
        child = self.processes.pop(i, None)
        if child is not None:
            process.kill(child)

    def pause(self, i: int) -> None:
        self.processes[i].send_signal(signal.SIGSTOP)

    def resume(self, i: int) -> None:
        self.processes[i].send_signal(signal.SIGCONT)

    def close(self) -> None:
        for i in list(self.processes):
            with contextlib.suppress(ProcessLookupError):
                self.resume(i)
            self.stop(i)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def log_tail(self, i: int, lines: int = process.LOG_TAIL_LINES) -> str:
        return process.log_tail(self.workdir / f"node{i}.log", lines)

    # ------------------------------------------------------------------ waiting

    def status(self, i: int) -> node_pb2.GetStatusResponse | None:
        with self.dialer.sync(i, self.addresses[i]) as channel:
            try:
                response: node_pb2.GetStatusResponse = node_pb2_grpc.NodeStub(channel).GetStatus(
                    node_pb2.GetStatusRequest(), timeout=RPC_TIMEOUT_S
                )
                return response
            except grpc.RpcError:
                return None

    def wait_ready(self, nodes: list[int] | None = None, timeout_s: float = READY_TIMEOUT_S) -> None:
        for i in nodes if nodes is not None else list(self.processes):
            self._wait(i, lambda s: s is not None, timeout_s, "answer GetStatus")

    def wait_signing(self, nodes: list[int] | None = None, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until each node's amnesia guard lets it sign. A validator that started after the others
        had committed height 1 watches a few heights first; kill another one meanwhile and the
        chain waits for one of them (two of four not signing), so a test that kills a node
        waits for this first."""
        for i in nodes if nodes is not None else list(self.processes):
            self._wait(i, lambda s: s is not None and s.signing == "signing", timeout_s, "sign")

    def wait_connected(self, nodes: list[int] | None = None, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until each node reports an authenticated stream up with every other validator."""
        for i in nodes if nodes is not None else list(self.processes):
            self._wait(
                i,
                lambda s: s is not None and len(s.peers) > 0 and all(p.connected for p in s.peers),
                timeout_s,
                "connect to all its peers",
            )

    def wait_height(
        self, height: int, nodes: list[int] | None = None, timeout_s: float = READY_TIMEOUT_S
    ) -> None:
        for i in nodes if nodes is not None else list(self.processes):
            self._wait(i, lambda s: s is not None and s.height >= height, timeout_s, f"reach height {height}")

    def _wait(
        self,
        i: int,
        done: Callable[[node_pb2.GetStatusResponse | None], bool],
        timeout_s: float,
        what: str,
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            child = self.processes.get(i)
            if child is not None and child.poll() is not None:
                raise ClusterError(f"node {i} exited with {child.returncode}:\n{self.log_tail(i)}")
            if done(self.status(i)):
                return
            time.sleep(POLL_INTERVAL_S)
        raise ClusterError(f"node {i} did not {what} within {timeout_s:.0f} s:\n{self.log_tail(i)}")
