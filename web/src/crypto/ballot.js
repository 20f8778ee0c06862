/**
 * Encrypted ballots, as votestore/crypto/ballot.py: per choice an encryption of 0 or 1 with a
 * 0/1 proof, per contest a proof that the number of selections lies in [min, max].
 *
 * Every proof's statement binds the constant domain, the election id, the voter's credential
 * public key (so a copied contest fails under another signer), the election key, the contest's
 * index and id, and the ciphertexts. The nonces live only inside `encryptBallot` unless the
 * caller passes `keepNonces` (cast-or-audit: an audited ballot reveals them and is never cast);
 * the Ballot message never holds them.
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import {
  BallotSchema,
  CiphertextSchema,
  EncryptedContestSchema,
  RangeProofSchema,
} from "../gen/proto/votestore/v1/election_pb.js";
import * as elgamal from "./elgamal.js";
import { DecodeError, L, decodePoint, mod, randomScalar } from "./group.js";
import { proveRange, rangeFromFields, rangeToFields, verifyRange } from "./proofs.js";

/** @typedef {import("../gen/proto/votestore/v1/election_pb.js").ElectionCreate} ElectionCreate */
/** @typedef {import("../gen/proto/votestore/v1/election_pb.js").Contest} Contest */
/** @typedef {import("../gen/proto/votestore/v1/election_pb.js").Ballot} Ballot */
/** @typedef {import("../gen/proto/votestore/v1/election_pb.js").EncryptedContest} EncryptedContest */
/** @typedef {import("./proofs.js").Draw} Draw */
/** @typedef {import("./transcript.js").Part} Part */
/** @typedef {import("./group.js").Element} Element */

export const SELECTION_DOMAIN = utf8ToBytes("votestore/v1/ballot/selection");
export const SUM_DOMAIN = utf8ToBytes("votestore/v1/ballot/contest-sum");
export const MAX_CHOICES_PER_CONTEST = 256;

/** A selection that breaks the contest's rules, or a definition the ballot cannot follow. */
export class BallotError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = "BallotError";
  }
}

/** @param {Contest} contest */
function checkContestDefinition(contest) {
  const n = contest.choices.length;
  if (!(1 <= n && n <= MAX_CHOICES_PER_CONTEST)) {
    throw new BallotError(`contest ${JSON.stringify(contest.id)}: ${n} choices outside 1..${MAX_CHOICES_PER_CONTEST}`);
  }
  if (!(contest.minSelections <= contest.maxSelections && contest.maxSelections <= n)) {
    throw new BallotError(`contest ${JSON.stringify(contest.id)}: need min <= max <= ${n} choices`);
  }
}

/**
 * @param {string} electionId
 * @param {Uint8Array} voter
 * @param {number} index
 * @param {string} contestId
 * @param {number} choice
 * @returns {Part[]}
 */
export function selectionContext(electionId, voter, index, contestId, choice) {
  return [electionId, voter, index, contestId, choice];
}

/**
 * @param {string} electionId
 * @param {Uint8Array} voter
 * @param {number} index
 * @param {string} contestId
 * @param {elgamal.Ciphertext[]} cts
 * @returns {Part[]}
 */
export function sumContext(electionId, voter, index, contestId, cts) {
  return [electionId, voter, index, contestId, ...cts.flatMap((ct) => [ct.alpha, ct.beta])];
}

/**
 * Encrypt the chosen choice indices of each contest (in definition order) under the election key.
 *
 * `draw` gives every random scalar (default: the platform CSPRNG); the tests pass a seeded one to
 * compare bytes with the Python code. With `keepNonces`, the result also carries each contest's
 * selection nonces, for an audit (Benaloh challenge) — never for a ballot that is cast.
 *
 * Throws BallotError if a selection breaks the rules, DecodeError if the key is not a valid point.
 * @param {string} electionId
 * @param {ElectionCreate} definition
 * @param {Uint8Array} electionKey
 * @param {number[][]} selections
 * @param {{voter?: Uint8Array, draw?: Draw, keepNonces?: boolean}} [opts]
 * @returns {{ballot: Ballot, nonces?: bigint[][]}}
 */
export function encryptBallot(electionId, definition, electionKey, selections, opts = {}) {
  const { voter = new Uint8Array(0), draw = randomScalar, keepNonces = false } = opts;
  const keyEl = decodePoint(electionKey);
  const key = keyEl.toBytes();
  if (selections.length !== definition.contests.length) {
    throw new BallotError(`${selections.length} selections for ${definition.contests.length} contests`);
  }
  const ballot = create(BallotSchema, { electionId });
  /** @type {bigint[][]} */
  const allNonces = [];
  definition.contests.forEach((contest, index) => {
    const { encrypted, nonces } = encryptContest(electionId, voter, key, keyEl, index, contest, selections[index], draw);
    ballot.contests.push(encrypted);
    allNonces.push(nonces);
  });
  return keepNonces ? { ballot, nonces: allNonces } : { ballot };
}

/**
 * @param {string} electionId
 * @param {Uint8Array} voter
 * @param {Uint8Array} key
 * @param {Element} keyEl
 * @param {number} index
 * @param {Contest} contest
 * @param {number[]} chosen
 * @param {Draw} draw
 * @returns {{encrypted: EncryptedContest, nonces: bigint[]}}
 */
function encryptContest(electionId, voter, key, keyEl, index, contest, chosen, draw) {
  checkContestDefinition(contest);
  const n = contest.choices.length;
  const picked = new Set(chosen);
  if (picked.size !== chosen.length || !chosen.every((c) => Number.isInteger(c) && 0 <= c && c < n)) {
    throw new BallotError(`contest ${JSON.stringify(contest.id)}: choices must be distinct indices in 0..${n - 1}`);
  }
  if (!(contest.minSelections <= picked.size && picked.size <= contest.maxSelections)) {
    throw new BallotError(
      `contest ${JSON.stringify(contest.id)}: ${picked.size} selections outside ` +
        `${contest.minSelections}..${contest.maxSelections}`,
    );
  }
  const out = create(EncryptedContestSchema, { contestId: contest.id });
  const nonces = Array.from({ length: n }, () => draw());
  /** @type {elgamal.Ciphertext[]} */
  const cts = [];
  nonces.forEach((nonce, choice) => {
    const value = picked.has(choice) ? 1 : 0;
    const ct = elgamal.encrypt(keyEl, value, nonce);
    const context = selectionContext(electionId, voter, index, contest.id, choice);
    const proof = proveRange(SELECTION_DOMAIN, context, key, keyEl, ct, nonce, value, 0, 1, draw);
    cts.push(ct);
    out.selections.push(create(CiphertextSchema, { alpha: ct.alpha, beta: ct.beta }));
    out.selectionProofs.push(create(RangeProofSchema, rangeToFields(proof)));
  });
  const totalNonce = mod(nonces.reduce((a, b) => a + b, 0n));
  if (totalNonce === 0n || totalNonce >= L) throw new Error("nonce sum zero: probability 2^-252");
  const context = sumContext(electionId, voter, index, contest.id, cts);
  const proof = proveRange(
    SUM_DOMAIN,
    context,
    key,
    keyEl,
    elgamal.sumAll(cts),
    totalNonce,
    picked.size,
    contest.minSelections,
    contest.maxSelections,
    draw,
  );
  out.sumProof = create(RangeProofSchema, rangeToFields(proof));
  return { encrypted: out, nonces };
}

/**
 * Throw BallotError(reason) unless the ballot is well formed and every proof holds, as
 * ballot.verify_ballot does: structure and decoding first (every point validated, every scalar
 * canonical), then the proofs. For checking a ballot in the browser (an audit, a receipt); the
 * validators' check stays the judge.
 * @param {string} electionId
 * @param {ElectionCreate} definition
 * @param {Uint8Array} electionKey
 * @param {Ballot} ballot
 * @param {{voter?: Uint8Array}} [opts]
 */
export function verifyBallot(electionId, definition, electionKey, ballot, opts = {}) {
  const { voter = new Uint8Array(0) } = opts;
  const keyEl = decodePoint(electionKey);
  const key = keyEl.toBytes();
  if (ballot.electionId !== electionId || definition.electionId !== electionId) {
    throw new BallotError("ballot is for another election");
  }
  if (ballot.contests.length !== definition.contests.length) {
    throw new BallotError(`${ballot.contests.length} contests, definition has ${definition.contests.length}`);
  }
  const decoded = definition.contests.map((contest, index) => decodeContest(index, contest, ballot.contests[index]));
  for (const d of decoded) {
    const cid = d.contest.id;
    d.cts.forEach((ct, choice) => {
      const context = selectionContext(electionId, voter, d.index, cid, choice);
      if (!verifyRange(SELECTION_DOMAIN, context, key, keyEl, ct, 0, 1, d.selectionProofs[choice])) {
        throw new BallotError(`contest ${JSON.stringify(cid)}: selection ${choice}: 0/1 proof fails`);
      }
    });
    const context = sumContext(electionId, voter, d.index, cid, d.cts);
    const { minSelections: lo, maxSelections: hi } = d.contest;
    if (!verifyRange(SUM_DOMAIN, context, key, keyEl, elgamal.sumAll(d.cts), lo, hi, d.sumProof)) {
      throw new BallotError(`contest ${JSON.stringify(cid)}: selection count proof fails`);
    }
  }
}

/**
 * @param {number} index
 * @param {Contest} contest
 * @param {EncryptedContest} enc
 */
function decodeContest(index, contest, enc) {
  checkContestDefinition(contest);
  const name = JSON.stringify(contest.id);
  if (enc.contestId !== contest.id) throw new BallotError(`contest ${index}: id ${JSON.stringify(enc.contestId)}, expected ${name}`);
  const n = contest.choices.length;
  if (enc.selections.length !== n || enc.selectionProofs.length !== n) {
    throw new BallotError(`contest ${name}: selections or proofs not one per choice (${n})`);
  }
  const width = contest.maxSelections - contest.minSelections + 1;
  const sum = enc.sumProof;
  if (!sum || sum.challenges.length !== width || sum.responses.length !== width) {
    throw new BallotError(`contest ${name}: sum proof needs ${width} challenges and responses`);
  }
  if (enc.selectionProofs.some((p) => p.challenges.length !== 2 || p.responses.length !== 2)) {
    throw new BallotError(`contest ${name}: a selection proof needs 2 challenges and responses`);
  }
  try {
    const cts = enc.selections.map((ct) =>
      elgamal.ciphertextOf(decodePoint(ct.alpha), decodePoint(ct.beta)),
    );
    return { index, contest, cts, selectionProofs: enc.selectionProofs.map(rangeFromFields), sumProof: rangeFromFields(sum) };
  } catch (e) {
    if (e instanceof DecodeError) throw new BallotError(`contest ${name}: ${e.message}`);
    throw e;
  }
}
