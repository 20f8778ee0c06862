"""Chaos run with real processes: 4 validators (each in its own network namespace when root, else
on loopback behind the fault proxy) and a gateway under a steady ballot load, while a seeded
scheduler kills, freezes, isolates and splits them one fault at a time. Prints the figures and the
findings; exits 1 if anything was lost or disagrees.

    .venv/bin/python bench/chaos.py --seed 7 --duration 600
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from ops.chaos.run import ChaosConfig, run_chaos
from ops.chaos.schedule import RUN_TIMING, Kind


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of faults (default 600)")
    parser.add_argument("--rate", type=float, default=4.0, help="ballots per second offered")
    parser.add_argument("--voters", type=int, default=5000, help="roll size (the load stops when all voted)")
    parser.add_argument(
        "--kinds",
        default=",".join(k.value for k in Kind),
        help="fault kinds to draw from, comma-separated (default: all)",
    )
    parser.add_argument("--loopback", action="store_true", help="use the proxy even where namespaces work")
    parser.add_argument("--workdir", type=Path, default=None, help="keep logs here (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=None, help="also write the report lines here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="votestore-chaos-") as scratch:
        config = ChaosConfig(
            seed=args.seed,
            duration_s=args.duration,
            workdir=args.workdir or Path(scratch) / "net",
            timing=RUN_TIMING,
            rate_per_s=args.rate,
            voters=args.voters,
            kinds=frozenset(Kind(k) for k in args.kinds.split(",")),
            namespaces=not args.loopback,
        )
        report = run_chaos(config)
    lines = report.lines()
    print("\n".join(lines))
    if args.out is not None:
        args.out.write_text("\n".join(lines) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
