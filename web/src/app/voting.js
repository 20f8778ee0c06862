/**
 * One ballot on the voter's device, in the order the roles require (docs/roles.md): encrypt with
 * proofs bound to the credential key, ask the identity provider to attest its digest (the ask
 * signed with the credential key), then sign the attested ballot. The signed bytes are made once;
 * a retry after a lost answer sends those same bytes, so at most one ballot can count.
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { AuditedBallotSchema, BallotSchema, ElectionCreateSchema } from "../gen/proto/votestore/v1/election_pb.js";
import { ballotDigest, requestMessage } from "../crypto/attestation.js";
import { encryptBallot } from "../crypto/ballot.js";
import { deriveCredentialKey } from "../crypto/credential.js";
import { encodeScalar } from "../crypto/group.js";
import { signAuditedBallot, signBallot, trackingCode } from "../crypto/tx.js";

/** @typedef {import("../gen/proto/votestore/v1/election_pb.js").ElectionCreate} ElectionCreate */
/** @typedef {import("../gen/proto/votestore/v1/election_pb.js").Ballot} Ballot */

export const AUDIT_KIND = "votestore-audited-ballot/v1";

/**
 * @typedef {object} Prepared
 * @property {string} chainId
 * @property {string} electionId
 * @property {Uint8Array} electionKey
 * @property {ElectionCreate} definition
 * @property {number[][]} selections
 * @property {Ballot} ballot
 * @property {bigint[][]} nonces
 * @property {Uint8Array} voter
 * @property {Uint8Array} seed
 * @property {Uint8Array} digest
 */

/**
 * @param {string} chainId
 * @param {string} electionId
 * @param {ElectionCreate} definition
 * @param {Uint8Array} electionKey
 * @param {Uint8Array} secret
 * @param {number[][]} selections
 * @returns {Prepared}
 */
export function prepareBallot(chainId, electionId, definition, electionKey, secret, selections) {
  const key = deriveCredentialKey(secret, electionId);
  const { ballot, nonces } = encryptBallot(electionId, definition, electionKey, selections, {
    voter: key.publicKey,
    keepNonces: true,
  });
  if (!nonces) throw new Error("encryptBallot kept no nonces");
  return {
    chainId,
    electionId,
    electionKey,
    definition,
    selections,
    ballot,
    nonces,
    voter: key.publicKey,
    seed: key.seed,
    digest: ballotDigest(ballot),
  };
}

/**
 * The credential key's signature over the attestation ask (attestation.request_message).
 * @param {Prepared} prepared
 * @returns {Uint8Array}
 */
export function signAttestRequest(prepared) {
  return ed25519.sign(requestMessage(prepared.chainId, prepared.electionId, prepared.digest), prepared.seed);
}

/**
 * The SignedTx bytes of the prepared ballot with the provider's attestation, and its tracking code.
 * @param {Prepared} prepared
 * @param {Uint8Array} attestation
 * @returns {{tx: Uint8Array, trackingCode: Uint8Array}}
 */
export function signPrepared(prepared, attestation) {
  const ballot = create(BallotSchema, { ...prepared.ballot, attestation });
  const tx = signBallot(prepared.chainId, prepared.seed, ballot);
  return { tx, trackingCode: trackingCode(tx) };
}

/**
 * What an audit reveals (Benaloh challenge): the encrypted ballot exactly as it would have been
 * signed, every selection nonce, and the choices the page showed — everything a checker needs to
 * recompute each ciphertext, and nothing that could cast it (no attestation, no signature, no
 * credential). `votestore ballot audit FILE` checks it with the Python implementation.
 * @param {Prepared} prepared
 * @returns {object}
 */
export function auditRecord(prepared) {
  const { definition } = prepared;
  return {
    kind: AUDIT_KIND,
    chain_id: prepared.chainId,
    election_id: prepared.electionId,
    election_key: bytesToHex(prepared.electionKey),
    definition: bytesToHex(toBinary(ElectionCreateSchema, definition)),
    voter: bytesToHex(prepared.voter),
    ballot: bytesToHex(toBinary(BallotSchema, prepared.ballot)),
    choices: Object.fromEntries(
      definition.contests.map((contest, i) => [contest.id, prepared.selections[i].map((c) => contest.choices[c].id)]),
    ),
    nonces: prepared.nonces.map((row) => row.map((r) => bytesToHex(encodeScalar(r)))),
  };
}

/**
 * The audited ballot for the ledger (issue 23; the Gateway's PublishAudit): the ballot, unattested,
 * with a nonce and a 0/1 choice byte per selection, signed with the credential key — the
 * validators check that each nonce opens its ciphertext to the choice shown, and from then on
 * refuse to count this ballot.
 * @param {Prepared} prepared
 * @returns {{tx: Uint8Array, trackingCode: Uint8Array}}
 */
export function auditedTx(prepared) {
  const { definition, selections } = prepared;
  const audited = create(AuditedBallotSchema, {
    electionId: prepared.electionId,
    ballot: prepared.ballot,
    nonces: prepared.nonces.flat().map((r) => encodeScalar(r)),
    choices: Uint8Array.from(
      definition.contests.flatMap((contest, i) => contest.choices.map((_, c) => (selections[i].includes(c) ? 1 : 0))),
    ),
  });
  const tx = signAuditedBallot(prepared.chainId, prepared.seed, audited);
  return { tx, trackingCode: trackingCode(tx) };
}
