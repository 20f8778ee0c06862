/**
 * What the turnout and result pages show, computed from the gateway's answers apart from the
 * DOM so that node's test runner checks it: turnout by group with its share of the roll, and the
 * totals per choice labelled from the election definition. A result whose shape does not match
 * the definition (a contest or a count missing or extra) is refused, not shown half.
 * @module
 */

/** @typedef {import("../gen/proto/votestore/v1/gateway_pb.js").TurnoutResponse} TurnoutResponse */
/** @typedef {import("../gen/proto/votestore/v1/election_pb.js").ElectionCreate} ElectionCreate */
/** @typedef {import("../gen/proto/votestore/v1/election_pb.js").ElectionResult} ElectionResult */

export class ResultMismatch extends Error {}

/**
 * One decimal of a percentage; "—" for an empty roll.
 * @param {bigint} part
 * @param {bigint} whole
 */
export function percent(part, whole) {
  if (whole === 0n) return "—";
  const tenths = (part * 1000n + whole / 2n) / whole;
  return `${tenths / 10n}.${tenths % 10n}%`;
}

/**
 * @param {TurnoutResponse} answer
 * @returns {{height: string, ballots: string, rollSize: string, share: string,
 *   groups: {group: string, ballots: string, rollSize: string, share: string}[]}}
 */
export function turnoutView(answer) {
  const groups = [...answer.groups]
    .sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))
    .map((g) => ({ group: g.group, ballots: String(g.ballots), rollSize: String(g.rollSize), share: percent(g.ballots, g.rollSize) }));
  return {
    height: String(answer.height),
    ballots: String(answer.ballots),
    rollSize: String(answer.rollSize),
    share: percent(answer.ballots, answer.rollSize),
    groups,
  };
}

/**
 * @param {ElectionCreate} definition
 * @param {ElectionResult} result
 * @returns {{ballots: string, height: string, trustees: number[],
 *   contests: {id: string, title: string, rows: {id: string, label: string, count: string}[]}[]}}
 */
export function resultView(definition, result) {
  if (result.contests.length !== definition.contests.length) {
    throw new ResultMismatch(`${result.contests.length} contests counted, the definition has ${definition.contests.length}`);
  }
  const contests = definition.contests.map((contest, i) => {
    const counted = result.contests[i];
    if (counted.contestId !== contest.id) throw new ResultMismatch(`contest ${i} is ${counted.contestId}, not ${contest.id}`);
    if (counted.counts.length !== contest.choices.length) {
      throw new ResultMismatch(`${contest.id}: ${counted.counts.length} counts for ${contest.choices.length} choices`);
    }
    return {
      id: contest.id,
      title: contest.title || contest.id,
      rows: contest.choices.map((choice, k) => ({ id: choice.id, label: choice.label || choice.id, count: String(counted.counts[k]) })),
    };
  });
  return { ballots: String(result.ballotsCounted), height: String(result.tallyHeight), trustees: [...result.trustees], contests };
}

/**
 * The command anyone runs to check the count from the ledger alone (docs/verifier.md): every
 * node's blocks, every ballot's proofs and the trustees' decryption shares, against the genesis
 * this page offers for download, each node reached over TLS checked against the validators' CA
 * bundle (`votestore keys tls bundle`, published by the election commission).
 */
export const VERIFY_COMMAND = "votestore verify --genesis genesis.json --validator-cas validators-ca.pem";
