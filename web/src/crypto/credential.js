/**
 * Voter credentials, as votestore/crypto/credential.py: the 32-byte personal secret (from the
 * link's fragment) gives, per election, an Ed25519 seed by HKDF-SHA256 bound to the election id.
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";

export const CREDENTIAL_SECRET_BYTES = 32;
const SALT = utf8ToBytes("votestore/v1/credential/salt");
const INFO = utf8ToBytes("votestore/v1/credential/ed25519-seed/");

/** @typedef {{seed: Uint8Array, publicKey: Uint8Array}} CredentialKey */

/**
 * @param {Uint8Array} secret
 * @param {string} electionId
 * @returns {CredentialKey}
 */
export function deriveCredentialKey(secret, electionId) {
  if (!(secret instanceof Uint8Array) || secret.length !== CREDENTIAL_SECRET_BYTES) {
    throw new RangeError(`credential secret must be ${CREDENTIAL_SECRET_BYTES} bytes`);
  }
  if (!electionId) throw new RangeError("election id must not be empty");
  const seed = hkdf(sha256, secret, SALT, concatBytes(INFO, utf8ToBytes(electionId)), 32);
  return { seed, publicKey: ed25519.getPublicKey(seed) };
}
