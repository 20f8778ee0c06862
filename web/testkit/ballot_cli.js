// Test-only CLI (kept out of test/, which node --test runs as tests): the Python tests drive the JavaScript ballot code through it.
// stdin: {"requests": [{chain_id, election_id, definition (hex ElectionCreate), election_key (hex),
//          credential_secret (hex), selections, seed, provider_seed (hex)}]}
// stdout: {"results": [{tx, ballot, draws} | {error}]}, one per request, in order. Scalars are
// drawn from the seeded source in hex.js and listed, so Python can replay them exactly.
import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { ElectionCreateSchema, SignedTxSchema, TxSchema } from "../src/gen/proto/votestore/v1/election_pb.js";
import { BallotError } from "../src/crypto/ballot.js";
import { localAttester } from "../src/crypto/attestation.js";
import { ballotTx } from "../src/crypto/tx.js";
import { bytesToHex, hexToBytes, seeded } from "./hex.js";

const input = JSON.parse(readFileSync(0, "utf-8"));
const results = input.requests.map((/** @type {any} */ r) => {
  const source = seeded(r.seed);
  try {
    const raw = ballotTx(
      r.chain_id,
      r.election_id,
      fromBinary(ElectionCreateSchema, hexToBytes(r.definition)),
      hexToBytes(r.election_key),
      hexToBytes(r.credential_secret),
      r.selections,
      { draw: source.draw, attest: localAttester(hexToBytes(r.provider_seed), r.chain_id, r.election_id) },
    );
    const tx = fromBinary(TxSchema, fromBinary(SignedTxSchema, raw).body);
    if (tx.kind.case !== "ballot") throw new Error("not a ballot");
    return { tx: bytesToHex(raw), draws: source.drawn };
  } catch (e) {
    if (e instanceof BallotError) return { error: e.message };
    throw e;
  }
});
process.stdout.write(JSON.stringify({ results }) + "\n");
