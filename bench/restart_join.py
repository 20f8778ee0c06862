"""How long a restarted validator takes to join consensus again, on a real 4-process cluster.

    .venv/bin/python -m bench.restart_join [--trials 3] [--down-heights 20] [--tls]

Four validators on 127.0.0.1 (an empty block every 500 ms, as LocalNet makes them). Each trial
kills validator 3 (kill -9), lets the others commit `--down-heights` heights, starts it again,
and polls its metrics every 20 ms. It prints, from the start of the process: when its height
first reached the others' height at the restart (caught up), and when it first committed a height
by consensus rather than by catch-up (joined: height − its height when killed − blocks fetched
> 0, from votestore_node_height and votestore_node_catchup_blocks_total), with the number of fetches
(`event=caught_up` log lines) it took. A node that keeps fetching each height the others commit
while its stuck status waits out STUCK_AFTER_S shows many fetches and a late join. `--tls`: the
validators talk TLS, as deployed (each new connection a handshake); otherwise plaintext.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bench.common import print_table, write_result
from ops.cluster import LocalNet

RESTARTED: Final = 3
POLL_S: Final = 0.02
JOIN_TIMEOUT_S: Final = 60.0


@dataclass(frozen=True, slots=True)
class Trial:
    caught_up_s: float
    joined_s: float | None
    fetches: int


def _metrics(port: int) -> dict[str, float] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("votestore_node_height ") or line.startswith(
            "votestore_node_catchup_blocks_total "
        ):
            name, value = line.split()
            values[name] = float(value)
    return values


def _height(net: LocalNet, i: int) -> int:
    status = net.status(i)
    assert status is not None, f"validator {i} does not answer"
    return status.height


def _trial(net: LocalNet, down_heights: int) -> Trial:
    own_height = _height(net, RESTARTED)
    net.kill(RESTARTED)
    net.wait_height(_height(net, 0) + down_heights, [0])
    log = net.workdir / f"node{RESTARTED}.log"
    fetches_before = log.read_text(errors="replace").count("event=caught_up")
    target = _height(net, 0)
    began = time.monotonic()
    net.start(RESTARTED)
    port = net.metrics_ports[RESTARTED]
    caught_up: float | None = None
    while time.monotonic() - began < JOIN_TIMEOUT_S:
        values = _metrics(port)
        height = int(values.get("votestore_node_height", 0)) if values else 0
        fetched = int(values.get("votestore_node_catchup_blocks_total", 0)) if values else 0
        if caught_up is None and height >= target:
            caught_up = time.monotonic() - began
        if height - own_height - fetched > 0:
            fetches = log.read_text(errors="replace").count("event=caught_up") - fetches_before
            return Trial(caught_up if caught_up is not None else -1.0, time.monotonic() - began, fetches)
        time.sleep(POLL_S)
    fetches = log.read_text(errors="replace").count("event=caught_up") - fetches_before
    return Trial(caught_up if caught_up is not None else -1.0, None, fetches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--down-heights", type=int, default=20)
    parser.add_argument("--tls", action="store_true", help="TLS between validators (default: plaintext)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="restart-join-") as tmp:
        net = LocalNet.create(Path(tmp) / "net", metrics=True, tls=args.tls)
        with net:
            net.start_all()
            net.wait_ready()
            net.wait_height(3)
            trials = [_trial(net, args.down_heights) for _ in range(args.trials)]
    rows = [
        (
            f"trial {k}",
            f"caught up {t.caught_up_s:.2f} s, "
            + ("never joined" if t.joined_s is None else f"joined {t.joined_s:.2f} s")
            + f", {t.fetches} fetches",
        )
        for k, t in enumerate(trials)
    ]
    print_table(
        f"A restarted validator ({'TLS' if args.tls else 'plaintext'}): seconds from process start", rows
    )
    write_result(
        "restart_join",
        {
            "tls": args.tls,
            "trials": [
                {"caught_up_s": t.caught_up_s, "joined_s": t.joined_s, "fetches": t.fetches} for t in trials
            ],
        },
    )


if __name__ == "__main__":
    main()
