"""The printable HTML result report: one self-contained file (inline CSS and SVG, no script, no
external resource) that a commission can open in any browser, print, or archive with the ledger."""

from __future__ import annotations

from html import escape
from typing import Final

from ops.demo.chart import turnout_svg
from ops.demo.outcome import ContestOutcome, DemoOutcome

HASH_SHOWN_HEX: Final = 16
"""Hex digits of a hash shown in a cell; the whole hash is in the cell's title."""

_STYLE: Final = """
body { font-family: sans-serif; max-width: 60rem; margin: 2rem auto; color: #1b1b1b; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
.meta { color: #555; }
.verdict { padding: 0.8rem 1rem; border-radius: 6px; font-weight: bold; margin: 1rem 0; }
.pass { background: #e3f4e1; border: 1px solid #4c9a44; }
.fail { background: #fbe4e1; border: 1px solid #c0392b; }
table { border-collapse: collapse; margin: 0.6rem 0; }
th, td { text-align: left; padding: 0.25rem 0.8rem 0.25rem 0; border-bottom: 1px solid #eee; }
td.num, th.num { text-align: right; }
.bar { display: inline-block; height: 0.8rem; background: #1f5fa8; }
code, pre { font-family: monospace; font-size: 0.85rem; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; }
@media print { body { margin: 0; } pre { white-space: pre-wrap; } h2 { break-after: avoid; } }
"""


def _hash(value: bytes) -> str:
    full = value.hex()
    return f'<code title="{full}">{full[:HASH_SHOWN_HEX]}…</code>'


def _contest(contest: ContestOutcome) -> str:
    total = max(sum(contest.recorded), 1)
    rows = []
    for choice, recorded, expected in zip(contest.choices, contest.recorded, contest.expected, strict=True):
        share = 100 * recorded / total
        mark = "✓" if recorded == expected else "✗"
        rows.append(
            f"<tr><td>{escape(choice)}</td><td class=num>{recorded}</td>"
            f'<td><span class=bar style="width:{2 * share:.0f}px"></span> {share:.1f} %</td>'
            f"<td class=num>{expected}</td><td>{mark}</td></tr>"
        )
    return (
        f"<h3>{escape(contest.title)}</h3><table><tr><th>choice</th><th class=num>votes</th>"
        "<th>share of votes in this contest</th><th class=num>chosen by the demo's voters</th><th></th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _receiptless(count: int) -> str:
    if not count:
        return ""
    return (
        f" {count} assisted casts got no receipt: the gateway answered ALREADY_EXISTS for the voter's"
        " own ballot (a validator intake race, docs/demo.md); the count includes them."
    )


def render_report(outcome: DemoOutcome) -> str:
    verdict = outcome.verdict
    ok = outcome.ok
    banner = (
        f'<div class="verdict {"pass" if ok else "fail"}">'
        f"{'PASS' if ok else 'FAIL'}: verifier {'passed' if verdict.passed else 'FAILED'} "
        f"(exit {verdict.exit_code}, agreed height {verdict.agreed_height}); the recorded result "
        f"{'equals' if outcome.result_matches else 'DIFFERS FROM'} the voters' choices; the nodes' "
        f"ledgers {'agree' if outcome.fingerprints_agree else 'DIFFER'} at the fingerprint height.</div>"
    )
    turnout_pct = 100 * outcome.ballots_counted / outcome.roll_size
    groups = "".join(
        f"<tr><td>{escape(g.group)}</td><td class=num>{g.roll_size}</td><td class=num>{g.ballots}</td>"
        f"<td class=num>{100 * g.ballots / max(g.roll_size, 1):.1f} %</td></tr>"
        for g in outcome.groups
    )
    prints = "".join(
        f"<tr><td>{escape(f.node)}</td><td><code>{escape(f.address)}</code></td><td class=num>{f.height}"
        f"</td><td>{_hash(f.block_hash)}</td><td>{_hash(f.app_hash)}</td></tr>"
        for f in outcome.fingerprints
    )
    events = "".join(
        f"<li>{e.elapsed_s:.1f} s after casting began: {escape(e.text)}</li>" for e in outcome.events
    )
    phases = "".join(
        f"<tr><td>{escape(p.name)}</td><td class=num>{p.seconds:.1f} s</td></tr>" for p in outcome.phases
    )
    trustees = ", ".join(str(t) for t in outcome.trustees_used)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(outcome.title)}: result</title><style>{_STYLE}</style></head>
<body>
<h1>{escape(outcome.title)}</h1>
<div class=meta>election <code>{escape(outcome.election_id)}</code> on chain
<code>{escape(outcome.chain_id)}</code>; counted at height {outcome.tally_height} from the
decryption shares of trustees {trustees}; report made {escape(outcome.finished_utc)}</div>
{banner}
<h2>Result</h2>
{"".join(_contest(c) for c in outcome.contests)}
<h2>Turnout</h2>
<p>{outcome.ballots_counted} ballots from a roll of {outcome.roll_size} ({turnout_pct:.1f} %);
{outcome.assisted} cast in assisted mode, the rest encrypted by the voter's own client;
{outcome.ballots_expected} of the demo's voters cast.{_receiptless(outcome.without_receipt)}</p>
<table><tr><th>district</th><th class=num>roll</th><th class=num>ballots</th>
<th class=num>turnout</th></tr>{groups}</table>
{turnout_svg(outcome.turnout, outcome.roll_size, outcome.events)}
<ul>{events}</ul>
<h2>Ledger fingerprints</h2>
<p>Each validator's block hash at one height all of them hold, and the state (app) hash after
that block. Equal rows mean equal ledgers up to that height.</p>
<table><tr><th>node</th><th>address</th><th class=num>height</th><th>block hash</th>
<th>app hash</th></tr>{prints}</table>
<h2>Verifier</h2>
<pre>{escape(verdict.text)}</pre>
<h2>Run</h2>
<table>{phases}</table>
</body></html>
"""
