"""The page's receipt check and Python's share their verdicts: web/test/receipt.test.js runs the
Python-made receipts (tests/web/make_receipt_vectors.py) through web/src/app/receipt.js, inside
`node --test test/` (tests/web/test_web_crypto.py fails when any node test fails). Here: the
committed vectors are what Python decides today, and the JS side ran them all."""

from __future__ import annotations

import json
import re

from tests.web import make_receipt_vectors
from tests.web.node_runner import run_node_tests


def test_receipt_vectors_are_what_python_decides_now() -> None:
    committed = make_receipt_vectors.VECTORS.read_text(encoding="utf-8")
    assert committed == make_receipt_vectors.render(), (
        "stale: run `.venv/bin/python -m tests.web.make_receipt_vectors`"
    )
    verdicts = [case["verdict"] for case in json.loads(committed)["cases"]]
    assert verdicts.count("ok") >= 2 and len(verdicts) - verdicts.count("ok") >= 10


def test_node_gives_every_receipt_pythons_verdict() -> None:
    proc = run_node_tests()
    cases = len(make_receipt_vectors.CHANGES)
    passed = re.findall(r"^ok \d+ - receipt: ", proc.stdout, re.M)
    failed = re.findall(r"^not ok \d+ - receipt: .*$", proc.stdout, re.M)
    assert not failed and len(passed) == cases, (failed, proc.stdout[-3000:])
