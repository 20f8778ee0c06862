"""bench.validator_loop and bench.cluster, before and after, alternated in one run.

Issue 20 asks for "no behaviour change": the structure work must leave the validator's loop and
the cluster's throughput within noise of before. Figures from two runs at different times on a
shared machine are not comparable, so this builds the old code in a detached worktree and runs
old and new in turn, round by round, each benchmark as its own process (old code on PYTHONPATH
with this checkout's environment), and prints each round's figures, the medians and new/old.

    python -m bench.before_after            # 3 rounds, the full sizes
    python -m bench.before_after --short    # 3 rounds, smaller and shorter (a few minutes)

Run it alone (`flock /tmp/fullsuite.lock nice -n 5 ...`): the load average is printed with the
figures, and a run at a high load says so.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench.common import print_table

ROOT: Final = Path(__file__).resolve().parents[1]
OLD_COMMIT: Final = "069c9a8"
"""The last commit before the structure work of issue 20."""
BENCH_TIMEOUT_S: Final = 1800
QUIET_LOAD: Final = 1.5
"""A load average (1 min) above this on 2 cores: the figures are noisy, and the report says so."""

FIGURES: Final = {
    "validator_loop": {
        "a height, us": re.compile(r"^a height \(\d+ a block\).*?([\d.]+) us", re.M),
        "intake submit_many, us": re.compile(r"^intake: submit_many\s+([\d.]+) us", re.M),
        "execute_block (handed over), us": re.compile(
            r"^execute_block, points handed over.*?([\d.]+) us", re.M
        ),
    },
    "cluster": {
        "peak committed, ballots/s": re.compile(r"^peak: committed\s+([\d.]+) ballots/s", re.M),
        "half of peak p50, ms": re.compile(r"^half of peak: submit-to-receipt p50/p95/p99\s+([\d.]+)/", re.M),
        "half of peak p99, ms": re.compile(
            r"^half of peak: submit-to-receipt p50/p95/p99\s+[\d.]+/[\d.]+/([\d.]+)", re.M
        ),
    },
}
"""What each benchmark prints that is compared (the same lines before and after)."""


@dataclass(frozen=True, slots=True)
class Sizes:
    validator_loop: tuple[str, ...]
    cluster: tuple[str, ...]


FULL: Final = Sizes((), ("--ballots", "8000", "--seconds", "10"))
SHORT: Final = Sizes(
    ("--voters", "900", "--round-trip-ballots", "400"), ("--ballots", "2500", "--seconds", "6")
)


def _old_tree(ref: str) -> tuple[Path, bool]:
    """A detached worktree at `ref` (made here unless one is there); whether it was made. Named
    by the commit `ref` resolves to now, so a tree kept for `main` yesterday is not reused today."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short=12", f"{ref}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    path = Path(tempfile.gettempdir()) / f"votestore-before-{commit}"
    if (path / "bench" / "cluster.py").exists():
        return path, False
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), commit],
        check=True,
        capture_output=True,
    )
    return path, True


def _run(bench: str, tree: Path, args: tuple[str, ...], out: str) -> tuple[dict[str, float], str]:
    """One benchmark process on the code in `tree`; its compared figures and its output."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    extra = ("--out", out) if bench == "cluster" else ()
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{bench}", *args, *extra],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=BENCH_TIMEOUT_S,
        check=False,
    )
    text = done.stdout + done.stderr
    figures = {}
    for name, pattern in FIGURES[bench].items():
        found = pattern.search(text)
        if found is not None:
            figures[name] = float(found.group(1))
    if done.returncode != 0 or len(figures) != len(FIGURES[bench]):
        print(f"bench.{bench} in {tree} failed (exit {done.returncode}); its output ends:", file=sys.stderr)
        print(text[-2000:], file=sys.stderr)
    return figures, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default=OLD_COMMIT, help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--short", action="store_true", help="smaller sizes: a few minutes in all")
    parser.add_argument("--only", choices=("validator_loop", "cluster"), default=None)
    parser.add_argument("--keep-tree", action="store_true", help="leave the old worktree for a rerun")
    args = parser.parse_args()
    assert args.rounds >= 1
    sizes = SHORT if args.short else FULL
    benches = (args.only,) if args.only else ("validator_loop", "cluster")
    old, made = _old_tree(args.old)
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    loads: list[float] = []
    try:
        for round_ in range(1, args.rounds + 1):
            for bench in benches:
                # Alternate which goes first, so neither always meets the warmer machine.
                order = (("old", old), ("new", ROOT)) if round_ % 2 else (("new", ROOT), ("old", old))
                for side, tree in order:
                    loads.append(os.getloadavg()[0])
                    bench_args = getattr(sizes, bench)
                    figures, _ = _run(bench, tree, bench_args, f"before-after-{side}-{round_}")
                    runs.setdefault((bench, side), []).append(figures)
                    shown = " ".join(f"{k}={v:g}" for k, v in figures.items())
                    print(f"round {round_} {bench} {side}: {shown} (load {loads[-1]:.1f})", flush=True)
    finally:
        if made and not args.keep_tree:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    rows = []
    for bench in benches:
        for name in FIGURES[bench]:
            before = [r[name] for r in runs[(bench, "old")] if name in r]
            after = [r[name] for r in runs[(bench, "new")] if name in r]
            if not before or not after:
                rows.append((f"{bench}: {name}", "missing"))
                continue
            b, a = statistics.median(before), statistics.median(after)
            rows.append(
                (
                    f"{bench}: {name}",
                    f"old {'/'.join(f'{x:g}' for x in before)} | new {'/'.join(f'{x:g}' for x in after)}"
                    f" | medians {b:g} -> {a:g}, new/old {a / b:.2f}",
                )
            )
    rows.append(("load average (1 min) at each start", " ".join(f"{x:.1f}" for x in loads)))
    if max(loads) > QUIET_LOAD:
        rows.append(("NOT QUIET", f"load up to {max(loads):.1f} on {os.cpu_count()} cores: noisy figures"))
    print_table(f"before ({args.old}) and after ({'short' if args.short else 'full'} sizes)", rows)


if __name__ == "__main__":
    main()
