/**
 * The public pages: anyone (no link, no secret) tracks a ballot by its tracking code, follows the
 * turnout by group while the election is open, and reads the result after the count, with a
 * printable view and the command that checks it. Views: `public.html?view=track|turnout|result
 * &e=<election id>`. The gateway is reached over gRPC-Web as the voter page reaches it
 * (web/src/app/gateway.js); a receipt is believed only after the check in this browser against
 * `genesis.json` (tracking.js).
 * @module
 */
import { ConnectError, Code } from "@connectrpc/connect";
import { Phase } from "../gen/proto/votestore/v1/election_pb.js";
import { el, message } from "../app/dom.js";
import { connect } from "../app/gateway.js";
import { parseGenesis } from "../app/receipt.js";
import { TURNOUT_MAX_BACKOFF_MS, TURNOUT_MAX_POLLS, TURNOUT_REFRESH_MS, poll } from "./poll.js";
import { PUBLIC_STRINGS, pt } from "./strings.js";
import { ResultMismatch, VERIFY_COMMAND, resultView, turnoutView } from "./tally.js";
import { TrackingCodeDamaged, judge, parseTrackingCode } from "./tracking.js";

const VIEWS = /** @type {const} */ (["track", "turnout", "result"]);
/** @typedef {typeof VIEWS[number]} View */

const params = new URLSearchParams(location.search);
const state = {
  lang: navigator.language?.startsWith("ko") ? "ko" : "en",
  /** @type {View} */
  view: /** @type {View} */ (VIEWS.find((v) => v === params.get("view")) ?? "track"),
  electionId: params.get("e") ?? "",
  /** @type {ReturnType<typeof connect> | null} */
  clients: null,
  /** @type {import("../app/receipt.js").Genesis | null} */
  genesis: null,
  /** @type {{stop: () => void} | null} */
  poller: null,
  /** @type {() => void} */
  render: () => {},
};

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const tr = (/** @type {string} */ key, /** @type {Record<string, string|number>} */ values = {}) => pt(state.lang, key, values);

function show(/** @type {string} */ step, /** @type {(Node|string)[]} */ children) {
  const main = $("main");
  main.replaceChildren(...children);
  main.dataset.step = step;
}

function clients() {
  return /** @type {ReturnType<typeof connect>} */ (state.clients);
}

/** The service's "no such election" apart from "cannot reach the service". */
function trouble(/** @type {unknown} */ err) {
  if (err instanceof ConnectError && err.code === Code.NotFound) return tr("electionUnknown");
  console.error(`public page: ${err}`);
  return tr("gatewayDown");
}

function go(/** @type {View} */ view) {
  state.poller?.stop();
  state.poller = null;
  state.view = view;
  const query = new URLSearchParams({ view, ...(state.electionId ? { e: state.electionId } : {}) });
  history.replaceState(null, "", `${location.pathname}?${query}`);
  renderChrome();
  ({ track: trackView, turnout: turnoutPage, result: resultPage })[view]();
}

function renderChrome() {
  document.documentElement.lang = state.lang;
  document.title = tr("title");
  $("title").textContent = tr("title");
  $("lang").textContent = tr("language");
  const nav = $("views");
  nav.replaceChildren(
    ...VIEWS.map((view) => {
      const key = { track: "navTrack", turnout: "navTurnout", result: "navResult" }[view];
      const button = el("button", { type: "button", id: `nav-${view}`, class: view === state.view ? "" : "secondary" }, [tr(key)]);
      if (view === state.view) button.setAttribute("aria-current", "page");
      button.addEventListener("click", () => go(view));
      return button;
    }),
  );
  const input = /** @type {HTMLInputElement} */ ($("election"));
  $("election-label").textContent = tr("electionLabel");
  $("election-go").textContent = tr("showElection");
  input.value = state.electionId;
}

/** The election picked, or a message saying one is needed. */
function picked() {
  state.electionId = /** @type {HTMLInputElement} */ ($("election")).value.trim();
  return state.electionId;
}

function trackView(/** @type {Node[]} */ verdict = []) {
  state.render = () => {
    const input = /** @type {HTMLInputElement} */ (
      el("input", { id: "code", name: "code", autocomplete: "off", spellcheck: "false", required: "", maxlength: "256" })
    );
    const form = el("form", { id: "track-form" }, [
      el("label", { for: "code" }, [tr("codeLabel")]),
      input,
      el("button", { type: "submit", id: "check" }, [tr("check")]),
    ]);
    const out = el("div", { id: "verdict", "aria-live": "polite" }, verdict);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      checkCode(input.value, out);
    });
    show("track", [el("h2", {}, [tr("trackHeading")]), el("p", {}, [tr("trackHelp")]), form, out]);
  };
  state.render();
}

async function checkCode(/** @type {string} */ text, /** @type {HTMLElement} */ out) {
  const say = (/** @type {string} */ verdict, /** @type {string} */ words, kind = "error") => {
    const line = message(words, kind);
    line.dataset.verdict = verdict;
    out.replaceChildren(line);
  };
  let code;
  try {
    code = parseTrackingCode(text);
  } catch (err) {
    if (err instanceof TrackingCodeDamaged) return say("damaged", tr("codeDamaged"));
    throw err;
  }
  const electionId = picked();
  if (!electionId) return say("election", tr("electionEmpty"));
  out.replaceChildren(message(tr("loading"), "status"));
  let answer;
  try {
    answer = await clients().gateway.getReceipt({ trackingCode: code });
  } catch (err) {
    return say("down", trouble(err));
  }
  const verdict = judge(/** @type {any} */ (state.genesis), electionId, code, answer);
  switch (verdict.kind) {
    case "included":
      return say("included", tr("included", verdict), "ok");
    case "unknown":
    case "pending":
      return say(verdict.kind, tr(verdict.kind), "status");
    case "rejected":
      return say("rejected", tr("rejected", { detail: verdict.detail }));
    case "otherElection":
      return say("otherElection", tr("otherElection", { election: verdict.election }));
    case "bad":
      return say("bad", tr("bad", { reason: verdict.reason }));
  }
}

function turnoutPage() {
  const electionId = picked();
  const heading = () => el("h2", {}, [tr("turnoutHeading")]);
  if (!electionId) {
    state.render = () => show("turnout", [heading(), message(tr("electionEmpty"))]);
    return state.render();
  }
  /** @type {Node[]} */
  let body = [message(tr("loading"), "status")];
  state.render = () => show("turnout", [heading(), ...body]);
  state.render();
  const poller = poll(
    () => clients().gateway.getTurnout({ electionId }),
    {
      onAnswer(answer) {
        const view = turnoutView(answer);
        const rows = view.groups.map((g) =>
          el("tr", { "data-group": g.group }, [
            el("th", { scope: "row" }, [g.group || tr("noGroup")]),
            el("td", { "data-cell": "ballots" }, [g.ballots]),
            el("td", {}, [g.rollSize]),
            el("td", {}, [g.share]),
          ]),
        );
        body = [
          el("p", { id: "turnout-total", "data-ballots": view.ballots }, [
            tr("turnoutTotal", { ballots: view.ballots, roll: view.rollSize, share: view.share }),
          ]),
          el("table", { id: "turnout-groups" }, [
            el("thead", {}, [el("tr", {}, [
              el("th", { scope: "col" }, [tr("groupColumn")]),
              el("th", { scope: "col" }, [tr("ballotsColumn")]),
              el("th", { scope: "col" }, [tr("rollColumn")]),
              el("th", { scope: "col" }, [tr("shareColumn")]),
            ])]),
            el("tbody", {}, rows),
          ]),
          el("p", { class: "help", id: "turnout-at", "data-height": view.height }, [
            tr("turnoutAt", { height: view.height, seconds: TURNOUT_REFRESH_MS / 1000 }),
          ]),
        ];
        state.render();
      },
      onError(err, retryMs) {
        if (err instanceof ConnectError && err.code === Code.NotFound) {
          poller.stop();
          body = [message(tr("electionUnknown"))];
        } else {
          body = [...body.filter((n) => !(n instanceof HTMLElement && n.dataset.message === "error")),
            message(tr("turnoutRetrying", { seconds: Math.round(retryMs / 1000) }))];
        }
        state.render();
      },
      onStopped() {
        body = [...body, message(tr("turnoutStopped"), "status")];
        state.render();
      },
    },
    {
      everyMs: TURNOUT_REFRESH_MS,
      maxBackoffMs: TURNOUT_MAX_BACKOFF_MS,
      maxPolls: TURNOUT_MAX_POLLS,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (handle) => clearTimeout(/** @type {number} */ (handle)),
    },
  );
  state.poller = poller;
}

async function resultPage() {
  const electionId = picked();
  const heading = () => el("h2", {}, [tr("resultHeading")]);
  /** @type {() => Node[]} */
  let body = () => [message(tr("loading"), "status")];
  state.render = () => show("result", [heading(), ...body()]);
  if (!electionId) body = () => [message(tr("electionEmpty"))];
  state.render();
  if (!electionId) return;
  let info;
  let answer;
  try {
    info = await clients().gateway.getElection({ electionId });
    answer = await clients().gateway.getResult({ electionId });
  } catch (err) {
    if (state.view !== "result") return; // the visitor moved on; this answer is not shown
    body = () => [message(trouble(err))];
    return state.render();
  }
  if (state.view !== "result") return;
  const definition = info.state?.definition;
  if (answer.phase !== Phase.COUNTED || !answer.result || !definition) {
    body = () => [message(tr("resultNotYet"), "status")];
    return state.render();
  }
  let view;
  try {
    view = resultView(definition, answer.result);
  } catch (err) {
    if (!(err instanceof ResultMismatch)) throw err;
    body = () => [message(tr("resultBad", { reason: err.message }))];
    return state.render();
  }
  const counted = view;
  body = () => {
    const printButton = el("button", { type: "button", id: "print", class: "no-print" }, [tr("print")]);
    printButton.addEventListener("click", () => window.print());
    return [
      el("h3", { id: "result-title" }, [definition.title || electionId]),
      el("p", { id: "result-ballots", "data-ballots": counted.ballots }, [
        tr("resultBallots", { ballots: counted.ballots, height: counted.height }),
      ]),
      ...counted.contests.map((contest) =>
        el("table", { class: "result", "data-contest": contest.id }, [
          el("caption", {}, [contest.title]),
          el("thead", {}, [el("tr", {}, [
            el("th", { scope: "col" }, [tr("choiceColumn")]),
            el("th", { scope: "col" }, [tr("countColumn")]),
          ])]),
          el("tbody", {}, contest.rows.map((row) =>
            el("tr", { "data-choice": row.id }, [el("th", { scope: "row" }, [row.label]), el("td", { "data-cell": "count" }, [row.count])]),
          )),
        ]),
      ),
      el("section", { id: "verify" }, [
        el("h3", {}, [tr("verifyHeading")]),
        el("p", {}, [tr("verifyHelp")]),
        el("pre", {}, [el("code", { id: "verify-command" }, [VERIFY_COMMAND])]),
        el("p", { class: "no-print" }, [el("a", { href: "genesis.json", download: "genesis.json", id: "genesis-link" }, [tr("genesisLink")])]),
      ]),
      el("div", { class: "actions no-print" }, [printButton]),
    ];
  };
  state.render();
}

async function start() {
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "ko" ? "en" : "ko";
    renderChrome();
    state.render();
  });
  $("election-form").addEventListener("submit", (event) => {
    event.preventDefault();
    picked();
    go(state.view);
  });
  renderChrome();
  show("loading", [message(tr("loading"), "status")]);
  try {
    const config = await (await fetch("config.json", { cache: "no-store" })).json();
    state.genesis = parseGenesis(await (await fetch("genesis.json", { cache: "no-store" })).text());
    state.clients = connect(config.gateway);
  } catch (err) {
    console.error(`public page not loaded: ${err}`);
    show("error", [message(tr("gatewayDown"))]);
    return;
  }
  go(state.view);
}

if (Object.keys(PUBLIC_STRINGS).length !== 2) throw new Error("unreachable");
start();
