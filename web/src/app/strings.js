/**
 * Every word the voter page shows, in English and Korean: one table, so a missing translation is
 * a missing key in one place (strings.test.js checks both languages name the same keys).
 * `{name}` marks a value filled in by `t`.
 * @module
 */

export const LANGUAGES = /** @type {const} */ (["ko", "en"]);

/** @type {Record<string, Record<string, string>>} */
export const STRINGS = {
  en: {
    title: "Online voting",
    language: "한국어",
    loading: "Loading the election…",
    linkDamaged: "This voting link is damaged or incomplete. Open the link from your notice again, exactly as it was sent.",
    electionUnknown: "This election is not known to the voting service.",
    electionClosed: "This election is not open for voting now.",
    gatewayDown: "The voting service cannot be reached. Check your connection and reload the page.",
    identityHeading: "Confirm your identity",
    identityHelp: "Enter the identity check from your notice (for example your date of birth, 1980-05-17).",
    identityLabel: "Identity check",
    identityNext: "Continue to the ballot",
    identityEmpty: "Enter your identity check first.",
    identityWrong: "The identity check did not match. Nothing was cast. Enter it again.",
    identityLocked: "Too many failed identity checks. Try again later.",
    tooManyRequests: "The voting service is receiving too many requests right now. Nothing was cast. Wait a moment, then cast this ballot again.",
    ballotHeading: "Your ballot",
    contestHelp: "Choose {min} to {max}.",
    overVote: "You may choose at most {max} in “{contest}”.",
    underVote: "Choose at least {min} in “{contest}”.",
    encrypt: "Encrypt my ballot",
    encrypting: "Encrypting on this device…",
    reviewHeading: "Cast or audit",
    reviewHelp: "Your ballot is encrypted on this device. Its fingerprint is below. Cast it, or audit it to check the encryption (an audited ballot is never cast; you then make a fresh one).",
    fingerprint: "Ballot fingerprint",
    cast: "Cast this ballot",
    audit: "Audit this ballot",
    casting: "Casting…",
    auditHeading: "Audited ballot (not cast)",
    auditHelp: "This ballot will never be cast. Save the audit file and check it with a different program (votestore ballot audit FILE) on another device: it must show the choices below.",
    auditSave: "Save audit file",
    auditChoices: "Choices in this audited ballot",
    auditPublishing: "Publishing this audited ballot on the ledger…",
    auditPublished: "Published on the ledger (never to be counted): {code}",
    auditPublishFailed: "Could not publish this audited ballot on the ledger ({reason}); the saved file still checks it.",
    fresh: "Make a fresh ballot",
    castFailed: "The voting service did not answer. Your ballot may or may not have arrived. Retry sends the very same signed ballot again, so at most one ballot can count.",
    retry: "Retry the same ballot",
    refused: "The ballot was refused: {reason}",
    alreadyVoted: "A ballot with your credential was already cast; only the first counts.",
    receiptHeading: "Your receipt",
    trackingCode: "Tracking code",
    waiting: "Waiting for the ballot to be recorded…",
    receiptChecked: "Checked on this device: the ballot is in block {height}, certified by {signers} of {validators} election commission validators.",
    receiptPending: "The ballot is accepted; the receipt is not final yet. Keep the tracking code.",
    receiptBad: "The receipt did not check: {reason}",
    saveReceipt: "Save receipt",
  },
  ko: {
    title: "온라인 투표",
    language: "English",
    loading: "선거 정보를 불러오는 중…",
    linkDamaged: "투표 링크가 손상되었거나 일부가 빠졌습니다. 안내문의 링크를 받은 그대로 다시 여십시오.",
    electionUnknown: "투표 서비스에 없는 선거입니다.",
    electionClosed: "지금은 이 선거의 투표 기간이 아닙니다.",
    gatewayDown: "투표 서비스에 연결할 수 없습니다. 연결을 확인하고 페이지를 새로 고치십시오.",
    identityHeading: "본인 확인",
    identityHelp: "안내문에 있는 본인 확인 정보를 입력하십시오 (예: 생년월일 1980-05-17).",
    identityLabel: "본인 확인 정보",
    identityNext: "투표지로 이동",
    identityEmpty: "먼저 본인 확인 정보를 입력하십시오.",
    identityWrong: "본인 확인 정보가 일치하지 않습니다. 투표는 제출되지 않았습니다. 다시 입력하십시오.",
    identityLocked: "본인 확인에 너무 여러 번 실패했습니다. 나중에 다시 시도하십시오.",
    tooManyRequests: "지금 투표 서비스에 요청이 너무 많습니다. 투표는 제출되지 않았습니다. 잠시 기다린 뒤 이 투표지를 다시 제출하십시오.",
    ballotHeading: "투표지",
    contestHelp: "{min}개에서 {max}개까지 선택하십시오.",
    overVote: "“{contest}”에서는 최대 {max}개까지 선택할 수 있습니다.",
    underVote: "“{contest}”에서 최소 {min}개를 선택하십시오.",
    encrypt: "투표지 암호화",
    encrypting: "이 기기에서 암호화하는 중…",
    reviewHeading: "제출 또는 검증",
    reviewHelp: "투표지가 이 기기에서 암호화되었습니다. 아래는 그 지문입니다. 제출하거나, 암호화를 확인하려면 검증하십시오 (검증한 투표지는 제출되지 않으며, 새 투표지를 만듭니다).",
    fingerprint: "투표지 지문",
    cast: "이 투표지 제출",
    audit: "이 투표지 검증",
    casting: "제출하는 중…",
    auditHeading: "검증한 투표지 (제출되지 않음)",
    auditHelp: "이 투표지는 제출되지 않습니다. 검증 파일을 저장하여 다른 기기에서 다른 프로그램(votestore ballot audit FILE)으로 확인하십시오. 아래 선택과 같아야 합니다.",
    auditSave: "검증 파일 저장",
    auditChoices: "검증한 투표지의 선택",
    auditPublishing: "검증한 투표지를 원장에 공개하는 중…",
    auditPublished: "원장에 공개됨 (집계되지 않음): {code}",
    auditPublishFailed: "검증한 투표지를 원장에 공개하지 못했습니다 ({reason}). 저장한 파일로는 여전히 확인할 수 있습니다.",
    fresh: "새 투표지 만들기",
    castFailed: "투표 서비스가 응답하지 않았습니다. 투표지가 도착했을 수도, 아닐 수도 있습니다. 다시 시도하면 서명된 같은 투표지를 그대로 다시 보내므로 한 표만 집계됩니다.",
    retry: "같은 투표지 다시 보내기",
    refused: "투표지가 거부되었습니다: {reason}",
    alreadyVoted: "이 자격으로 이미 투표했습니다. 처음 투표만 집계됩니다.",
    receiptHeading: "투표 확인증",
    trackingCode: "추적 코드",
    waiting: "투표가 기록되기를 기다리는 중…",
    receiptChecked: "이 기기에서 확인함: 투표지가 블록 {height}에 있으며, 선거관리위원회 검증 노드 {validators}곳 중 {signers}곳이 인증했습니다.",
    receiptPending: "투표지가 접수되었으나 확인증이 아직 확정되지 않았습니다. 추적 코드를 보관하십시오.",
    receiptBad: "확인증 검사에 실패했습니다: {reason}",
    saveReceipt: "확인증 저장",
  },
};

/**
 * One string of a table like STRINGS (the public pages keep their own, web/src/public/strings.js),
 * its `{name}`s filled in; English when the language is not in the table.
 * @param {Record<string, Record<string, string>>} tables
 * @param {string} lang
 * @param {string} key
 * @param {Record<string, string | number>} [values]
 * @returns {string}
 */
export function translate(tables, lang, key, values = {}) {
  const table = tables[lang] ?? tables.en;
  const text = table[key];
  if (text === undefined) throw new Error(`no string ${key} for ${lang}`);
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? `{${name}}`));
}

/**
 * @param {string} lang
 * @param {string} key
 * @param {Record<string, string | number>} [values]
 * @returns {string}
 */
export function t(lang, key, values = {}) {
  return translate(STRINGS, lang, key, values);
}
