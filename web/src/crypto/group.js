/**
 * ristretto255 points and scalars: the one place in web/ that talks to @noble/curves' group.
 * Mirrors votestore/crypto/group.py: points travel as canonical 32-byte encodings and are
 * validated whenever they come in (`decodePoint`); scalars are bigints reduced mod L inside,
 * 32-byte little-endian on the wire, and canonical (< L) when decoded.
 * @module
 */
import { ristretto255 } from "@noble/curves/ed25519.js";

const Point = ristretto255.Point;

/** Order of the ristretto255 group (RFC 9496). */
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;
export const POINT_BYTES = 32;
export const SCALAR_BYTES = 32;
export const WIDE_SCALAR_BYTES = 64;
export const IDENTITY = new Uint8Array(POINT_BYTES);

/** Thrown for bytes from outside that are not a valid point or scalar. */
export class DecodeError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "DecodeError";
  }
}

/** @typedef {InstanceType<typeof Point>} Element */

/**
 * x mod L, always in [0, L) (JavaScript's % keeps the sign of x).
 * @param {bigint} x
 * @returns {bigint}
 */
export function mod(x) {
  const r = x % L;
  return r < 0n ? r + L : r;
}

/**
 * @param {Uint8Array} b
 * @returns {bigint}
 */
export function bytesToIntLE(b) {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
}

/**
 * @param {bigint} n
 * @param {number} size
 * @returns {Uint8Array}
 */
function intToBytesLE(n, size) {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  if (n !== 0n) throw new RangeError("integer too large");
  return out;
}

/**
 * @param {bigint} k a reduced scalar
 * @returns {Uint8Array}
 */
export function encodeScalar(k) {
  if (k < 0n || k >= L) throw new RangeError("scalar not reduced");
  return intToBytesLE(k, SCALAR_BYTES);
}

/**
 * A canonical scalar (< L): a non-canonical one would make proofs malleable.
 * @param {Uint8Array} b
 * @returns {bigint}
 */
export function decodeScalar(b) {
  if (b.length !== SCALAR_BYTES) throw new DecodeError(`scalar must be ${SCALAR_BYTES} bytes, got ${b.length}`);
  const k = bytesToIntLE(b);
  if (k >= L) throw new DecodeError("scalar not reduced mod L");
  return k;
}

/**
 * Reduce a wide (64-byte) uniform string to a scalar with negligible bias.
 * @param {Uint8Array} b
 * @returns {bigint}
 */
export function reduceScalar(b) {
  if (b.length !== WIDE_SCALAR_BYTES) throw new RangeError(`wide scalar must be ${WIDE_SCALAR_BYTES} bytes`);
  return bytesToIntLE(b) % L;
}

/**
 * A uniform non-zero scalar from the platform's CSPRNG (crypto.getRandomValues, in browsers
 * and node alike).
 * @returns {bigint}
 */
export function randomScalar() {
  for (;;) {
    const k = reduceScalar(globalThis.crypto.getRandomValues(new Uint8Array(WIDE_SCALAR_BYTES)));
    if (k !== 0n) return k;
  }
}

/**
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {boolean}
 */
export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * The element a canonical encoding names, or DecodeError: the same rules as
 * group.decode_point. The identity is refused unless allowed: as a key, commitment or fresh
 * ciphertext part it means a zero secret or nonce.
 * @param {Uint8Array} b
 * @param {{allowIdentity?: boolean}} [opts]
 * @returns {Element}
 */
export function decodePoint(b, { allowIdentity = false } = {}) {
  if (!(b instanceof Uint8Array) || b.length !== POINT_BYTES) {
    throw new DecodeError(`point must be ${POINT_BYTES} bytes, got ${b?.length}`);
  }
  // RFC 9496 reads 256 bits and refuses values >= p, so the top bit must be clear.
  if (b[POINT_BYTES - 1] & 0x80) throw new DecodeError("not a canonical ristretto255 encoding");
  let p;
  try {
    p = Point.fromBytes(b);
  } catch {
    throw new DecodeError("not a canonical ristretto255 encoding");
  }
  // fromBytes is RFC 9496's decode; re-encoding must give the same bytes (one encoding per point).
  if (!equalBytes(p.toBytes(), b)) throw new DecodeError("not a canonical ristretto255 encoding");
  if (p.is0() && !allowIdentity) throw new DecodeError("identity point not allowed here");
  return p;
}

export const ZERO = Point.ZERO;
export const BASE = Point.BASE;
/** The generator's encoding, as every proof statement hashes it. */
export const GENERATOR = BASE.toBytes();

/**
 * g^k (written additively: k*G), k reduced mod L first; the identity for k = 0 mod L.
 * @param {bigint} k
 * @returns {Element}
 */
export function baseMult(k) {
  const r = mod(k);
  return r === 0n ? ZERO : BASE.multiply(r);
}

/**
 * p^k for a point validated by decodePoint (or computed here); the identity for k = 0 mod L.
 * @param {bigint} k
 * @param {Element} p
 * @returns {Element}
 */
export function mult(k, p) {
  const r = mod(k);
  return r === 0n || p.is0() ? ZERO : p.multiply(r);
}

/**
 * @param {Element[]} points
 * @returns {Element}
 */
export function addAll(points) {
  return points.reduce((acc, p) => acc.add(p), ZERO);
}
