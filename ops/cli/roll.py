"""`votestore roll import`: a CSV of voters in; RollAppend transactions and a credential outbox out.

It runs as the election's credential authority, with the key the definition names (the ledger
takes a roll from no other key; never the administrator's): it alone draws voters' secrets. What
it hands on holds none: the RollAppend batches (public keys), and the identity provider's store
(credential public key -> Argon2id hash of the second factor). The outbox, the one place secrets
are written, goes to the notice provider that delivers the personal links (docs/roles.md).

Order of work, chosen so that a failure never leaves a voter on the roll whose secret is lost:
1. read and check the whole CSV, and the election (exists, in key generation, groups declared);
2. draw every voter's credential and write the outbox ONCE (directory 0700, files 0600; an
   existing outbox is refused, never overwritten) and, if asked, the identity provider's store;
3. submit the RollAppend batches one after another, each after the previous one committed
   (batch numbers must commit in order), continuing the election's batch numbering.
If step 3 stops part way, the error says which batches committed; `outbox/roll.csv` says which
voter is in which batch. No secret is printed or logged.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final
from urllib.parse import quote

import typer

from election.policy import MAX_ROLL_BATCH_ENTRIES
from gateway import write_identity_store
from ops.cli.common import JsonOpt, read_key
from ops.cli.nodecall import ElectionOpt, NodesOpt, Outcome, WaitOpt, commit, edge, node_client
from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.client.node import COMMIT_TIMEOUT_S
from votestore.crypto.credential import derive_credential_key, new_credential
from votestore.errors import ConfigError, VotestoreError

DEFAULT_BATCH: Final = 500
MAX_ROLL_CSV_BYTES: Final = 512 * 1024 * 1024
OUTBOX_DIR_MODE: Final = 0o700
OUTBOX_FILE_MODE: Final = 0o600
COLUMNS: Final = ("voter_id", "group", "second_factor")
VOTER_ID: Final = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")
"""Voter ids name files in the outbox, so no path separators and no leading dot."""
APP_LINK_BASE: Final = "votestore://cast"
"""Without --page-url: the link an app registered for votestore:// opens."""
LINK_FORMAT: Final = "{base}#c={secret}&e={election}"
"""Every personal link holds the secret in the fragment only, never in the path or query: a
browser never sends a fragment to a server, and a server, proxy or app that logs the URL it was
asked for logs no secret (docs/web.md)."""


def personal_link(election_id: str, secret: str, page_url: str | None) -> str:
    """The voter's personal link: `PAGE/#c=SECRET&e=ELECTION` with --page-url, else
    `votestore://cast#c=SECRET&e=ELECTION`."""
    base = APP_LINK_BASE if page_url is None else page_url.rstrip("/") + "/"
    return LINK_FORMAT.format(base=base, secret=secret, election=quote(election_id, safe=""))


app = typer.Typer(help="Import the voter roll (credential authority).", no_args_is_help=True)

AuthorityKeyOpt = Annotated[
    Path,
    typer.Option("--ca-key", help="The credential authority's key file, named in the election definition."),
]


@dataclass(frozen=True, slots=True)
class Voter:
    voter_id: str
    group: str
    second_factor: str


@dataclass(frozen=True, slots=True)
class Credential:
    voter: Voter
    secret: bytes
    public_key: bytes

    def __repr__(self) -> str:
        return f"Credential({self.voter.voter_id!r}, <secret>)"


def read_roll_csv(path: Path, groups: Sequence[str], need_second_factor: bool) -> list[Voter]:
    """Voters from a CSV with a header naming `voter_id`, `group` and (optionally) `second_factor`."""
    if path.stat().st_size > MAX_ROLL_CSV_BYTES:
        raise ConfigError(f"{path} exceeds {MAX_ROLL_CSV_BYTES} bytes")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in COLUMNS[: 3 if need_second_factor else 2] if c not in header]
        if missing:
            raise ConfigError(f"{path}: header lacks column(s) {', '.join(missing)} (have {header})")
        allowed = set(groups) if groups else {""}
        voters: list[Voter] = []
        seen: set[str] = set()
        for row in reader:
            where = f"{path}:{reader.line_num}"
            voter = Voter(
                row["voter_id"].strip(), row["group"].strip(), (row.get("second_factor") or "").strip()
            )
            if not VOTER_ID.match(voter.voter_id):
                raise ConfigError(f"{where}: voter id {voter.voter_id!r} must match {VOTER_ID.pattern}")
            if voter.voter_id in seen:
                raise ConfigError(f"{where}: voter id {voter.voter_id!r} appears twice")
            if voter.group not in allowed:
                raise ConfigError(
                    f"{where}: group {voter.group!r} is not declared by the election {list(groups)}"
                )
            if need_second_factor and not voter.second_factor:
                raise ConfigError(f"{where}: empty second_factor (needed for --identity-store)")
            seen.add(voter.voter_id)
            voters.append(voter)
    if not voters:
        raise ConfigError(f"{path} holds no voters")
    return voters


def issue_credentials(voters: Sequence[Voter], election_id: str) -> list[Credential]:
    issued = []
    for voter in voters:
        secret = new_credential()
        key = derive_credential_key(secret, election_id)
        issued.append(Credential(voter, secret, bytes(key.verify_key)))
    return issued


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OUTBOX_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def write_outbox(
    outbox: Path,
    election_id: str,
    issued: Sequence[Credential],
    first_batch: int,
    batch: int,
    page_url: str | None = None,
) -> None:
    """Per voter: `voters/<id>.credential` (the secret in hex, what `votestore cast` reads) and a
    row of `roll.csv` (voter id, group, batch, public key, personal link). Never overwrites."""
    try:
        outbox.mkdir(mode=OUTBOX_DIR_MODE, parents=False)
    except FileExistsError:
        raise ConfigError(f"outbox {outbox} exists; refusing to overwrite credentials") from None
    except FileNotFoundError:
        raise ConfigError(f"outbox parent {outbox.parent} does not exist") from None
    os.chmod(outbox, OUTBOX_DIR_MODE)  # mkdir's mode is masked by the umask
    (outbox / "voters").mkdir(mode=OUTBOX_DIR_MODE)
    os.chmod(outbox / "voters", OUTBOX_DIR_MODE)
    table = io.StringIO()
    rows = csv.writer(table, lineterminator="\n")
    rows.writerow(["voter_id", "group", "batch", "credential_key", "link"])
    for n, issued_one in enumerate(issued):
        secret = issued_one.secret.hex()
        _write_private(outbox / "voters" / f"{issued_one.voter.voter_id}.credential", secret + "\n")
        link = personal_link(election_id, secret, page_url)
        voter = issued_one.voter
        rows.writerow(
            [voter.voter_id, voter.group, first_batch + n // batch, issued_one.public_key.hex(), link]
        )
    _write_private(outbox / "roll.csv", table.getvalue())


@app.command("import")
def import_(
    node: NodesOpt,
    ca_key: AuthorityKeyOpt,
    election: ElectionOpt,
    csv_path: Annotated[Path, typer.Option("--csv", help="Roll CSV: voter_id, group[, second_factor].")],
    outbox: Annotated[Path, typer.Option("--outbox", help="New directory for the voters' credentials.")],
    identity_store: Annotated[
        Path | None,
        typer.Option(
            "--identity-store", help="The identity provider's store to add the voters to (no secret)."
        ),
    ] = None,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=MAX_ROLL_BATCH_ENTRIES, help="Voters per RollAppend.")
    ] = DEFAULT_BATCH,
    append: Annotated[
        bool, typer.Option("--append", help="Add to a roll that already holds voters (new people only).")
    ] = False,
    wait: WaitOpt = COMMIT_TIMEOUT_S,
    page_url: Annotated[
        str | None,
        typer.Option(
            "--page-url",
            help="The voter page's address: personal links become PAGE/#c=SECRET&e=ELECTION "
            "instead of votestore://cast#c=SECRET&e=ELECTION (the secret always in the fragment).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a CSV roll: credentials into a new outbox, RollAppend batches onto the ledger."""
    out = Outcome(as_json)
    with edge(), node_client(node) as client:
        key = read_key(ca_key, role="credential-authority")
        state = client.election(election)
        if bytes(key.verify_key) != state.definition.credential_authority:
            raise ConfigError(f"{ca_key} is not the credential authority election {election} names")
        if state.phase != election_pb2.KEY_GENERATION:
            raise ConfigError(
                f"election {election} is {election_pb2.Phase.Name(state.phase)}; the roll is frozen at open"
            )
        if state.roll_size and not append:
            raise ConfigError(
                f"the roll of {election} already holds {state.roll_size} voters in {state.roll_batches} "
                "batches; pass --append to add others (importing a person twice gives two credentials)"
            )
        voters = read_roll_csv(csv_path, list(state.definition.groups), identity_store is not None)
        issued = issue_credentials(voters, election)
        first = state.roll_batches
        if page_url is not None and not page_url.startswith(("https://", "http://")):
            raise ConfigError(f"--page-url {page_url!r} must start with https:// (or http:// on loopback)")
        write_outbox(outbox, election, issued, first, batch, page_url)
        out.say(f"outbox {outbox}: {len(issued)} credentials written (mode 0600)")
        total = None
        if identity_store is not None:
            total = write_identity_store(
                identity_store, [(c.public_key, c.voter.second_factor) for c in issued]
            )
            out.say(f"identity store {identity_store}: {total} entries")
        rows = [(c.public_key, c.voter.group) for c in issued]
        txs = txbuild.roll_batches(client.chain_id(), key, election, rows, batch, first_batch=first)
        for n, raw in enumerate(txs):
            try:
                commit(client, raw, f"roll batch {first + n}", wait, out=out)
            except VotestoreError as exc:
                done = f"batches {first}..{first + n - 1} committed" if n else "no batch committed"
                raise VotestoreError(f"{exc} ({done}; see {outbox / 'roll.csv'})") from None
        batches = f"{len(txs)} batch" + ("" if len(txs) == 1 else "es")
        out.say(f"roll of {election}: {len(issued)} voters added in {batches}")
    # No secret and no link in the report: the outbox holds them (mode 0600).
    out.done(
        election_id=election,
        outcome="imported",
        voters=len(issued),
        first_batch=first,
        batches=len(txs),
        outbox=str(outbox),
        identity_store=None if identity_store is None else str(identity_store),
        identity_store_entries=total,
    )
