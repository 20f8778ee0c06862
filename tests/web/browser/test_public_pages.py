"""The public pages in Debian's Chromium against a real 4-node cluster and gateway (issue 23):
anyone pastes a tracking code and sees the ballot included, its certificate checked in the page
against genesis.json, and a made-up or damaged code refused; the turnout page shows the count by
group and follows new ballots without a reload; after the count, the result page shows totals
equal to the ledger's count, and prints as one page without buttons.

Ballots here are cast with the Python client (the voter page's own casting is test_voter_page's);
screenshots and the printed PDF go to .artifacts/web/.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Final

import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from ops.cluster.election import close, tally
from proto.votestore.v1 import election_pb2, gateway_pb2
from tests.web.browser.kit import ARTIFACTS, at_step, open_tab, shot
from tests.web.browser.page_cluster import (
    COUNCIL,
    ELECTION,
    GROUPS,
    MAYOR,
    THRESHOLD,
    VOTERS,
    PageCluster,
    credential,
    group,
    identity,
    page_cluster,
)
from votestore.client.gateway_client import GatewayClient

pytestmark = pytest.mark.cluster

RECEIPT_WAIT_S: Final = 30.0
REFRESH_SEEN_MS: Final = 20_000
"""The turnout page refreshes every 5 s: a new ballot must show within this, without a reload."""
DESKTOP: Final[ViewportSize] = {"width": 1000, "height": 900}
CAST: Final[dict[int, tuple[int, list[int]]]] = {
    0: (0, [0, 1]),
    1: (2, [1]),
    2: (0, []),
}
"""Voter -> (mayor index, council indices) of the ballots cast before the pages are opened."""
LATE: Final = (3, (1, [4]))
"""Cast while the turnout page is open."""
CODES: Final[dict[int, tuple[str, int]]] = {}
"""Voter -> (tracking code hex, block height) of each ballot cast here."""


def _cast(cluster: PageCluster, n: int, choice: tuple[int, list[int]]) -> None:
    selections: Mapping[str, Sequence[int]] = {"mayor": [choice[0]], "council": choice[1]}

    async def run() -> tuple[bytes, gateway_pb2.ReceiptResponse]:
        async with GatewayClient(cluster.gateway.target) as client:
            cast = await client.cast(ELECTION, credential(n), selections, identity_check=identity(n))
            return cast.tracking_code, await client.wait_receipt(cast.tracking_code, RECEIPT_WAIT_S)

    # Playwright's sync API keeps an event loop running on this thread: the client gets its own.
    with ThreadPoolExecutor(max_workers=1) as own_loop:
        code, answer = own_loop.submit(lambda: asyncio.run(run())).result()
    assert answer.status == gateway_pb2.COMMITTED, gateway_pb2.ReceiptStatus.Name(answer.status)
    CODES[n] = (code.hex(), answer.receipt.proof.header.height)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageCluster]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with page_cluster(tmp_path_factory.mktemp("web-public")) as running:
        for n, choice in CAST.items():
            _cast(running, n, choice)
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from open_tab(browser, DESKTOP, "console-public.log")


def check_code(page: Page, text: str, label: str = "Tracking code", button: str = "Check") -> tuple[str, str]:
    """Paste `text` as the tracking code and press Check: the verdict's kind and words."""
    page.locator("#verdict").evaluate("node => node.replaceChildren()")  # no verdict of a former check
    page.get_by_label(label).fill(text)
    page.get_by_role("button", name=button, exact=True).click()
    verdict = page.locator("#verdict [data-verdict]")
    verdict.wait_for()
    return verdict.get_attribute("data-verdict") or "", verdict.inner_text()


def test_tracking_page_shows_a_cast_ballot_included(page: Page, cluster: PageCluster) -> None:
    page.goto(cluster.public("track"))
    at_step(page, "track")
    code, height = CODES[1]
    spaced = " ".join(code[i : i + 8] for i in range(0, len(code), 8)).upper()  # as printed on paper
    kind, words = check_code(page, spaced)
    assert kind == "included", words
    expected = rf"Included at height {height}, certificate checked: [34] of 4 validators signed the block\."
    assert re.fullmatch(expected, words), words
    shot(page, "20-public-track-included")
    page.get_by_role("button", name="한국어").click()
    kind, words = check_code(page, code, label="추적 코드", button="확인")
    assert kind == "included" and f"블록 높이 {height}에 포함됨" in words, words
    shot(page, "21-public-track-korean")


def test_tracking_page_refuses_made_up_damaged_and_other_election(page: Page, cluster: PageCluster) -> None:
    page.goto(cluster.public("track"))
    at_step(page, "track")
    kind, words = check_code(page, secrets.token_hex(32))  # a made-up code: nobody holds it
    assert kind == "unknown" and "No ballot with this tracking code" in words, words
    shot(page, "22-public-track-unknown")
    kind, words = check_code(page, CODES[0][0][:-1])  # one digit lost
    assert kind == "damaged" and "damaged" in words, words
    kind, words = check_code(page, CODES[0][0][:-1] + "g")
    assert kind == "damaged", words
    shot(page, "23-public-track-damaged")
    page.get_by_label("Election").fill("another-2026")
    kind, words = check_code(page, CODES[0][0])
    assert kind == "otherElection" and ELECTION in words, words


def _turnout_by_group(page: Page) -> dict[str, str]:
    rows = page.locator("#turnout-groups tbody tr")
    cells = [rows.nth(i) for i in range(rows.count())]
    ballots = "[data-cell='ballots']"
    return {row.get_attribute("data-group") or "": row.locator(ballots).inner_text() for row in cells}


def test_turnout_page_counts_by_group_and_follows_new_ballots(page: Page, cluster: PageCluster) -> None:
    page.goto(cluster.public("turnout"))
    at_step(page, "turnout")
    page.wait_for_selector(f"#turnout-total[data-ballots='{len(CAST)}']")
    expected = {g: str(sum(group(n) == g for n in CAST)) for g in GROUPS}
    assert _turnout_by_group(page) == expected
    roll = page.locator("#turnout-total").inner_text()
    assert roll.startswith(f"{len(CAST)} of {VOTERS} voters have voted"), roll
    shot(page, "24-public-turnout")
    n, choice = LATE
    _cast(cluster, n, choice)
    page.wait_for_selector(f"#turnout-total[data-ballots='{len(CAST) + 1}']", timeout=REFRESH_SEEN_MS)
    expected[group(n)] = str(int(expected[group(n)]) + 1)
    assert _turnout_by_group(page) == expected
    shot(page, "25-public-turnout-refreshed")


def test_result_page_after_the_count_shows_the_totals_and_prints(page: Page, cluster: PageCluster) -> None:
    """Last in this file: it closes the election and counts."""
    assert set(CODES) == {*CAST, LATE[0]}, "the casting above ran"
    page.goto(cluster.public("result"))
    at_step(page, "result")
    page.wait_for_selector("main [data-message='status']:has-text('not done yet')")
    chain = cluster.net.genesis.chain_id
    with cluster.node() as node:
        close(node, chain, cluster.net.admin_key, ELECTION)
        state, _ = tally(node, chain, cluster.trustees[:THRESHOLD], ELECTION)
    assert state.phase == election_pb2.COUNTED
    page.reload()
    page.wait_for_selector("#result-ballots")
    assert page.locator("#result-ballots").get_attribute("data-ballots") == str(state.result.ballots_counted)
    assert state.result.ballots_counted == len(CODES)
    names = {"mayor": MAYOR, "council": COUNCIL}
    for contest in state.result.contests:
        shown = page.locator(f"table[data-contest='{contest.contest_id}'] tbody tr")
        assert shown.count() == len(names[contest.contest_id])
        for k, count in enumerate(contest.counts):
            row = shown.nth(k)
            assert row.get_attribute("data-choice") == names[contest.contest_id][k]
            assert row.locator("[data-cell='count']").inner_text() == str(count)
    ballots = [*CAST.values(), LATE[1]]
    mayor = [sum(m == k for m, _ in ballots) for k in range(len(MAYOR))]
    assert list(state.result.contests[0].counts) == mayor
    assert page.locator("#verify-command").inner_text().startswith("votestore verify --genesis genesis.json")
    assert page.get_by_role("button", name="Print").is_visible()
    shot(page, "26-public-result")

    page.emulate_media(media="print")
    for hidden in ("#print", "#lang", "#views", "#election-form", "#genesis-link"):
        assert not page.locator(hidden).is_visible(), f"{hidden} shows in print"
    assert page.locator("table[data-contest='mayor']").is_visible()
    assert page.locator("#verify-command").is_visible()
    shot(page, "27-public-result-print")
    pdf = page.pdf(format="A4", print_background=False)
    (ARTIFACTS / "27-public-result.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"the printed result is {pages} pages"
