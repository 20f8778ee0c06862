/**
 * The receipt check in the browser, the same check as `votestore receipt check`
 * (votestore/client/receipts.py's check_receipt -> votestore/receipts.py's verify_tx_proof ->
 * votestore/certificate.py's check_precommits), against the genesis validators alone: the
 * tracking code is the transaction's hash, the transaction is on the Merkle path to the block's
 * transaction root, and more than two thirds of the distinct genesis validators signed PRECOMMIT
 * for the block id (SHA-256 of the canonical header) at its height. When the next block is
 * included, the result's path and that block's certificate are checked the same way. Vectors made
 * by the Python code check this module (test/receipt.test.js), and the browser test checks a
 * receipt the page got from a live cluster with Python (tests/web/browser).
 * @module
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { fromBinary } from "@bufbuild/protobuf";
import { SignedTxSchema, TxResultSchema, TxSchema } from "../gen/proto/votestore/v1/election_pb.js";
import { BlockHeaderSchema, VoteType } from "../gen/proto/votestore/v1/ledger_pb.js";
import { equalBytes } from "../crypto/group.js";

/** @typedef {import("../gen/proto/votestore/v1/ledger_pb.js").Receipt} Receipt */
/** @typedef {import("../gen/proto/votestore/v1/ledger_pb.js").CommitCertificate} CommitCertificate */
/** @typedef {{chainId: string, validatorKeys: Uint8Array[]}} Genesis */

export const VOTE_DOMAIN = utf8ToBytes("votestore/v1/vote\x00");
export const BLOCK_ID_BYTES = 32;
export const MAX_CHAIN_ID_BYTES = 64;
const MAX_HEIGHT = 2n ** 64n - 1n;
const MAX_ROUND = 2 ** 31 - 1;
const LEAF = new Uint8Array([0]);
const INNER = new Uint8Array([1]);

export class ProofInvalid extends Error {}

/**
 * The genesis file's chain id and validator keys (what the check needs of it).
 * @param {string} text
 * @returns {Genesis}
 */
export function parseGenesis(text) {
  const document = JSON.parse(text);
  if (typeof document?.chain_id !== "string" || !Array.isArray(document.validators)) {
    throw new ProofInvalid("genesis has no chain_id or validators");
  }
  const validatorKeys = document.validators.map((/** @type {any} */ v, /** @type {number} */ i) => {
    if (v.index !== i || !/^[0-9a-f]{64}$/.test(v.public_key)) throw new ProofInvalid(`genesis validator ${i} malformed`);
    return hexToBytes(v.public_key);
  });
  return { chainId: document.chain_id, validatorKeys };
}

/** genesis.quorum: more than two thirds. */
export function quorum(/** @type {number} */ n) {
  return Math.floor((2 * n) / 3) + 1;
}

/** @param {string} chainId */
function chainBytes(chainId) {
  const raw = utf8ToBytes(chainId);
  if (raw.length === 0 || raw.length > MAX_CHAIN_ID_BYTES) throw new ProofInvalid("chain id length out of range");
  return concatBytes(new Uint8Array([raw.length >> 8, raw.length & 0xff]), raw);
}

/**
 * encoding.vote_signing_bytes for a PRECOMMIT.
 * @param {string} chainId
 * @param {bigint} height
 * @param {number} round
 * @param {number} validator
 * @param {Uint8Array} blockId
 */
export function precommitBytes(chainId, height, round, validator, blockId) {
  const fixed = new Uint8Array(1 + 8 + 4 + 4);
  const view = new DataView(fixed.buffer);
  view.setUint8(0, VoteType.PRECOMMIT);
  view.setBigUint64(1, height);
  view.setUint32(9, round);
  view.setUint32(13, validator);
  return concatBytes(VOTE_DOMAIN, chainBytes(chainId), fixed, new Uint8Array([blockId.length]), blockId);
}

/**
 * certificate.verify_certificate: throw ProofInvalid naming the first thing wrong.
 * @param {Genesis} genesis
 * @param {CommitCertificate | undefined} certificate
 * @param {Uint8Array} blockId
 * @param {bigint} height
 * @returns {number} how many validators signed
 */
export function verifyCertificate(genesis, certificate, blockId, height) {
  if (!certificate) throw new ProofInvalid("no certificate");
  if (!equalBytes(certificate.blockId, blockId)) throw new ProofInvalid("certificate is for another block");
  if (certificate.height !== height) throw new ProofInvalid(`certificate is for height ${certificate.height}, not ${height}`);
  if (!(1n <= certificate.height && certificate.height <= MAX_HEIGHT)) throw new ProofInvalid("certificate height out of range");
  if (!(0 <= certificate.round && certificate.round <= MAX_ROUND)) throw new ProofInvalid("certificate round out of range");
  if (certificate.blockId.length !== BLOCK_ID_BYTES) throw new ProofInvalid(`certificate block id must be ${BLOCK_ID_BYTES} bytes`);
  const keys = genesis.validatorKeys;
  const signers = new Set();
  for (const entry of certificate.signatures) {
    const v = entry.validator;
    if (!(0 <= v && v < keys.length)) throw new ProofInvalid(`signer ${v} is not a genesis validator`);
    if (signers.has(v)) throw new ProofInvalid(`validator ${v} counted twice`);
    const message = precommitBytes(genesis.chainId, certificate.height, certificate.round, v, certificate.blockId);
    let good = false;
    try {
      good = ed25519.verify(entry.signature, message, keys[v]);
    } catch {
      good = false;
    }
    if (!good) throw new ProofInvalid(`bad precommit signature from validator ${v}`);
    signers.add(v);
  }
  const needed = quorum(keys.length);
  if (signers.size < needed) throw new ProofInvalid(`${signers.size} precommits, ${needed} needed`);
  return signers.size;
}

/** @param {number} n */
function split(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * hashing.verify_merkle_path (RFC 6962 tree).
 * @param {Uint8Array} item
 * @param {number} index
 * @param {number} size
 * @param {Uint8Array[]} path
 * @param {Uint8Array} root
 */
export function verifyMerklePath(item, index, size, path, root) {
  if (!(0 <= index && index < size)) return false;
  /** @returns {[Uint8Array, Uint8Array[] | null]} */
  const climb = (/** @type {Uint8Array} */ node, /** @type {number} */ i, /** @type {number} */ n, /** @type {Uint8Array[]} */ rest) => {
    if (n === 1) return [node, rest];
    const k = split(n);
    const [sub, left] = i < k ? climb(node, i, k, rest) : climb(node, i - k, n - k, rest);
    if (!left || left.length === 0) return [new Uint8Array(0), null];
    const joined = i < k ? concatBytes(INNER, sub, left[0]) : concatBytes(INNER, left[0], sub);
    return [sha256(joined), left.slice(1)];
  };
  const [node, rest] = climb(sha256(concatBytes(LEAF, item)), index, size, path);
  return rest !== null && rest.length === 0 && equalBytes(node, root);
}

/** encoding.block_id: SHA-256 of the canonical header. */
export function blockId(/** @type {any} */ header) {
  return sha256(toBinary(BlockHeaderSchema, header));
}

/**
 * client.receipts.check_receipt: throw ProofInvalid unless the receipt proves its ballot was
 * committed on this genesis's chain (and, with the next block, its result certified).
 * @param {Genesis} genesis
 * @param {Receipt} receipt
 * @param {Uint8Array} [expected] the tracking code the page cast, when it knows it
 * @returns {{height: string, signers: number, validators: number, result: boolean}}
 */
export function checkReceipt(genesis, receipt, expected) {
  const proof = receipt.proof;
  if (!proof) throw new ProofInvalid("receipt holds no proof");
  if (!equalBytes(receipt.trackingCode, proof.txHash)) throw new ProofInvalid("tracking code does not match the proof");
  if (expected && !equalBytes(expected, receipt.trackingCode)) throw new ProofInvalid("receipt is for another ballot");
  const header = proof.header;
  if (!header) throw new ProofInvalid("receipt holds no committed block (ballot still pending?)");
  if (!equalBytes(sha256(proof.tx), proof.txHash)) throw new ProofInvalid("tracking code does not match the transaction bytes");
  if (header.chainId !== genesis.chainId) {
    throw new ProofInvalid(`proof is for chain '${header.chainId}', not '${genesis.chainId}'`);
  }
  if (!verifyMerklePath(proof.tx, proof.index, proof.txCount, proof.merklePath, header.txRoot)) {
    throw new ProofInvalid("transaction is not in the block's Merkle tree");
  }
  const id = blockId(header);
  let signers;
  try {
    signers = verifyCertificate(genesis, proof.certificate, id, header.height);
  } catch (err) {
    throw new ProofInvalid(`block certificate: ${/** @type {Error} */ (err).message}`);
  }
  const following = proof.nextHeader;
  if (following) {
    if (following.height !== header.height + 1n || !equalBytes(following.prevBlockHash, id)) {
      throw new ProofInvalid("next header does not follow the transaction's block");
    }
    const result = toBinary(TxResultSchema, proof.result ?? create(TxResultSchema));
    if (!verifyMerklePath(result, proof.index, proof.txCount, proof.resultPath, following.resultsHash)) {
      throw new ProofInvalid("result is not in the next header's results root");
    }
    try {
      verifyCertificate(genesis, proof.nextCertificate, blockId(following), following.height);
    } catch (err) {
      throw new ProofInvalid(`next block certificate: ${/** @type {Error} */ (err).message}`);
    }
  }
  const ballot = committedBallot(proof.tx);
  if (receipt.electionId && ballot.electionId !== receipt.electionId) {
    throw new ProofInvalid("the ballot is for another election than the receipt says");
  }
  return { height: String(header.height), signers, validators: genesis.validatorKeys.length, result: Boolean(following) };
}

/**
 * encoding.decode_signed_tx's verdict on the committed bytes, for a receipt: envelope and body
 * in their one canonical encoding, key and signature sizes, and a Ballot inside.
 * @param {Uint8Array} raw
 */
function committedBallot(raw) {
  let envelope;
  let tx;
  try {
    envelope = fromBinary(SignedTxSchema, raw, { readUnknownFields: false });
    tx = fromBinary(TxSchema, envelope.body, { readUnknownFields: false });
  } catch (err) {
    throw new ProofInvalid(`the committed transaction does not decode: ${/** @type {Error} */ (err).message}`);
  }
  if (!equalBytes(toBinary(SignedTxSchema, envelope), raw) || !equalBytes(toBinary(TxSchema, tx), envelope.body)) {
    throw new ProofInvalid("the committed transaction does not decode: not in canonical form");
  }
  if (envelope.signer.length !== 32 || envelope.signature.length !== 64) {
    throw new ProofInvalid("the committed transaction does not decode: signer or signature size");
  }
  if (tx.kind.case !== "ballot") throw new ProofInvalid("the committed transaction is not a ballot");
  return tx.kind.value;
}
