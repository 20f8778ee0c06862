"""Election checks the verifier makes on its own, beside the replay: the roll frozen at open, the
encrypted tally recomputed from the accepted ballots' ciphertexts, every decryption share's proofs
checked against that recomputed tally, the count recombined from the shares, and audited ballots
opened and never counted (audited.py).

They hold the state machine to account rather than repeating it: a replay that accepted a roll
change after open, an aggregate that is not the sum of the ballots, a share that does not decrypt
that sum, or a result that is not what the shares give, is named here.
"""

from __future__ import annotations

from collections.abc import Sequence

from proto.votestore.v1 import election_pb2
from tools.verify.audited import NeverCast
from tools.verify.findings import HASH_PREFIX_CHARS, Check, Finding, Tally
from tools.verify.replay import Replayer
from votestore.crypto.decryption import combine, verify_partial
from votestore.crypto.errors import DecryptionFailed
from votestore.crypto.tally import add_ciphertexts, zero_ciphertext
from votestore.encoding import canonical, decode_signed_tx, tx_hash, tx_kind
from votestore.errors import DecodeError


def raw_hash(raw: bytes) -> str:
    return tx_hash(raw).hex()[:HASH_PREFIX_CHARS]


def _election_of(raw: bytes) -> tuple[str, election_pb2.Tx] | None:
    try:
        _, tx = decode_signed_tx(raw)
    except DecodeError:
        return None
    body = getattr(tx, tx_kind(tx))
    return str(body.election_id), tx


class ElectionAudit:
    """Per election: the roll size when it left key generation, and the recomputed aggregate."""

    def __init__(self, tally: Tally) -> None:
        self._tally = tally
        self._roll_at_open: dict[str, int] = {}
        self._sums: dict[str, list[election_pb2.Ciphertext]] = {}
        self._ballots: dict[str, int] = {}
        self._shares: dict[str, dict[int, list[election_pb2.PartialDecryption]]] = {}
        self._counted: set[str] = set()
        self._never_cast = NeverCast(tally)

    def observe_block(
        self,
        height: int,
        txs: Sequence[bytes],
        results: Sequence[election_pb2.TxResult],
        replayer: Replayer,
    ) -> None:
        touched: set[str] = set()
        for raw, result in zip(txs, results, strict=True):
            found = _election_of(raw)
            if found is None:
                continue
            election_id, tx = found
            touched.add(election_id)
            if result.code != election_pb2.OK:
                continue
            if tx.HasField("ballot"):
                self._add_ballot(election_id, tx.ballot)
                self._tally.ok(Check.BALLOT)
                self._tally.ok(Check.ATTESTATION)
                self._never_cast.cast(height, raw, election_id, tx.ballot)
            elif tx.HasField("audited_ballot"):
                record = replayer.election(election_id)
                assert record is not None, election_id
                self._never_cast.audited(height, raw, record, tx.audited_ballot)
            elif tx.HasField("roll_append"):
                self._tally.ok(Check.ROLL_AUTHORITY)
            elif tx.HasField("decryption_share"):
                self._check_share(height, raw, tx.decryption_share, replayer)
        for election_id in sorted(touched):
            self._check_roll(height, election_id, replayer)

    def _add_ballot(self, election_id: str, ballot: election_pb2.Ballot) -> None:
        selections = [ct for contest in ballot.contests for ct in contest.selections]
        sums = self._sums.setdefault(election_id, [])
        sums.extend(zero_ciphertext() for _ in range(len(selections) - len(sums)))
        for at, ct in enumerate(selections):
            sums[at] = add_ciphertexts(sums[at], ct)
        self._ballots[election_id] = self._ballots.get(election_id, 0) + 1

    def _aggregate(self, record: election_pb2.ElectionState) -> list[election_pb2.Ciphertext]:
        """The recomputed aggregate, one ciphertext per choice of the definition."""
        width = sum(len(c.choices) for c in record.definition.contests)
        mine = list(self._sums.get(record.definition.election_id, []))
        assert len(mine) <= width, (len(mine), width)
        return mine + [zero_ciphertext() for _ in range(width - len(mine))]

    def _check_share(
        self, height: int, raw: bytes, share: election_pb2.DecryptionShare, replayer: Replayer
    ) -> None:
        record = replayer.election(share.election_id)
        key = replayer.app.verification_key(share.election_id, share.trustee)
        assert record is not None, share.election_id
        aggregate = self._aggregate(record)
        bad = [
            at
            for at, (ciphertext, part) in enumerate(zip(aggregate, share.parts, strict=False))
            if key is None or not verify_partial(share.election_id, share.trustee, key, ciphertext, part)
        ]
        if len(share.parts) != len(aggregate):
            bad.append(len(aggregate))
        if bad:
            self._tally.fail(
                Finding(
                    Check.DECRYPTION_SHARE,
                    height,
                    (),
                    f"tx {raw_hash(raw)} (decryption_share of trustee {share.trustee})",
                    f"parts {bad[:8]} do not decrypt the recomputed aggregate",
                )
            )
            return
        self._tally.ok(Check.DECRYPTION_SHARE)
        self._shares.setdefault(share.election_id, {})[share.trustee] = list(share.parts)

    def _check_roll(self, height: int, election_id: str, replayer: Replayer) -> None:
        record = replayer.election(election_id)
        if record is None or record.phase == election_pb2.KEY_GENERATION:
            return
        frozen = self._roll_at_open.setdefault(election_id, record.roll_size)
        if record.roll_size == frozen:
            self._tally.ok(Check.ROLL_FROZEN)
            return
        self._tally.fail(
            Finding(
                Check.ROLL_FROZEN,
                height,
                (),
                f"election {election_id}",
                f"roll size {record.roll_size} after open, {frozen} at open",
            )
        )

    def check_elections(self, replayer: Replayer) -> None:
        """Each election's replayed aggregate and ballot count against the sums made here from the
        ballots; a counted election's result against the combination of the verified shares."""
        for record in replayer.elections():
            self._check_aggregate(record)
            if record.phase == election_pb2.COUNTED and record.definition.election_id not in self._counted:
                self._counted.add(record.definition.election_id)
                self._check_result(record)

    def _check_aggregate(self, record: election_pb2.ElectionState) -> None:
        election_id = record.definition.election_id
        mine = self._aggregate(record)
        theirs = list(record.aggregate) or [zero_ciphertext() for _ in mine]
        counted = self._ballots.get(election_id, 0)
        at = f"election {election_id}"
        if len(theirs) != len(mine):
            self._fail(Check.AGGREGATE, at, f"{len(theirs)} aggregate ciphertexts for {len(mine)} choices")
        elif [canonical(c) for c in mine] != [canonical(c) for c in theirs]:
            wrong = next(i for i in range(len(mine)) if canonical(mine[i]) != canonical(theirs[i]))
            self._fail(Check.AGGREGATE, at, f"aggregate differs from the ballots' sum at choice {wrong}")
        elif record.ballots != counted:
            self._fail(Check.AGGREGATE, at, f"{record.ballots} ballots recorded, {counted} accepted")
        else:
            self._tally.ok(Check.AGGREGATE)

    def _check_result(self, record: election_pb2.ElectionState) -> None:
        election_id = record.definition.election_id
        at = f"election {election_id}"
        shares = self._shares.get(election_id, {})
        used = list(record.result.trustees)
        unseen = [t for t in used if t not in shares]
        if unseen or len(used) != record.definition.threshold:
            self._fail(
                Check.RESULT, at, f"result combines trustees {used}; verified shares from {sorted(shares)}"
            )
            return
        counted = self._ballots.get(election_id, 0)
        try:
            counts = combine(election_id, self._aggregate(record), {t: shares[t] for t in used}, counted)
        except DecryptionFailed as exc:
            self._fail(Check.RESULT, at, f"the verified shares do not combine: {exc.reason}")
            return
        recorded = [n for contest in record.result.contests for n in contest.counts]
        if recorded != counts or record.result.ballots_counted != counted:
            self._fail(Check.RESULT, at, f"result {recorded} differs from the shares' combination {counts}")
        else:
            self._tally.ok(Check.RESULT)

    def _fail(self, check: Check, record: str, detail: str) -> None:
        self._tally.fail(Finding(check, 0, (), record, detail))
