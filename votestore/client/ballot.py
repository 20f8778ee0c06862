"""Building a voter's signed ballot transaction: choices in, SignedTx bytes out.

Shared by the SDK (local casting: the secret never leaves the voter's device) and the gateway's
assisted mode, so both encrypt, prove and sign the same way. Between encrypting and signing, the
identity provider attests the encrypted body for the voter (votestore.crypto.attestation). The
nonces and the choices live only in this call; the result holds ciphertexts and proofs only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import nacl.signing

from proto.votestore.v1 import election_pb2, identity_pb2
from votestore import txbuild
from votestore.crypto import attestation
from votestore.crypto.attestation import Attester
from votestore.crypto.credential import CREDENTIAL_SECRET_BYTES, derive_credential_key
from votestore.errors import VotestoreError

Selections = Mapping[str, Sequence[int]]
"""Contest id -> indices of the chosen choices (definition order)."""


class SelectionInvalid(VotestoreError):
    """Choices that do not fit the election's contests; the message names the contest, not the choice."""


def credential_public_key(credential: bytes, election_id: str) -> bytes:
    """The key on the roll for this credential in this election."""
    if len(credential) != CREDENTIAL_SECRET_BYTES:
        raise SelectionInvalid(f"credential must be {CREDENTIAL_SECRET_BYTES} bytes")
    return bytes(derive_credential_key(credential, election_id).verify_key)


def _check_contest_ids(definition: election_pb2.ElectionCreate, contest_ids: Iterable[str]) -> None:
    unknown = sorted(set(contest_ids) - {contest.id for contest in definition.contests})
    if unknown:
        known = ", ".join(contest.id for contest in definition.contests)
        raise SelectionInvalid(
            f"no contest {unknown[0]!r} in election {definition.election_id!r}; its contests are: {known}"
        )


def _check_counts(definition: election_pb2.ElectionCreate, ordered: list[list[int]]) -> None:
    """Each contest's number of selections within its min..max, said with the contest's id and
    its choices' ids, before anything is encrypted."""
    for contest, picked in zip(definition.contests, ordered, strict=True):
        if not contest.min_selections <= len(picked) <= contest.max_selections:
            choices = ", ".join(choice.id for choice in contest.choices)
            raise SelectionInvalid(
                f"contest {contest.id!r} takes {contest.min_selections}..{contest.max_selections} "
                f"selections, got {len(picked)}; its choices are: {choices}"
            )


def ordered_selections(definition: election_pb2.ElectionCreate, selections: Selections) -> list[list[int]]:
    """Per contest in definition order, the chosen indices; a contest left out chooses nothing."""
    _check_contest_ids(definition, selections)
    return [list(selections.get(contest.id, ())) for contest in definition.contests]


def selections_by_choice_id(
    definition: election_pb2.ElectionCreate, chosen: Mapping[str, Sequence[str]]
) -> dict[str, list[int]]:
    """Map choice ids (what a person types: mayor=alice) to indices."""
    _check_contest_ids(definition, chosen)
    out: dict[str, list[int]] = {}
    for contest in definition.contests:
        if contest.id not in chosen:
            continue
        index = {choice.id: i for i, choice in enumerate(contest.choices)}
        missing = [c for c in chosen[contest.id] if c not in index]
        if missing:
            known = ", ".join(index)
            raise SelectionInvalid(
                f"contest {contest.id!r} has no choice {missing[0]!r}; its choices are: {known}"
            )
        out[contest.id] = [index[c] for c in chosen[contest.id]]
    return out


@dataclass(frozen=True, slots=True)
class PreparedBallot:
    """An encrypted ballot waiting for the identity provider's attestation: `digest` is what the
    provider is asked to attest for `voter`; `signed` then finishes the transaction."""

    key: nacl.signing.SigningKey
    body: election_pb2.Ballot

    @property
    def voter(self) -> bytes:
        return bytes(self.key.verify_key)

    @property
    def digest(self) -> bytes:
        return attestation.ballot_digest(self.body)

    def signed(self, chain_id: str, attested: bytes) -> bytes:
        body = election_pb2.Ballot()
        body.CopyFrom(self.body)
        body.attestation = attested
        return txbuild.sign_ballot(chain_id, self.key, body)

    def attest_request(self, chain_id: str, identity_check: str) -> identity_pb2.AttestRequest:
        """The ask to the identity provider for this ballot, signed with the credential key (only
        a holder of the credential may spend the voter's allowance of failed identity checks)."""
        election_id = self.body.election_id
        digest = self.digest
        return identity_pb2.AttestRequest(
            election_id=election_id,
            credential_key=self.voter,
            ballot_digest=digest,
            identity_check=identity_check,
            request_signature=attestation.sign_request(self.key, chain_id, election_id, digest),
        )

    def __repr__(self) -> str:
        return f"PreparedBallot({self.body.election_id!r}, <key>)"


def prepare_ballot(
    definition: election_pb2.ElectionCreate, election_key: bytes, credential: bytes, selections: Selections
) -> PreparedBallot:
    """Encrypt under the election key with proofs bound to the voter's key (the key derived from
    the credential); SelectionInvalid if the choices break a contest's rules or the credential has
    the wrong size."""
    if len(credential) != CREDENTIAL_SECRET_BYTES:
        raise SelectionInvalid(f"credential must be {CREDENTIAL_SECRET_BYTES} bytes")
    ordered = ordered_selections(definition, selections)
    _check_counts(definition, ordered)
    try:
        key, body = txbuild.ballot_body(definition.election_id, definition, election_key, credential, ordered)
    except ValueError as exc:
        raise SelectionInvalid(str(exc)) from None
    return PreparedBallot(key, body)


def build_ballot_tx(
    chain_id: str,
    definition: election_pb2.ElectionCreate,
    election_key: bytes,
    credential: bytes,
    selections: Selections,
    attest: Attester,
) -> bytes:
    """`prepare_ballot`, attested by `attest`, signed with the credential key."""
    prepared = prepare_ballot(definition, election_key, credential, selections)
    return prepared.signed(chain_id, attest(prepared.voter, prepared.digest))
