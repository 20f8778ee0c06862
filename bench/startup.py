"""A validator's start-up check against the length of its chain (issue 19 item 8): the node's
start (`node.main.open_store`: the incremental, recorded check) and the full check of
`votestore node check`, on stores of 1,000 and 100,000 blocks.

    .venv/bin/python -m bench.startup [--sizes 1000 100000] [--repeats 3] [--out startup]

The stores hold empty blocks with real certificates (3 of 4 genesis validators' precommits),
written by the store's own commit path (tests/node/store_kit.py). They are built on /dev/shm when
it exists: a synced LevelDB batch per block costs ~4 ms on disk, which would make building 100,000
blocks take minutes; the store is small enough to sit in the page cache either way, so the reads
the checks time are the same. Each start is timed after a first start recorded the check; each
start figure is the best of `--repeats` (the machine is shared).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Final

from bench.common import print_table, write_result
from node.config import NodeConfig
from node.ledger.store import SPOT_CHECKS
from node.main import check_store, open_store
from tests.node.store_kit import GENESIS, grow
from tests.node.store_kit import open_store as open_kit_store

SHM: Final = Path("/dev/shm")


def _start_s(config: NodeConfig) -> float:
    began = time.perf_counter()
    store, _ = open_store(config, GENESIS)
    elapsed = time.perf_counter() - began
    store.close()
    return elapsed


def measure(blocks: int, repeats: int, parent: Path) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="startup-", dir=parent))
    try:
        data_dir = work / "db"
        store = open_kit_store(data_dir)
        began = time.perf_counter()
        try:
            grow(store, blocks)
        finally:
            store.close()
        built_s = time.perf_counter() - began
        config = NodeConfig(
            key_file=Path("unused"), genesis=Path("unused"), listen="127.0.0.1:0", data_dir=data_dir
        )
        first_s = _start_s(config)  # no record yet: the whole chain, then the record
        start_s = min(_start_s(config) for _ in range(repeats))
        began = time.perf_counter()
        report = check_store(data_dir, GENESIS)
        full_s = time.perf_counter() - began
        assert report.blocks == blocks and not report.findings, report
        return {
            "blocks": blocks,
            "build_s": round(built_s, 2),
            "first_start_s": round(first_s, 3),
            "start_s": round(start_s, 4),
            "full_check_s": round(full_s, 3),
            "full_over_start": round(full_s / start_s, 1),
        }
    finally:
        shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="startup", help="the JSON file's name under bench/results/")
    args = parser.parse_args()
    parent = SHM if SHM.is_dir() else Path(tempfile.gettempdir())
    rows = [measure(blocks, args.repeats, parent) for blocks in args.sizes]
    for row in rows:
        print_table(
            f"{row['blocks']:,} blocks",
            [
                ("built in", f"{row['build_s']} s"),
                ("first start (no record: full)", f"{row['first_start_s']} s"),
                (f"start (recorded, {SPOT_CHECKS} spot checks)", f"{row['start_s'] * 1000:.1f} ms"),
                ("votestore node check (full)", f"{row['full_check_s']} s"),
                ("full check / start", f"{row['full_over_start']}x"),
            ],
        )
    small, large = rows[0], rows[-1]
    growth = large["start_s"] / small["start_s"]
    print_table(
        "start-up cost against chain length",
        [(f"start at {large['blocks']:,} / at {small['blocks']:,} blocks", f"{growth:.2f}x")],
    )
    write_result(args.out, {"store_dir": str(parent), "runs": rows, "start_growth": round(growth, 2)})


if __name__ == "__main__":
    main()
