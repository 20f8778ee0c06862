"""The voter page in Debian's Chromium (Playwright driving /usr/bin/chromium; no downloaded browser),
against a real 4-node cluster and gateway: open a personal link, pass the identity check, audit one
ballot (checked by Python's `votestore ballot audit`, published on the ledger by the page and listed
by `votestore ballot audited`, its bytes then refused as a cast), cast another, check the receipt
(in the page, and again with Python's `votestore receipt check`); the bad inputs — a damaged link, a
wrong identity answer, an over-vote, the gateway's answer lost mid-cast — each give a clear message
and never a second ballot; and the count, after the close, holds exactly the cast ballots.

Screenshots of every step go to .artifacts/web/ (kept as the run's artifact, gitignored).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import nacl.signing
import pytest
from google.protobuf import json_format
from playwright.sync_api import Browser, Page, Route, ViewportSize
from typer.testing import CliRunner

from gateway.config import Limits
from gateway.identity_server import CLIENT_RATE_REFUSAL
from ops.cli.app import build
from ops.cluster.election import close, tally
from proto.votestore.v1 import election_pb2, ledger_pb2
from tests.web.browser.kit import ARTIFACTS, STEP_TIMEOUT_MS, at_step, open_tab, shot
from tests.web.browser.page_cluster import (
    COUNCIL,
    ELECTION,
    MAYOR,
    THRESHOLD,
    PageCluster,
    credential,
    identity,
    page_cluster,
)
from votestore import txbuild
from votestore.client.audit import AuditFailed, check_audit, read_audit
from votestore.client.receipts import check_receipt
from votestore.crypto.credential import derive_credential_key

cli_app = build()  # every group (ops.cli.app.build)


def credential_key(n: int) -> nacl.signing.SigningKey:
    return derive_credential_key(credential(n), ELECTION)


pytestmark = pytest.mark.cluster

QUICK_STEP_MS: Final = 10_000
ATTEST: Final = "**/votestore.v1.IdentityProvider/Attest"
IDENTITY_FAILURE_BURST: Final = int(Limits().identity_failure_burst)
"""The identity provider's failed checks per voter key before its limit (the cluster's gateway
runs with the default limits)."""
PHONE: Final[ViewportSize] = {"width": 360, "height": 740}
CASTS: Final[dict[int, tuple[str, list[str]]]] = {}
"""Voter number -> (mayor, council) of each ballot the tests cast; the count must be exactly these."""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageCluster]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with page_cluster(tmp_path_factory.mktemp("web-page")) as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from open_tab(browser, PHONE, "console.log", downloads=True)


def pass_identity(page: Page, n: int, answer: str | None = None) -> None:
    at_step(page, "identity")
    page.get_by_label("Identity check").fill(identity(n) if answer is None else answer)
    page.keyboard.press("Enter")  # the form works from the keyboard


def choose(page: Page, mayor: str, council: list[str]) -> None:
    at_step(page, "ballot")
    page.get_by_label(mayor, exact=True).check()
    for name in council:
        page.get_by_label(name, exact=True).check()


def encrypt(page: Page) -> str:
    page.get_by_role("button", name="Encrypt my ballot").click()
    at_step(page, "review")
    return page.locator("#fingerprint").inner_text()


def cast_and_check(page: Page, cluster: PageCluster, name: str) -> ledger_pb2.Receipt:
    at_step(page, "receipt")
    shot(page, name)
    assert page.locator("[data-message='ok']").count() == 1, page.locator("main").inner_text()
    assert "certified by" in page.locator("[data-message='ok']").inner_text()
    receipt = json_format.Parse(page.locator("#receipt-json").inner_text(), ledger_pb2.Receipt())
    checked = check_receipt(cluster.net.genesis, receipt)  # Python's check agrees with the page's
    assert checked.tracking_code.hex() == page.locator("#tracking-code").inner_text()
    assert checked.election_id == ELECTION
    return receipt


def test_open_link_identity_audit_then_cast_and_check_receipt(
    page: Page, cluster: PageCluster, tmp_path: Path
) -> None:
    page.goto(cluster.link(0))
    assert "#" not in page.url or "c=" not in page.url.split("#", 1)[1], "the secret stays in the address bar"
    shot(page, "01-identity")
    pass_identity(page, 0)
    choose(page, MAYOR[1], [COUNCIL[0]])
    shot(page, "02-ballot")
    audited = encrypt(page)
    shot(page, "03-review")
    page.get_by_role("button", name="Audit this ballot").click()
    at_step(page, "audited")
    shot(page, "04-audited")
    with page.expect_download() as download:
        page.locator("#audit-save").click()
    record_path = tmp_path / "audit.json"
    download.value.save_as(record_path)
    record = read_audit(record_path)
    checked = check_audit(record)  # the second implementation: Python, not the page's code
    assert checked.choices == {"mayor": [MAYOR[1]], "council": [COUNCIL[0]]}
    cli = CliRunner().invoke(cli_app, ["ballot", "audit", str(record_path)])
    assert cli.exit_code == 0 and f"mayor: {MAYOR[1]}" in cli.output, cli.output
    cli = CliRunner().invoke(cli_app, ["ballot", "audit", "--json", str(record_path)])
    assert json.loads(cli.output)["choices"] == {"mayor": [MAYOR[1]], "council": [COUNCIL[0]]}
    forged: dict[str, Any] = json.loads(json.dumps(record))
    forged["choices"] = {"mayor": [MAYOR[2]], "council": [COUNCIL[0]]}
    with pytest.raises(AuditFailed):
        check_audit(forged)  # a page that showed other choices than it encrypted is caught
    forged_path = tmp_path / "forged.json"
    forged_path.write_text(json.dumps(forged))
    cli = CliRunner().invoke(cli_app, ["ballot", "audit", str(forged_path)])
    assert cli.exit_code == 1 and "audit failed: the ballot encrypts" in cli.output, cli.output
    check_published_and_never_cast(page, cluster, record)
    page.get_by_role("button", name="한국어").click()  # the published line follows the language
    assert page.locator("#audit-published").inner_text().startswith("원장에 공개됨"), page.locator(
        "#audit-published"
    ).inner_text()
    page.get_by_role("button", name="English").click()

    page.get_by_role("button", name="Make a fresh ballot").click()
    choose(page, MAYOR[0], [COUNCIL[1], COUNCIL[2]])
    fresh = encrypt(page)
    assert fresh != audited, "the cast ballot is a fresh encryption, never the audited one"
    page.get_by_role("button", name="Cast this ballot").click()
    cast_and_check(page, cluster, "05-receipt")
    CASTS[0] = (MAYOR[0], [COUNCIL[1], COUNCIL[2]])


def check_published_and_never_cast(page: Page, cluster: PageCluster, record: dict[str, Any]) -> None:
    """Issue 23: the page published the audited ballot (PublishAudit); the ledger lists it with the
    choices its nonces open to; and those same ballot bytes, signed to cast, are refused."""
    published = page.locator("#audit-published:not([data-published=''])[data-published]")
    published.wait_for(timeout=STEP_TIMEOUT_MS)
    code = published.get_attribute("data-published")
    assert code, page.locator("main").inner_text()
    with cluster.node() as node:
        assert node.wait_committed(bytes.fromhex(code)).result.code == election_pb2.OK
    listed = CliRunner().invoke(
        cli_app, ["ballot", "audited", "--election", ELECTION, "--node", cluster.net.addresses[0], "--json"]
    )
    assert listed.exit_code == 0, listed.output
    (entry,) = json.loads(listed.output)["audited"]
    assert entry["tracking_code"] == code and entry["opens"] and entry["voter"] == record["voter"], entry
    assert entry["choices"] == record["choices"]
    ballot = election_pb2.Ballot.FromString(bytes.fromhex(record["ballot"]))
    cast = txbuild.sign_ballot(cluster.net.genesis.chain_id, credential_key(0), ballot)
    with cluster.node() as node:
        answer = node.submit(cast)
    assert answer.code == election_pb2.AUDITED, answer


def test_korean_toggle_translates_the_page(page: Page, cluster: PageCluster) -> None:
    page.goto(cluster.link(5))
    at_step(page, "identity")
    page.get_by_role("button", name="한국어").click()
    assert page.locator("h2").inner_text() == "본인 확인"
    assert page.get_by_label("본인 확인 정보").is_visible()
    shot(page, "06-korean")


def test_damaged_link_says_so_and_casts_nothing(page: Page, cluster: PageCluster) -> None:
    page.goto(cluster.link(1)[:-20])  # the link cut short, as a mail program might wrap it
    at_step(page, "error")
    assert "damaged" in page.get_by_role("alert").inner_text()
    shot(page, "07-damaged-link")


def test_over_vote_is_refused_by_the_page(page: Page, cluster: PageCluster) -> None:
    page.goto(cluster.link(2))
    pass_identity(page, 2)
    choose(page, MAYOR[0], list(COUNCIL[:2]))
    third = page.get_by_label(COUNCIL[2], exact=True)
    third.focus()
    page.keyboard.press("Space")  # from the keyboard, as with a click
    assert not third.is_checked()
    assert "at most 2" in page.locator("#ballot-notice").inner_text()
    shot(page, "08-over-vote")


def test_wrong_identity_answer_then_right_one_casts_once(page: Page, cluster: PageCluster) -> None:
    page.goto(cluster.link(3))
    pass_identity(page, 3, answer="1999-12-31")
    choose(page, MAYOR[3], [])
    encrypt(page)
    page.get_by_role("button", name="Cast this ballot").click()
    at_step(page, "identity")
    assert "did not match" in page.get_by_role("alert").inner_text()
    shot(page, "09-wrong-identity")
    pass_identity(page, 3)
    cast_and_check(page, cluster, "10-after-identity")
    CASTS[3] = (MAYOR[3], [])


def test_lost_answer_mid_cast_retries_the_same_bytes_only(page: Page, cluster: PageCluster) -> None:
    sent: list[bytes] = []

    def lose_first_answer(route: Route) -> None:
        body = route.request.post_data_buffer or b""
        sent.append(body)
        if len(sent) == 1:
            route.fetch()  # the ballot reaches the gateway ...
            route.abort("connectionreset")  # ... and its answer is lost on the way back
        else:
            route.continue_()

    page.route("**/votestore.v1.Gateway/CastBallot", lose_first_answer)
    page.goto(cluster.link(4))
    pass_identity(page, 4)
    choose(page, MAYOR[2], [COUNCIL[4]])
    encrypt(page)
    page.get_by_role("button", name="Cast this ballot").click()
    at_step(page, "cast-failed")
    assert "very same signed ballot" in page.get_by_role("alert").inner_text()
    shot(page, "11-cast-failed")
    page.get_by_role("button", name="Retry the same ballot").click()
    cast_and_check(page, cluster, "12-after-retry")
    assert len(sent) == 2 and sent[0] == sent[1], "a retry sends the same signed bytes"
    CASTS[4] = (MAYOR[2], [COUNCIL[4]])


def test_gateway_gone_mid_cast_then_back_gets_the_same_bytes(page: Page, cluster: PageCluster) -> None:
    """The gateway process killed after the identity provider attested and the page signed, as the
    ballot leaves; the page offers only a retry of those bytes; the gateway restarted, it goes in."""
    sent: list[bytes] = []

    def gateway_dies(route: Route) -> None:
        sent.append(route.request.post_data_buffer or b"")
        if len(sent) == 1:
            cluster.gateway.kill()
        route.continue_()

    page.route("**/votestore.v1.Gateway/CastBallot", gateway_dies)
    page.goto(cluster.link(6))
    pass_identity(page, 6)
    choose(page, MAYOR[1], [COUNCIL[3], COUNCIL[1]])
    encrypt(page)
    page.get_by_role("button", name="Cast this ballot").click()
    at_step(page, "cast-failed")
    code = page.locator("#tracking-code").inner_text()
    shot(page, "13-gateway-gone")
    cluster.gateway.start()
    page.get_by_role("button", name="Retry the same ballot").click()
    cast_and_check(page, cluster, "14-gateway-back")
    assert page.locator("#tracking-code").inner_text() == code
    assert len(sent) == 2 and sent[0] == sent[1], "a retry sends the same signed bytes"
    CASTS[6] = (MAYOR[1], [COUNCIL[1], COUNCIL[3]])


def test_request_rate_refusal_keeps_the_ballot_for_a_retry(page: Page, cluster: PageCluster) -> None:
    """Attest's RESOURCE_EXHAUSTED for a request rate is not the failure limit: the page says
    "too many requests", keeps the encrypted ballot, and casting it again goes through. The
    refusal is the provider's own message on a faked answer: the shared cluster's rate limits
    are not lowered for one test."""
    refused: list[str] = []

    def over_rate(route: Route) -> None:
        refused.append(route.request.url)
        route.fulfill(
            status=200,
            headers={
                "content-type": "application/grpc-web+proto",
                "grpc-status": "8",  # RESOURCE_EXHAUSTED, trailers-only
                "grpc-message": quote(CLIENT_RATE_REFUSAL),
                "access-control-allow-origin": cluster.web.app_origin,
                "access-control-expose-headers": "grpc-status, grpc-message",
            },
            body=b"",
        )

    page.route(ATTEST, over_rate)
    page.goto(cluster.link(1))
    pass_identity(page, 1)
    choose(page, MAYOR[3], [COUNCIL[2]])
    fingerprint = encrypt(page)
    page.get_by_role("button", name="Cast this ballot").click()
    page.wait_for_selector("main[data-step='review'] [data-message='error']")
    assert "too many requests" in page.get_by_role("alert").inner_text()
    assert page.locator("#fingerprint").inner_text() == fingerprint, "the same ballot is kept"
    shot(page, "15-too-many-requests")
    page.unroute(ATTEST)
    page.get_by_role("button", name="Cast this ballot").click()
    cast_and_check(page, cluster, "16-after-rate-limit")
    assert len(refused) == 1
    CASTS[1] = (MAYOR[3], [COUNCIL[2]])


def test_failure_limit_stops_the_voter(page: Page, cluster: PageCluster) -> None:
    """The provider's real failure limit: after IDENTITY_FAILURE_BURST wrong answers even the
    right one is refused, and the page says to stop, not to retry; nothing is cast."""
    page.goto(cluster.link(7))
    pass_identity(page, 7, answer="1900-01-01")
    choose(page, MAYOR[0], [])
    encrypt(page)
    with page.expect_response(ATTEST):
        page.get_by_role("button", name="Cast this ballot").click()
    for _ in range(IDENTITY_FAILURE_BURST - 1):
        at_step(page, "identity")
        with page.expect_response(ATTEST):
            pass_identity(page, 7, answer="1900-01-01")
    with page.expect_response(ATTEST):
        pass_identity(page, 7)  # the right answer, too late
    at_step(page, "error")
    assert "Too many failed identity checks" in page.get_by_role("alert").inner_text()
    shot(page, "17-failure-limit")


def test_count_holds_exactly_the_cast_ballots(cluster: PageCluster) -> None:
    """Last in this file: it closes the election. The audited ballot and the refused attempts are
    not in it; every cast ballot is, once."""
    assert set(CASTS) == {0, 1, 3, 4, 6}, "the casting tests above ran"
    chain = cluster.net.genesis.chain_id
    with cluster.node() as node:
        close(node, chain, cluster.net.admin_key, ELECTION)
        state, _ = tally(node, chain, cluster.trustees[:THRESHOLD], ELECTION)
    result = state.result
    assert result.ballots_counted == len(CASTS)
    counts = {c.contest_id: list(c.counts) for c in result.contests}
    assert counts["mayor"] == [sum(m == name for m, _ in CASTS.values()) for name in MAYOR]
    assert counts["council"] == [sum(name in c for _, c in CASTS.values()) for name in COUNCIL]
    assert state.phase == election_pb2.COUNTED
