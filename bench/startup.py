"""A validator's start-up time against the length of its chain (issue 19 item 8, issue 21): the
node's start (`node.main.open_store`: the incremental, recorded check) on a store of 100,000
blocks against one of 1,000 blocks, both holding the same 1,000,000-voter roll, and the ratio
(goal: at most 2x); with --full-check also `votestore node check`'s whole-store walk.

    .venv/bin/python -m bench.startup [--sizes 1000 100000] [--voters 1000000] [--repeats 3]
        [--full-check] [--cache /tmp/votestore-startup] [--out startup]

The stores hold empty blocks with real certificates (3 of 4 genesis validators' precommits)
written by the store's own commit path (tests/node/store_kit.py), the roll first, 10,000 entries
a block, as state writes the app hash chain commits to (not executed RollAppends: minutes of
signatures saved; every check of the store holds all the same). They are built on /dev/shm when
it exists (a synced LevelDB batch per block costs ~4 ms on disk) and kept under --cache, so a
second run reuses them; each run measures a fresh copy on /dev/shm. Each start is timed after a
first start recorded the check; each start figure is the best of `--repeats` (a shared machine).
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
from tests.node.store_kit import GENESIS, add_roll, grow
from tests.node.store_kit import open_store as open_kit_store

SHM: Final = Path("/dev/shm")
ROLL_PER_BLOCK: Final = 10_000
ELECTION: Final = "bench-roll"


def _start_s(config: NodeConfig) -> float:
    began = time.perf_counter()
    store, _ = open_store(config, GENESIS)
    elapsed = time.perf_counter() - began
    store.close()
    return elapsed


def _template(blocks: int, voters: int, cache: Path, parent: Path) -> tuple[Path, float | None]:
    """The cached store of `blocks` blocks holding a `voters` roll, built (on `parent`) if absent;
    the seconds building took, None if it was cached."""
    kept = cache / f"{blocks}-blocks-{voters}-voters"
    if (kept / "BUILT").is_file():
        return kept, None
    roll_blocks = -(-voters // ROLL_PER_BLOCK)
    assert blocks >= roll_blocks, (blocks, roll_blocks)
    work = Path(tempfile.mkdtemp(prefix="startup-build-", dir=parent))
    try:
        began = time.perf_counter()
        store = open_kit_store(work / "db")
        try:
            add_roll(store, ELECTION, voters, ROLL_PER_BLOCK)
            grow(store, blocks - roll_blocks)
        finally:
            store.close()
        built_s = time.perf_counter() - began
        shutil.rmtree(kept, ignore_errors=True)
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(work / "db", kept)
        (kept / "BUILT").write_text(f"{blocks} blocks, {voters} voters, built in {built_s:.1f} s\n")
        return kept, built_s
    finally:
        shutil.rmtree(work)


def measure(
    blocks: int, voters: int, repeats: int, parent: Path, cache: Path, full_check: bool
) -> dict[str, float | None]:
    template, built_s = _template(blocks, voters, cache, parent)
    work = Path(tempfile.mkdtemp(prefix="startup-", dir=parent))
    try:
        data_dir = work / "db"
        shutil.copytree(template, data_dir)
        config = NodeConfig(
            key_file=Path("unused"), genesis=Path("unused"), listen="127.0.0.1:0", data_dir=data_dir
        )
        first_s = _start_s(config)  # no record yet: the whole chain, then the record
        start_s = min(_start_s(config) for _ in range(repeats))
        full_s: float | None = None
        if full_check:
            began = time.perf_counter()
            report = check_store(data_dir, GENESIS)
            full_s = round(time.perf_counter() - began, 3)
            assert report.blocks == blocks and not report.findings, report
        return {
            "blocks": blocks,
            "voters": voters,
            "build_s": None if built_s is None else round(built_s, 2),
            "first_start_s": round(first_s, 3),
            "start_s": round(start_s, 4),
            "full_check_s": full_s,
        }
    finally:
        shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--voters", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full-check", action="store_true", help="also time `votestore node check`")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "votestore-startup")
    parser.add_argument("--out", default="startup", help="the JSON file's name under bench/results/")
    args = parser.parse_args()
    parent = SHM if SHM.is_dir() else Path(tempfile.gettempdir())
    rows = [
        measure(blocks, args.voters, args.repeats, parent, args.cache, args.full_check)
        for blocks in args.sizes
    ]
    for row in rows:
        print_table(
            f"{row['blocks']:,} blocks, {row['voters']:,}-voter roll",
            [
                ("built in", "cached" if row["build_s"] is None else f"{row['build_s']} s"),
                ("first start (no record: full)", f"{row['first_start_s']} s"),
                (
                    f"start (recorded, {SPOT_CHECKS} spot checks)",
                    f"{float(row['start_s'] or 0) * 1000:.1f} ms",
                ),
                (
                    "votestore node check (full)",
                    "not run" if row["full_check_s"] is None else f"{row['full_check_s']} s",
                ),
            ],
        )
    small, large = rows[0], rows[-1]
    growth = float(large["start_s"] or 0) / float(small["start_s"] or 1)
    print_table(
        "start-up cost against chain length (goal: at most 2x)",
        [(f"start at {large['blocks']:,} / at {small['blocks']:,} blocks", f"{growth:.2f}x")],
    )
    write_result(args.out, {"store_dir": str(parent), "runs": rows, "start_growth": round(growth, 2)})


if __name__ == "__main__":
    main()
