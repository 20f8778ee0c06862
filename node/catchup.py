"""Catch-up: a node that fell behind fetches certified blocks from a peer that is ahead.

Each block's certificate is checked against the genesis validators before the block is handed
to the consensus core as decided; a peer that serves a bad certificate is counted and left.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import grpc

from node.rpc.peer import CHANNEL_OPTIONS
from node.shell import NodeShell
from proto.votestore.v1 import election_pb2, ledger_pb2, node_pb2, node_pb2_grpc
from votestore.blocks import results_root
from votestore.certificate import CertificateInvalid, verify_certificate
from votestore.encoding import block_id, tx_hash

log = logging.getLogger("votestore.node.catchup")

CATCHUP_TICK_S: Final = 0.1  # a restarted node starts fetching within this of hearing a peer's height
ONE_BEHIND_GRACE_S: Final = 1.0  # one block behind for this long: that height is not committing here
CATCHUP_BATCH_BLOCKS: Final = 500
CATCHUP_APPLY_TIMEOUT_S: Final = 60.0
CATCHUP_RPC_TIMEOUT_S: Final = 30.0


async def catch_up_forever(shell: NodeShell, addresses: dict[int, str]) -> None:
    """Watch peers' heights; when one is clearly ahead, fetch and apply what we lack."""
    loop = asyncio.get_running_loop()
    behind_since: float | None = None
    while True:
        await asyncio.sleep(CATCHUP_TICK_S)
        mine = shell.store.height
        ahead = {peer: height for peer, height in shell.peer_heights.items() if height > mine}
        if not ahead:
            behind_since = None
            continue
        if behind_since is None:
            behind_since = loop.time()
        peer = max(ahead, key=lambda p: ahead[p])
        if ahead[peer] - mine < 2 and loop.time() - behind_since < ONE_BEHIND_GRACE_S:
            continue  # one block behind for a moment is normal: the height is committing here too
        shell.catching_up = True
        try:
            await fetch_blocks(
                shell, peer, addresses[peer], mine + 1, min(ahead[peer], mine + CATCHUP_BATCH_BLOCKS)
            )
        except grpc.aio.AioRpcError as exc:
            log.info("event=catchup_failed peer=%d code=%s", peer, exc.code().name)
        except TimeoutError:
            log.warning("event=catchup_stalled peer=%d height=%d", peer, shell.store.height)
        finally:
            shell.catching_up = False


async def fetch_blocks(shell: NodeShell, peer: int, address: str, first: int, last: int) -> None:
    genesis = shell.genesis
    keys = genesis.validator_keys()
    fed = 0
    held: ledger_pb2.CommittedBlock | None = None  # waits for its successor to certify its results
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        stub = node_pb2_grpc.NodeStub(channel)
        request = node_pb2.GetBlocksRequest(from_height=first, to_height=last)
        async for committed in stub.GetBlocks(request, timeout=CATCHUP_RPC_TIMEOUT_S):
            header = committed.block.header
            try:
                verify_certificate(
                    genesis.chain_id,
                    keys,
                    committed.certificate,
                    block_id=block_id(header),
                    height=first + fed + (held is not None),
                )
            except CertificateInvalid as exc:
                shell.metrics.invalid_messages.labels(reason="catchup_bad_certificate").inc()
                log.warning(
                    "event=catchup_bad_certificate peer=%d height=%d why=%s", peer, header.height, exc
                )
                break
            if held is not None:
                shell.feed_decided(held.certificate, held.block, certified_ok(held, header))
                fed += 1
            held = committed
    if held is not None:
        shell.feed_decided(held.certificate, held.block, ())
        fed += 1
    if fed:
        await asyncio.wait_for(shell.wait_for_height(first + fed - 1), CATCHUP_APPLY_TIMEOUT_S)
        log.info("event=caught_up peer=%d height=%d", peer, shell.store.height)


def certified_ok(committed: ledger_pb2.CommittedBlock, next_header: ledger_pb2.BlockHeader) -> list[bytes]:
    """Hashes of the block's transactions whose OK result the next certified header covers.

    Validators prevote a block only if its results hash equals their own results for the parent,
    so a certified results root means at least one honest validator verified those transactions:
    they need not be verified again here. Anything else (no match, a refusal) is verified inline.
    """
    if results_root(committed.results) != next_header.results_hash:
        return []
    return [
        tx_hash(raw)
        for raw, result in zip(committed.block.txs, committed.results, strict=False)
        if result.code == election_pb2.OK
    ]
