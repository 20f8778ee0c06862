/** Hex helpers and a seeded scalar source for the tests and the test CLI (never for real ballots). */
import { sha512 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { decodeScalar, encodeScalar, reduceScalar } from "../src/crypto/group.js";

export { bytesToHex, hexToBytes };

/**
 * A draw function that returns the given scalars in order and fails past the end.
 * @param {string[]} hexScalars
 */
export function replay(hexScalars) {
  const scalars = hexScalars.map((h) => decodeScalar(hexToBytes(h)));
  let next = 0;
  const draw = () => {
    if (next >= scalars.length) throw new Error("drew more scalars than the vector holds");
    return scalars[next++];
  };
  return { draw, used: () => next };
}

/**
 * Scalars SHA-512("votestore/test/draw" || seed || counter) mod L: deterministic test input,
 * recorded so the Python code can replay the same draws.
 * @param {number} seed
 */
export function seeded(seed) {
  let counter = 0;
  /** @type {string[]} */
  const drawn = [];
  const draw = () => {
    for (;;) {
      const input = new Uint8Array(35);
      input.set(new TextEncoder().encode("votestore/test/draw"), 0);
      const view = new DataView(input.buffer);
      view.setBigUint64(19, BigInt(seed), false);
      view.setBigUint64(27, BigInt(counter++), false);
      const k = reduceScalar(sha512(input));
      if (k !== 0n) {
        drawn.push(bytesToHex(encodeScalar(k)));
        return k;
      }
    }
  };
  return { draw, drawn };
}
