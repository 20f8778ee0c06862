"""Building one validator's consensus core from genesis and its store: the timeouts genesis
fixes, the leader rule's history read back from the stored blocks, the height after the
store's. The node's `main` builds it; `BlockValidity` is built before it and handed to it.
"""

from __future__ import annotations

from node.consensus import Consensus, LastSigned, TimeoutConfig, ValidatorSet, leader
from node.ledger.store import Store
from node.proposer import BlockValidity, built_by, ready_in
from node.signing import GenesisVerifier, Signer
from votestore.blocks import readiness
from votestore.genesis import Genesis


def recent_turns(store: Store, validators: ValidatorSet) -> list[leader.Turn]:
    """The leader rule's history after a restart: the stored blocks' builders and readiness
    votes, oldest first."""
    first = max(1, store.height - leader.window(validators) + 1)
    turns = []
    for height in range(first, store.height + 1):
        block = store.block(height)
        turns.append(leader.Turn(block.header.proposer, readiness(block)))
    return turns


def timeouts_of(genesis: Genesis) -> TimeoutConfig:
    t = genesis.timeouts
    return TimeoutConfig(
        propose_ms=t.propose_ms, prevote_ms=t.prevote_ms, precommit_ms=t.precommit_ms, delta_ms=t.delta_ms
    )


def consensus_for(
    genesis: Genesis,
    index: int,
    signer: Signer,
    store: Store,
    validity: BlockValidity,
    last_signed: LastSigned | None,
) -> Consensus:
    """The core of validator `index`, at the height after the store's, judging by `validity`."""
    validators = ValidatorSet(genesis.n)
    return Consensus(
        chain_id=genesis.chain_id,
        validators=validators,
        index=index,
        signer=signer,
        verifier=GenesisVerifier(genesis.validator_keys()),
        valid=validity,
        built_by=built_by,
        timeouts=timeouts_of(genesis),
        height=store.height + 1,
        last_signed=last_signed,
        recent=recent_turns(store, validators),
        ready_in=ready_in,
        max_payload_bytes=validity.max_payload_bytes,
    )
