"""`votestore trustee keygen|show|deal|complain|decrypt`: a key holder's part of an election.

The trustee's secrets live sealed in one key file (votestore.trustee_store); the passphrase comes
from `--passphrase-file`, else the environment variable VOTESTORE_TRUSTEE_PASSPHRASE, else a
prompt. A trustee finds its place (1-based index) in an election by its public signing key in the
recorded definition, so the same key file serves any number of elections.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Final

import typer

from ops.cli.common import JsonOpt, echo_json
from ops.cli.nodecall import ElectionOpt, NodesOpt, Outcome, WaitOpt, commit, edge, node_client
from proto.votestore.v1 import election_pb2
from votestore import txbuild
from votestore.client.node import COMMIT_TIMEOUT_S, NodeClient
from votestore.crypto import dkg, group, sealing
from votestore.crypto.errors import DealInvalid, ShareInvalid
from votestore.errors import ConfigError
from votestore.trustee_store import TrusteeKeys, open_trustee_file, read_trustee_public, write_trustee_file

PASSPHRASE_ENV: Final = "VOTESTORE_TRUSTEE_PASSPHRASE"
MAX_PASSPHRASE_FILE_BYTES: Final = 4096
KDF_COSTS: Final = {"moderate": sealing.MODERATE, "interactive": sealing.INTERACTIVE}

app = typer.Typer(help="Trustee key generation, dealing, complaints and decryption.", no_args_is_help=True)

KeyOpt = Annotated[Path, typer.Option("--key", help="The trustee's key file (from `trustee keygen`).")]
PassphraseFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file", help=f"File holding the passphrase (else ${PASSPHRASE_ENV}, else a prompt)."
    ),
]


def read_passphrase(path: Path | None, *, confirm: bool = False) -> str:
    """The passphrase from the file (one trailing newline dropped), the environment, or a prompt."""
    if path is not None:
        if path.stat().st_size > MAX_PASSPHRASE_FILE_BYTES:
            raise ConfigError(f"passphrase file {path} exceeds {MAX_PASSPHRASE_FILE_BYTES} bytes")
        text = path.read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
    elif os.environ.get(PASSPHRASE_ENV):
        text = os.environ[PASSPHRASE_ENV]
    else:
        text = typer.prompt("Trustee passphrase", hide_input=True, confirmation_prompt=confirm)
    if not text:
        raise ConfigError("the passphrase is empty")
    return text


def toml_snippet(public: election_pb2.Trustee) -> str:
    """The `[[trustees]]` table to paste into an election definition."""
    return (
        "[[trustees]]\n"
        f"name = {json.dumps(public.name, ensure_ascii=False)}\n"
        f'sign_key = "{public.sign_key.hex()}"\n'
        f'enc_key = "{public.enc_key.hex()}"'
    )


def trustee_index(definition: election_pb2.ElectionCreate, public: election_pb2.Trustee) -> int:
    """This trustee's 1-based place in the election, found by its signing key."""
    for index, trustee in enumerate(definition.trustees, start=1):
        if trustee.sign_key == public.sign_key:
            if trustee.enc_key != public.enc_key:
                raise ConfigError(
                    f"trustee {index} of {definition.election_id} has this sign key but another enc key"
                )
            return index
    raise ConfigError(
        f"this key ({public.sign_key.hex()[:16]}...) is not a trustee of {definition.election_id}"
    )


def _phase(state: election_pb2.ElectionState) -> str:
    return election_pb2.Phase.Name(state.phase)


@app.command("keygen")
def keygen(
    out: Annotated[Path, typer.Option("--out", help="Key file to write (mode 0600; never overwritten).")],
    name: Annotated[str, typer.Option("--name", help="The trustee's name, as the definition will show it.")],
    passphrase_file: PassphraseFileOpt = None,
    kdf: Annotated[
        str,
        typer.Option("--kdf", help="Argon2id cost: moderate (about 1 s, 256 MiB), or interactive for tests."),
    ] = "moderate",
) -> None:
    """Make a trustee's signing and encryption keys, sealed under a passphrase; print the public keys."""
    with edge():
        if kdf not in KDF_COSTS:
            raise ConfigError(f"--kdf must be one of {', '.join(KDF_COSTS)}")
        if out.exists():
            raise ConfigError(f"{out} exists; refusing to overwrite a trustee key file")
        public = write_trustee_file(
            out, name, read_passphrase(passphrase_file, confirm=True), limits=KDF_COSTS[kdf]
        )
        typer.echo(f"# trustee key file {out} written, sealed; keep the passphrase apart from it")
        typer.echo(toml_snippet(public))


@app.command("show")
def show(key: KeyOpt, as_json: JsonOpt = False) -> None:
    """Print the public keys of a trustee key file (no passphrase needed)."""
    with edge():
        public = read_trustee_public(key)
    if as_json:
        echo_json({"name": public.name, "sign_key": public.sign_key.hex(), "enc_key": public.enc_key.hex()})
    else:
        typer.echo(toml_snippet(public))


def _unlock(
    client: NodeClient,
    election: str,
    key: Path,
    passphrase_file: Path | None,
    *,
    during: election_pb2.Phase.ValueType | None = None,
    taken: str = "",
) -> tuple[election_pb2.ElectionState, int, TrusteeKeys]:
    """The election (in phase `during`, if given), my index in it, and my unsealed keys — the
    passphrase is asked for only once the index and phase are known to be right."""
    state = client.election(election)
    index = trustee_index(state.definition, read_trustee_public(key))
    if during is not None and state.phase != during:
        phase = election_pb2.Phase.Name(during).lower().replace("_", " ")
        raise ConfigError(f"election {election} is {_phase(state)}; {taken} are taken during {phase}")
    return state, index, open_trustee_file(key, read_passphrase(passphrase_file))


@app.command("deal")
def deal(
    key: KeyOpt,
    node: NodesOpt,
    election: ElectionOpt,
    passphrase_file: PassphraseFileOpt = None,
    wait: WaitOpt = COMMIT_TIMEOUT_S,
    as_json: JsonOpt = False,
) -> None:
    """Deal this trustee's shares for the election's key generation (once per election)."""
    out = Outcome(as_json)
    with edge(), node_client(node) as client:
        state, index, keys = _unlock(
            client, election, key, passphrase_file, during=election_pb2.KEY_GENERATION, taken="deals"
        )
        raw = txbuild.deal(client.chain_id(), keys.signing_key, state.definition, index)
        commit(client, raw, f"deal of trustee {index}", wait, out=out)
    out.done(election_id=election, trustee=index, outcome="dealt")


@app.command("complain")
def complain(
    key: KeyOpt,
    node: NodesOpt,
    election: ElectionOpt,
    passphrase_file: PassphraseFileOpt = None,
    wait: WaitOpt = COMMIT_TIMEOUT_S,
    as_json: JsonOpt = False,
) -> None:
    """Open every share dealt to this trustee; publish a complaint against each one that is bad."""
    out = Outcome(as_json)
    with edge(), node_client(node) as client:
        state, index, keys = _unlock(
            client, election, key, passphrase_file, during=election_pb2.KEY_GENERATION, taken="complaints"
        )
        material = client.key_material(election)
        trustees = state.definition.trustees
        checked, bad = [], []
        for dealt in material.deals:
            if dealt.dealer == index or dealt.dealer in material.disqualified:
                continue
            checked.append(dealt.dealer)
            try:
                dkg.open_share(election, trustees, dealt, index, keys.secrets.enc_secret)
            except (ShareInvalid, DealInvalid) as exc:
                out.say(f"dealer {dealt.dealer}: {exc.reason}")
                bad.append(dealt)
        chain_id = client.chain_id()
        for dealt in bad:
            raw = txbuild.complaint(
                chain_id, keys.signing_key, state.definition, dealt, index, keys.secrets.enc_secret
            )
            commit(client, raw, f"complaint of trustee {index} against dealer {dealt.dealer}", wait, out=out)
        if not bad:
            out.say(f"all shares valid (dealers {checked} checked)")
        waiting = sorted(set(range(1, len(trustees) + 1)) - {d.dealer for d in material.deals})
        if waiting:
            out.say(f"trustees {waiting} have not dealt yet; run `trustee complain` again once they have")
    out.done(
        election_id=election,
        trustee=index,
        checked=checked,
        complained_of=[d.dealer for d in bad],
        not_dealt=waiting,
    )


def _key_share(
    state: election_pb2.ElectionState,
    material_deals: dict[int, election_pb2.DkgDeal],
    index: int,
    keys: TrusteeKeys,
) -> bytes:
    """s_i: the sum of my shares from every qualified dealer, each checked against its commitments."""
    opened = []
    for dealer in state.qualified_dealers:
        try:
            opened.append(
                dkg.open_share(
                    state.definition.election_id,
                    state.definition.trustees,
                    material_deals[dealer],
                    index,
                    keys.secrets.enc_secret,
                )
            )
        except ShareInvalid as exc:
            raise ConfigError(f"{exc.reason}; it was not complained of during key generation") from None
    return dkg.secret_share(opened)


@app.command("decrypt")
def decrypt(
    key: KeyOpt,
    node: NodesOpt,
    election: ElectionOpt,
    passphrase_file: PassphraseFileOpt = None,
    wait: WaitOpt = COMMIT_TIMEOUT_S,
    as_json: JsonOpt = False,
) -> None:
    """After the close: publish this trustee's decryption share of the committed aggregate."""
    out = Outcome(as_json)
    with edge(), node_client(node) as client:
        state, index, keys = _unlock(client, election, key, passphrase_file)
        if state.phase == election_pb2.COUNTED:
            out.say(f"election {election} is already counted; nothing to do (see `election show`)")
            out.done(election_id=election, trustee=index, outcome="already_counted")
            return
        if state.phase != election_pb2.CLOSED:
            raise ConfigError(f"election {election} is {_phase(state)}; trustees decrypt after the close")
        if index not in state.qualified_dealers:
            raise ConfigError(
                f"trustee {index} is not a qualified dealer of {election}; it holds no key share"
            )
        material = client.key_material(election)
        share = _key_share(state, {d.dealer: d for d in material.deals}, index, keys)
        if group.base_mult(group.decode_scalar(share)) != material.verification_keys.get(index):
            raise ConfigError(f"trustee {index}'s key share does not match its recorded verification key")
        raw = txbuild.decryption_share(
            client.chain_id(), keys.signing_key, election, index, share, state.tally_height, state.aggregate
        )
        what = f"decryption share of trustee {index} at tally height {state.tally_height}"
        commit(client, raw, what, wait, out=out)
        after = client.election(election)
        have = len(client.key_material(election).shares)
        counted = after.phase == election_pb2.COUNTED
        if counted:
            out.say(f"result recorded: {after.result.ballots_counted} ballots counted (see `election show`)")
        else:
            out.say(
                f"{have} of {state.definition.threshold} shares in; the result is recorded at the threshold"
            )
    out.done(
        election_id=election,
        trustee=index,
        outcome="counted" if counted else "share_recorded",
        shares=have,
        threshold=state.definition.threshold,
    )
