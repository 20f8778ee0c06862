/**
 * The Ballot transaction as votestore/txbuild.py and votestore/encoding.py build it: the Tx body
 * in its canonical protobuf bytes, signed with Ed25519 over a constant domain string, the chain id
 * (2-byte big-endian length, then its UTF-8) and the body, wrapped in a SignedTx.
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { SignedTxSchema, TxSchema } from "../gen/proto/votestore/v1/election_pb.js";
import { ballotDigest } from "./attestation.js";
import { encryptBallot } from "./ballot.js";
import { deriveCredentialKey } from "./credential.js";

/** @typedef {import("../gen/proto/votestore/v1/election_pb.js").ElectionCreate} ElectionCreate */
/** @typedef {import("../gen/proto/votestore/v1/election_pb.js").Ballot} Ballot */
/** @typedef {import("../gen/proto/votestore/v1/election_pb.js").AuditedBallot} AuditedBallot */
/** @typedef {import("./proofs.js").Draw} Draw */
/** @typedef {import("./attestation.js").Attester} Attester */

export const MAX_CHAIN_ID_BYTES = 64;
/** encoding.TX_DOMAINS["ballot"]: one constant per transaction kind. */
export const BALLOT_TX_DOMAIN = utf8ToBytes("votestore/v1/tx/ballot\x00");
/** encoding.TX_DOMAINS["audited_ballot"]. */
export const AUDITED_BALLOT_TX_DOMAIN = utf8ToBytes("votestore/v1/tx/audited_ballot\x00");

/**
 * @param {string} chainId
 * @returns {Uint8Array}
 */
function chainBytes(chainId) {
  const raw = utf8ToBytes(chainId);
  if (raw.length === 0 || raw.length > MAX_CHAIN_ID_BYTES) {
    throw new RangeError(`chain id must be 1..${MAX_CHAIN_ID_BYTES} bytes, got ${raw.length}`);
  }
  return concatBytes(new Uint8Array([raw.length >> 8, raw.length & 0xff]), raw);
}

/**
 * encoding.tx_signing_bytes for a ballot.
 * @param {string} chainId
 * @param {Uint8Array} body
 * @returns {Uint8Array}
 */
export function ballotSigningBytes(chainId, body) {
  return concatBytes(BALLOT_TX_DOMAIN, chainBytes(chainId), body);
}

/**
 * The SignedTx bytes of a ballot already encrypted for this voter's key.
 * @param {string} chainId
 * @param {Uint8Array} seed the credential's Ed25519 seed
 * @param {Ballot} ballot
 * @returns {Uint8Array}
 */
export function signBallot(chainId, seed, ballot) {
  const body = toBinary(TxSchema, create(TxSchema, { kind: { case: "ballot", value: ballot } }));
  return sealed(BALLOT_TX_DOMAIN, chainId, seed, body);
}

/**
 * The SignedTx bytes of an audited ballot (txbuild.audited_ballot): published, never cast.
 * @param {string} chainId
 * @param {Uint8Array} seed the credential's Ed25519 seed
 * @param {AuditedBallot} audited
 * @returns {Uint8Array}
 */
export function signAuditedBallot(chainId, seed, audited) {
  const body = toBinary(TxSchema, create(TxSchema, { kind: { case: "auditedBallot", value: audited } }));
  return sealed(AUDITED_BALLOT_TX_DOMAIN, chainId, seed, body);
}

/**
 * @param {Uint8Array} domain
 * @param {string} chainId
 * @param {Uint8Array} seed
 * @param {Uint8Array} body
 * @returns {Uint8Array}
 */
function sealed(domain, chainId, seed, body) {
  const signature = ed25519.sign(concatBytes(domain, chainBytes(chainId), body), seed);
  const envelope = create(SignedTxSchema, { body, signer: ed25519.getPublicKey(seed), signature });
  return toBinary(SignedTxSchema, envelope);
}

/**
 * txbuild.ballot: derive the credential key, encrypt the choices bound to its public key, sign.
 * @param {string} chainId
 * @param {string} electionId
 * @param {ElectionCreate} definition
 * @param {Uint8Array} electionKey
 * @param {Uint8Array} credentialSecret
 * @param {number[][]} selections
 * @param {{draw?: Draw, attest?: Attester}} [opts] `attest`: the identity provider's attestation
 *   of the encrypted ballot (txbuild.ballot's `attest`); without it the ballot carries none, and
 *   validators refuse it (BAD_ATTESTATION)
 * @returns {Uint8Array}
 */
export function ballotTx(chainId, electionId, definition, electionKey, credentialSecret, selections, opts = {}) {
  const key = deriveCredentialKey(credentialSecret, electionId);
  const { ballot } = encryptBallot(electionId, definition, electionKey, selections, {
    voter: key.publicKey,
    draw: opts.draw,
  });
  if (opts.attest) ballot.attestation = opts.attest(key.publicKey, ballotDigest(ballot));
  return signBallot(chainId, key.seed, ballot);
}

/**
 * encoding.tx_hash: a ballot's tracking code, SHA-256 of the SignedTx bytes.
 * @param {Uint8Array} raw
 * @returns {Uint8Array}
 */
export function trackingCode(raw) {
  return sha256(raw);
}
