"""Shared parts of the cluster benchmarks: the machine, CPU seconds of a process tree, latency
percentiles, the table and the JSON result, the in-run verify bound, and an open election on a
LocalNet with its voters' ballots built before anything is timed.

Figures from a shared 2-core machine drift with other people's load, so each script reports
ratios measured in the same run (a throughput against the verify bound measured minutes apart on
the same cores) beside the raw figures.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import nacl.signing

from election.stateless import ElectionParams, verify_tx_stateless
from ops.cluster import LocalNet, election
from ops.cluster.trustees import Trustee, new_trustees
from ops.roles import ElectionRoles
from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.client.ballot import credential_public_key
from votestore.client.node import NodeClient
from votestore.hashing import sha256

RESULTS_DIR: Final = Path(__file__).resolve().parent / "results"
CLOCK_TICKS_PER_S: Final = os.sysconf("SC_CLK_TCK")
CHOICES: Final = ("a", "b", "c", "d")
TRUSTEES: Final = 3
THRESHOLD: Final = 2
ROLL_BATCH_ENTRIES: Final = 2000
"""The state machine's largest roll batch (election.policy.MAX_ROLL_BATCH_ENTRIES)."""
WINDOW_MS: Final = 24 * 3600 * 1000
BOUND_SAMPLE_BALLOTS: Final = 200
BOUND_REPEATS: Final = 3
"""Best of this many timings of the verify bound: the least disturbed by other load."""
BUILD_CHUNK: Final = 50
"""Ballots per task when the load generator encrypts on a process pool."""


# ---------------------------------------------------------------------- the machine


def machine() -> dict[str, object]:
    """What the figures ran on; the load average says how noisy it was."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "commit": commit,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def cores() -> int:
    return len(os.sched_getaffinity(0))


# ---------------------------------------------------------------------- CPU of process trees


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user+system CPU seconds) of a live process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


def tree_cpu(roots: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named process and all its live descendants (a node's verify
    workers count as the node's)."""
    stats = {
        int(p.name): s for p in Path("/proc").iterdir() if p.name.isdigit() and (s := _stat(int(p.name)))
    }
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    out: dict[str, float] = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in stats:
                total += stats[pid][1]
                todo.extend(children.get(pid, ()))
        out[name] = total
    return out


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy so far (/proc/stat: every core, every process)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    assert fields[0] == "cpu", fields[0]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_S


@dataclass(frozen=True, slots=True)
class CpuWindow:
    """CPU seconds each process tree spent between two samples, over `wall_s` of wall time, and
    what the whole machine spent meanwhile."""

    seconds: Mapping[str, float]
    wall_s: float
    machine_s: float

    def share(self, name: str) -> float:
        """Cores' worth this process used on average: 1.0 is one core busy all the time."""
        return self.seconds[name] / self.wall_s

    @property
    def others_cores(self) -> float:
        """Cores' worth used by processes not measured here: other people's work on a shared
        machine, which slows ours (caches, the other core) even when it leaves us the cores."""
        return max(0.0, self.machine_s - sum(self.seconds.values())) / self.wall_s


LOAD_GENERATOR: Final = "load generator"


class CpuMeter:
    """`meter = CpuMeter(pids)`, then `window = meter.stop()` once the timed phase is over. This
    process is measured alone as LOAD_GENERATOR (the nodes it started are its children)."""

    def __init__(self, roots: Mapping[str, int]) -> None:
        self._roots = dict(roots)
        self._start = self._sample()
        self._machine = machine_busy_s()
        self._wall = time.perf_counter()

    def _sample(self) -> dict[str, float]:
        return {**tree_cpu(self._roots), LOAD_GENERATOR: time.process_time()}

    def stop(self) -> CpuWindow:
        end = self._sample()
        wall = time.perf_counter() - self._wall
        return CpuWindow({k: end[k] - self._start[k] for k in end}, wall, machine_busy_s() - self._machine)


# ---------------------------------------------------------------------- figures


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    assert values and 0 <= q <= 100, (len(values), q)
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats
    return ordered[int(rank) - 1]


def latency_ms(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max of latencies given in seconds, in milliseconds."""
    if not values:
        return {"count": 0}
    out: dict[str, float] = {"count": len(values)}
    for q in (50, 95, 99):
        out[f"p{q}_ms"] = round(percentile(values, q) * 1000, 1)
    out["max_ms"] = round(max(values) * 1000, 1)
    return out


def print_table(title: str, rows: Iterable[tuple[str, object]]) -> None:
    rows = list(rows)
    width = max(len(k) for k, _ in rows)
    print(f"\n{title}")
    print("-" * len(title))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def write_result(name: str, result: Mapping[str, object]) -> Path:
    """bench/results/<name>.json with the machine and the time beside the figures."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    document = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        **result,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


# ---------------------------------------------------------------------- the verify bound


@dataclass(frozen=True, slots=True, order=True)
class VerifyTime:
    """One timing of the verify reference: CPU seconds per ballot, and the cores' worth other
    processes used meanwhile (a reference taken beside other work is slower, and flatters every
    ratio measured against it)."""

    s_per_ballot: float
    others_cores: float


def verify_s_per_ballot(chain_id: str, raws: Sequence[bytes], params: ElectionParams) -> VerifyTime:
    """CPU seconds one core spends on the node's own `verify_tx_stateless` (decode, signature,
    proofs) per ballot: best of BOUND_REPEATS runs over the sample."""
    sample = raws[:BOUND_SAMPLE_BALLOTS]
    assert sample
    runs = []
    for _ in range(BOUND_REPEATS):
        started, machine, wall = time.process_time(), machine_busy_s(), time.perf_counter()
        for raw in sample:
            assert verify_tx_stateless(chain_id, raw, params).code == election_pb2.OK
        mine = time.process_time() - started
        others = max(0.0, machine_busy_s() - machine - mine) / (time.perf_counter() - wall)
        runs.append(VerifyTime(mine / len(sample), others))
    return min(runs)


# ---------------------------------------------------------------------- an open election


def credential(voter: int) -> bytes:
    """Voter `voter`'s 32-byte secret: deterministic, so a run is reproducible."""
    return voter.to_bytes(8, "big").rjust(32, b"\x07")


ROLES: Final = ElectionRoles(
    nacl.signing.SigningKey(sha256(b"bench/credential-authority")),
    nacl.signing.SigningKey(sha256(b"bench/identity-provider")),
)
"""Fixed keys, so the pool's workers attest ballots without being handed a key: a benchmark's
voters all pass the identity check (its cost is the identity provider's, not the ledger's)."""


def definition(
    election_id: str, trustees: Sequence[Trustee], *, start_ms: int
) -> election_pb2.ElectionCreate:
    """1 contest x 4 choices, vote for exactly 1 (the benchmark ballot of the issue)."""
    return election_pb2.ElectionCreate(
        election_id=election_id,
        title="benchmark",
        contests=[txbuild.contest("c1", list(CHOICES), 1, 1)],
        window_start_ms=start_ms - 1000,
        window_end_ms=start_ms + WINDOW_MS,
        trustees=[t.public for t in trustees],
        threshold=THRESHOLD,
        deal_deadline_ms=start_ms + 600_000,
        complaint_window_ms=1_000,
        credential_authority=bytes(ROLES.authority.verify_key),
        identity_provider=bytes(ROLES.provider.verify_key),
    )


def open_election(net: LocalNet, election_id: str, voters: int) -> election_pb2.ElectionState:
    """Create, import a roll of `voters` (credential(0..voters-1)), deal, open; the open state
    (through ops.cluster.election, the steps the demo and the chaos harness take too)."""
    chain, admin = net.genesis.chain_id, net.admin_key
    trustees = new_trustees(TRUSTEES)
    body = definition(election_id, trustees, start_ms=int(time.time() * 1000))
    rows = [(credential_public_key(credential(v), election_id), "") for v in range(voters)]
    with NodeClient(net.addresses, connect=net.connect) as node:
        return election.set_up(node, chain, admin, ROLES.authority, trustees, body, rows, ROLL_BATCH_ENTRIES)


def _build_chunk(
    chain_id: str, state_bytes: bytes, voters: Sequence[int]
) -> list[bytes]:  # a top-level function: the pool pickles it
    state = election_pb2.ElectionState.FromString(state_bytes)
    election_id = state.definition.election_id
    attest = ROLES.attester(chain_id, election_id)
    return [
        txbuild.ballot(
            chain_id,
            election_id,
            state.definition,
            state.election_key,
            credential(v),
            [[v % len(CHOICES)]],
            attest,
        )
        for v in voters
    ]


def build_ballots(chain_id: str, state: election_pb2.ElectionState, voters: range) -> list[bytes]:
    """Every voter's signed ballot (choice voter % 4), encrypted on all cores before timing."""
    chunks = [voters[at : at + BUILD_CHUNK] for at in range(0, len(voters), BUILD_CHUNK)]
    raw_state = state.SerializeToString()
    with ProcessPoolExecutor(cores()) as pool:
        built = pool.map(_build_chunk, [chain_id] * len(chunks), [raw_state] * len(chunks), chunks)
        return [raw for chunk in built for raw in chunk]


def configure_nodes(net: LocalNet, settings: Mapping[str, int]) -> None:
    """Add block settings to every node's TOML (LocalNet.create writes the rest)."""
    for i in range(net.genesis.n):
        path = net.config_path(i)
        path.write_text(path.read_text() + "".join(f"{k} = {v}\n" for k, v in settings.items()))
