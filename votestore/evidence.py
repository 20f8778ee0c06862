"""Double-vote evidence in blocks: what a block's evidence list must satisfy beyond each entry's
own proof (`votestore.blocks.check_evidence`: one validator, height, round and type, two block
ids, both signatures valid under the chain id).

- window: an entry in block h is for a height in h − EVIDENCE_WINDOW .. h, so a validator holds
  votes and certificates that long to find double votes that arrive late, and a builder's
  pending evidence goes stale in a known time;
- once: at most one entry per (validator, height) in a block, and none for a (validator, height)
  an earlier block committed — the same double vote (either order, any round) is not committed
  twice, so a Byzantine builder cannot fill blocks with one old offence;
- at most MAX_EVIDENCE_PER_BLOCK entries.

The rule reads only the chain (which pairs earlier blocks committed, `CommittedEvidence`), so
every validator and the verifier reach the same verdict. A block that breaks it is an invalid
proposal (valid(v) is false); block execution itself never looks at evidence, so no entry a
Byzantine builder chooses can raise there.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from typing import Final

from proto.votestore.v1 import ledger_pb2
from votestore.blocks import BlockInvalid, check_evidence

EVIDENCE_WINDOW: Final = 100
"""Heights back from a block that its evidence may be for; also how long a validator keeps the
votes it saw (node/evidence.py) to compare late ones with."""
MAX_EVIDENCE_PER_BLOCK: Final = 64
"""Entries one block may carry: a block's evidence costs two signature checks an entry."""

EvidenceKey = tuple[int, int]
"""(validator, height): the unit committed once."""


def evidence_key(evidence: ledger_pb2.Evidence) -> EvidenceKey:
    return (evidence.vote_a.validator, evidence.vote_a.height)


def in_window(vote_height: int, block_height: int) -> bool:
    """Whether block `block_height` may carry evidence for votes at `vote_height`."""
    return 1 <= vote_height <= block_height and block_height - vote_height <= EVIDENCE_WINDOW


def check_block_evidence(
    chain_id: str,
    validator_keys: Sequence[bytes],
    height: int,
    evidence: Sequence[ledger_pb2.Evidence],
    committed: Container[EvidenceKey],
) -> list[EvidenceKey]:
    """The evidence of block `height`, given the pairs earlier blocks committed: each entry a
    proven double vote inside the window, each (validator, height) once and never before.
    Return the entries' keys in order; raise BlockInvalid naming the first entry at fault."""
    if len(evidence) > MAX_EVIDENCE_PER_BLOCK:
        raise BlockInvalid(f"{len(evidence)} evidence entries, at most {MAX_EVIDENCE_PER_BLOCK}")
    keys: list[EvidenceKey] = []
    for entry in evidence:
        check_evidence(chain_id, validator_keys, entry)
        key = evidence_key(entry)
        validator, vote_height = key
        if not in_window(vote_height, height):
            raise BlockInvalid(
                f"evidence for height {vote_height} in block {height}: outside the "
                f"{EVIDENCE_WINDOW}-height window"
            )
        if key in keys or key in committed:
            raise BlockInvalid(
                f"evidence against validator {validator} at height {vote_height} committed twice"
            )
        keys.append(key)
    return keys


class CommittedEvidence:
    """The (validator, height) pairs committed so far whose height a later block could still
        carry evidence for: fed every committed block in order, it forgets pairs that left the
        window, so it holds at most (EVIDENCE_WINDOW + 1) × MAX_EVIDENCE_PER_BLOCK pairs of blocks
    valid(v) passed (a certified block is not judged again here: it never raises on one)."""

    __slots__ = ("_height", "_keys")

    def __init__(self) -> None:
        self._keys: set[EvidenceKey] = set()
        self._height = 0

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def height(self) -> int:
        """The last block fed."""
        return self._height

    def add_block(self, height: int, evidence: Sequence[ledger_pb2.Evidence]) -> None:
        """Block `height` is committed with `evidence` (already judged by whoever committed it:
        this never raises on what the entries hold)."""
        assert height > self._height, (height, self._height)
        self._height = height
        self._keys.update(evidence_key(entry) for entry in evidence)
        self._keys = {key for key in self._keys if in_window(key[1], height + 1)}
