"""A demo-style election for the voter page's browser tests: a 4-node LocalNet, the two roles, three
trustees, an open election with a roll and an identity store, a gateway serving gRPC-Web and the
built page served by a `votestore web serve` process of its own — each voter's personal link ready
to open in Chromium.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gateway.identity import MINIMUM_COST, write_identity_store
from ops.cluster import GatewayProcess, LocalNet
from ops.cluster.election import set_up
from ops.cluster.gateway import WebPorts, write_config
from ops.cluster.page import PageProcess
from ops.cluster.trustees import Trustee, new_trustees
from ops.roles import ElectionRoles
from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.client.ballot import credential_public_key
from votestore.client.node import NodeClient

ROOT: Final = Path(__file__).resolve().parents[3]
WEB: Final = ROOT / "web"
DIST: Final = WEB / "dist"
CHROMIUM: Final = Path("/usr/bin/chromium")
ELECTION: Final = "web-2026"
VOTERS: Final = 8
MAYOR: Final = ("ada", "grace", "alan", "barbara")
COUNCIL: Final = ("kim", "lee", "park", "choi", "jung")
COUNCIL_MAX: Final = 2
THRESHOLD: Final = 2
GROUPS: Final = ("north", "south")
"""The roll's groups (the public turnout page counts by group): voter n is in GROUPS[n % 2]."""
BUILD_TIMEOUT_S: Final = 120


def credential(n: int) -> bytes:
    return bytes([0x40 + n]) * 32


def identity(n: int) -> str:
    return f"1980-05-{10 + n:02d}"


def group(n: int) -> str:
    return GROUPS[n % len(GROUPS)]


def build_page() -> None:
    """web/dist from the sources, as `npm run build:page` makes it."""
    subprocess.run(["npm", "run", "--silent", "build:page"], cwd=WEB, check=True, timeout=BUILD_TIMEOUT_S)


@dataclass
class PageCluster:
    net: LocalNet
    gateway: GatewayProcess
    web: WebPorts
    trustees: list[Trustee]

    def link(self, n: int, election: str = ELECTION) -> str:
        return f"{self.web.app_origin}/#c={credential(n).hex()}&e={election}"

    def public(self, view: str, election: str = ELECTION) -> str:
        """The public pages (tracking code, turnout, result) for one election."""
        return f"{self.web.app_origin}/public.html?view={view}&e={election}"

    def node(self) -> NodeClient:
        return NodeClient(self.net.addresses, connect=self.net.connect)


def _definition(trustees: list[Trustee], roles: ElectionRoles) -> election_pb2.ElectionCreate:
    now = int(time.time() * 1000)
    definition = election_pb2.ElectionCreate(
        election_id=ELECTION,
        title="Riverside 2026",
        contests=[
            txbuild.contest("mayor", MAYOR, 1, 1, title="Mayor · 시장"),
            txbuild.contest("council", COUNCIL, 0, COUNCIL_MAX, title="Council · 의회"),
        ],
        groups=GROUPS,
        window_start_ms=now - 1000,
        window_end_ms=now + 3600 * 1000,
        trustees=[t.public for t in trustees],
        threshold=THRESHOLD,
        deal_deadline_ms=now + 600_000,
        complaint_window_ms=1_000,
    )
    return roles.name_in(definition)


@contextmanager
def page_cluster(workdir: Path) -> Iterator[PageCluster]:
    build_page()
    net = LocalNet.create(workdir / "net")
    roles = ElectionRoles.create(workdir)
    trustees = new_trustees(3)
    store = workdir / "identity.store"
    write_identity_store(
        store,
        [(credential_public_key(credential(n), ELECTION), identity(n)) for n in range(VOTERS)],
        cost=MINIMUM_COST,
    )
    web = WebPorts()
    config, target = write_config(
        workdir, net.genesis_path, store, ElectionRoles.provider_key_file(workdir), web=web
    )
    page = PageProcess(workdir, DIST, web.bridge_url, net.genesis_path, web.app)
    cluster = PageCluster(net, GatewayProcess(workdir, config, target), web, trustees)
    try:
        net.start_all()
        net.wait_ready()
        definition = _definition(trustees, roles)
        rows = [(credential_public_key(credential(n), ELECTION), group(n)) for n in range(VOTERS)]
        with cluster.node() as node:
            set_up(
                node, net.genesis.chain_id, net.admin_key, roles.authority, trustees, definition, rows, VOTERS
            )
        cluster.gateway.start()
        page.start()
        yield cluster
    finally:
        page_code = page.stop()
        code = cluster.gateway.stop()
        net.close()
    # After the tests, on purpose outside `finally`: a clean stop (SIGTERM) leaves no traceback in
    # the gateway's log (a double close of the bridge's socket once did).
    log = cluster.gateway.log_path.read_text(errors="replace")
    assert code == 0 and "Traceback" not in log, log[-3000:]
    page_log = page.log_path.read_text(errors="replace")
    assert page_code == 0 and "Traceback" not in page_log, page_log[-3000:]
