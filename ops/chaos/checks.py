"""After the run, from the outside, through the public API only: what must hold once every fault
has healed. Each check returns findings (one line each); an empty list is a pass.

- every receipt the gateway returned checks offline, and its ballot is committed, at the receipt's
  height, on every validator;
- every validator serves the same blocks;
- no validator signed two different blocks for one height and round (over every certificate any
  node serves), and no block carries equivocation evidence;
- the verifier (`votestore verify`, as an observer runs it) passes;
- the count equals the choices of the ballots committed with an OK result.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import grpc

from ops.chaos.load import Attempt
from proto.votestore.v1 import election_pb2, ledger_pb2, node_pb2, node_pb2_grpc
from votestore.client.receipts import check_receipt
from votestore.encoding import block_id
from votestore.errors import VotestoreError
from votestore.genesis import Genesis
from votestore.limits import NODE_MESSAGE_BYTES, message_options

RPC_TIMEOUT_S: Final = 10.0
BLOCKS_TIMEOUT_S: Final = 120.0
VERIFY_TIMEOUT_S: Final = 600.0


@dataclass(frozen=True, slots=True)
class Presence:
    """Where each attempted ballot ended up, as the validators answer."""

    committed_ok: tuple[int, ...]
    """Voters whose ballot every validator holds with an OK result."""
    absent: int
    """Attempts no validator holds (refused, or lost before intake)."""
    findings: tuple[str, ...]


def _stub(address: str) -> tuple[grpc.Channel, node_pb2_grpc.NodeStub]:
    options = message_options(receive=NODE_MESSAGE_BYTES)
    channel = grpc.insecure_channel(address, options=options)
    return channel, node_pb2_grpc.NodeStub(channel)


def check_receipts(genesis: Genesis, attempts: Sequence[Attempt]) -> list[str]:
    findings = []
    for a in attempts:
        if a.receipt is None:
            continue
        certified = a.receipt.proof.HasField("next_header")
        try:
            checked = check_receipt(genesis, a.receipt, require_result=certified)
        except VotestoreError as exc:
            findings.append(f"receipt of voter {a.voter} does not check offline: {exc}")
            continue
        if certified and (checked.result is None or checked.result.code != election_pb2.OK):
            findings.append(f"receipt of voter {a.voter} certifies no OK result")
    return findings


def presence(addresses: Sequence[str], attempts: Sequence[Attempt]) -> Presence:
    """GetTx of every attempted ballot on every validator."""
    findings: list[str] = []
    committed_ok: list[int] = []
    absent = 0
    stubs = [_stub(a) for a in addresses]
    try:
        for a in attempts:
            proofs: list[ledger_pb2.TxProof | None] = []
            for address, (_, stub) in zip(addresses, stubs, strict=True):
                try:
                    proof = stub.GetTx(node_pb2.GetTxRequest(tx_hash=a.tx_hash), timeout=RPC_TIMEOUT_S)
                except grpc.RpcError as exc:
                    code = exc.code() if isinstance(exc, grpc.Call) else None
                    if code != grpc.StatusCode.NOT_FOUND:
                        findings.append(f"GetTx of voter {a.voter} on {address}: {code}")
                    proofs.append(None)
                    continue
                proofs.append(proof if proof.HasField("header") else None)
            held = [p for p in proofs if p is not None]
            if a.receipt is not None:
                height = a.receipt.proof.header.height
                for address, p in zip(addresses, proofs, strict=True):
                    if p is None or p.header.height != height:
                        findings.append(
                            f"LOST: receipt of voter {a.voter} at height {height} "
                            f"is not in the ledger of {address}"
                        )
            if not held:
                absent += 1
            elif len(held) != len(addresses):
                findings.append(f"ballot of voter {a.voter} is held by {len(held)} of {len(addresses)}")
            elif all(p.result.code == election_pb2.OK for p in held):
                committed_ok.append(a.voter)
    finally:
        for channel, _ in stubs:
            channel.close()
    return Presence(tuple(committed_ok), absent, tuple(findings))


def _blocks(address: str, last: int) -> list[ledger_pb2.CommittedBlock]:
    channel, stub = _stub(address)
    try:
        request = node_pb2.GetBlocksRequest(from_height=1, to_height=last)
        blocks = list(stub.GetBlocks(request, timeout=BLOCKS_TIMEOUT_S))
    finally:
        channel.close()
    return blocks


def chains(addresses: Sequence[str], through: int) -> list[str]:
    """Identical blocks on every validator through `through`, and no double signing anywhere."""
    findings: list[str] = []
    served = {address: _blocks(address, through) for address in addresses}
    reference = next(iter(served.values()))
    signed: dict[tuple[int, int, int], bytes] = {}
    for address, blocks in served.items():
        if len(blocks) != through:
            findings.append(f"{address} served {len(blocks)} of {through} blocks")
        for ours, theirs in zip(reference, blocks, strict=False):
            if ours.block.SerializeToString(deterministic=True) != theirs.block.SerializeToString(
                deterministic=True
            ):
                findings.append(f"{address} holds another block at height {theirs.block.header.height}")
                break
        for committed in blocks:
            cert = committed.certificate
            if committed.block.evidence:
                findings.append(f"{address}: block {cert.height} carries equivocation evidence")
            if cert.block_id != block_id(committed.block.header):
                findings.append(f"{address}: certificate {cert.height} is for another block")
            for sig in cert.signatures:
                key = (sig.validator, cert.height, cert.round)
                if signed.setdefault(key, cert.block_id) != cert.block_id:
                    findings.append(f"validator {sig.validator} double-signed height {cert.height}")
    return findings


def run_verifier(genesis_path: Path, addresses: Sequence[str], report: Path) -> tuple[int, str]:
    """`votestore verify` against every validator: (exit code, its last lines)."""
    command = [
        sys.executable,
        "-m",
        "votestore",
        "verify",
        "--genesis",
        str(genesis_path),
        "--insecure-plaintext",
    ]
    for address in addresses:
        command += ["--node", address]
    done = subprocess.run(
        [*command, "--json", str(report)],
        capture_output=True,
        text=True,
        timeout=VERIFY_TIMEOUT_S,
        check=False,
    )
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
    return done.returncode, tail
