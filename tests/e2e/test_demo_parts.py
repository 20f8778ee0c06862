"""The demo's pure parts without any process: the seeded plan, the chart, the report, the outcome's
exit condition, and the refusals that come before anything is started."""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops.cli.definition import definition_from_toml, trustee_from_table
from ops.cluster.gateway import GatewayError, GatewayProcess, write_config
from ops.demo import DemoError, DemoOptions, Verdict, plan, run_demo
from ops.demo.casting import TurnoutSample
from ops.demo.chart import MAX_TICKS, nice_step, turnout_svg
from ops.demo.console import DemoConsole
from ops.demo.definition_file import definition_toml
from ops.demo.outcome import (
    ContestOutcome,
    DemoOutcome,
    Event,
    Fingerprint,
    GroupTurnout,
    Phase,
    outcome_json,
)
from ops.demo.report import render_report
from proto.votestore.v1 import election_pb2
from votestore.crypto import dkg

SEED: Final = 7
LARGE_ROLL: Final = 2000


def _outcome(**changes: object) -> DemoOutcome:
    base = DemoOutcome(
        chain_id="votestore-local",
        election_id="demo-2026",
        title="Riverside <b>test</b>",
        roll_size=10,
        ballots_counted=3,
        ballots_expected=3,
        assisted=1,
        without_receipt=0,
        trustees_used=(1, 3),
        tally_height=12,
        contests=(ContestOutcome("mayor", "Mayor", ("ada", "grace"), (2, 1), (2, 1)),),
        groups=(GroupTurnout("north", 5, 2), GroupTurnout("south", 5, 1)),
        turnout=(TurnoutSample(0.5, 1, 10), TurnoutSample(1.0, 3, 10)),
        events=(Event(0.7, "site-3 killed"),),
        fingerprints=tuple(
            Fingerprint(f"site-{i}", f"127.0.0.1:{7000 + i}", 11, b"\x01" * 32, b"\x02" * 32)
            for i in range(4)
        ),
        verdict=Verdict(True, 0, 11, "no discrepancies\n"),
        phases=(Phase("cast ballots", 1.5),),
        finished_utc="2026-11-22 01:00 UTC",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# ---------------------------------------------------------------- plan


def test_voters_are_the_same_for_a_seed_and_differ_across_seeds() -> None:
    assert plan.make_voters(50, SEED) == plan.make_voters(50, SEED)
    assert plan.make_voters(50, SEED) != plan.make_voters(50, SEED + 1)
    credentials = {v.credential for v in plan.make_voters(LARGE_ROLL, SEED)}
    assert len(credentials) == LARGE_ROLL


def test_mix_of_modes_and_abstainers_is_near_the_named_shares() -> None:
    voters = plan.make_voters(LARGE_ROLL, SEED)
    assisted = 100 * sum(v.assisted for v in voters) / LARGE_ROLL
    abstaining = 100 * sum(v.selections is None for v in voters) / LARGE_ROLL
    # Binomial: 4 standard deviations at n = 2000 is under 4 percentage points for both shares.
    assert abs(assisted - plan.ASSISTED_PERCENT) < 4, assisted
    assert abs(abstaining - plan.ABSTAIN_PERCENT) < 2.5, abstaining
    assert {v.group for v in voters} == set(plan.GROUPS)


@settings(deadline=None, max_examples=30)
@given(count=st.integers(1, 120), seed=st.integers(0, 2**32))
def test_every_selection_fits_its_contest_and_expected_counts_add_them(count: int, seed: int) -> None:
    voters = plan.make_voters(count, seed)
    definition = plan.definition(
        [election_pb2.Trustee(name=f"t{i}") for i in range(plan.TRUSTEES)], 1_700_000_000_000
    )
    for voter in plan.casting(voters):
        assert voter.selections is not None
        mayor, council = voter.selections["mayor"], voter.selections["council"]
        assert len(mayor) == 1 and 0 <= mayor[0] < len(plan.MAYOR)
        assert len(council) <= plan.COUNCIL_MAX and list(council) == sorted(set(council))
    mayor_counts, council_counts = plan.expected_counts(definition, voters)
    assert sum(mayor_counts) == len(plan.casting(voters))
    assert sum(council_counts) == sum(
        len(v.selections["council"]) for v in plan.casting(voters) if v.selections
    )


def test_definition_has_two_contests_a_window_around_now_and_t_of_n() -> None:
    now = 1_700_000_000_000
    trustees = [election_pb2.Trustee(name=f"t{i}") for i in range(plan.TRUSTEES)]
    definition = plan.definition(trustees, now)
    assert [c.id for c in definition.contests] == ["mayor", "council"]
    assert definition.window_start_ms < now < definition.window_end_ms
    assert (definition.threshold, len(definition.trustees)) == (plan.THRESHOLD, plan.TRUSTEES)
    assert plan.ABSENT_TRUSTEE in range(1, plan.TRUSTEES + 1)


def test_voter_repr_names_no_secret() -> None:
    voter = plan.make_voters(4, SEED)[0]
    assert voter.credential.hex() not in repr(voter) and voter.identity_check not in repr(voter)


# ---------------------------------------------------------------- chart


@pytest.mark.parametrize(
    ("span", "step"),
    [(1, 0.2), (7, 1), (10, 2), (40, 5), (95.8, 20), (1000, 200), (947, 200), (3, 0.5)],
)
def test_nice_steps(span: float, step: float) -> None:
    assert math.isclose(nice_step(span), step)


@settings(deadline=None, max_examples=200)
@given(span=st.floats(1e-3, 1e7))
def test_nice_step_covers_the_span_in_few_ticks_and_is_1_2_5(span: float) -> None:
    step = nice_step(span)
    assert span / step <= MAX_TICKS + 1e-9
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-12)
    assert any(math.isclose(mantissa, m) for m in (1, 2, 5)), (step, mantissa)


def test_chart_draws_every_sample_and_every_event_escaped() -> None:
    samples = [TurnoutSample(t, t * 10, 100) for t in range(1, 6)]
    svg = turnout_svg(samples, 100, [Event(2.5, "site-3 <killed>")])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    polyline = svg.split('<polyline points="')[1].split('"')[0]
    assert len(polyline.split()) == len(samples)
    assert "site-3 &lt;killed&gt;" in svg and "<killed>" not in svg


# ---------------------------------------------------------------- outcome and report


@pytest.mark.parametrize(
    ("changes", "ok"),
    [
        ({}, True),
        ({"verdict": Verdict(False, 1, 11, "1 discrepancies")}, False),
        ({"verdict": Verdict(False, 3, 11, "site-2 down")}, False),
        ({"contests": (ContestOutcome("mayor", "Mayor", ("ada", "grace"), (1, 2), (2, 1)),)}, False),
        ({"ballots_counted": 2}, False),
        (
            {
                "fingerprints": (
                    Fingerprint("site-0", "a", 11, b"\x01" * 32, b"\x02" * 32),
                    Fingerprint("site-1", "b", 11, b"\x03" * 32, b"\x02" * 32),
                )
            },
            False,
        ),
    ],
    ids=["all-hold", "discrepancy", "node-down", "count-differs", "ballot-missing", "ledgers-differ"],
)
def test_exit_zero_needs_the_verifier_the_count_and_agreeing_ledgers(
    changes: dict[str, object], ok: bool
) -> None:
    outcome = _outcome(**changes)
    assert outcome.ok is ok
    report = render_report(outcome)
    assert ("PASS:" in report) is ok and ("FAIL:" in report) is not ok
    assert json.loads(outcome_json(outcome))["ok"] is ok


def test_report_holds_the_result_chart_fingerprints_and_verdict_and_escapes_text() -> None:
    report = render_report(_outcome())
    assert "<td>ada</td><td class=num>2</td>" in report and "<td>grace</td><td class=num>1</td>" in report
    assert "<polyline" in report and "site-3 killed" in report
    assert report.count(f'title="{"01" * 32}"') == 4 and "no discrepancies" in report
    assert "Riverside &lt;b&gt;test&lt;/b&gt;" in report and "<b>test</b>" not in report
    assert "<script" not in report and "http" not in report.replace("http://www.w3.org/2000/svg", "")


def test_outcome_json_carries_counts_and_verdict() -> None:
    document = json.loads(outcome_json(_outcome()))
    assert document["result"] == {"mayor": [2, 1]} == document["expected"]
    assert document["verifier"] == {"passed": True, "exit_code": 0, "agreed_height": 11}
    assert document["trustees_used"] == [1, 3]


# ---------------------------------------------------------------- refusals before any process


@pytest.mark.parametrize(("voters", "nodes"), [(3, 4), (0, 4), (40, 3)])
def test_options_out_of_range_are_refused(voters: int, nodes: int, tmp_path: Path) -> None:
    with pytest.raises(DemoError):
        DemoOptions(tmp_path, voters=voters, nodes=nodes)


def test_a_non_empty_workdir_is_refused_before_anything_starts(tmp_path: Path) -> None:
    (tmp_path / "left-over").write_text("an earlier run")
    with pytest.raises(DemoError, match="not empty"):
        run_demo(DemoOptions(tmp_path, voters=8), DemoConsole())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["left-over"]


def test_a_gateway_that_cannot_start_is_reported_with_its_log_and_leaves_no_process(tmp_path: Path) -> None:
    config, target = write_config(
        tmp_path, tmp_path / "no-such-genesis.json", tmp_path / "identity.store", tmp_path / "idp.key.json"
    )
    gateway = GatewayProcess(tmp_path, config, target)
    with pytest.raises(GatewayError, match="exited with") as caught:
        gateway.start()
    assert "no-such-genesis.json" in str(caught.value)
    assert gateway.process is None


@pytest.mark.parametrize(("without_receipt", "said"), [(0, False), (3, True)])
def test_receiptless_casts_are_named_only_when_there_are_some(without_receipt: int, said: bool) -> None:
    report = render_report(_outcome(without_receipt=without_receipt))
    assert (f"{without_receipt} assisted casts got no receipt" in report) is said


def test_the_administrators_definition_file_reads_back_to_the_plans_election() -> None:
    """The demo's administrator writes plan.definition's election as a definition file for
    `votestore election create`; read by the CLI's reader, it is the same record, byte for byte."""
    trustees = [dkg.new_trustee(f"trustee-{k}", k)[1] for k in plan.trustee_numbers()]
    record = plan.definition(trustees, 1_765_000_000_123)
    record.credential_authority, record.identity_provider = bytes(range(32)), bytes(range(1, 33))
    text = definition_toml(record)
    assert definition_from_toml(tomllib.loads(text), 0) == record
    record.app_bundle_sha256 = bytes(range(2, 34))  # the demo's served page, when built
    assert definition_from_toml(tomllib.loads(definition_toml(record)), 0) == record
    printed = f'[[trustees]]\nname = "trustee-1"\nsign_key = "{trustees[0].sign_key.hex()}"\n'
    printed += f'enc_key = "{trustees[0].enc_key.hex()}"'
    assert trustee_from_table(tomllib.loads(printed)["trustees"][0], 1) == trustees[0]
