/**
 * Unambiguous hashing of statements for Fiat–Shamir challenges: votestore/crypto/transcript.py
 * byte for byte. Every part is length-prefixed (8-byte big-endian) and the whole is prefixed by
 * a domain string, so no two different statements hash the same bytes. Challenges hash the whole
 * statement — context, election id, keys, ciphertexts and all commitments — never the
 * commitments alone (Bernhard, Pereira, Warinschi 2012).
 * @module
 */
import { sha512 } from "@noble/hashes/sha2.js";
import { concatBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { L, bytesToIntLE } from "./group.js";

/** @typedef {Uint8Array | string | number | bigint} Part */

const INT_BYTES = 8;
const INT_LIMIT = 1n << BigInt(8 * INT_BYTES);

/**
 * @param {bigint} n
 * @returns {Uint8Array}
 */
function u64be(n) {
  if (n < 0n || n >= INT_LIMIT) throw new RangeError("integer part out of range");
  const out = new Uint8Array(INT_BYTES);
  new DataView(out.buffer).setBigUint64(0, n, false);
  return out;
}

/**
 * The framed statement: len(domain) domain, then len(part) part for each part; an integer part
 * is its 8-byte big-endian form, a string its UTF-8.
 * @param {Uint8Array} domain
 * @param {Part[]} parts
 * @returns {Uint8Array}
 */
export function frame(domain, parts) {
  const out = [u64be(BigInt(domain.length)), domain];
  for (const p of parts) {
    let data;
    if (typeof p === "number" || typeof p === "bigint") {
      if (typeof p === "number" && !Number.isSafeInteger(p)) throw new RangeError("integer part not safe");
      data = u64be(BigInt(p));
    } else if (typeof p === "string") {
      data = utf8ToBytes(p);
    } else {
      data = p;
    }
    out.push(u64be(BigInt(data.length)), data);
  }
  return concatBytes(...out);
}

/**
 * A scalar challenge: SHA-512 of the framed statement, little-endian, reduced mod L.
 * @param {Uint8Array} domain
 * @param {...Part} parts
 * @returns {bigint}
 */
export function challenge(domain, ...parts) {
  return bytesToIntLE(sha512(frame(domain, parts))) % L;
}
