/**
 * The identity provider's attestation, as votestore/crypto/attestation.py defines it: the provider
 * signs (chain, election, voter credential key, ballot digest) after the voter's identity check;
 * the digest is SHA-256 of the framed canonical Ballot with its attestation left empty, so the
 * attestation binds one ballot of one voter and the credential signature then covers both.
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { BallotSchema } from "../gen/proto/votestore/v1/election_pb.js";
import { frame } from "./transcript.js";

/** @typedef {import("../gen/proto/votestore/v1/election_pb.js").Ballot} Ballot */
/** @typedef {(voter: Uint8Array, digest: Uint8Array) => Uint8Array} Attester */

export const ATTESTATION_DOMAIN = utf8ToBytes("votestore/v1/identity-attestation");
export const REQUEST_DOMAIN = utf8ToBytes("votestore/v1/attestation-request");
export const BALLOT_DIGEST_DOMAIN = utf8ToBytes("votestore/v1/attested-ballot");

/**
 * attestation.ballot_digest: what the identity provider is asked to attest.
 * @param {Ballot} ballot
 * @returns {Uint8Array}
 */
export function ballotDigest(ballot) {
  const bare = create(BallotSchema, { ...ballot, attestation: new Uint8Array(0) });
  return sha256(frame(BALLOT_DIGEST_DOMAIN, [toBinary(BallotSchema, bare)]));
}

/**
 * attestation.message: what the identity provider signs.
 * @param {string} chainId
 * @param {string} electionId
 * @param {Uint8Array} voter
 * @param {Uint8Array} digest
 * @returns {Uint8Array}
 */
export function attestationMessage(chainId, electionId, voter, digest) {
  return frame(ATTESTATION_DOMAIN, [chainId, electionId, voter, digest]);
}

/**
 * attestation.request_message: what the voter's credential key signs when asking for one.
 * @param {string} chainId
 * @param {string} electionId
 * @param {Uint8Array} digest
 * @returns {Uint8Array}
 */
export function requestMessage(chainId, electionId, digest) {
  return frame(REQUEST_DOMAIN, [chainId, electionId, digest]);
}

/**
 * An Attester over an identity-provider seed at hand (test vectors only: in a voter's browser the
 * attestation comes from the identity provider's Attest call after the identity check).
 * @param {Uint8Array} seed
 * @param {string} chainId
 * @param {string} electionId
 * @returns {Attester}
 */
export function localAttester(seed, chainId, electionId) {
  return (voter, digest) => ed25519.sign(attestationMessage(chainId, electionId, voter, digest), seed);
}
