"""Receipts from the ledger itself: the gateway keeps no record of what it forwarded.

A lookup asks the validators' GetTx and believes a commit only with a proof that checks against
the genesis validators (votestore.receipts.verify_tx_proof). So a gateway restarted after taking a
ballot answers exactly as before, and a lying validator cannot forge a receipt.

Waiters do not each ask: when the commit stream shows the block after theirs, the finder fetches the
final proofs of every waited-for transaction of earlier blocks in one GetTxBatch call to the validator
that showed it (one call a block, where there was one GetTx a ballot), checks them, and hands each
waiter its receipt. A waiter whose proof did not come that way asks the validators itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any, Final

import grpc  # type: ignore[import-untyped, unused-ignore]
import grpc.aio  # type: ignore[import-untyped, unused-ignore]
from google.protobuf.message import DecodeError as ProtobufDecodeError

from gateway.commits import CommitWatcher
from gateway.validators import ValidatorPool
from proto.votestore.v1 import election_pb2, gateway_pb2, ledger_pb2, node_pb2
from votestore.encoding import tx_hash
from votestore.genesis import Genesis
from votestore.receipts import CheckedCertificates, ProofInvalid, verify_tx_proof

log = logging.getLogger("votestore.gateway.receipts")

LOOKUP_TIMEOUT_S: Final = 3.0
MAX_PROOFS_PER_CALL: Final = 100
"""Hashes in one GetTxBatch call: 100 proofs of the largest transactions (256 KiB) and their
certificates stay under the 32 MiB a reply may carry (votestore.limits.NODE_MESSAGE_BYTES)."""
MAX_CACHED_RECEIPTS: Final = 10_000
MAX_TAKEN_REMEMBERED: Final = 100_000
"""Ballots this gateway just saw f+1 validators take, remembered (about 4 MB) until waited for."""
REREAD_EVERY_S: Final = 2.0
"""Longest a waiter goes without asking the validators: the commit stream is only a hint, and one
that is down, stalled or lying must not keep a receipt from being found."""

_RANK: Final = {
    gateway_pb2.UNKNOWN: 0,
    gateway_pb2.PENDING: 1,
    gateway_pb2.COMMITTED: 2,
    gateway_pb2.REJECTED: 2,
}


def is_final(response: gateway_pb2.ReceiptResponse) -> bool:
    """Committed with its result certified by the next block: nothing about it can change."""
    return _RANK[response.status] == 2 and response.receipt.proof.HasField("next_header")


def election_of(raw: bytes) -> str:
    """The election a committed transaction names (every kind names one: a ballot, an audited
    ballot's publication, a roll entry, a share...). A plain parse: the ledger's validators
    decoded and checked it before it was committed (and its proof checks), so the stricter
    `decode_signed_tx` (sizes, canonical form) would only repeat their work."""
    try:
        tx = election_pb2.Tx.FromString(election_pb2.SignedTx.FromString(raw).body)
    except ProtobufDecodeError:
        return ""
    kind = tx.WhichOneof("kind")
    return "" if kind is None else str(getattr(tx, kind).election_id)


def _from_proof(tracking_code: bytes, proof: ledger_pb2.TxProof) -> gateway_pb2.ReceiptResponse:
    """The receipt built in place: the proof (a few kilobytes) is copied once, not once into the
    Receipt and again into the response."""
    status = gateway_pb2.COMMITTED if proof.result.code == election_pb2.OK else gateway_pb2.REJECTED
    response = gateway_pb2.ReceiptResponse(status=status, result=proof.result)
    receipt = response.receipt
    receipt.tracking_code = tracking_code
    receipt.election_id = election_of(proof.tx)
    receipt.proof.CopyFrom(proof)
    return response


class ReceiptFinder:
    def __init__(self, pool: ValidatorPool, genesis: Genesis, watcher: CommitWatcher) -> None:
        self._pool = pool
        self._genesis = genesis
        self._watcher = watcher
        self._checked = CheckedCertificates(genesis)
        self._final: OrderedDict[bytes, gateway_pb2.ReceiptResponse] = OrderedDict()
        self._taken: OrderedDict[bytes, None] = OrderedDict()
        self._waiting: dict[bytes, list[asyncio.Future[gateway_pb2.ReceiptResponse | None]]] = {}
        self._fetching: set[bytes] = set()
        self._fetches: set[asyncio.Task[None]] = set()
        watcher.on_rise(self._risen)

    @property
    def waiting(self) -> int:
        """Transactions some WaitReceipt call is waiting on."""
        return len(self._waiting)

    def taken(self, tracking_code: bytes) -> None:
        """f+1 validators have just taken this ballot into their mempools (a cast answered
        PENDING): a waiter for it starts from PENDING instead of asking."""
        self._taken[tracking_code] = None
        if len(self._taken) > MAX_TAKEN_REMEMBERED:
            self._taken.popitem(last=False)

    def _judge(self, tracking_code: bytes, index: int, answer: Any) -> gateway_pb2.ReceiptResponse:
        if isinstance(answer, grpc.aio.AioRpcError) or not answer.tx:  # not found
            return gateway_pb2.ReceiptResponse(status=gateway_pb2.UNKNOWN)
        if answer.tx_hash != tracking_code or tx_hash(answer.tx) != tracking_code:
            log.warning("event=wrong_tx validator=%d", index)
            return gateway_pb2.ReceiptResponse(status=gateway_pb2.UNKNOWN)
        if not answer.HasField("header"):
            return gateway_pb2.ReceiptResponse(status=gateway_pb2.PENDING)
        try:
            verify_tx_proof(self._genesis, answer, checked=self._checked)
        except ProofInvalid as exc:
            log.warning("event=bad_proof validator=%d why=%r", index, str(exc))
            return gateway_pb2.ReceiptResponse(status=gateway_pb2.UNKNOWN)
        return _from_proof(tracking_code, answer)

    async def lookup(
        self, tracking_code: bytes, *, known_will_do: bool = False, first: int | None = None
    ) -> gateway_pb2.ReceiptResponse:
        """The best-proven answer; one validator is asked first (`first`, else one chosen by the
        code, spreading the load), and all of them only if its answer is not final — or, with
        `known_will_do`, only if it does not even know the transaction: a waiter, which hears of
        the final proof when the commit stream shows the block after the transaction's, needs no
        better answer yet."""
        cached = self._final.get(tracking_code)
        if cached is not None:
            return cached

        async def ask(stub: Any) -> ledger_pb2.TxProof:
            request = node_pb2.GetTxRequest(tx_hash=tracking_code)
            proof: ledger_pb2.TxProof = await stub.GetTx(request, timeout=LOOKUP_TIMEOUT_S)
            return proof

        if first is None:
            first = tracking_code[0] % self._pool.n
        best = self._judge(tracking_code, first, await self._pool.ask_one(first, ask))
        if is_final(best):
            self._remember(tracking_code, best)
            return best
        if known_will_do and best.status != gateway_pb2.UNKNOWN:
            return best
        async for index, answer in self._pool.ask_all(ask):
            judged = self._judge(tracking_code, index, answer)
            if is_final(judged):
                self._remember(tracking_code, judged)
                return judged
            if _RANK[judged.status] > _RANK[best.status]:
                best = judged
        return best

    def _remember(self, tracking_code: bytes, response: gateway_pb2.ReceiptResponse) -> None:
        self._final[tracking_code] = response
        if len(self._final) > MAX_CACHED_RECEIPTS:
            self._final.popitem(last=False)

    async def wait(self, tracking_code: bytes, timeout_s: float) -> gateway_pb2.ReceiptResponse:
        """Until final (the next block certifies the result) or the time is up, return the best
        answer so far. The final proof comes from the fetch at the block after the transaction's;
        the validators are asked directly when that fetch did not bring it, when the block after
        was seen before this waiter came, or after REREAD_EVERY_S whatever the stream says."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        if tracking_code in self._taken:
            # Just taken here: at best committed without its result certified yet, which the loop
            # below finds out without asking anybody.
            del self._taken[tracking_code]
            response = gateway_pb2.ReceiptResponse(status=gateway_pb2.PENDING)
        else:
            response = await self.lookup(tracking_code, known_will_do=True)
        asked_at_height = 0
        while not is_final(response) and (left := deadline - loop.time()) > 0:
            committed = self._watcher.committed_height(tracking_code)
            seen = self._watcher.height
            if committed is not None and committed < seen and seen > asked_at_height:
                # the fetch for the block after this one has passed: ask its validator first
                asked_at_height = seen
                response = await self.lookup(tracking_code, first=self._watcher.following)
                continue
            told = await self._told(tracking_code, min(left, REREAD_EVERY_S))
            if told is not None:
                return told
            if loop.time() < deadline:
                asked_at_height = self._watcher.height
                response = await self.lookup(tracking_code)
        return response

    async def _told(self, tracking_code: bytes, timeout_s: float) -> gateway_pb2.ReceiptResponse | None:
        """The final receipt a fetch brings within `timeout_s`; None if the time passed or the
        fetch did not bring it."""
        loop = asyncio.get_running_loop()
        told: asyncio.Future[gateway_pb2.ReceiptResponse | None] = loop.create_future()
        waiters = self._waiting.setdefault(tracking_code, [])
        waiters.append(told)
        timer = loop.call_later(timeout_s, _settle, told, None)
        try:
            return await told
        finally:
            timer.cancel()
            waiters.remove(told)
            if not waiters:
                del self._waiting[tracking_code]

    def _risen(self, height: int, index: int) -> None:
        """Validator `index` holds `height`: the final proofs of the transactions waited for that
        committed below it are there; fetch them, a call per MAX_PROOFS_PER_CALL."""
        committed_height = self._watcher.committed_height
        due = [
            code
            for code in self._waiting
            if code not in self._fetching and (at := committed_height(code)) is not None and at < height
        ]
        for start in range(0, len(due), MAX_PROOFS_PER_CALL):
            codes = due[start : start + MAX_PROOFS_PER_CALL]
            self._fetching.update(codes)
            fetch = asyncio.create_task(self._fetch(codes, index))
            self._fetches.add(fetch)
            fetch.add_done_callback(self._fetches.discard)

    async def _fetch(self, codes: list[bytes], index: int) -> None:
        request = node_pb2.GetTxBatchRequest(tx_hashes=codes)
        proofs: list[Any] = [None] * len(codes)
        try:
            reply = await self._pool.stubs[index].GetTxBatch(request, timeout=LOOKUP_TIMEOUT_S)
        except grpc.aio.AioRpcError as exc:
            log.info("event=proof_batch_failed validator=%d status=%s", index, exc.code().name)
        else:
            if len(reply.proofs) == len(codes):
                proofs = list(reply.proofs)
            else:
                log.warning(
                    "event=wrong_proof_count validator=%d asked=%d got=%d",
                    index,
                    len(codes),
                    len(reply.proofs),
                )
        finally:
            self._fetching.difference_update(codes)
        for code, proof in zip(codes, proofs, strict=True):
            judged = None if proof is None else self._judge(code, index, proof)
            if judged is not None and is_final(judged):
                self._remember(code, judged)
            else:
                judged = None  # the waiters ask the validators themselves
            for told in self._waiting.get(code, ()):
                _settle(told, judged)

    async def close(self) -> None:
        for fetch in list(self._fetches):
            fetch.cancel()
        await asyncio.gather(*self._fetches, return_exceptions=True)


def _settle(
    told: asyncio.Future[gateway_pb2.ReceiptResponse | None], response: gateway_pb2.ReceiptResponse | None
) -> None:
    if not told.done():
        told.set_result(response)
