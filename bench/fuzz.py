"""Fuzz the public gRPC services of a live 4-node cluster and its gateway with seeded hostile
input, then probe resource bounds (oversized messages, many simultaneous streams). Prints inputs
tried, statuses seen, crashes, peak memory; exits 1 on any finding.

    .venv/bin/python bench/fuzz.py --seed 1 --inputs 100000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from ops.chaos.fuzzrun import run_fuzz


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--inputs", type=int, default=100_000, help="calls in all, half to each service")
    parser.add_argument("--workdir", type=Path, default=None, help="keep logs here (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=None, help="also write the report lines here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="votestore-fuzz-") as scratch:
        report = run_fuzz(args.workdir or Path(scratch) / "net", args.seed, args.inputs)
    lines = report.lines()
    print("\n".join(lines))
    if args.out is not None:
        args.out.write_text("\n".join(lines) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
