"""`bench/crypto.py --against REV`: this checkout's ballot and deal cryptography against an older
commit's, in the same run, old and new alternated, so the machine's load falls on both alike.

The old commit is checked out into a temporary git worktree (removed afterwards); each round runs
bench/crypto_probe.py once with the old checkout first on PYTHONPATH and once with this one, in
fresh child processes (same interpreter, same installed libraries). The figure per side is the
median over rounds of each child's best-of-5; ratios are new / old.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
PROBE: Final = Path(__file__).resolve().parent / "crypto_probe.py"
PROBE_TIMEOUT_S: Final = 900.0

Figures = dict[str, float | bool]

ROWS: Final = (
    ("stateless ballot tx check, with the attestation", "stateless_us", "stateless_us"),
    ("stateless ballot tx check, without it", "stateless_without_attestation_us", "stateless_us"),
    ("encrypt and prove one ballot", "encrypt_us", "encrypt_us"),
    ("check one deal (3 of 5): form + proofs", "deal_verify_us", "deal_verify_us"),
    ("make one deal (3 of 5)", "deal_make_us", "deal_make_us"),
)
"""(what, the new side's figure, the old side's figure it is compared with)."""


def _probe(tree: Path, ballots: int) -> Figures:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, str(PROBE), "--ballots", str(ballots)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"error: the probe failed in {tree}:\n{done.stderr[-2000:]}")
    figures: Figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _median(runs: list[Figures], key: str) -> float:
    return float(statistics.median(float(r[key]) for r in runs))


def compare(rev: str, rounds: int, ballots: int) -> dict[str, object]:
    """Alternate old and new `rounds` times; the medians and ratios as plain data."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    new_commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="old-crypto-") as scratch:
        old_tree = Path(scratch) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(old_tree), commit],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        try:
            old: list[Figures] = []
            new: list[Figures] = []
            for n in range(rounds):
                print(f"round {n + 1} of {rounds}: old, then new", file=sys.stderr, flush=True)
                old.append(_probe(old_tree, ballots))
                new.append(_probe(ROOT, ballots))
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(old_tree)], cwd=ROOT, capture_output=True
            )
    rows = []
    for what, new_key, old_key in ROWS:
        if new_key not in new[0] or old_key not in old[0]:
            continue
        new_us, old_us = _median(new, new_key), _median(old, old_key)
        rows.append(
            {
                "what": what,
                "old_us": round(old_us, 1),
                "new_us": round(new_us, 1),
                "ratio": round(new_us / old_us, 3),
            }
        )
    return {
        "old_commit": commit,
        "new_commit": new_commit,
        "new_tree_dirty": bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        ),
        "rounds": rounds,
        "ballots_per_run": ballots,
        "old_attested": bool(old[0]["attested"]),
        "old_deal_proofs": bool(old[0]["deal_proofs"]),
        "new_deal_proofs": bool(new[0]["deal_proofs"]),
        "rows": rows,
        "new_runs": new,
        "old_runs": old,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
    }


def report(result: dict[str, object]) -> str:
    old, new = str(result["old_commit"])[:10], str(result["new_commit"])[:10]
    dirty = " (+ uncommitted changes)" if result["new_tree_dirty"] else ""
    lines = [
        f"old {old} vs new {new}{dirty}: {result['rounds']} rounds alternated, "
        f"median of each run's best of 5, {result['ballots_per_run']} calls a run",
        f"{'':48s} {'old us':>9s} {'new us':>9s} {'new/old':>8s}",
    ]
    for row in result["rows"]:  # type: ignore[attr-defined]
        lines.append(f"  {row['what']:46s} {row['old_us']:9.1f} {row['new_us']:9.1f} {row['ratio']:8.3f}")
    lines.append(
        "old ballots carry no attestation; 'without it' is the new check with the attestation's "
        "signature check replaced by a pass. Deal proofs: "
        f"old {result['old_deal_proofs']}, new {result['new_deal_proofs']}; no ballot carries a deal."
    )
    lines.append(
        f"load average (1 min) at the end {result['load_average_1m_at_end']} on {os.cpu_count()} cpus"
    )
    return "\n".join(lines)
