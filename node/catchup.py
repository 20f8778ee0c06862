"""Catch-up: a node that fell behind fetches certified blocks from peers that claim to be ahead.

Claimed heights are hints: peers are asked in rotation (`node.repair.CatchupPeers`), and one that
serves a bad certificate, an empty stream or less than it claimed is set aside for a backoff.
Each block's certificate is checked against the genesis validators before the block is handed
to the consensus core as decided.

A peer's channel is dialled once and kept (`CatchupChannels`): under TLS every new channel costs a
handshake, and a node one block behind fetches at every height it misses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

import grpc

from node.repair import CatchupPeers, Lag, judge_fetch, plan_fetch
from node.rpc.peer_options import CHANNEL_OPTIONS
from node.shell import NodeShell
from proto.votestore.v1 import election_pb2, ledger_pb2, node_pb2, node_pb2_grpc
from votestore.blocks import results_root
from votestore.certificate import certificate_problem as certificate_problem
from votestore.channels import ValidatorDialer
from votestore.encoding import tx_hash

log = logging.getLogger("votestore.node.catchup")

CATCHUP_TICK_S: Final = 0.1  # a restarted node starts fetching within this of hearing a peer's height
CATCHUP_APPLY_TIMEOUT_S: Final = 60.0
CATCHUP_RPC_TIMEOUT_S: Final = 30.0

Fetch = Callable[["NodeShell", int, str, int, int], Awaitable[tuple[int, bool]]]
"""(shell, peer, its address, first, last) -> (blocks fed, whether one failed its check)."""


class CatchupChannels:
    """One channel per catch-up peer, dialled through `dialer` on first use and kept until `close`.

    At most one per validator index asked, so at most n - 1 (catch-up asks only peers). A channel
    whose connection failed is kept too: gRPC reconnects it (within the backoff of
    `node.rpc.peer_options.RECONNECT_OPTIONS`), and a call on it meanwhile fails fast, which
    catch-up already treats as the peer failing. Who may answer for a peer is the dialer's rule,
    as for every channel (votestore.channels).
    """

    def __init__(self, dialer: ValidatorDialer) -> None:
        self._dialer = dialer
        self._channels: dict[int, grpc.aio.Channel] = {}

    def to(self, peer: int, address: str) -> grpc.aio.Channel:
        channel = self._channels.get(peer)
        if channel is None:
            channel = self._dialer.aio(peer, address, CHANNEL_OPTIONS)
            self._channels[peer] = channel
        return channel

    async def close(self) -> None:
        channels, self._channels = list(self._channels.values()), {}
        await asyncio.gather(*(channel.close() for channel in channels))


async def catch_up_forever(shell: NodeShell, addresses: dict[int, str], dialer: ValidatorDialer) -> None:
    """Watch peers' claimed heights; when one is clearly ahead (`Lag`), fetch what we lack from
    the peer `CatchupPeers` chooses, and set that peer aside if it fails to serve it. Its peers'
    channels live as long as this task: they close when the node stops (the task is cancelled)."""
    lag = Lag()
    choice = CatchupPeers()
    channels = CatchupChannels(dialer)

    async def fetch(shell: NodeShell, peer: int, address: str, first: int, last: int) -> tuple[int, bool]:
        return await fetch_blocks(shell, peer, channels.to(peer, address), first, last)

    try:
        while True:
            await asyncio.sleep(CATCHUP_TICK_S)
            await catch_up_once(shell, addresses, lag, choice, fetch)
    finally:
        await channels.close()


async def catch_up_once(
    shell: NodeShell, addresses: dict[int, str], lag: Lag, choice: CatchupPeers, fetch: Fetch
) -> int | None:
    """One tick of catch-up; returns the peer asked, if any."""
    now = shell.clock.now()
    plan = plan_fetch(lag, choice, shell.peers.heights, shell.store.height, now)
    shell.metrics.catching_up.set(0 if plan is None else 1)
    if plan is None:
        return None
    shell.catching_up = True
    served, bad = 0, False
    try:
        served, bad = await fetch(shell, plan.peer, addresses[plan.peer], plan.first, plan.last)
    except grpc.aio.AioRpcError as exc:
        log.info("event=catchup_failed peer=%d code=%s", plan.peer, exc.code().name)
    except TimeoutError:
        log.warning("event=catchup_stalled peer=%d height=%d", plan.peer, shell.store.height)
        return plan.peer  # this node's own apply was slow: not the peer's fault
    finally:
        shell.catching_up = False
    if judge_fetch(choice, plan, served, bad, shell.clock.now()):
        shell.metrics.invalid_messages.labels(reason="catchup_peer_set_aside").inc()
        log.info("event=catchup_peer_set_aside peer=%d asked=%d served=%d", plan.peer, plan.asked, served)
    return plan.peer


async def fetch_blocks(
    shell: NodeShell, peer: int, channel: grpc.aio.Channel, first: int, last: int
) -> tuple[int, bool]:
    """Fetch heights first..last from `peer` over `channel` (the caller's: it stays open),
    checking each certificate, and feed them to the core; returns (blocks fed, whether one failed
    its check)."""
    genesis = shell.genesis
    fed = 0
    bad = False
    held: ledger_pb2.CommittedBlock | None = None  # waits for its successor to certify its results
    stub = node_pb2_grpc.NodeStub(channel)
    request = node_pb2.GetBlocksRequest(from_height=first, to_height=last)
    call = stub.GetBlocks(request, timeout=CATCHUP_RPC_TIMEOUT_S)
    try:
        async for committed in call:
            header = committed.block.header
            problem = certificate_problem(genesis, committed, first + fed + (held is not None))
            if problem is not None:
                shell.metrics.invalid_messages.labels(reason="catchup_bad_certificate").inc()
                log.warning(
                    "event=catchup_bad_certificate peer=%d height=%d why=%s", peer, header.height, problem
                )
                bad = True
                break
            if held is not None:
                shell.feed_decided(held.certificate, held.block, certified_ok(held, header))
                fed += 1
            held = committed
    finally:
        call.cancel()  # the channel stays open: a stream left mid-way (a bad block) ends here
    if held is not None:
        shell.feed_decided(held.certificate, held.block, ())
        fed += 1
    if fed:
        await asyncio.wait_for(shell.committer.wait_for_height(first + fed - 1), CATCHUP_APPLY_TIMEOUT_S)
        log.info("event=caught_up peer=%d height=%d", peer, shell.store.height)
    return fed, bad


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
