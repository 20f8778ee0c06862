"""Carrying out the amnesia guard's decisions (node/amnesia.py, pure) on this validator: the core
signs or not (`Consensus.sign_from`; when it may again, `SignWithheld` has the core sign what it
cast meanwhile in the current round), the store's watch mark is cleared once it signs again, the
`votestore_node_signing_state` gauge and one log line per change. The shell hands it what the
guard watches: committed certificates, peers' heights and signed messages while it does not sign.
The simulator runs this same gate over its own disk (`WatchMark`) and keys (`Verifier`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Final, Protocol

from node.amnesia import AmnesiaGuard, SigningState
from node.consensus import Commit, Consensus, Event, Proposal, SignWithheld, Verifier, Vote, signing_bytes
from node.metrics import NodeMetrics

log = logging.getLogger("votestore.node")

NEVER: Final = 2**64  # above every height: Consensus.sign_from(NEVER) signs nothing


class WatchMark(Protocol):
    """What the gate reads and clears of the node's store (node.ledger.store.Store)."""

    @property
    def height(self) -> int: ...

    def mark_cleared_to_sign(self) -> None: ...


class SigningGate:
    def __init__(
        self,
        *,
        guard: AmnesiaGuard,
        consensus: Consensus,
        store: WatchMark,
        chain_id: str,
        verifier: Verifier,
        index: int,
        metrics: NodeMetrics,
        watch_heights: int,
        feed: Callable[[Event], None],
        logger: logging.Logger = log,
    ) -> None:
        self.guard = guard
        self._log = logger
        self._feed = feed
        self._consensus = consensus
        self._store = store
        self._chain_id = chain_id
        self._verifier = verifier
        self._index = index
        self._metrics = metrics
        self._state = SigningState.SIGNING
        if watch_heights == 0:
            logger.warning("event=amnesia_guard_off why=amnesia_watch_heights_is_0")
        self._carry_out(guard.state)

    @property
    def signing(self) -> bool:
        return self.guard.signing

    def committed(self, action: Commit, heights: Mapping[int, int]) -> None:
        if not self.guard.signing:
            signers = [v for v, _ in action.certificate.signatures]
            self._carry_out(self.guard.committed(action.height, action.proposer, signers, heights))

    def peer_heights(self, heights: Mapping[int, int]) -> None:
        if not self.guard.signing:
            self._carry_out(self.guard.peer_heights(heights))

    def message(self, event: Proposal | Vote) -> None:
        """While not signing: a validly signed message of this validator's key is another
        process's; one of another validator's for height 1 shows the chain is at genesis."""
        if self.guard.signing:
            return
        sender = event.validator if isinstance(event, Vote) else event.proposer
        if sender != self._index and (event.height != 1 or self._store.height != 0):
            return
        if not self._verifier.verify(sender, signing_bytes(self._chain_id, event), event.signature):
            return
        if sender == self._index:
            self._carry_out(self.guard.own_message())
        else:
            self._carry_out(self.guard.peer_signed_at_genesis(sender))

    def _carry_out(self, state: SigningState) -> None:
        self._metrics.signing_state.set(int(state))
        if state == self._state:
            return
        self._state = state
        consensus = self._consensus
        if state == SigningState.SIGNING:
            consensus.sign_from(consensus.height)
            self._feed(SignWithheld())  # this round's votes, cast while it could not sign
            self._store.mark_cleared_to_sign()
            self._log.info("event=signing height=%d", consensus.height)
        elif state == SigningState.REFUSED:
            consensus.sign_from(NEVER)
            self._log.error(
                "event=own_signature_seen validator=%d height=%d: another process signs with this "
                "validator's key, or this node signed before its record was lost; it follows and "
                "signs nothing until an operator acts",
                self._index,
                consensus.height,
            )
        else:
            consensus.sign_from(NEVER)
            self._log.warning(
                "event=watching_before_signing validator=%d state=%s height=%d",
                self._index,
                state.name.lower(),
                self._store.height,
            )
