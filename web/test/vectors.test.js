// The Python-made vectors (tests/web/make_vectors.py) reproduced byte for byte.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { BallotSchema, ElectionCreateSchema } from "../src/gen/proto/votestore/v1/election_pb.js";
import { BallotError, encryptBallot, verifyBallot } from "../src/crypto/ballot.js";
import { deriveCredentialKey } from "../src/crypto/credential.js";
import { DecodeError, decodePoint } from "../src/crypto/group.js";
import { localAttester } from "../src/crypto/attestation.js";
import { ballotTx, trackingCode } from "../src/crypto/tx.js";
import { bytesToHex, hexToBytes, replay } from "../testkit/hex.js";

const vectors = JSON.parse(readFileSync(new URL("./vectors/ballots.json", import.meta.url), "utf-8"));

test("the vectors file holds cases", () => {
  assert.ok(vectors.ballots.length >= 5);
  assert.ok(vectors.points.some((p) => p.valid) && vectors.points.some((p) => !p.valid));
});

for (const v of vectors.ballots) {
  const definition = fromBinary(ElectionCreateSchema, hexToBytes(v.definition));

  test(`credential key: ${v.name}`, () => {
    const key = deriveCredentialKey(hexToBytes(v.credential_secret), v.election_id);
    assert.equal(bytesToHex(key.publicKey), v.voter_key);
  });

  test(`ballot bytes: ${v.name}`, () => {
    const r = replay(v.draws);
    const { ballot } = encryptBallot(v.election_id, definition, hexToBytes(v.election_key), v.selections, {
      voter: hexToBytes(v.voter_key),
      draw: r.draw,
    });
    assert.equal(bytesToHex(toBinary(BallotSchema, ballot)), v.ballot);
    assert.equal(r.used(), v.draws.length, "every recorded scalar drawn, in order");
  });

  test(`signed transaction and tracking code: ${v.name}`, () => {
    const r = replay(v.draws);
    const raw = ballotTx(
      v.chain_id,
      v.election_id,
      definition,
      hexToBytes(v.election_key),
      hexToBytes(v.credential_secret),
      v.selections,
      { draw: r.draw, attest: localAttester(hexToBytes(v.provider_seed), v.chain_id, v.election_id) },
    );
    assert.equal(bytesToHex(raw), v.tx);
    assert.equal(bytesToHex(trackingCode(raw)), v.tracking_code);
  });
}

test("point decoding agrees with group.decode_point", () => {
  for (const p of vectors.points) {
    const raw = hexToBytes(p.bytes);
    let valid = true;
    try {
      decodePoint(raw, { allowIdentity: p.allow_identity });
    } catch (e) {
      assert.ok(e instanceof DecodeError, `${p.bytes}: ${e}`);
      valid = false;
    }
    assert.equal(valid, p.valid, `${p.bytes} allowIdentity=${p.allow_identity}`);
  }
});

test("Python's ballots verify in JS; a changed one does not", () => {
  for (const v of vectors.ballots) {
    const definition = fromBinary(ElectionCreateSchema, hexToBytes(v.definition));
    const key = hexToBytes(v.election_key);
    const voter = hexToBytes(v.voter_key);
    verifyBallot(v.election_id, definition, key, fromBinary(BallotSchema, hexToBytes(v.ballot)), { voter });
    assert.throws(
      () => verifyBallot(v.election_id, definition, key, fromBinary(BallotSchema, hexToBytes(v.ballot))),
      BallotError,
      "bound to the voter's key: without it the proofs fail",
    );
    const raw = hexToBytes(v.ballot);
    const changed = fromBinary(BallotSchema, raw);
    const proof = changed.contests[0].selectionProofs[0];
    proof.responses[0] = proof.responses[1];
    assert.throws(() => verifyBallot(v.election_id, definition, key, changed, { voter }), BallotError);
    const offCurve = fromBinary(BallotSchema, raw);
    offCurve.contests[0].selections[0].alpha = new Uint8Array(32).fill(0xff);
    assert.throws(() => verifyBallot(v.election_id, definition, key, offCurve, { voter }), /canonical ristretto255/);
    const identity = fromBinary(BallotSchema, raw);
    identity.contests[0].selections[0].beta = new Uint8Array(32);
    assert.throws(() => verifyBallot(v.election_id, definition, key, identity, { voter }), /identity point/);
  }
});
