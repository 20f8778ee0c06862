/**
 * Attest's RESOURCE_EXHAUSTED means one of two things, which the voter must be told apart: the
 * identity provider's failure limit (this voter key has spent its failed identity checks: stop,
 * try hours later) or a request-rate limit (the provider's or the gateway's, per client: wait a
 * moment and cast the same ballot again). gRPC gives both one status and no details, so they are
 * told apart by the provider's message, whose opening words are pinned to the Python constant
 * gateway.attest.FAILED_CHECKS_REFUSAL by tests/web/test_attest_status.py. Anything else that is
 * RESOURCE_EXHAUSTED is taken as a rate limit: the ballot is kept and nothing is lost by a retry
 * (a locked voter gets the failure limit's message again).
 * @module
 */

export const FAILED_CHECKS_MARK = "too many failed identity checks";

/**
 * @param {string} message the status message as it came (ConnectError.rawMessage)
 * @returns {"failures" | "rate"}
 */
export function exhaustedBy(message) {
  return message.startsWith(FAILED_CHECKS_MARK) ? "failures" : "rate";
}
