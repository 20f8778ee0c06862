/**
 * Exponential ElGamal on ristretto255, as votestore/crypto/elgamal.py:
 * Enc_K(m; r) = (g^r, g^m K^r). A ciphertext keeps its encodings (what the ballot carries and
 * what proof statements hash) beside its points.
 * @module
 */
import { addAll, baseMult, mult } from "./group.js";

/** @typedef {import("./group.js").Element} Element */
/** @typedef {{alpha: Uint8Array, beta: Uint8Array, alphaEl: Element, betaEl: Element}} Ciphertext */

/**
 * @param {Element} alphaEl
 * @param {Element} betaEl
 * @returns {Ciphertext}
 */
export function ciphertextOf(alphaEl, betaEl) {
  return { alpha: alphaEl.toBytes(), beta: betaEl.toBytes(), alphaEl, betaEl };
}

/**
 * (g^nonce, g^value key^nonce). The same calls for every value (g^0 is computed and added too).
 * @param {Element} key a validated election key
 * @param {number} value
 * @param {bigint} nonce
 * @returns {Ciphertext}
 */
export function encrypt(key, value, nonce) {
  const masked = mult(nonce, key).add(baseMult(BigInt(value)));
  return ciphertextOf(baseMult(nonce), masked);
}

/**
 * @param {Ciphertext[]} cts
 * @returns {Ciphertext}
 */
export function sumAll(cts) {
  return ciphertextOf(addAll(cts.map((c) => c.alphaEl)), addAll(cts.map((c) => c.betaEl)));
}
