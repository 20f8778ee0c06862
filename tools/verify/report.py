"""The verifier's report for people (two tables and the findings) and for programs (JSON)."""

from __future__ import annotations

import json
from typing import Any, Final

from tools.verify.findings import Check
from tools.verify.nodes import Report

EXIT_CLEAN: Final = 0
EXIT_DISCREPANCY: Final = 1
EXIT_INCOMPLETE: Final = 3
"""No discrepancy, but some node was down or on another chain: not everything was checked."""
MAX_FINDINGS_SHOWN: Final = 200


def exit_code(report: Report) -> int:
    if not report.clean:
        return EXIT_DISCREPANCY
    return EXIT_CLEAN if report.all_up else EXIT_INCOMPLETE


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def render_text(report: Report) -> str:
    nodes = [
        [
            row.name,
            row.address,
            row.status,
            str(row.height),
            str(row.verified_height),
            str(row.lag),
            row.detail,
        ]
        for row in report.nodes
    ]
    checks = []
    for check in Check:
        passed, failed = report.passed.get(check.value, 0), report.failed.get(check.value, 0)
        verdict = "FAIL" if failed else ("pass" if passed else "-")
        checks.append([check.value, verdict, str(passed), str(failed)])
    lines = [f"chain {report.chain_id}: agreed and replayed up to height {report.agreed_height}", ""]
    lines += _table(["node", "address", "status", "height", "verified", "lag", "detail"], nodes)
    lines.append("")
    lines += _table(["check", "verdict", "passed", "failed"], checks)
    lines.append("")
    if report.findings:
        lines.append(f"{sum(report.failed.values())} discrepancies:")
        lines += [f"  {f.line()}" for f in report.findings[:MAX_FINDINGS_SHOWN]]
        hidden = len(report.findings) - MAX_FINDINGS_SHOWN + report.findings_dropped
        if hidden > 0:
            lines.append(f"  ... and {hidden} more (see --json)")
    else:
        lines.append("no discrepancies")
    return "\n".join(lines) + "\n"


def to_json(report: Report) -> dict[str, Any]:
    return {
        "chain_id": report.chain_id,
        "agreed_height": report.agreed_height,
        "clean": report.clean,
        "exit_code": exit_code(report),
        "nodes": [
            {
                "name": r.name,
                "address": r.address,
                "status": r.status,
                "height": r.height,
                "verified_height": r.verified_height,
                "lag": r.lag,
                "detail": r.detail,
            }
            for r in report.nodes
        ],
        "checks": {
            c.value: {"passed": report.passed.get(c.value, 0), "failed": report.failed.get(c.value, 0)}
            for c in Check
        },
        "findings": [
            {
                "check": f.check.value,
                "height": f.height,
                "nodes": list(f.nodes),
                "record": f.record,
                "detail": f.detail,
            }
            for f in report.findings
        ],
        "findings_dropped": report.findings_dropped,
    }


def render_json(report: Report) -> str:
    return json.dumps(to_json(report), indent=2, sort_keys=True) + "\n"
