// The page's receipt check (src/app/receipt.js) against Python's check_receipt: every receipt in
// the Python-made vectors (tests/web/make_receipt_vectors.py) gets the same verdict, and a refusal
// the same reason.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { ReceiptSchema } from "../src/gen/proto/votestore/v1/ledger_pb.js";
import { ProofInvalid, checkReceipt, parseGenesis } from "../src/app/receipt.js";
import { hexToBytes } from "../testkit/hex.js";

const vectors = JSON.parse(readFileSync(new URL("./vectors/receipts.json", import.meta.url), "utf-8"));
const genesis = parseGenesis(JSON.stringify(vectors.genesis));

test("the receipt vectors hold good and bad receipts", () => {
  assert.ok(vectors.cases.filter((c) => c.verdict === "ok").length >= 2);
  assert.ok(vectors.cases.filter((c) => c.verdict !== "ok").length >= 10);
});

for (const c of vectors.cases) {
  test(`receipt: ${c.name}`, () => {
    const receipt = fromBinary(ReceiptSchema, hexToBytes(c.receipt));
    let verdict = "ok";
    try {
      checkReceipt(genesis, receipt);
    } catch (err) {
      assert.ok(err instanceof ProofInvalid, String(err));
      verdict = err.message;
    }
    assert.equal(verdict, c.verdict);
  });
}
