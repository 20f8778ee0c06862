"""Notices benchmark: SMS notices per second through the real delivery loop to the local fake
provider (tests/notices/fakes.py) with the rate limit off and the provider neither slowing nor
failing, so the figure is our side's cost: claim, unseal, HTTP POST, state commit (SQLite WAL,
synchronous=FULL) per notice.

    .venv/bin/python -m bench.notices [--notices 2000] [--concurrency 32]

Planning (rendering, sealing) is done before the clock starts; the provider runs in this process on
127.0.0.1 (a thread) and shares the process's CPU, so the figure is a lower bound of what one
sender process does; the CPU per notice (both sides) is printed beside it, as the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.common import print_table, write_result
from notices.delivery import Delivery, Policy
from notices.model import Channel, Kind, Message, idempotency_key, pack
from notices.senders.http_sms import HttpSmsConfig, HttpSmsSender
from notices.store import NoticeStore, Planned
from tests.notices.fakes import FakeSmsProvider
from votestore.crypto.sealing import INTERACTIVE

PASSPHRASE = "bench passphrase"


def _plan(store: NoticeStore, count: int) -> None:
    store.add_campaign("bench/opening", "bench", Kind.OPENING.value)
    message = pack(Message("s", "[bench] 투표가 시작되었습니다. 받으신 개인 링크로 투표하세요.", "LMS"))
    planned = [
        Planned(
            f"v{n}",
            Channel.SMS,
            f"010{n:08d}",
            idempotency_key("bench", "bench/opening", f"v{n}", Channel.SMS),
            message,
        )
        for n in range(count)
    ]
    store.enqueue("bench/opening", planned)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notices", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeSmsProvider(fail_every=0, max_delay_s=0, token="bench", keep_bodies=False) as provider,
    ):
        store = NoticeStore.open(Path(tmp) / "q.db", PASSPHRASE, create=True, limits=INTERACTIVE)
        _plan(store, args.notices)
        sender = HttpSmsSender(HttpSmsConfig(provider.url, "02", auth_value="Bearer bench", rate_per_s=0))
        policy = Policy(concurrency=args.concurrency, idle_poll_s=0.01)

        async def run() -> tuple[float, float]:
            try:
                started, cpu = time.perf_counter(), time.process_time()
                await Delivery(store, {Channel.SMS: sender}, policy).run()
                return time.perf_counter() - started, time.process_time() - cpu
            finally:
                await sender.close()

        elapsed, cpu_s = asyncio.run(run())
        summary = store.summary().as_dict()
        store.close()
    sent = int(str(summary["sent"]))
    assert sent == args.notices == len(provider.log.created), (summary, len(provider.log.created))
    rate = sent / elapsed
    rows = [
        ("notices", sent),
        ("concurrency", args.concurrency),
        ("elapsed", f"{elapsed:.2f} s"),
        ("notices per second", f"{rate:,.0f}"),
        ("CPU per notice (sender + provider)", f"{cpu_s / sent * 1000:.2f} ms"),
        ("notices per CPU second", f"{sent / cpu_s:,.0f}"),
    ]
    print_table("notices to the fake SMS provider, rate limit off", rows)
    path = write_result(
        "notices",
        {
            "notices": sent,
            "concurrency": args.concurrency,
            "elapsed_s": elapsed,
            "per_s": rate,
            "cpu_s": cpu_s,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
