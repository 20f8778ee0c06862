"""Checkers: separate from the system under test, they read only what nodes committed (their
chains) and what they signed (every consensus message any instance sent)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from node.consensus import Proposal, ValidatorSet, Verifier, Vote, verify_certificate
from node.sim.blocks import CHAIN_ID, Committed, sim_valid


@dataclass(frozen=True, slots=True)
class Violation:
    kind: str  # agreement | validity | double_sign | liveness
    detail: str


def check_agreement(chains: Mapping[int, Sequence[Committed]]) -> list[Violation]:
    """No two honest instances commit different blocks at one height (`chains`: honest only)."""
    decided: dict[int, tuple[int, bytes]] = {}
    found: list[Violation] = []
    for instance, chain in sorted(chains.items()):
        for committed in chain:
            first = decided.setdefault(committed.height, (instance, committed.block_id))
            if first[1] != committed.block_id:
                found.append(
                    Violation(
                        "agreement",
                        f"height {committed.height}: instance {first[0]} committed {first[1].hex()[:16]}, "
                        f"instance {instance} committed {committed.block_id.hex()[:16]}",
                    )
                )
    return found


def check_validity(
    chains: Mapping[int, Sequence[Committed]],
    signed: Sequence[tuple[int, Proposal | Vote]],
    validators: ValidatorSet,
    verifier: Verifier,
) -> list[Violation]:
    """Every committed block is valid, was proposed in a signed proposal at its height, and comes
    with a certificate that verifies against the validator set alone."""
    proposed = {(m.height, m.block_id) for _, m in signed if isinstance(m, Proposal)}
    found: list[Violation] = []
    for instance, chain in sorted(chains.items()):
        for committed in chain:
            where = f"instance {instance} height {committed.height}"
            if not sim_valid(
                committed.height, frozenset({committed.proposer}), committed.block_id, committed.payload
            ):
                found.append(Violation("validity", f"{where}: committed an invalid block"))
            if (committed.height, committed.block_id) not in proposed:
                found.append(Violation("validity", f"{where}: committed a block nobody proposed"))
            certificate = committed.certificate
            if certificate.block_id != committed.block_id or certificate.height != committed.height:
                found.append(Violation("validity", f"{where}: certificate is for another block"))
            elif not verify_certificate(certificate, CHAIN_ID, validators, verifier):
                found.append(Violation("validity", f"{where}: certificate does not verify"))
    return found


def check_no_double_sign(
    signed: Sequence[tuple[int, Proposal | Vote]], honest: Mapping[int, int]
) -> list[Violation]:
    """No honest validator signs two different block ids for one (height, round, kind).
    `honest` maps instance to validator; votes an instance relays for others are skipped."""
    seen: dict[tuple[int, int, int, str], bytes | None] = {}
    found: list[Violation] = []
    for instance, message in signed:
        if instance not in honest:
            continue
        if isinstance(message, Vote):
            key = (message.validator, message.height, message.round, message.type.name)
        else:
            key = (message.proposer, message.height, message.round, "PROPOSAL")
        if key[0] != honest[instance]:
            continue
        first = seen.setdefault(key, message.block_id)
        if first != message.block_id:
            found.append(Violation("double_sign", f"validator {key[0]} signed twice at {key[1:]}"))
    return found


def check_liveness(
    chains: Mapping[int, Sequence[Committed]], heights: int, finished: bool, bound_ms: int
) -> list[Violation]:
    """After the network is stable, every honest instance reaches `heights` within `bound_ms`."""
    if finished:
        return []
    short = {instance: len(chain) for instance, chain in sorted(chains.items()) if len(chain) < heights}
    return [Violation("liveness", f"not at height {heights} {bound_ms} ms after stability: {short}")]
