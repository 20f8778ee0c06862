"""What one catch-up fetch costs over TLS on a new channel and on a kept one, on a real cluster.

    .venv/bin/python -m bench.catchup_dial [--fetches 60] [--blocks 1]

Four validators on 127.0.0.1 talking TLS (LocalNet). This process fetches `--blocks` certified
blocks from validator 0's peer port with GetBlocks, as catch-up does (its dialer, channel options
and deadline), `--fetches` times each way, the two ways alternated: on a channel dialled for the
fetch and closed after it (a TCP connect and a TLS handshake each time: what catch-up did before
it kept a channel per peer), and on one channel kept across fetches (what it does now). It prints
the median and 90th percentile of each, in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import grpc

from bench.common import print_table, write_result
from node.catchup import CATCHUP_RPC_TIMEOUT_S
from node.rpc.peer_options import CHANNEL_OPTIONS
from ops.cluster import LocalNet
from proto.votestore.v1 import node_pb2, node_pb2_grpc
from votestore.channels import ValidatorDialer

SOURCE = 0


async def _fetch(channel: grpc.aio.Channel, first: int, last: int) -> float:
    """Seconds to receive first..last (all of them: a short answer is a failed run)."""
    began = time.perf_counter()
    request = node_pb2.GetBlocksRequest(from_height=first, to_height=last)
    got = [b async for b in node_pb2_grpc.NodeStub(channel).GetBlocks(request, timeout=CATCHUP_RPC_TIMEOUT_S)]
    assert len(got) == last - first + 1, f"asked {first}..{last}, got {len(got)}"
    return time.perf_counter() - began


async def _measure(
    dialer: ValidatorDialer, address: str, fetches: int, blocks: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"new channel each fetch": [], "kept channel": []}
    kept = dialer.aio(SOURCE, address, CHANNEL_OPTIONS)
    async with kept:
        await _fetch(kept, 1, blocks)  # its handshake, once, is not a fetch's cost
        for k in range(fetches):
            first = 1 + k % 8  # blocks the node holds; the read is the same either way
            began = time.perf_counter()
            async with dialer.aio(SOURCE, address, CHANNEL_OPTIONS) as fresh:
                await _fetch(fresh, first, first + blocks - 1)
            times["new channel each fetch"].append(time.perf_counter() - began)
            times["kept channel"].append(await _fetch(kept, first, first + blocks - 1))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fetches", type=int, default=60)
    parser.add_argument("--blocks", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="catchup-dial-") as tmp:
        net = LocalNet.create(Path(tmp) / "net", tls=True)
        with net:
            net.start_all()
            net.wait_ready()
            net.wait_height(8 + args.blocks)
            times = asyncio.run(_measure(net.dialer, net.peer_addresses[SOURCE], args.fetches, args.blocks))
    figures = {
        way: {
            "median_ms": statistics.median(t) * 1000,
            "p90_ms": statistics.quantiles(t, n=10)[-1] * 1000,
        }
        for way, t in times.items()
    }
    rows = [(way, f"median {f['median_ms']:.2f} ms, p90 {f['p90_ms']:.2f} ms") for way, f in figures.items()]
    print_table(f"A catch-up fetch of {args.blocks} block(s) over TLS, {args.fetches} each way", rows)
    write_result("catchup_dial", {"fetches": args.fetches, "blocks": args.blocks, "ways": figures})


if __name__ == "__main__":
    main()
