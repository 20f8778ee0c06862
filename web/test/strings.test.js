// The page's words: both languages name the same keys and fill the same {values}.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LANGUAGES, STRINGS, t } from "../src/app/strings.js";
import { LinkError, parseLink } from "../src/app/link.js";

test("every string exists in both languages with the same placeholders", () => {
  const [a, b] = LANGUAGES;
  assert.deepEqual(Object.keys(STRINGS[a]).sort(), Object.keys(STRINGS[b]).sort());
  const holes = (/** @type {string} */ s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const key of Object.keys(STRINGS[a])) assert.deepEqual(holes(STRINGS[a][key]), holes(STRINGS[b][key]), key);
  assert.equal(t("en", "overVote", { max: 2, contest: "Council" }), "You may choose at most 2 in “Council”.");
});

test("a personal link gives the secret and the election; a damaged one is refused", () => {
  const secret = "ab".repeat(32);
  const link = parseLink(`#c=${secret}&e=city-2026`);
  assert.equal(link.electionId, "city-2026");
  assert.equal(link.secret.length, 32);
  for (const bad of ["", "#c=&e=x", `#c=${secret.slice(2)}&e=x`, `#c=${secret}zz&e=x`, `#c=${secret}`, `#e=x`]) {
    assert.throws(() => parseLink(bad), LinkError, bad);
  }
});
