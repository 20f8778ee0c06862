// The ballot encryption for bench/web_encrypt.py: bundled (esbuild, IIFE) and loaded into
// headless Chromium, where `votestoreBench.encryptTimes` encrypts and proves one ballot `reps`
// times with the page's own code (src/crypto) and returns each time in milliseconds.
import { fromBinary } from "@bufbuild/protobuf";
import { ElectionCreateSchema } from "../src/gen/proto/votestore/v1/election_pb.js";
import { encryptBallot } from "../src/crypto/ballot.js";
import { hexToBytes } from "./hex.js";

/**
 * @param {string} definitionHex
 * @param {string} keyHex
 * @param {number[][]} selections
 * @param {number} reps
 * @returns {number[]}
 */
export function encryptTimes(definitionHex, keyHex, selections, reps) {
  const definition = fromBinary(ElectionCreateSchema, hexToBytes(definitionHex));
  const key = hexToBytes(keyHex);
  const voter = new Uint8Array(32).fill(7);
  const times = [];
  for (let i = 0; i < reps; i++) {
    const started = performance.now();
    encryptBallot(definition.electionId, definition, key, selections, { voter });
    times.push(performance.now() - started);
  }
  return times;
}
