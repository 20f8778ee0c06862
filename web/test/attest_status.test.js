// Attest's RESOURCE_EXHAUSTED told apart (src/app/attest_status.js): the provider's failure limit
// stops the voter; a request-rate limit (the provider's or the gateway's) keeps the ballot for a
// retry. The messages are the Python services' own; tests/web/test_attest_status.py pins them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FAILED_CHECKS_MARK, exhaustedBy } from "../src/app/attest_status.js";

test("the failure limit and the rate limits are told apart by the provider's message", () => {
  assert.equal(exhaustedBy("too many failed identity checks for this voter; try later"), "failures");
  assert.equal(exhaustedBy("client over its request rate; retry later"), "rate");
  assert.equal(exhaustedBy("client over its request rate; retry in 1.5s"), "rate");
  assert.equal(exhaustedBy("request over the size cap"), "rate");
  assert.equal(exhaustedBy(""), "rate");
  // Only the opening words count: a rate message quoting the words is still a rate limit.
  assert.equal(exhaustedBy(`busy; not ${FAILED_CHECKS_MARK}`), "rate");
});
