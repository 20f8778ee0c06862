"""Which served version of a height is the agreed block, and who signed when two are certified.

The agreed block is whole, links to the agreed parent, is later than it, and carries a valid
certificate; of several such versions, the one the most nodes hold. Two different blocks with
valid certificates at one height break agreement: the validators that signed both are named.
"""

from __future__ import annotations

from collections.abc import Sequence

from proto.votestore.v1 import ledger_pb2
from tools.verify.chain import certificate_problem, genuine_signers, header_problem
from tools.verify.compare import short
from tools.verify.findings import Check, Finding
from votestore.encoding import block_id
from votestore.genesis import Genesis


def choose(
    genesis: Genesis,
    height: int,
    holders: Sequence[tuple[str, ledger_pb2.CommittedBlock]],
    parent: bytes,
    last_time: int,
) -> tuple[ledger_pb2.CommittedBlock | None, dict[bytes, frozenset[int]]]:
    """The agreed block at `height` (or None) after `parent`, whose time was `last_time`; and for
    each block id with a valid certificate, the validators whose signatures certify it."""
    by_id: dict[bytes, list[ledger_pb2.CommittedBlock]] = {}
    for _, committed in holders:
        by_id.setdefault(block_id(committed.block.header), []).append(committed)
    certified: dict[bytes, frozenset[int]] = {}
    best: tuple[int, ledger_pb2.CommittedBlock] | None = None
    for bid, versions in by_id.items():
        signed = [c for c in versions if certificate_problem(genesis, c, height) is None]
        if not signed:
            continue
        certified[bid] = frozenset().union(*(genuine_signers(genesis, c.certificate) for c in signed))
        whole = next((c for c in versions if header_problem(genesis, c.block, height) is None), None)
        header = versions[0].block.header
        if whole is None or header.prev_block_hash != parent or header.time_ms <= last_time:
            continue
        if best is None or len(versions) > best[0]:
            best = (len(versions), _with_certificate(whole, signed[0]))
    return (None if best is None else best[1]), certified


def accountability(
    genesis: Genesis,
    height: int,
    certified: dict[bytes, frozenset[int]],
    holders: Sequence[tuple[str, ledger_pb2.CommittedBlock]],
) -> Finding | None:
    """None when at most one block at `height` is certified; else the finding that names the
    blocks and the validators that signed both."""
    if len(certified) < 2:
        return None
    ids = sorted(certified)
    both = frozenset.intersection(*(certified[b] for b in ids))
    names = ", ".join(f"{v} ({genesis.validators[v].name})" for v in sorted(both))
    return Finding(
        Check.ACCOUNTABILITY,
        height,
        tuple(sorted({name for name, _ in holders})),
        "blocks " + " vs ".join(short(b) for b in ids),
        f"{len(ids)} different blocks carry valid certificates; signed both: {names or 'none'}",
    )


def _with_certificate(
    whole: ledger_pb2.CommittedBlock, signed: ledger_pb2.CommittedBlock
) -> ledger_pb2.CommittedBlock:
    """The whole body from one node with a valid certificate from another (same block id)."""
    if whole is signed:
        return whole
    merged = ledger_pb2.CommittedBlock()
    merged.CopyFrom(whole)
    merged.certificate.CopyFrom(signed.certificate)
    return merged
