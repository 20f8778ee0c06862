/**
 * Every word the public pages (tracking code, turnout, result) show, in English and Korean: one
 * table, the voter page's approach (web/src/app/strings.js, whose `translate` fills it in);
 * test/public.test.js holds the two languages to the same keys and placeholders.
 * @module
 */
import { translate } from "../app/strings.js";

/** @type {Record<string, Record<string, string>>} */
export const PUBLIC_STRINGS = {
  en: {
    title: "Election results and ballot tracking",
    language: "한국어",
    navTrack: "Track a ballot",
    navTurnout: "Turnout",
    navResult: "Result",
    electionLabel: "Election",
    showElection: "Show",
    electionEmpty: "Enter the election's id first.",
    electionUnknown: "This election is not known to the voting service.",
    gatewayDown: "The voting service cannot be reached. Check your connection and try again.",
    loading: "Loading…",
    trackHeading: "Track a ballot",
    trackHelp: "Paste the tracking code from a receipt. This page asks the voting service for the ballot's receipt and checks its certificate itself, against the election commission's validators.",
    codeLabel: "Tracking code",
    check: "Check",
    codeDamaged: "This tracking code is damaged: a tracking code is 64 letters and digits (0–9, a–f). Copy it again from the receipt.",
    included: "Included at height {height}, certificate checked: {signers} of {validators} validators signed the block.",
    unknown: "No ballot with this tracking code is known. Check the code; a ballot cast moments ago may take a few seconds to arrive.",
    pending: "The ballot was accepted and is not in a block yet. Check again in a few seconds.",
    rejected: "A ballot with this tracking code was recorded and refused: {detail}",
    otherElection: "This ballot is in another election ({election}), not in the one picked.",
    bad: "The certificate does not check: {reason}. Do not trust this answer; report it to the election commission.",
    turnoutHeading: "Turnout",
    turnoutTotal: "{ballots} of {roll} voters have voted ({share}).",
    turnoutAt: "At block {height}; refreshed every {seconds} seconds.",
    turnoutStopped: "Automatic refresh stopped. Reload the page to see newer figures.",
    turnoutRetrying: "The voting service did not answer; trying again in {seconds} seconds.",
    groupColumn: "Group",
    ballotsColumn: "Ballots",
    rollColumn: "Voters",
    shareColumn: "Turnout",
    noGroup: "(no group)",
    resultHeading: "Result",
    resultNotYet: "The count is not done yet; the result appears here once the trustees have counted.",
    resultBallots: "{ballots} ballots counted (block {height}).",
    choiceColumn: "Choice",
    countColumn: "Votes",
    resultBad: "The result does not match the election's definition: {reason}",
    print: "Print",
    verifyHeading: "Check these totals yourself",
    verifyHelp: "Anyone can recompute the count from the ledger, with the genesis file below and the validators' CA bundle the election commission publishes; it exits 0 only if every ballot's proofs, the trustees' decryption and these totals check:",
    genesisLink: "genesis.json",
  },
  ko: {
    title: "선거 결과와 투표지 추적",
    language: "English",
    navTrack: "투표지 추적",
    navTurnout: "투표율",
    navResult: "결과",
    electionLabel: "선거",
    showElection: "보기",
    electionEmpty: "먼저 선거 ID를 입력하십시오.",
    electionUnknown: "투표 서비스에 없는 선거입니다.",
    gatewayDown: "투표 서비스에 연결할 수 없습니다. 연결을 확인하고 다시 시도하십시오.",
    loading: "불러오는 중…",
    trackHeading: "투표지 추적",
    trackHelp: "확인증의 추적 코드를 붙여 넣으십시오. 이 페이지가 투표 서비스에 투표지의 확인증을 요청하고, 그 인증을 선거관리위원회 검증 노드에 대해 직접 확인합니다.",
    codeLabel: "추적 코드",
    check: "확인",
    codeDamaged: "추적 코드가 손상되었습니다. 추적 코드는 64자의 영문자와 숫자(0–9, a–f)입니다. 확인증에서 다시 복사하십시오.",
    included: "블록 높이 {height}에 포함됨, 인증 확인함: 검증 노드 {validators}곳 중 {signers}곳이 블록에 서명했습니다.",
    unknown: "이 추적 코드의 투표지가 없습니다. 코드를 확인하십시오. 방금 제출한 투표지는 도착하는 데 몇 초 걸릴 수 있습니다.",
    pending: "투표지가 접수되었으나 아직 블록에 없습니다. 몇 초 뒤에 다시 확인하십시오.",
    rejected: "이 추적 코드의 투표지는 기록되었으나 거부되었습니다: {detail}",
    otherElection: "이 투표지는 선택한 선거가 아닌 다른 선거({election})에 있습니다.",
    bad: "인증이 확인되지 않습니다: {reason}. 이 응답을 믿지 말고 선거관리위원회에 알리십시오.",
    turnoutHeading: "투표율",
    turnoutTotal: "유권자 {roll}명 중 {ballots}명이 투표했습니다 ({share}).",
    turnoutAt: "블록 {height} 기준, {seconds}초마다 새로 고침.",
    turnoutStopped: "자동 새로 고침이 멈췄습니다. 최신 수치를 보려면 페이지를 새로 고치십시오.",
    turnoutRetrying: "투표 서비스가 응답하지 않았습니다. {seconds}초 뒤에 다시 시도합니다.",
    groupColumn: "그룹",
    ballotsColumn: "투표수",
    rollColumn: "유권자 수",
    shareColumn: "투표율",
    noGroup: "(그룹 없음)",
    resultHeading: "결과",
    resultNotYet: "아직 개표가 끝나지 않았습니다. 검증인(트러스티)이 개표하면 여기에 결과가 나옵니다.",
    resultBallots: "투표지 {ballots}장 집계 (블록 {height}).",
    choiceColumn: "후보",
    countColumn: "득표수",
    resultBad: "결과가 선거 정의와 맞지 않습니다: {reason}",
    print: "인쇄",
    verifyHeading: "이 집계를 직접 확인하기",
    verifyHelp: "누구나 아래의 genesis 파일과 선거관리위원회가 공개한 검증 노드 CA 묶음으로 원장에서 집계를 다시 계산할 수 있습니다. 모든 투표지의 증명, 검증인의 복호화, 이 집계가 맞을 때만 0으로 끝납니다:",
    genesisLink: "genesis.json",
  },
};

/**
 * @param {string} lang
 * @param {string} key
 * @param {Record<string, string | number>} [values]
 */
export function pt(lang, key, values = {}) {
  return translate(PUBLIC_STRINGS, lang, key, values);
}
