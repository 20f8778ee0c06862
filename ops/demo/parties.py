"""The demo's parties, each a process of its own, working from its own key directory (issue 18).

Every step of the administrator, the credential authority and the trustees is a `votestore ...`
command run as a child process in that party's directory, given only that party's files and the
public ones (the definition, the validators' addresses); the identity provider is a
server process of its own (run.py). The demo's own process plays the voters, the notice provider
(it reads the credential authority's outbox, as a notice provider does), the courier that hands
the identity store from the credential authority to the identity provider, and the observer: it
never opens a party's key file. Each step is recorded (party, pid, command line, directory) into
`outcome.json`; tests/e2e/test_demo.py checks the files each process opened.

| party | directory | its steps (`votestore ...`) |
| --- | --- | --- |
| administrator | `administrator/` | `keys gen`, `election create`, `election open`, `election close` |
| credential authority | `credential-authority/` | `keys gen`, `roll import` (outbox, identity store) |
| identity provider | `identity-provider/` | `keys gen`; then `identity-provider run` (a server) |
| trustee k | `trustee-k/` (its sealed key file) | `trustee keygen`, `trustee deal`, `trustee decrypt` |
"""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
import shutil
import subprocess
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

from ops.cli.definition import trustee_from_table
from ops.cluster import process
from ops.demo import plan
from ops.demo.definition_file import definition_toml
from ops.demo.options import DemoError
from ops.roles import AUTHORITY_DIR, KEY_FILE, PROVIDER_DIR
from proto.votestore.v1 import election_pb2

ADMIN_DIR: Final = "administrator"
PASSPHRASE_ENV: Final = "VOTESTORE_TRUSTEE_PASSPHRASE"
STORE_FILE: Final = "identity.store"
STEPS_DIR: Final = "steps"
STEP_TIMEOUT_S: Final = 300.0
DIR_MODE: Final = 0o700
SECRET_FILE_MODE: Final = 0o600
TRUSTEE_KDF: Final = "interactive"
"""The trustee key files' Argon2id cost: `moderate` takes a second and 256 MiB per unsealing."""


def trustee_dir(k: int) -> str:
    return f"trustee-{k}"


@dataclass(frozen=True, slots=True)
class Step:
    party: str
    what: str
    args: tuple[str, ...]
    directory: Path
    """The party's own directory: the command runs there."""
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """Added to the command's environment (a trustee's passphrase: never in a file nor a repr)."""


@dataclass(frozen=True, slots=True)
class StepRecord:
    """Who did one step, and as which process."""

    party: str
    what: str
    pid: int
    argv: tuple[str, ...]
    directory: str
    exit_code: int
    seconds: float
    """From its start until this process saw it end (steps side by side are waited for in turn)."""


@dataclass
class Parties:
    """Runs the parties' steps as `votestore` processes; several given at once run side by side."""

    workdir: Path
    on_step: Callable[[StepRecord], None] = lambda _: None
    nodes: Sequence[str] = ()
    """The validators' addresses, once the commission has started them (after `make_keys`: the
    genesis names the administrator's key)."""
    app_bundle_sha256: bytes = b""
    """The served voter page's bundle hash, which the administrator's definitions name (empty
    when the page is not built: the election is then for the CLI and the SDK only)."""
    records: list[StepRecord] = field(default_factory=list)
    passphrases: dict[int, str] = field(default_factory=dict, repr=False)
    """Each trustee's passphrase, handed only to that trustee's processes, in their environment:
    the demo plays the trustees' memory, and never writes one down."""

    def __post_init__(self) -> None:
        self.passphrases = {k: secrets.token_hex(16) for k in plan.trustee_numbers()}
        for directory in (ADMIN_DIR, AUTHORITY_DIR, PROVIDER_DIR, *map(trustee_dir, plan.trustee_numbers())):
            (self.workdir / directory).mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            os.chmod(self.workdir / directory, DIR_MODE)
        (self.workdir / STEPS_DIR).mkdir(exist_ok=True)

    # ------------------------------------------------------------------ where each party keeps what

    def admin(self) -> Path:
        return self.workdir / ADMIN_DIR

    def authority(self) -> Path:
        return self.workdir / AUTHORITY_DIR

    def provider(self) -> Path:
        return self.workdir / PROVIDER_DIR

    def trustee(self, k: int) -> Path:
        return self.workdir / trustee_dir(k)

    def node_args(self) -> tuple[str, ...]:
        return tuple(arg for address in self.nodes for arg in ("--node", address))

    # ------------------------------------------------------------------ running

    def run(self, *steps: Step) -> list[str]:
        """Start every step, wait for all (bounded); each one's output. A failed step raises
        DemoError with its output's tail; an interrupt kills what still runs."""
        started: list[tuple[Step, Path, subprocess.Popen[bytes], float]] = []
        try:
            for step in steps:
                number = len(self.records) + len(started)
                log = self.workdir / STEPS_DIR / f"{number:02d}-{_slug(step.party)}-{_slug(step.what)}.log"
                child = process.start_command(step.args, log, step.directory, dict(step.env))
                started.append((step, log, child, time.monotonic()))
            outputs = []
            for step, log, child, began in started:
                code = process.finish(child, STEP_TIMEOUT_S)
                argv = tuple(str(a) for a in child.args)  # type: ignore[union-attr]
                record = StepRecord(
                    step.party,
                    step.what,
                    child.pid,
                    argv,
                    str(step.directory),
                    -1 if code is None else code,
                    time.monotonic() - began,
                )
                self.records.append(record)
                if code != 0:
                    state = f"exit {code}" if code is not None else f"no end in {STEP_TIMEOUT_S:.0f} s"
                    raise DemoError(f"{step.party}: {step.what} failed ({state}):\n{process.log_tail(log)}")
                self.on_step(record)
                outputs.append(log.read_text(errors="replace"))
            return outputs
        finally:
            for _, _, child, _ in started:
                process.kill(child)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True, slots=True)
class PartyKeys:
    """The public keys the parties printed, for the genesis and the administrator's definition."""

    admin: str
    authority: bytes
    provider: bytes
    trustees: tuple[election_pb2.Trustee, ...]


def make_keys(parties: Parties) -> PartyKeys:
    """Each party makes its own key in its own directory, all at once (the administrator's before
    the genesis that names it)."""
    out = parties.run(
        *(
            Step(
                party,
                "keys gen",
                ("keys", "gen", "--role", role, "--out", str(directory / KEY_FILE)),
                directory,
            )
            for party, role, directory in (
                ("administrator", "admin", parties.admin()),
                ("credential authority", "credential-authority", parties.authority()),
                ("identity provider", "identity-provider", parties.provider()),
            )
        ),
        *(
            _trustee(parties, k, "keygen", "--name", f"trustee-{k}", "--kdf", TRUSTEE_KDF, key_option="--out")
            for k in plan.trustee_numbers()
        ),
    )
    admin, authority, provider = (text.strip().splitlines()[-1] for text in out[:3])
    # `trustee keygen` prints the [[trustees]] table to paste into a definition.
    trustees = tuple(
        trustee_from_table(tomllib.loads(text[text.index("[[trustees]]") :])["trustees"][0], k)
        for k, text in zip(plan.trustee_numbers(), out[3:], strict=True)
    )
    return PartyKeys(admin, bytes.fromhex(authority), bytes.fromhex(provider), trustees)


def _roll_csv(voters: Sequence[plan.Voter]) -> str:
    """The commission's voter register as the credential authority takes it: id, district and
    second factor (no credential: the authority draws those)."""
    table = io.StringIO()
    rows = csv.writer(table, lineterminator="\n")
    rows.writerow(["voter_id", "group", "second_factor"])
    for voter in voters:
        rows.writerow([plan.voter_id(voter), voter.group, voter.identity_check])
    return table.getvalue()


def outbox_of(parties: Parties, election_id: str) -> Path:
    return parties.authority() / ("outbox" if election_id == plan.ELECTION_ID else f"outbox-{election_id}")


def set_up(
    parties: Parties, keys: PartyKeys, election_id: str, voters: Sequence[plan.Voter], batch: int
) -> list[plan.Voter]:
    """Create (administrator); roll (credential authority) while the trustees deal; the identity
    store handed to the identity provider; open (administrator). The voters, with the credentials
    the credential authority drew for them, read from its outbox as their personal links."""
    admin, authority = parties.admin(), parties.authority()
    nodes = parties.node_args()
    admin_key = str(admin / KEY_FILE)
    record = plan.definition(keys.trustees, int(time.time() * 1000), election_id)
    record.credential_authority, record.identity_provider = keys.authority, keys.provider
    record.app_bundle_sha256 = parties.app_bundle_sha256
    definition = admin / f"{election_id}.toml"
    definition.write_text(definition_toml(record), encoding="utf-8")
    parties.run(
        Step(
            "administrator",
            "election create",
            ("election", "create", *nodes, "--admin-key", admin_key, "--definition", str(definition)),
            admin,
        )
    )
    roll = authority / f"{election_id}.roll.csv"
    roll.touch(mode=SECRET_FILE_MODE)
    roll.write_text(_roll_csv(voters), encoding="utf-8")
    outbox = outbox_of(parties, election_id)
    parties.run(
        Step(
            "credential authority",
            "roll import",
            (
                "roll",
                "import",
                *nodes,
                "--ca-key",
                str(authority / KEY_FILE),
                "--election",
                election_id,
                "--csv",
                str(roll),
                "--outbox",
                str(outbox),
                "--identity-store",
                str(authority / STORE_FILE),
                "--batch",
                str(batch),
            ),
            authority,
        ),
        *(_trustee(parties, k, "deal", *nodes, "--election", election_id) for k in plan.trustee_numbers()),
    )
    hand_over_identity_store(parties)
    parties.run(
        Step(
            "administrator",
            "election open",
            ("election", "open", *nodes, "--admin-key", admin_key, "--election", election_id),
            admin,
        )
    )
    links = outbox / "voters"
    return [
        replace(v, credential=bytes.fromhex((links / f"{plan.voter_id(v)}.credential").read_text()))
        for v in voters
    ]


def hand_over_identity_store(parties: Parties) -> None:
    """The courier's part: the credential authority's identity store (public keys and Argon2id
    hashes, no secret) to the identity provider's directory, replaced whole (it reloads it)."""
    target = parties.provider() / STORE_FILE
    temporary = target.with_name(f".{STORE_FILE}.new")
    shutil.copyfile(parties.authority() / STORE_FILE, temporary)
    os.chmod(temporary, SECRET_FILE_MODE)
    os.replace(temporary, target)


def close_and_decrypt(parties: Parties, election_id: str, present: Sequence[int]) -> None:
    """Close (administrator), then each present trustee's decryption share, side by side."""
    nodes = parties.node_args()
    admin = parties.admin()
    parties.run(
        Step(
            "administrator",
            "election close",
            ("election", "close", *nodes, "--admin-key", str(admin / KEY_FILE), "--election", election_id),
            admin,
        )
    )
    parties.run(*(_trustee(parties, k, "decrypt", *nodes, "--election", election_id) for k in present))


def _trustee(parties: Parties, k: int, command: str, *args: str, key_option: str = "--key") -> Step:
    """`votestore trustee <command>` with trustee k's sealed key file, its passphrase in the
    environment."""
    directory = parties.trustee(k)
    return Step(
        f"trustee {k}",
        f"trustee {command}",
        ("trustee", command, *args, key_option, str(directory / KEY_FILE)),
        directory,
        ((PASSPHRASE_ENV, parties.passphrases[k]),),
    )
