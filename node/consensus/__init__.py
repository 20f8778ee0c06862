"""The BFT consensus core: Algorithm 1 of arXiv:1807.04938 as a pure state machine.

Contract with the node shell
----------------------------
* Build one `Consensus` per validator process with the genesis `ValidatorSet`, this node's index,
  an injected `Signer` / `Verifier` (Ed25519 in production), the paper's `valid(v)` as a pure
  `Validity` predicate (height, builders, block_id, payload) -> bool — it must also check that the
  payload is the block `block_id` names, built by one of `builders` — a `BuiltBy` function
  (block_id, payload) -> the block's builder or None, a `TimeoutConfig`, the next height to decide
  (last committed + 1), the `LastSigned` record read from the store (None on first start), the
  `leader.Turn`s of the last `leader.window` committed blocks (the leader rule's history) and a
  `ReadyIn` function (block_id, payload) -> (validator, vote height) of each readiness vote it carries.
* Feed `Start()` once, then every network message (`Proposal`, `Vote`), every fired timer
  (`Timeout`), answers to `RequestProposal` (`ProposalValue`) and catch-up blocks (`Decided`).
  `step(event)` returns a list of actions; carry them out in order:
    - `PersistSigned(record)`: fsync the record before the next action (it precedes its Broadcast);
    - `Broadcast(message)`: send to every other validator (own messages are already counted);
    - `ScheduleTimeout(kind, height, round, duration_ms)`: later feed `Timeout(kind, height, round)`;
    - `RequestProposal(height, round, skipped)`: build a block (with a readiness vote of each
      `skipped` validator the shell has heard from), answer `ProposalValue(height, round, id, payload)`;
    - `Commit(height, block_id, payload, certificate, builder)`: apply the block, then feed
      `Applied()`.
      The core has already moved to height + 1 by itself; the actions after it belong to the new
      height. Messages that arrived early for that height are replayed at the next step, so the
      `valid` predicate always judges a proposal against the state its parent left;
    - `RecordEvidence(vote_a, vote_b)`: keep it and put it into a block.
* Restart: build the core with height = last committed + 1 and the stored `LastSigned`. If that
  record is for this height, `Start()` resumes its round, lock and step, and re-broadcasts the last
  vote (it may never have left); the core refuses (and counts in `refused_signatures`) anything
  that would conflict with the record, so a restarted validator never double-signs.
* Signing held back: `sign_from(height)` (the shell's amnesia guard) withholds every signature
  below `height`; the core still runs the rules. When it is lowered to the current height, feed
  `SignWithheld()`: the current round's votes cast in silence are signed and sent then.
* Proposer choice (`leader.py`): round-robin that skips a validator that missed its round-0 turn
  until a block carries its readiness vote, from the committed blocks alone;
  `Consensus.proposer(round)`, `Consensus.skipped`.
* Quorum is ⌊2n/3⌋+1 (= 2f+1 for n = 3f+1); f+1 messages from a later round make the node skip
  to it; messages for height + 1 wait in a buffer per sender, bounded in messages
  (`NEXT_HEIGHT_MESSAGES_PER_SENDER`) and bytes (a full payload, `max_payload_bytes`, plus
  `MESSAGE_OVERHEAD_BYTES` a message); a proposal whose payload is over `max_payload_bytes` is
  refused on arrival (`DropReason.OVERSIZE`).
* Values are opaque: a block is `block_id` (32 bytes) plus `payload` bytes.
* Invalid incoming messages never raise: they are dropped and counted in `Consensus.dropped` by
  `DropReason`. Height, round and step are readable as properties.
* Signing bytes: `vote_signing_bytes` / `proposal_signing_bytes` (layout in `signing.py`, equal to
  `votestore.encoding`'s). `verify_certificate(cert, chain_id, validators, verifier)` checks a
  `Certificate` with the validator set alone: the kernel's one check
  (`votestore.certificate.check_precommits`) through the injected `Verifier`. A `Decided` the
  shell has already checked with it (catch-up) says so (`certificate_checked=True`) and is not
  verified twice.
"""

from node.consensus import leader
from node.consensus.actions import (
    Action,
    Broadcast,
    Commit,
    PersistSigned,
    RecordEvidence,
    RequestProposal,
    ScheduleTimeout,
)
from node.consensus.config import TimeoutConfig, ValidatorSet
from node.consensus.events import (
    Applied,
    Decided,
    Event,
    ProposalValue,
    SignWithheld,
    Start,
    Timeout,
    TimeoutKind,
)
from node.consensus.messages import Certificate, LastSigned, Proposal, Step, Vote, VoteType
from node.consensus.next_height import MESSAGE_OVERHEAD_BYTES
from node.consensus.signing import (
    BLOCK_ID_BYTES,
    Signer,
    Verifier,
    proposal_signing_bytes,
    signing_bytes,
    verify_certificate,
    vote_signing_bytes,
)
from node.consensus.state_machine import (
    MAX_ROUNDS_AHEAD,
    NEXT_HEIGHT_MESSAGES_PER_SENDER,
    BuiltBy,
    Consensus,
    DropReason,
    ReadyIn,
    Validity,
)
from node.consensus.votes import MAX_PROPOSALS_PER_ROUND

__all__ = [
    "BLOCK_ID_BYTES",
    "MAX_PROPOSALS_PER_ROUND",
    "MAX_ROUNDS_AHEAD",
    "MESSAGE_OVERHEAD_BYTES",
    "NEXT_HEIGHT_MESSAGES_PER_SENDER",
    "Action",
    "Applied",
    "Broadcast",
    "BuiltBy",
    "Certificate",
    "Commit",
    "Consensus",
    "Decided",
    "DropReason",
    "Event",
    "LastSigned",
    "PersistSigned",
    "Proposal",
    "ProposalValue",
    "ReadyIn",
    "RecordEvidence",
    "RequestProposal",
    "ScheduleTimeout",
    "SignWithheld",
    "Signer",
    "Start",
    "Step",
    "Timeout",
    "TimeoutConfig",
    "TimeoutKind",
    "ValidatorSet",
    "Validity",
    "Verifier",
    "Vote",
    "VoteType",
    "leader",
    "proposal_signing_bytes",
    "signing_bytes",
    "verify_certificate",
    "vote_signing_bytes",
]
