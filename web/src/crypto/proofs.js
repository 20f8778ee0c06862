/**
 * Disjunctive Chaum–Pedersen range proofs (Cramer–Damgård–Schoenmakers), as
 * votestore/crypto/proofs.py: ct = (A, B) = (g^R, g^M K^R) encrypts some M in [lo, hi]; one
 * (challenge, response) per admissible value, the challenges summing to the hash of the whole
 * statement (context, generator, key, ciphertext, bounds, every commitment). With lo = 0, hi = 1
 * it is the 0/1 proof of a selection; with [min, max] the proof of a contest's sum.
 *
 * Randomness is drawn through `draw` in the Python code's order (all fake challenges, then all
 * commitment nonces), so the same draws give the same bytes as the Python prover.
 * @module
 */
import { GENERATOR, L, baseMult, decodeScalar, encodeScalar, mod, mult } from "./group.js";
import { challenge } from "./transcript.js";

/** @typedef {import("./group.js").Element} Element */
/** @typedef {import("./elgamal.js").Ciphertext} Ciphertext */
/** @typedef {import("./transcript.js").Part} Part */
/** @typedef {{challenges: bigint[], responses: bigint[]}} RangeProof */
/** @typedef {() => bigint} Draw a source of uniform non-zero scalars */

/**
 * @param {Uint8Array} key
 * @param {Ciphertext} ct
 * @param {number} lo
 * @param {number} hi
 * @returns {Part[]}
 */
function statement(key, ct, lo, hi) {
  return [GENERATOR, key, ct.alpha, ct.beta, lo, hi];
}

/**
 * Prove ct = (g^nonce, g^value key^nonce) with value in [lo, hi]. Every branch, the real one
 * included, makes the same calls (for the real branch (k - value) c_k is 0).
 * @param {Uint8Array} domain
 * @param {Part[]} context
 * @param {Uint8Array} key the election key's encoding
 * @param {Element} keyEl the same key, decoded
 * @param {Ciphertext} ct
 * @param {bigint} nonce
 * @param {number} value
 * @param {number} lo
 * @param {number} hi
 * @param {Draw} draw
 * @returns {RangeProof}
 */
export function proveRange(domain, context, key, keyEl, ct, nonce, value, lo, hi, draw) {
  if (!(lo <= value && value <= hi && 0n < nonce && nonce < L)) throw new RangeError("value or nonce out of range");
  const count = hi - lo + 1;
  const real = value - lo;
  const challenges = Array.from({ length: count }, () => draw());
  const commitmentNonces = Array.from({ length: count }, () => draw());
  const w = commitmentNonces[real];
  /** @type {Uint8Array[]} */
  const commitments = [];
  for (let i = 0; i < count; i++) {
    const u = commitmentNonces[i];
    const b = mult(u, keyEl).add(baseMult(BigInt(lo + i - value) * challenges[i]));
    commitments.push(baseMult(u).toBytes(), b.toBytes());
  }
  const responses = commitmentNonces.map((u, i) => mod(u + nonce * challenges[i]));
  const c = challenge(domain, ...context, ...statement(key, ct, lo, hi), ...commitments);
  const sum = challenges.reduce((a, b) => a + b, 0n);
  challenges[real] = mod(c - sum + challenges[real]);
  responses[real] = mod(w + nonce * challenges[real]);
  return { challenges, responses };
}

/**
 * Recompute every branch's commitments (a = g^v alpha^-c, b = key^v g^(k c) beta^-c) and check
 * the challenges sum to the statement's hash. All inputs are public.
 * @param {Uint8Array} domain
 * @param {Part[]} context
 * @param {Uint8Array} key
 * @param {Element} keyEl
 * @param {Ciphertext} ct
 * @param {number} lo
 * @param {number} hi
 * @param {RangeProof} proof
 * @returns {boolean}
 */
export function verifyRange(domain, context, key, keyEl, ct, lo, hi, proof) {
  const count = hi - lo + 1;
  if (proof.challenges.length !== count || proof.responses.length !== count) return false;
  /** @type {Uint8Array[]} */
  const commitments = [];
  for (let i = 0; i < count; i++) {
    const c = proof.challenges[i];
    const v = proof.responses[i];
    const minusC = mod(-c);
    commitments.push(baseMult(v).add(mult(minusC, ct.alphaEl)).toBytes());
    const b = mult(v, keyEl).add(baseMult(BigInt(lo + i) * c)).add(mult(minusC, ct.betaEl));
    commitments.push(b.toBytes());
  }
  const c = challenge(domain, ...context, ...statement(key, ct, lo, hi), ...commitments);
  return mod(proof.challenges.reduce((a, b) => a + b, 0n)) === c;
}

/**
 * @param {RangeProof} proof
 * @returns {{challenges: Uint8Array[], responses: Uint8Array[]}}
 */
export function rangeToFields(proof) {
  return { challenges: proof.challenges.map(encodeScalar), responses: proof.responses.map(encodeScalar) };
}

/**
 * Canonical scalars only; throws DecodeError on a bad size or a non-reduced scalar.
 * @param {{challenges: Uint8Array[], responses: Uint8Array[]}} fields
 * @returns {RangeProof}
 */
export function rangeFromFields(fields) {
  return { challenges: fields.challenges.map(decodeScalar), responses: fields.responses.map(decodeScalar) };
}
