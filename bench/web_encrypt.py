"""In-browser ballot encryption: the voter page's own code (web/src/crypto, bundled by esbuild) in
Debian's headless Chromium, for a 1 x 4 and a 16 x 32 ballot, beside Python's encrypt_ballot on
the same definitions measured in the same run.

    .venv/bin/python -m bench.web_encrypt [--reps 5]

Encrypting includes every proof (each choice 0 or 1, each contest's sum within its bounds): what
the page does between "Encrypt my ballot" and the cast-or-audit step. The first JS run warms the
JIT and is not counted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Final

from playwright.sync_api import sync_playwright

from proto.votestore.v1 import election_pb2
from votestore.crypto import group
from votestore.crypto.ballot import encrypt_ballot
from votestore.encoding import canonical

ROOT: Final = Path(__file__).resolve().parents[1]
WEB: Final = ROOT / "web"
CHROMIUM: Final = "/usr/bin/chromium"
ESBUILD_TIMEOUT_S: Final = 60
BROWSER_TIMEOUT_MS: Final = 600_000
SHAPES: Final = ((1, 4), (16, 32))
"""(contests, choices per contest); one choice made in each contest."""


def definition(contests: int, choices: int) -> election_pb2.ElectionCreate:
    d = election_pb2.ElectionCreate(election_id="bench-web", title="bench")
    for c in range(contests):
        d.contests.add(
            id=f"c{c}",
            choices=[election_pb2.Choice(id=f"c{c}-{k}") for k in range(choices)],
            min_selections=0,
            max_selections=1,
        )
    return d


def bundle(out: Path) -> str:
    subprocess.run(
        [
            str(WEB / "node_modules" / ".bin" / "esbuild"),
            "testkit/bench_entry.js",
            "--bundle",
            "--format=iife",
            "--global-name=votestoreBench",
            f"--outfile={out}",
            "--log-level=warning",
        ],
        cwd=WEB,
        check=True,
        timeout=ESBUILD_TIMEOUT_S,
    )
    return out.read_text(encoding="utf-8")


def python_times(
    d: election_pb2.ElectionCreate, key: bytes, selections: list[list[int]], reps: int
) -> list[float]:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        encrypt_ballot(d.election_id, d, key, selections, voter=bytes([7]) * 32)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="timed encryptions per shape and side")
    reps = parser.parse_args().reps
    key = group.base_mult(group.random_scalar())
    with tempfile.TemporaryDirectory() as scratch:
        script = bundle(Path(scratch) / "bench.js")
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(BROWSER_TIMEOUT_MS)
            page.add_script_tag(content=script)
            version = browser.version
            for contests, choices in SHAPES:
                d = definition(contests, choices)
                selections = [[0] for _ in range(contests)]
                args = [canonical(d).hex(), key.hex(), selections, reps + 1]
                js = page.evaluate("([d, k, s, n]) => votestoreBench.encryptTimes(d, k, s, n)", args)[1:]
                py = python_times(d, key, selections, reps)
                rows.append((f"{contests} x {choices}", statistics.median(js), statistics.median(py)))
        finally:
            browser.close()
    print(
        f"ballot encryption with proofs, median of {reps} (Chromium {version}, headless; Python in-process)"
    )
    print(f"{'ballot':>10} {'Chromium ms':>12} {'Python ms':>10} {'ratio':>6}")
    for shape, js_ms, py_ms in rows:
        print(f"{shape:>10} {js_ms:>12.1f} {py_ms:>10.1f} {js_ms / py_ms:>6.1f}")


if __name__ == "__main__":
    main()
