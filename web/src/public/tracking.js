/**
 * The tracking-code page's judgement: a pasted tracking code is read strictly (64 hex digits,
 * spaces and line breaks a mail program or a printout adds are dropped), and the gateway's
 * GetReceipt answer is believed only after the same check as `votestore receipt check`
 * (web/src/app/receipt.js, imported, not copied) against the genesis the page was served with:
 * the gateway is not trusted to say "included".
 * @module
 */
import { hexToBytes } from "@noble/hashes/utils.js";
import { ReceiptStatus } from "../gen/proto/votestore/v1/gateway_pb.js";
import { ProofInvalid, checkReceipt } from "../app/receipt.js";

/** @typedef {import("../app/receipt.js").Genesis} Genesis */
/** @typedef {import("../gen/proto/votestore/v1/gateway_pb.js").ReceiptResponse} ReceiptResponse */

export const TRACKING_CODE_BYTES = 32;
/** Longer pastes are refused before any work: a code with spacing is well under this. */
export const MAX_PASTE_CHARS = 256;

export class TrackingCodeDamaged extends Error {}

/**
 * @param {string} text what the visitor pasted
 * @returns {Uint8Array} the 32-byte tracking code
 */
export function parseTrackingCode(text) {
  if (text.length > MAX_PASTE_CHARS) throw new TrackingCodeDamaged("too long");
  const hex = text.replace(/[\s-]/g, "");
  if (hex.length === 0) throw new TrackingCodeDamaged("empty");
  if (!/^[0-9a-fA-F]*$/.test(hex)) throw new TrackingCodeDamaged("not hexadecimal");
  if (hex.length !== 2 * TRACKING_CODE_BYTES) {
    throw new TrackingCodeDamaged(`${hex.length} hex digits, not ${2 * TRACKING_CODE_BYTES}`);
  }
  return hexToBytes(hex.toLowerCase());
}

/**
 * What the page says about one tracking code:
 * - `included`: committed, and the receipt checked here (height, signers of validators);
 * - `unknown`: no validator holds it; `pending`: accepted, not yet in a block;
 * - `rejected`: in a block with a refusal (`detail` says why);
 * - `otherElection`: included, but in another election than the one picked;
 * - `bad`: the gateway says committed but the receipt does not check (`reason`).
 * @typedef {{kind: "included", height: string, signers: number, validators: number}
 *   | {kind: "unknown"} | {kind: "pending"} | {kind: "rejected", detail: string}
 *   | {kind: "otherElection", election: string} | {kind: "bad", reason: string}} Verdict
 */

/**
 * @param {Genesis} genesis
 * @param {string} electionId the election the visitor picked
 * @param {Uint8Array} code
 * @param {ReceiptResponse} answer GetReceipt's
 * @returns {Verdict}
 */
export function judge(genesis, electionId, code, answer) {
  switch (answer.status) {
    case ReceiptStatus.PENDING:
      return { kind: "pending" };
    case ReceiptStatus.REJECTED:
      return { kind: "rejected", detail: answer.result?.detail ?? "" };
    case ReceiptStatus.COMMITTED:
      break;
    default:
      return { kind: "unknown" };
  }
  if (!answer.receipt) return { kind: "bad", reason: "the service said committed but sent no receipt" };
  let checked;
  try {
    checked = checkReceipt(genesis, answer.receipt, code);
  } catch (err) {
    if (err instanceof ProofInvalid) return { kind: "bad", reason: err.message };
    throw err;
  }
  // checkReceipt holds the committed ballot to receipt.electionId when it is set; the gateway
  // always sets it, and an empty one is not taken as "any election".
  if (answer.receipt.electionId !== electionId) {
    return answer.receipt.electionId
      ? { kind: "otherElection", election: answer.receipt.electionId }
      : { kind: "bad", reason: "the receipt names no election" };
  }
  return { kind: "included", height: checked.height, signers: checked.signers, validators: checked.validators };
}
