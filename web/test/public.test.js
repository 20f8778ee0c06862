// The public pages' logic (src/public/): the strings table, a pasted tracking code read strictly,
// the verdict on a GetReceipt answer (believed only after the browser's receipt check, against
// the Python-made receipt vectors), turnout and result views, and the bounded turnout refresh.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { ElectionCreateSchema, ElectionResultSchema } from "../src/gen/proto/votestore/v1/election_pb.js";
import { ReceiptResponseSchema, ReceiptStatus, TurnoutResponseSchema } from "../src/gen/proto/votestore/v1/gateway_pb.js";
import { ReceiptSchema } from "../src/gen/proto/votestore/v1/ledger_pb.js";
import { parseGenesis } from "../src/app/receipt.js";
import { poll } from "../src/public/poll.js";
import { PUBLIC_STRINGS, pt } from "../src/public/strings.js";
import { ResultMismatch, percent, resultView, turnoutView } from "../src/public/tally.js";
import { TrackingCodeDamaged, judge, parseTrackingCode } from "../src/public/tracking.js";
import { hexToBytes } from "../testkit/hex.js";

const vectors = JSON.parse(readFileSync(new URL("./vectors/receipts.json", import.meta.url), "utf-8"));
const genesis = parseGenesis(JSON.stringify(vectors.genesis));
const receiptOf = (/** @type {string} */ name) =>
  fromBinary(ReceiptSchema, hexToBytes(vectors.cases.find((/** @type {any} */ c) => c.name === name).receipt));
const committed = (/** @type {any} */ receipt) => create(ReceiptResponseSchema, { status: ReceiptStatus.COMMITTED, receipt });

test("public strings: both languages, the same keys and placeholders", () => {
  assert.deepEqual(Object.keys(PUBLIC_STRINGS).sort(), ["en", "ko"]);
  assert.deepEqual(Object.keys(PUBLIC_STRINGS.en).sort(), Object.keys(PUBLIC_STRINGS.ko).sort());
  const holes = (/** @type {string} */ s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const key of Object.keys(PUBLIC_STRINGS.en)) {
    assert.deepEqual(holes(PUBLIC_STRINGS.en[key]), holes(PUBLIC_STRINGS.ko[key]), key);
  }
  assert.equal(pt("en", "included", { height: 7, signers: 3, validators: 4 }),
    "Included at height 7, certificate checked: 3 of 4 validators signed the block.");
  assert.match(pt("ko", "included", { height: 7, signers: 3, validators: 4 }), /블록 높이 7/);
});

test("a tracking code: 64 hex digits; spacing from a printout is dropped; anything else is damaged", () => {
  const hex = "0123456789abcdef".repeat(4);
  assert.deepEqual(parseTrackingCode(hex), hexToBytes(hex));
  assert.deepEqual(parseTrackingCode(` ${hex.slice(0, 32).toUpperCase()}\n${hex.slice(32)}  `), hexToBytes(hex));
  assert.deepEqual(parseTrackingCode(hex.match(/.{8}/g)?.join("-") ?? ""), hexToBytes(hex));
  for (const bad of ["", "   ", hex.slice(2), `${hex}00`, `${hex.slice(1)}g`, `${hex.slice(2)}zz`, "x".repeat(300), "💥".repeat(32)]) {
    assert.throws(() => parseTrackingCode(bad), TrackingCodeDamaged, JSON.stringify(bad));
  }
});

test("a genuine receipt from the service: included, with the height and the signers checked here", () => {
  const receipt = receiptOf("genuine");
  const verdict = judge(genesis, receipt.electionId, receipt.trackingCode, committed(receipt));
  assert.deepEqual(verdict, { kind: "included", height: String(receipt.proof?.header?.height), signers: 3, validators: 4 });
});

for (const c of vectors.cases.filter((/** @type {any} */ c) => c.verdict !== "ok")) {
  test(`a receipt that does not check is never "included": ${c.name}`, () => {
    const receipt = fromBinary(ReceiptSchema, hexToBytes(c.receipt));
    const verdict = judge(genesis, receipt.electionId, receipt.trackingCode, committed(receipt));
    assert.deepEqual(verdict, { kind: "bad", reason: c.verdict });
  });
}

test("the service's other answers, and a receipt for another code or election", () => {
  const receipt = receiptOf("genuine");
  const code = receipt.trackingCode;
  const e = receipt.electionId;
  const answer = (/** @type {number} */ status, extra = {}) => create(ReceiptResponseSchema, { status, ...extra });
  assert.deepEqual(judge(genesis, e, code, answer(ReceiptStatus.UNKNOWN)), { kind: "unknown" });
  assert.deepEqual(judge(genesis, e, code, answer(ReceiptStatus.RECEIPT_STATUS_UNSPECIFIED)), { kind: "unknown" });
  assert.deepEqual(judge(genesis, e, code, answer(ReceiptStatus.PENDING)), { kind: "pending" });
  assert.deepEqual(
    judge(genesis, e, code, answer(ReceiptStatus.REJECTED, { result: { detail: "already voted" } })),
    { kind: "rejected", detail: "already voted" },
  );
  assert.deepEqual(judge(genesis, e, code, answer(ReceiptStatus.COMMITTED)), {
    kind: "bad", reason: "the service said committed but sent no receipt",
  });
  assert.deepEqual(judge(genesis, "another-2026", code, committed(receipt)), { kind: "otherElection", election: e });
  const asked = new Uint8Array(32).fill(9);
  assert.deepEqual(judge(genesis, e, asked, committed(receipt)), { kind: "bad", reason: "receipt is for another ballot" });
  const anonymous = receiptOf("genuine");
  anonymous.electionId = "";
  assert.deepEqual(judge(genesis, e, code, committed(anonymous)), { kind: "bad", reason: "the receipt names no election" });
});

test("turnout: groups in order, shares of the roll", () => {
  const view = turnoutView(create(TurnoutResponseSchema, {
    electionId: "e", height: 12n, rollSize: 8n, ballots: 3n,
    groups: [{ group: "south", rollSize: 4n, ballots: 1n }, { group: "north", rollSize: 4n, ballots: 2n }, { group: "empty", rollSize: 0n, ballots: 0n }],
  }));
  assert.deepEqual(view, {
    height: "12", ballots: "3", rollSize: "8", share: "37.5%",
    groups: [
      { group: "empty", ballots: "0", rollSize: "0", share: "—" },
      { group: "north", ballots: "2", rollSize: "4", share: "50.0%" },
      { group: "south", ballots: "1", rollSize: "4", share: "25.0%" },
    ],
  });
  assert.equal(percent(2n, 3n), "66.7%");
  assert.equal(percent(1n, 3n), "33.3%");
});

test("result: totals labelled from the definition; a result of another shape is refused", () => {
  const definition = create(ElectionCreateSchema, {
    electionId: "e", title: "T",
    contests: [
      { id: "mayor", title: "Mayor · 시장", choices: [{ id: "ada", label: "Ada" }, { id: "alan" }] },
      { id: "council", choices: [{ id: "kim" }] },
    ],
  });
  const result = create(ElectionResultSchema, {
    electionId: "e", tallyHeight: 40n, ballotsCounted: 3n, trustees: [0, 2],
    contests: [{ contestId: "mayor", counts: [2n, 1n] }, { contestId: "council", counts: [1n] }],
  });
  assert.deepEqual(resultView(definition, result), {
    ballots: "3", height: "40", trustees: [0, 2],
    contests: [
      { id: "mayor", title: "Mayor · 시장", rows: [{ id: "ada", label: "Ada", count: "2" }, { id: "alan", label: "alan", count: "1" }] },
      { id: "council", title: "council", rows: [{ id: "kim", label: "kim", count: "1" }] },
    ],
  });
  const short = create(ElectionResultSchema, { ...result, contests: [result.contests[0]] });
  assert.throws(() => resultView(definition, short), ResultMismatch);
  const renamed = create(ElectionResultSchema, { ...result, contests: [{ contestId: "council", counts: [2n, 1n] }, result.contests[1]] });
  assert.throws(() => resultView(definition, renamed), ResultMismatch);
  const extra = create(ElectionResultSchema, { ...result, contests: [{ contestId: "mayor", counts: [2n, 1n, 0n] }, result.contests[1]] });
  assert.throws(() => resultView(definition, extra), ResultMismatch);
});

/** A clock the test advances by hand: at most one timer is ever pending. */
function manualClock() {
  /** @type {{fn: () => void, ms: number}[]} */
  const pending = [];
  return {
    pending,
    options: {
      everyMs: 5000, maxBackoffMs: 40000, maxPolls: 6,
      setTimer: (/** @type {() => void} */ fn, /** @type {number} */ ms) => { pending.push({ fn, ms }); return pending.length; },
      clearTimer: () => { pending.length = 0; },
    },
    async fire() {
      assert.equal(pending.length, 1, "exactly one refresh scheduled");
      const { fn, ms } = /** @type {{fn: () => void, ms: number}} */ (pending.shift());
      fn();
      await new Promise((resolve) => setImmediate(resolve));
      return ms;
    },
  };
}

test("turnout refresh: one call at a time, backoff on failure, a bounded number of calls", async () => {
  const clock = manualClock();
  let calls = 0;
  let inFlight = 0;
  const outcomes = [true, false, false, false, false, true];
  /** @type {string[]} */
  const seen = [];
  const poller = poll(
    async () => {
      inFlight += 1;
      assert.equal(inFlight, 1, "never two calls at once");
      const good = outcomes[calls++];
      await Promise.resolve();
      inFlight -= 1;
      if (!good) throw new Error("down");
      return calls;
    },
    {
      onAnswer: (n) => seen.push(`answer ${n}`),
      onError: (_, retryMs) => seen.push(`error ${retryMs}`),
      onStopped: () => seen.push("stopped"),
    },
    clock.options,
  );
  await new Promise((resolve) => setImmediate(resolve));
  const delays = [];
  for (let i = 0; i < 6; i += 1) delays.push(await clock.fire());
  assert.deepEqual(delays, [5000, 10000, 20000, 40000, 40000, 5000]);
  assert.deepEqual(seen, ["answer 1", "error 10000", "error 20000", "error 40000", "error 40000", "answer 6", "stopped"]);
  assert.equal(poller.polls(), 6);
  assert.equal(clock.pending.length, 0, "nothing scheduled after the budget is spent");
});

test("turnout refresh: stop() cancels the next call", async () => {
  const clock = manualClock();
  let calls = 0;
  const poller = poll(async () => ++calls, { onAnswer: () => {}, onError: () => {}, onStopped: () => {} }, clock.options);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(clock.pending.length, 1);
  poller.stop();
  assert.equal(clock.pending.length, 0);
  assert.equal(calls, 1);
});
