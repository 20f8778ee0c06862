"""The application interface the node (and the verifier's replay) drives.

`ElectionApp` is pure: it reads committed state through the injected `StateReader`, reads no clock
and does no other I/O. The node calls `check_tx` for its mempool, `execute_block` for a committed
block, writes `outcome.writes` durably in the block's batch, then calls `commit(outcome)`.
"""

from __future__ import annotations

import struct
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from election import state_keys
from election.app_hash import genesis_app_hash, next_app_hash
from election.counting import stored_share
from election.keygen import stored_deal
from election.kv import StateReader
from election.policy import BlockContext, ChainPolicy
from election.state_machine import (
    NO_DECODED,
    NO_POINTS,
    begin_block,
    execute_decoded,
    execute_tx,
    malformed,
)
from election.stateless import ElectionParams
from election.view import StateView
from proto.votestore.v1 import election_pb2
from votestore.encoding import DecodedTx, decode_signed_tx, tx_hash, tx_kind
from votestore.errors import DecodeError


@dataclass(frozen=True, slots=True)
class BlockOutcome:
    """The effect of one block: a result per transaction in order, the writes, the new app hash."""

    height: int
    time_ms: int
    results: tuple[election_pb2.TxResult, ...]
    kinds: tuple[str, ...]
    """Each transaction's kind, "malformed" if it does not decode (for the node's metrics)."""
    writes: Mapping[bytes, bytes | None]
    """Application-state writes, bookkeeping keys (`m/…`) included; apply all or none."""
    app_hash: bytes


def _int(raw: bytes | None) -> int:
    return 0 if raw is None else int(struct.unpack(">q", raw)[0])


class ElectionApp:
    """The election state machine over committed state (see docs/election.md)."""

    def __init__(self, policy: ChainPolicy, reader: StateReader) -> None:
        self._policy = policy
        self._reader = reader
        self._height = _int(reader.get(state_keys.META_HEIGHT))
        self._time_ms = _int(reader.get(state_keys.META_TIME))
        self._app_hash = reader.get(state_keys.META_APP_HASH) or genesis_app_hash(policy.chain_id)
        assert (self._height == 0) == (reader.get(state_keys.META_APP_HASH) is None)
        self._check_view: StateView | None = None
        """Committed state as ballots' checks read it, until the next commit (`check_decoded`)."""

    @property
    def policy(self) -> ChainPolicy:
        return self._policy

    @property
    def height(self) -> int:
        """The last committed height (0 before the first block)."""
        return self._height

    @property
    def time_ms(self) -> int:
        """The last committed block's time (0 before the first block)."""
        return self._time_ms

    @property
    def app_hash(self) -> bytes:
        """The app hash after the last committed block: what the next header carries."""
        return self._app_hash

    def check_tx(self, raw: bytes, verified: Collection[bytes] = ()) -> election_pb2.TxResult:
        """Would `raw` pass against committed state? Judged at the last block's time."""
        try:
            decoded = DecodedTx.of(raw)
        except DecodeError as exc:
            return malformed(exc)
        digest = tx_hash(raw)
        return self.check_decoded(digest, decoded, digest in verified)

    def check_decoded(self, digest: bytes, decoded: DecodedTx, preverified: bool) -> election_pb2.TxResult:
        """`check_tx` of a transaction the caller decoded and hashed (`digest`) once; `preverified`:
        its signature and proofs passed. A ballot, the mempool's common case, runs only its
        checks, on a view of committed state kept until the next commit: its election record is
        read and parsed once a height, not once a ballot. (A preverified ballot: 4.0 us, where
        `check_tx` of its bytes took 13.9 us before, decoding and hashing included.)"""
        ctx = BlockContext(self._height + 1, self._time_ms)
        if decoded.kind != "ballot":
            return execute_decoded(StateView(self._reader), self._policy, ctx, digest, decoded, preverified)
        if self._check_view is None:
            self._check_view = StateView(self._reader)
        result = execute_decoded(
            self._check_view, self._policy, ctx, digest, decoded, preverified, checks_only=True
        )
        assert self._check_view.untouched, "a ballot's checks changed the shared view"
        return result

    def execute_block(
        self,
        ctx: BlockContext,
        txs: Sequence[bytes],
        verified: Collection[bytes] = (),
        tally_points: Mapping[bytes, bytes] = NO_POINTS,
        hashes: Sequence[bytes] | None = None,
        decoded: Mapping[bytes, DecodedTx] = NO_DECODED,
    ) -> BlockOutcome:
        """Apply a block to committed state; nothing changes until the node writes and commits.
        `tally_points`: preverified ballots' points as the verify worker decoded them, by hash;
        `hashes`: the transactions' hashes in order, if the caller has them; `decoded`: by hash,
        transactions the caller decoded already (the node's mempool keeps them)."""
        assert ctx.height == self._height + 1, (ctx.height, self._height)
        assert ctx.time_ms > self._time_ms, (ctx.time_ms, self._time_ms)
        if hashes is None:
            hashes = [tx_hash(raw) for raw in txs]
        view = StateView(self._reader)
        begin_block(view, ctx)
        executed = [
            execute_tx(view, self._policy, ctx, raw, digest, verified, tally_points, decoded)
            for raw, digest in zip(txs, hashes, strict=True)
        ]
        results = tuple(result for result, _ in executed)
        kinds = tuple(kind for _, kind in executed)
        writes = view.writes()
        assert not any(key.startswith(state_keys.META_PREFIX) for key in writes)
        app_hash = next_app_hash(self._app_hash, writes)
        writes[state_keys.META_HEIGHT] = struct.pack(">q", ctx.height)
        writes[state_keys.META_TIME] = struct.pack(">q", ctx.time_ms)
        writes[state_keys.META_APP_HASH] = app_hash
        return BlockOutcome(ctx.height, ctx.time_ms, results, kinds, writes, app_hash)

    def commit(self, outcome: BlockOutcome) -> None:
        """Adopt an outcome whose writes the reader now shows (the node wrote them durably)."""
        assert outcome.height == self._height + 1, (outcome.height, self._height)
        assert self._reader.get(state_keys.META_APP_HASH) == outcome.app_hash, "writes not applied"
        self._height = outcome.height
        self._time_ms = outcome.time_ms
        self._app_hash = outcome.app_hash
        self._check_view = None  # committed state moved on

    # ------------------------------------------------------------------ queries

    def election_state(self, election_id: str) -> election_pb2.ElectionState | None:
        return StateView(self._reader).election(election_id)

    def list_elections(self) -> list[str]:
        return state_keys.decode_ids(self._reader.get(state_keys.ELECTIONS))

    def roll_group(self, election_id: str, credential_key: bytes) -> str | None:
        """The voter's roll group, or None if the credential is not in the roll."""
        raw = self._reader.get(state_keys.roll_entry(election_id, credential_key))
        record = self.election_state(election_id)
        if raw is None or record is None:
            return None
        return record.turnout[state_keys.decode_group(raw)].group

    def in_roll(self, election_id: str, credential_key: bytes) -> bool:
        return self.roll_group(election_id, credential_key) is not None

    def voted_tx(self, election_id: str, credential_key: bytes) -> bytes | None:
        """The hash (tracking code) of the voter's counted ballot, or None."""
        return self._reader.get(state_keys.voted(election_id, credential_key))

    def has_voted(self, election_id: str, credential_key: bytes) -> bool:
        return self.voted_tx(election_id, credential_key) is not None

    def deal(self, election_id: str, dealer: int) -> election_pb2.DkgDeal | None:
        """A dealer's recorded deal (trustees open their shares from it), or None."""
        return stored_deal(StateView(self._reader), election_id, dealer)

    def is_disqualified(self, election_id: str, dealer: int) -> bool:
        """True once a complaint against the dealer was proven."""
        return self._reader.get(state_keys.disqualified(election_id, dealer)) is not None

    def verification_key(self, election_id: str, trustee: int) -> bytes | None:
        """A qualified trustee's verification key, fixed at open, or None."""
        return self._reader.get(state_keys.verification_key(election_id, trustee))

    def decryption_share(self, election_id: str, trustee: int) -> election_pb2.DecryptionShare | None:
        return stored_share(StateView(self._reader), election_id, trustee)

    def params_for(self, raw: bytes) -> ElectionParams | None:
        """The public parameters `verify_tx_stateless` needs for `raw`, from committed state."""
        try:
            _, tx = decode_signed_tx(raw)
        except DecodeError:
            return None
        record = self.election_state(getattr(tx, tx_kind(tx)).election_id)
        return None if record is None else ElectionParams.of(record)
