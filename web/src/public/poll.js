/**
 * The turnout page's refresh: one call at a time, the next only after the last has answered and
 * `everyMs` has passed (never a tight loop, never overlapping calls), a failing service asked at
 * a doubling interval up to `maxBackoffMs`, and at most `maxPolls` calls in all, after which the
 * page says the refresh stopped (a tab left open for days does not poll for days).
 * The clock is injected so that node's test runner drives it.
 * @module
 */

export const TURNOUT_REFRESH_MS = 5_000;
export const TURNOUT_MAX_BACKOFF_MS = 60_000;
/** About two hours at the normal pace. */
export const TURNOUT_MAX_POLLS = 1_440;

/**
 * @typedef {{
 *   everyMs: number, maxBackoffMs: number, maxPolls: number,
 *   setTimer: (fn: () => void, ms: number) => unknown, clearTimer: (handle: unknown) => void,
 * }} PollOptions
 */

/**
 * Call `fetchOnce` now, then again and again as above. `onAnswer(value)` after a success,
 * `onError(err, retryMs)` after a failure, `onStopped()` once the budget is spent.
 * @template T
 * @param {() => Promise<T>} fetchOnce
 * @param {{onAnswer: (value: T) => void, onError: (err: unknown, retryMs: number) => void, onStopped: () => void}} handlers
 * @param {PollOptions} options
 * @returns {{stop: () => void, polls: () => number}}
 */
export function poll(fetchOnce, handlers, options) {
  let polls = 0;
  let delayMs = options.everyMs;
  let stopped = false;
  /** @type {unknown} */
  let timer = null;

  const next = async () => {
    timer = null;
    if (stopped) return;
    if (polls >= options.maxPolls) {
      stopped = true;
      handlers.onStopped();
      return;
    }
    polls += 1;
    try {
      const value = await fetchOnce();
      if (stopped) return;
      delayMs = options.everyMs;
      handlers.onAnswer(value);
    } catch (err) {
      if (stopped) return;
      delayMs = Math.min(delayMs * 2, options.maxBackoffMs);
      handlers.onError(err, delayMs);
    }
    if (!stopped) timer = options.setTimer(next, delayMs);
  };
  next();
  return {
    stop() {
      stopped = true;
      if (timer !== null) options.clearTimer(timer);
      timer = null;
    },
    polls: () => polls,
  };
}
