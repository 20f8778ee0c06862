"""Soak the consensus core: many seeded schedules across sizes, Byzantine counts (≤ f) and fault
mixes. Bounded by --runs and --max-seconds; prints progress, the time taken and the result, and a
replay command for every failing seed. Exit 0 iff no violation.

    .venv/bin/python bench/soak_sim.py --runs 100000 --max-seconds 3600
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Final

from node.sim import run_seed
from node.sim.batch import Summary, replay_command

# Configurations the seeds rotate through: (nodes, byzantine), byzantine ≤ f.
CONFIGS: Final = [(4, 0), (4, 1), (7, 1), (7, 2), (10, 3)]
PROGRESS_EVERY: Final = 5_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1_000_000)
    parser.add_argument("--heights", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=6 * 3600.0)
    args = parser.parse_args()
    summary = Summary()
    started = time.monotonic()
    for seed in range(args.seed, args.seed + args.runs):
        if time.monotonic() - started > args.max_seconds:
            print(f"stopped at the time bound of {args.max_seconds:.0f} s")
            break
        nodes, byzantine = CONFIGS[seed % len(CONFIGS)]
        result = run_seed(seed, nodes=nodes, byzantine=byzantine, heights=args.heights)
        summary.add(result)
        for violation in result.violations:
            print(f"seed {seed}: {violation.kind}: {violation.detail}")
            print(f"replay: {replay_command(seed, nodes, byzantine, args.heights)}")
        if summary.runs % PROGRESS_EVERY == 0:
            elapsed = time.monotonic() - started
            print(
                f"{summary.runs} runs, {elapsed:.0f} s, {summary.runs / elapsed:.1f} runs/s, "
                f"{summary.violations} violations",
                flush=True,
            )
    elapsed = time.monotonic() - started
    print(
        f"elapsed_s={elapsed:.1f} runs_per_s={summary.runs / max(elapsed, 1e-9):.1f} events={summary.events}"
    )
    print(summary.line())
    return 1 if summary.violations else 0


if __name__ == "__main__":
    sys.exit(main())
