"""A whole election driven through the admin and trustee commands, each run as a subprocess against
a real 4-node cluster: keygen x3, create (t = 2), roll import, deal x3, complain (none), open, ten
ballots, close, decrypt with 2 of 3, show -> the recorded counts equal the cast choices. Then a
bad deal that a complaint disqualifies, and the refusals a person meets (wrong passphrase, unknown
election, an admin key not in genesis, an existing outbox, ...), each one `error:` line."""

from __future__ import annotations

import csv
import json
import os
import random
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.identity import read_identity_entries, verify_second_factor
from ops.cluster import LocalNet, free_port
from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.client.node import NodeClient
from votestore.crypto import dkg
from votestore.crypto.attestation import local_attester
from votestore.crypto.credential import derive_credential_key
from votestore.keys import PLAINTEXT_QUIETLY, new_signing_key, read_key_file, write_key_file
from votestore.trustee_store import open_trustee_file

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
ENTRY = [sys.executable, "-m", "votestore"]
SEED = 20260503
VOTERS = 20
BALLOTS = 10
ROLL_BATCH = 8
GROUPS = ("north", "south")
CHOICES = ("ada", "bo", "cy")
COMMAND_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class TrusteeFile:
    name: str
    key: Path
    passphrase_file: Path
    snippet: str  # the [[trustees]] table keygen printed


def run(
    *args: str | Path, expect: int = 0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*ENTRY, *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == expect, f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    if expect:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return result


def nodes(net: LocalNet) -> list[str]:
    """A dead address first: every command must fail over to the live nodes."""
    return ["--node", f"127.0.0.1:{free_port()}", "--node", net.addresses[0], "--node", net.addresses[1]]


def admin(net: LocalNet) -> list[str]:
    return [*nodes(net), "--admin-key", str(net.workdir / "admin.key.json")]


@dataclass(frozen=True, slots=True)
class RoleKeys:
    """The credential authority's and the identity provider's key files, each in its own folder."""

    authority: Path
    authority_public: str
    provider: Path
    provider_public: str


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> RoleKeys:
    made = {}
    for role in ("credential-authority", "identity-provider"):
        key = tmp_path_factory.mktemp(role) / "key.json"
        made[role] = (key, run("keys", "gen", "--role", role, "--out", key).stdout.strip())
    return RoleKeys(*made["credential-authority"], *made["identity-provider"])


def authority(net: LocalNet, roles: RoleKeys) -> list[str]:
    return [*nodes(net), "--ca-key", str(roles.authority)]


@pytest.fixture(scope="module")
def trustees(tmp_path_factory: pytest.TempPathFactory) -> list[TrusteeFile]:
    folder = tmp_path_factory.mktemp("trustees")
    made = []
    for n, name in enumerate(["ann", "ben", "cai"], start=1):
        passphrase = folder / f"{name}.pass"
        passphrase.write_text(f"{name} keeps this passphrase {n}\n")
        key = folder / f"{name}.key"
        out = run(
            "trustee",
            "keygen",
            "--out",
            key,
            "--name",
            name,
            "--passphrase-file",
            passphrase,
            "--kdf",
            "interactive",
        )
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        snippet = "\n".join(line for line in out.stdout.splitlines() if not line.startswith("#"))
        made.append(TrusteeFile(name, key, passphrase, snippet))
    return made


def write_definition(path: Path, election_id: str, members: list[TrusteeFile], roles: RoleKeys) -> Path:
    lines = [
        f'id = "{election_id}"',
        'title = "Harbour district council"',
        f"groups = {json.dumps(list(GROUPS))}",
        "threshold = 2",
        "",
        "[window]",
        'start = "now"',
        'end = "+2h"',
        "",
        "[keygen]",
        'deal_deadline = "+30m"',
        'complaint_window = "1s"',
        "",
        "[roles]",
        f'credential_authority = "{roles.authority_public}"',
        f'identity_provider = "{roles.provider_public}"',
        "",
        "[[contests]]",
        'id = "council"',
        'title = "Council seat"',
        "min = 1",
        "max = 1",
        f"choices = {json.dumps(list(CHOICES))}",
        "",
        *(t.snippet + "\n" for t in members),
    ]
    path.write_text("\n".join(lines))
    return path


def trustee_args(net: LocalNet, member: TrusteeFile, election_id: str) -> list[str | Path]:
    return [
        "--key",
        member.key,
        *nodes(net),
        "--election",
        election_id,
        "--passphrase-file",
        member.passphrase_file,
    ]


def state(net: LocalNet, election_id: str) -> election_pb2.ElectionState:
    with NodeClient(net.addresses) as client:
        return client.election(election_id)


def write_roll(path: Path, rng: random.Random) -> dict[str, tuple[str, str]]:
    """VOTERS rows of voter id, group, birth date; returns id -> (group, birth date)."""
    voters = {
        f"v{n:03d}": (rng.choice(GROUPS), f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{n % 10}")
        for n in range(VOTERS)
    }
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["voter_id", "group", "second_factor"])
        writer.writerows([voter, group, born] for voter, (group, born) in voters.items())
    return voters


def test_whole_election_through_the_commands(
    net: LocalNet, trustees: list[TrusteeFile], roles: RoleKeys, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    election_id = "harbour-2026"
    created = run(
        "election",
        "create",
        *admin(net),
        "--definition",
        write_definition(tmp_path / "e.toml", election_id, trustees, roles),
    )
    assert f"election {election_id}" in created.stdout and "committed OK in block" in created.stdout

    voters = write_roll(tmp_path / "roll.csv", rng)
    outbox, identity = tmp_path / "outbox", tmp_path / "identity.store"
    imported = run(
        "roll",
        "import",
        *authority(net, roles),
        "--election",
        election_id,
        "--csv",
        tmp_path / "roll.csv",
        "--outbox",
        outbox,
        "--identity-store",
        identity,
        "--batch",
        ROLL_BATCH,
        "--json",
    )
    report = json.loads(imported.stdout)  # one object: the facts and the committed batches
    assert (report["voters"], report["batches"], report["first_batch"]) == (VOTERS, 3, 0)  # batches of 8
    assert report["identity_store_entries"] == VOTERS and report["outbox"] == str(outbox)
    assert [tx["what"] for tx in report["transactions"]] == [f"roll batch {n}" for n in range(3)]
    assert all(tx["height"] >= 1 and len(tx["hash"]) == 64 for tx in report["transactions"])
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    secrets = {}
    for voter in voters:
        path = outbox / "voters" / f"{voter}.credential"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        secrets[voter] = bytes.fromhex(path.read_text().strip())
        assert secrets[voter].hex() not in imported.stdout + imported.stderr, "a secret was printed"
    with (outbox / "roll.csv").open() as handle:
        rows = {row["voter_id"]: row for row in csv.DictReader(handle)}
    entries = read_identity_entries(identity)
    for voter, (group, born) in voters.items():
        public = bytes(derive_credential_key(secrets[voter], election_id).verify_key)
        assert rows[voter]["credential_key"] == public.hex() and rows[voter]["group"] == group
        # The secret in the fragment only, never where a server or its log sees it (issue 22).
        assert secrets[voter].hex() not in rows[voter]["link"].split("#", 1)[0]
        assert rows[voter]["link"] == f"votestore://cast#c={secrets[voter].hex()}&e={election_id}"
        assert verify_second_factor(entries[public], born)
    assert state(net, election_id).roll_size == VOTERS
    twice = run(*imported.args[len(ENTRY) :], expect=1)  # the same command again, same outbox
    assert "--append" in twice.stderr
    (tmp_path / "late.csv").write_text("voter_id,group,second_factor\nlate1,north,1970-01-01\n")
    late_outbox = tmp_path / "late-outbox"
    run(*imported.args[len(ENTRY) : -9], "--csv", tmp_path / "late.csv", "--outbox", late_outbox, "--append")
    voters["late1"] = ("north", "1970-01-01")
    secrets["late1"] = bytes.fromhex((late_outbox / "voters" / "late1.credential").read_text())
    assert "late1,north,3," in (late_outbox / "roll.csv").read_text()  # batch numbering continues
    assert state(net, election_id).roll_size == VOTERS + 1

    for n, member in enumerate(trustees):
        if n == 0:  # the passphrase from the environment instead of a file
            args = ["--key", member.key, *nodes(net), "--election", election_id]
            env = {"VOTESTORE_TRUSTEE_PASSPHRASE": member.passphrase_file.read_text().removesuffix("\n")}
            assert "committed OK" in run("trustee", "deal", *args, env=env).stdout
        elif n == 1:
            assert "committed OK" in run("trustee", "deal", *trustee_args(net, member, election_id)).stdout
        else:  # --json: one object, the transaction with its hash and height
            dealt = json.loads(
                run("trustee", "deal", *trustee_args(net, member, election_id), "--json").stdout
            )
            assert (
                dealt["outcome"] == "dealt" and dealt["trustee"] == 3 and dealt["transactions"][0]["height"]
            )
    for member in trustees[:2]:
        assert (
            "all shares valid" in run("trustee", "complain", *trustee_args(net, member, election_id)).stdout
        )
    complained = json.loads(
        run("trustee", "complain", *trustee_args(net, trustees[2], election_id), "--json").stdout
    )
    assert complained == {
        "election_id": election_id,
        "trustee": 3,
        "checked": [1, 2],
        "complained_of": [],
        "not_dealt": [],
        "transactions": [],
    }
    opened_json = json.loads(run("election", "open", *admin(net), "--election", election_id, "--json").stdout)
    assert opened_json["outcome"] == "opened" and len(opened_json["transactions"]) == 1

    opened = state(net, election_id)
    assert opened.phase == election_pb2.OPEN
    cast = {voter: rng.randrange(len(CHOICES)) for voter in rng.sample(sorted(voters), BALLOTS)}
    provider = read_key_file(roles.provider, unlock=PLAINTEXT_QUIETLY)
    with NodeClient(net.addresses) as client:
        chain_id = client.chain_id()
        txs = [
            txbuild.ballot(
                chain_id,
                election_id,
                opened.definition,
                opened.election_key,
                secrets[v],
                [[choice]],
                local_attester(provider, chain_id, election_id),
            )
            for v, choice in cast.items()
        ]
        assert all(client.submit(raw).code == election_pb2.OK for raw in txs)
        assert all(client.commit(raw).result.code == election_pb2.OK for raw in txs)
    closed = json.loads(run("election", "close", *admin(net), "--election", election_id, "--json").stdout)
    assert closed["outcome"] == "closed" and closed["tally_height"] == closed["transactions"][0]["height"]

    first = run("trustee", "decrypt", *trustee_args(net, trustees[0], election_id))
    assert "1 of 2 shares in" in first.stdout
    second = json.loads(
        run("trustee", "decrypt", *trustee_args(net, trustees[2], election_id), "--json").stdout
    )
    assert (second["outcome"], second["shares"], second["threshold"]) == ("counted", 2, 2)
    late = run("trustee", "decrypt", *trustee_args(net, trustees[1], election_id))
    assert "already counted" in late.stdout

    shown = json.loads(run("election", "show", *nodes(net), "--election", election_id, "--json").stdout)
    expected = {c: sum(1 for choice in cast.values() if CHOICES[choice] == c) for c in CHOICES}
    assert shown["phase"] == "COUNTED"
    assert shown["result"]["contests"] == {"council": expected}
    assert shown["result"]["ballots_counted"] == BALLOTS and shown["result"]["trustees"] == [1, 3]
    turnout = {t["group"]: (t["roll_size"], t["ballots"]) for t in shown["turnout"]}
    assert turnout == {
        g: (sum(1 for gv, _ in voters.values() if gv == g), sum(1 for v in cast if voters[v][0] == g))
        for g in GROUPS
    }
    text = run(
        "election", "show", "--election", election_id, env={"VOTESTORE_NODE": " ".join(net.addresses)}
    ).stdout
    assert "COUNTED" in text and "Council seat" in text


def test_a_bad_deal_is_complained_of_and_disqualified(
    net: LocalNet, trustees: list[TrusteeFile], roles: RoleKeys, tmp_path: Path
) -> None:
    election_id = "complaint-2026"
    run(
        "election",
        "create",
        *admin(net),
        "--definition",
        write_definition(tmp_path / "e.toml", election_id, trustees, roles),
    )
    record = state(net, election_id).definition
    ann = open_trustee_file(trustees[0].key, trustees[0].passphrase_file.read_text().removesuffix("\n"))
    with NodeClient(net.addresses) as client:
        chain_id = client.chain_id()
        deal = dkg.make_deal(chain_id, election_id, record.trustees, record.threshold, 1)
        tampered = bytearray(deal.shares[2].ciphertext)
        tampered[0] ^= 1
        deal.shares[2].ciphertext = bytes(tampered)  # cai's share no longer decrypts
        client.commit(txbuild.signed(chain_id, ann.signing_key, election_pb2.Tx(dkg_deal=deal)))
    for member in trustees[1:]:
        run("trustee", "deal", *trustee_args(net, member, election_id))
    assert (
        "all shares valid" in run("trustee", "complain", *trustee_args(net, trustees[1], election_id)).stdout
    )
    complained = run("trustee", "complain", *trustee_args(net, trustees[2], election_id)).stdout
    assert "dealer 1: share from dealer 1 to 3 does not decrypt" in complained
    assert "complaint of trustee 3 against dealer 1: committed OK" in complained
    with NodeClient(net.addresses) as client:
        assert list(client.key_material(election_id).disqualified) == [1]
    run("election", "open", *admin(net), "--election", election_id)
    assert list(state(net, election_id).qualified_dealers) == [2, 3]
    run("election", "close", *admin(net), "--election", election_id)
    refused = run("trustee", "decrypt", *trustee_args(net, trustees[0], election_id), expect=1)
    assert "trustee 1 is not a qualified dealer" in refused.stderr


def test_refusals_are_one_line_with_the_reason(
    net: LocalNet, trustees: list[TrusteeFile], roles: RoleKeys, tmp_path: Path
) -> None:
    election_id = "refusals-2026"
    definition = write_definition(tmp_path / "e.toml", election_id, trustees, roles)
    stranger = tmp_path / "stranger.key.json"
    write_key_file(stranger, new_signing_key())
    foreign = run(
        "election", "create", *nodes(net), "--admin-key", stranger, "--definition", definition, expect=1
    )
    assert "NOT_AUTHORIZED" in foreign.stderr

    run("election", "create", *admin(net), "--definition", definition)
    assert (
        "KEYGEN_INCOMPLETE"
        in run("election", "open", *admin(net), "--election", election_id, expect=1).stderr
    )
    unknown = run("election", "show", *nodes(net), "--election", "no-such-election", expect=1)
    assert "no election 'no-such-election'" in unknown.stderr

    wrong = tmp_path / "wrong.pass"
    wrong.write_text("not the passphrase\n")
    args = ["--key", trustees[0].key, *nodes(net), "--election", election_id, "--passphrase-file", wrong]
    assert "wrong passphrase" in run("trustee", "deal", *args, expect=1).stderr
    again = run(
        "trustee", "keygen", "--out", trustees[0].key, "--name", "x", "--passphrase-file", wrong, expect=1
    )
    assert "refusing to overwrite" in again.stderr

    (tmp_path / "roll.csv").write_text("voter_id,group\nv1,north\n")
    (tmp_path / "outbox").mkdir()
    admin_key = net.workdir / "admin.key.json"
    as_admin = ["roll", "import", *nodes(net), "--ca-key", admin_key, "--election", election_id]
    as_admin += ["--csv", tmp_path / "roll.csv"]
    refused = run(*as_admin, "--outbox", tmp_path / "admin-outbox", expect=1).stderr
    assert "is not the credential authority" in refused  # issue 18: the admin draws no credential
    assert not (tmp_path / "admin-outbox").exists()
    roll = [
        "roll",
        "import",
        *authority(net, roles),
        "--election",
        election_id,
        "--csv",
        tmp_path / "roll.csv",
    ]
    assert "refusing to overwrite" in run(*roll, "--outbox", tmp_path / "outbox", expect=1).stderr
    (tmp_path / "bad.csv").write_text("voter_id,group\nv1,west\n")
    bad = run(*roll[:-1], tmp_path / "bad.csv", "--outbox", tmp_path / "fresh", expect=1)
    assert "group 'west' is not declared" in bad.stderr
    assert not (tmp_path / "fresh").exists()
    assert state(net, election_id).roll_size == 0
