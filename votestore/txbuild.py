"""Build and sign each kind of transaction: the bytes a client submits (a serialised SignedTx).

Pure helpers shared by the CLI, the demo, the tests and the benchmarks, so that every caller signs
exactly the same way. They check nothing the state machine checks; it is the judge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import nacl.signing

from proto.votestore.v1 import election_pb2
from votestore.crypto import attestation, dkg, group
from votestore.crypto.attestation import Attester
from votestore.crypto.ballot import encrypt_ballot
from votestore.crypto.credential import derive_credential_key
from votestore.crypto.decryption import partial_decrypt
from votestore.encoding import canonical, sign_tx

RollRow = tuple[bytes, str]
"""(credential public key, roll group)."""


def signed(chain_id: str, key: nacl.signing.SigningKey, tx: election_pb2.Tx) -> bytes:
    return canonical(sign_tx(chain_id, tx, key))


def contest(
    contest_id: str, choice_ids: Sequence[str], min_selections: int, max_selections: int, title: str = ""
) -> election_pb2.Contest:
    return election_pb2.Contest(
        id=contest_id,
        title=title,
        choices=[election_pb2.Choice(id=c, label=c) for c in choice_ids],
        min_selections=min_selections,
        max_selections=max_selections,
    )


def election_create(
    chain_id: str, admin_key: nacl.signing.SigningKey, definition: election_pb2.ElectionCreate
) -> bytes:
    return signed(chain_id, admin_key, election_pb2.Tx(election_create=definition))


def roll_append(
    chain_id: str,
    authority_key: nacl.signing.SigningKey,
    election_id: str,
    batch: int,
    rows: Iterable[RollRow],
) -> bytes:
    """Signed by the election's credential authority: the only key the rules take a roll from."""
    entries = [election_pb2.RollEntry(credential_key=key, group=group) for key, group in rows]
    body = election_pb2.RollAppend(election_id=election_id, batch=batch, entries=entries)
    return signed(chain_id, authority_key, election_pb2.Tx(roll_append=body))


def roll_batches(
    chain_id: str,
    authority_key: nacl.signing.SigningKey,
    election_id: str,
    rows: Sequence[RollRow],
    batch_size: int,
    first_batch: int = 0,
) -> list[bytes]:
    """The whole roll as numbered RollAppend transactions of at most `batch_size` entries."""
    assert batch_size >= 1, batch_size
    return [
        roll_append(chain_id, authority_key, election_id, first_batch + n, rows[at : at + batch_size])
        for n, at in enumerate(range(0, len(rows), batch_size))
    ]


def open_election(chain_id: str, admin_key: nacl.signing.SigningKey, election_id: str) -> bytes:
    body = election_pb2.ElectionOpen(election_id=election_id)
    return signed(chain_id, admin_key, election_pb2.Tx(election_open=body))


def close_election(chain_id: str, admin_key: nacl.signing.SigningKey, election_id: str) -> bytes:
    body = election_pb2.ElectionClose(election_id=election_id)
    return signed(chain_id, admin_key, election_pb2.Tx(election_close=body))


def deal(
    chain_id: str,
    trustee_key: nacl.signing.SigningKey,
    definition: election_pb2.ElectionCreate,
    dealer: int,
) -> bytes:
    """Deal a fresh polynomial as trustee `dealer` (1-based) of the election."""
    body = dkg.make_deal(chain_id, definition.election_id, definition.trustees, definition.threshold, dealer)
    return signed(chain_id, trustee_key, election_pb2.Tx(dkg_deal=body))


def complaint(
    chain_id: str,
    trustee_key: nacl.signing.SigningKey,
    definition: election_pb2.ElectionCreate,
    deal: election_pb2.DkgDeal,
    my_index: int,
    enc_secret: bytes,
) -> bytes:
    """Complain of a deal whose share to `my_index` does not open or match (dkg.open_share said so)."""
    body = dkg.make_complaint(definition.election_id, definition.trustees, deal, my_index, enc_secret)
    return signed(chain_id, trustee_key, election_pb2.Tx(dkg_complaint=body))


def ballot(
    chain_id: str,
    election_id: str,
    definition: election_pb2.ElectionCreate,
    election_key: bytes,
    credential_secret: bytes,
    selections: Sequence[Sequence[int]],
    attest: Attester,
) -> bytes:
    """Encrypt the chosen choice indices per contest, have the identity provider attest the
    encrypted body (`attest`), and sign the whole with the voter's credential key."""
    key, body = ballot_body(election_id, definition, election_key, credential_secret, selections)
    body.attestation = attest(bytes(key.verify_key), attestation.ballot_digest(body))
    return sign_ballot(chain_id, key, body)


def ballot_body(
    election_id: str,
    definition: election_pb2.ElectionCreate,
    election_key: bytes,
    credential_secret: bytes,
    selections: Sequence[Sequence[int]],
) -> tuple[nacl.signing.SigningKey, election_pb2.Ballot]:
    """The voter's credential key and the encrypted ballot, not yet attested nor signed: its
    `attestation.ballot_digest` is what the identity provider is asked to attest."""
    key = derive_credential_key(credential_secret, election_id)
    body = encrypt_ballot(election_id, definition, election_key, selections, voter=bytes(key.verify_key))
    return key, body


def audited_ballot(
    chain_id: str,
    election_id: str,
    definition: election_pb2.ElectionCreate,
    election_key: bytes,
    credential_secret: bytes,
    selections: Sequence[Sequence[int]],
) -> tuple[bytes, election_pb2.Ballot]:
    """A ballot encrypted to be audited, never cast: the AuditedBallot transaction (its nonces
    and choices revealed, signed with the voter's credential key) and the ballot as it would have
    been attested — whose digest the ledger then refuses to count."""
    key = derive_credential_key(credential_secret, election_id)
    nonces: list[list[int]] = []
    body = encrypt_ballot(
        election_id, definition, election_key, selections, voter=bytes(key.verify_key), kept_nonces=nonces
    )
    choices = bytes(
        int(at in chosen)
        for contest, chosen in zip(definition.contests, selections, strict=True)
        for at in range(len(contest.choices))
    )
    audited = election_pb2.AuditedBallot(
        election_id=election_id,
        ballot=body,
        nonces=[group.encode_scalar(r) for row in nonces for r in row],
        choices=choices,
    )
    return signed(chain_id, key, election_pb2.Tx(audited_ballot=audited)), body


def sign_ballot(chain_id: str, credential_key: nacl.signing.SigningKey, body: election_pb2.Ballot) -> bytes:
    """The ballot transaction, its attestation set, signed with the voter's credential key."""
    return signed(chain_id, credential_key, election_pb2.Tx(ballot=body))


def decryption_share(
    chain_id: str,
    trustee_key: nacl.signing.SigningKey,
    election_id: str,
    trustee_index: int,
    secret_share: bytes,
    tally_height: int,
    aggregate: Sequence[election_pb2.Ciphertext],
) -> bytes:
    """Partially decrypt the aggregate recorded at `tally_height` (ElectionState.aggregate)."""
    body = election_pb2.DecryptionShare(
        election_id=election_id,
        trustee=trustee_index,
        tally_height=tally_height,
        parts=partial_decrypt(election_id, trustee_index, secret_share, aggregate),
    )
    return signed(chain_id, trustee_key, election_pb2.Tx(decryption_share=body))
