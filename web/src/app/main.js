/**
 * The voter page: link -> election -> identity -> ballot -> encrypt -> cast or audit -> receipt.
 * Plain DOM, no framework. The credential secret is read from the fragment and kept in memory
 * only: never put in the page's text, storage, a request or a log.
 * @module
 */
import { ConnectError, Code } from "@connectrpc/connect";
import { toJsonString } from "@bufbuild/protobuf";
import { bytesToHex } from "@noble/hashes/utils.js";
import { Phase } from "../gen/proto/votestore/v1/election_pb.js";
import { ReceiptStatus } from "../gen/proto/votestore/v1/gateway_pb.js";
import { ReceiptSchema } from "../gen/proto/votestore/v1/ledger_pb.js";
import { exhaustedBy } from "./attest_status.js";
import { el, message } from "./dom.js";
import { connect, WAIT_RECEIPT_MS } from "./gateway.js";
import { LinkError, parseLink } from "./link.js";
import { checkReceipt, parseGenesis } from "./receipt.js";
import { LANGUAGES, t } from "./strings.js";
import { auditedTx, auditRecord, prepareBallot, signAttestRequest, signPrepared } from "./voting.js";

/** @typedef {import("./voting.js").Prepared} Prepared */

const state = {
  lang: navigator.language?.startsWith("ko") ? "ko" : "en",
  /** @type {{secret: Uint8Array, electionId: string} | null} */
  link: null,
  /** @type {ReturnType<typeof connect> | null} */
  clients: null,
  /** @type {any} */
  genesis: null,
  /** @type {any} */
  info: null,
  identityCheck: "",
  /** @type {number[][]} */
  selections: [],
  /** @type {() => void} */
  render: () => {},
};

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

const tr = (/** @type {string} */ key, /** @type {Record<string, string|number>} */ values = {}) =>
  t(state.lang, key, values);

/** Show one step; `step` names it for the tests and the screen reader. */
function show(/** @type {string} */ step, /** @type {(Node|string)[]} */ children) {
  const main = $("main");
  main.replaceChildren(...children);
  main.dataset.step = step;
  const heading = main.querySelector("h2");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

function fatal(/** @type {string} */ key) {
  state.render = () => show("error", [message(tr(key))]);
  state.render();
}

async function start() {
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "ko" ? "en" : "ko";
    document.documentElement.lang = state.lang;
    renderChrome();
    state.render();
  });
  document.documentElement.lang = state.lang;
  renderChrome();
  try {
    state.link = parseLink(location.hash);
  } catch (err) {
    if (err instanceof LinkError) return fatal("linkDamaged");
    throw err;
  } finally {
    history.replaceState(null, "", location.pathname + location.search); // the secret leaves the address bar
  }
  show("loading", [message(tr("loading"), "status")]);
  try {
    const config = await (await fetch("config.json", { cache: "no-store" })).json();
    state.genesis = parseGenesis(await (await fetch("genesis.json", { cache: "no-store" })).text());
    state.clients = connect(config.gateway);
    state.info = await state.clients.gateway.getElection({ electionId: state.link.electionId });
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.NotFound) return fatal("electionUnknown");
    console.error(`election not loaded: ${err}`); // the error names no secret: the link is parsed already
    return fatal("gatewayDown");
  }
  if (state.info.state?.phase !== Phase.OPEN) return fatal("electionClosed");
  identityStep();
}

function renderChrome() {
  $("title").textContent = tr("title");
  $("lang").textContent = tr("language");
  document.title = tr("title");
}

/**
 * @param {string | null} problem
 * @param {() => void} onDone what follows a filled-in identity check: the ballot, or (after a
 *   wrong answer) asking the provider again for the same encrypted ballot
 */
function identityStep(problem = null, onDone = () => ballotStep()) {
  state.render = () => {
    const input = /** @type {HTMLInputElement} */ (
      el("input", { id: "identity", name: "identity", autocomplete: "off", required: "", value: state.identityCheck })
    );
    const form = el("form", { id: "identity-form" }, [
      el("label", { for: "identity" }, [tr("identityLabel")]),
      input,
      el("button", { type: "submit" }, [tr("identityNext")]),
    ]);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      state.identityCheck = input.value.trim();
      if (!state.identityCheck) return identityStep("identityEmpty", onDone);
      onDone();
    });
    show("identity", [
      el("h2", {}, [tr("identityHeading")]),
      el("p", {}, [tr("identityHelp")]),
      ...(problem ? [message(tr(problem))] : []),
      form,
    ]);
  };
  state.render();
}

function definition() {
  return state.info.state.definition;
}

function ballotStep(/** @type {string | null} */ problem = null) {
  const contests = definition().contests;
  if (state.selections.length !== contests.length) state.selections = contests.map(() => []);
  state.render = () => {
    const notice = el("div", { id: "ballot-notice", "aria-live": "polite" });
    if (problem) notice.append(message(problem));
    const form = el("form", { id: "ballot" });
    contests.forEach((/** @type {any} */ contest, /** @type {number} */ ci) => {
      const fieldset = el("fieldset", { "data-contest": contest.id }, [
        el("legend", {}, [contest.title || contest.id]),
        el("p", { class: "help" }, [tr("contestHelp", { min: contest.minSelections, max: contest.maxSelections })]),
      ]);
      contest.choices.forEach((/** @type {any} */ choice, /** @type {number} */ k) => {
        const id = `c${ci}-${k}`;
        const box = /** @type {HTMLInputElement} */ (
          el("input", { type: "checkbox", id, name: contest.id, value: String(k), "data-choice": choice.id })
        );
        box.checked = state.selections[ci].includes(k);
        box.addEventListener("change", () => {
          const chosen = state.selections[ci];
          if (box.checked && chosen.length >= contest.maxSelections) {
            box.checked = false; // the over-vote is refused here, before anything is encrypted
            notice.replaceChildren(message(tr("overVote", { max: contest.maxSelections, contest: contest.title || contest.id })));
            return;
          }
          state.selections[ci] = box.checked ? [...chosen, k].sort((a, b) => a - b) : chosen.filter((c) => c !== k);
          notice.replaceChildren();
        });
        fieldset.append(el("div", { class: "choice" }, [box, el("label", { for: id }, [choice.label || choice.id])]));
      });
      form.append(fieldset);
    });
    form.append(el("button", { type: "submit", id: "encrypt" }, [tr("encrypt")]));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      for (const [ci, contest] of contests.entries()) {
        if (state.selections[ci].length < contest.minSelections) {
          return ballotStep(tr("underVote", { min: contest.minSelections, contest: contest.title || contest.id }));
        }
      }
      show("encrypting", [message(tr("encrypting"), "status")]);
      setTimeout(encryptStep, 0);
    });
    show("ballot", [el("h2", {}, [tr("ballotHeading")]), el("h3", {}, [definition().title]), notice, form]);
  };
  state.render();
}

function encryptStep() {
  const info = state.info;
  const link = /** @type {{secret: Uint8Array, electionId: string}} */ (state.link);
  const prepared = prepareBallot(
    info.chainId,
    link.electionId,
    definition(),
    info.state.electionKey,
    link.secret,
    state.selections,
  );
  reviewStep(prepared);
}

function reviewStep(/** @type {Prepared} */ prepared, /** @type {string | null} */ problem = null) {
  state.render = () => {
    const castButton = el("button", { id: "cast" }, [tr("cast")]);
    const auditButton = el("button", { id: "audit", class: "secondary" }, [tr("audit")]);
    castButton.addEventListener("click", () => castStep(prepared));
    auditButton.addEventListener("click", () => auditStep(prepared));
    show("review", [
      el("h2", {}, [tr("reviewHeading")]),
      el("p", {}, [tr("reviewHelp")]),
      ...(problem ? [message(problem)] : []),
      el("p", {}, [tr("fingerprint"), ": ", el("code", { id: "fingerprint" }, [bytesToHex(prepared.digest)])]),
      el("div", { class: "actions" }, [castButton, auditButton]),
    ]);
  };
  state.render();
}

function auditStep(/** @type {Prepared} */ prepared) {
  const record = auditRecord(prepared);
  const text = JSON.stringify(record, null, 2);
  state.selections = []; // an audited ballot is spent: the next one is made afresh
  const publication = auditedTx(prepared);
  const published = el("p", { id: "audit-published", role: "status" });
  /** @type {[string, Record<string, string>]} */
  let said = ["auditPublishing", {}];
  const sayPublished = () => published.replaceChildren(tr(...said));
  publishAudit(publication, published, (key, values) => {
    said = [key, values];
    sayPublished();
  });
  state.render = () => {
    sayPublished(); // in the language chosen now, not the one at publishing time
    const save = el("a", {
      id: "audit-save",
      class: "button",
      download: `audit-${bytesToHex(prepared.digest).slice(0, 16)}.json`,
      href: URL.createObjectURL(new Blob([text], { type: "application/json" })),
    }, [tr("auditSave")]);
    const fresh = el("button", { id: "fresh" }, [tr("fresh")]);
    fresh.addEventListener("click", () => ballotStep());
    const list = el("ul", { id: "audit-choices" });
    for (const [contest, choices] of Object.entries(/** @type {any} */ (record).choices)) {
      list.append(el("li", {}, [`${contest}: ${/** @type {string[]} */ (choices).join(", ") || "—"}`]));
    }
    show("audited", [
      el("h2", {}, [tr("auditHeading")]),
      el("p", {}, [tr("auditHelp")]),
      published,
      el("p", {}, [tr("fingerprint"), ": ", el("code", {}, [bytesToHex(prepared.digest)])]),
      el("h3", {}, [tr("auditChoices")]),
      list,
      el("pre", { id: "audit-record" }, [text]),
      el("div", { class: "actions" }, [save, fresh]),
    ]);
  };
  state.render();
}

/**
 * Put the audited ballot on the ledger (PublishAudit); the saved file does not depend on it, so a
 * failure is said, not fatal. The ledger then refuses to count this ballot.
 * @param {{tx: Uint8Array, trackingCode: Uint8Array}} publication
 * @param {HTMLElement} line
 * @param {(key: string, values: Record<string, string>) => void} say what the line says, by string key
 */
async function publishAudit(publication, line, say) {
  const clients = /** @type {ReturnType<typeof connect>} */ (state.clients);
  const code = bytesToHex(publication.trackingCode);
  try {
    await clients.gateway.publishAudit({ tx: publication.tx });
    line.dataset.published = code;
    say("auditPublished", { code });
  } catch (err) {
    line.dataset.published = "";
    say("auditPublishFailed", { reason: err instanceof ConnectError ? err.rawMessage : String(err) });
  }
}

/**
 * @param {Prepared} prepared
 * @returns {Promise<void>}
 */
async function castStep(prepared) {
  const clients = /** @type {ReturnType<typeof connect>} */ (state.clients);
  show("casting", [message(tr("casting"), "status")]);
  let attestation;
  try {
    const answer = await clients.identity.attest({
      electionId: prepared.electionId,
      credentialKey: prepared.voter,
      ballotDigest: prepared.digest,
      identityCheck: state.identityCheck,
      requestSignature: signAttestRequest(prepared),
    });
    attestation = answer.attestation;
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.Unauthenticated) return identityStep("identityWrong", () => castStep(prepared));
    if (err instanceof ConnectError && err.code === Code.ResourceExhausted) {
      if (exhaustedBy(err.rawMessage) === "failures") return fatal("identityLocked");
      return reviewStep(prepared, tr("tooManyRequests")); // the same ballot, cast again in a moment
    }
    return reviewStep(prepared, tr("gatewayDown"));
  }
  const signed = signPrepared(prepared, attestation); // made once: every retry sends these bytes
  await sendStep(signed);
}

async function sendStep(/** @type {{tx: Uint8Array, trackingCode: Uint8Array}} */ signed) {
  const clients = /** @type {ReturnType<typeof connect>} */ (state.clients);
  show("casting", [message(tr("casting"), "status")]);
  try {
    await clients.gateway.castBallot({ tx: signed.tx });
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.AlreadyExists) {
      return receiptStep(signed.trackingCode, tr("alreadyVoted"));
    }
    if (err instanceof ConnectError && ![Code.Unavailable, Code.DeadlineExceeded, Code.Unknown, Code.Internal].includes(err.code)) {
      state.render = () => show("refused", [message(tr("refused", { reason: err.rawMessage }))]);
      return state.render();
    }
    state.render = () => {
      const retry = el("button", { id: "retry" }, [tr("retry")]);
      retry.addEventListener("click", () => sendStep(signed));
      show("cast-failed", [
        message(tr("castFailed")),
        el("p", {}, [tr("trackingCode"), ": ", el("code", { id: "tracking-code" }, [bytesToHex(signed.trackingCode)])]),
        retry,
      ]);
    };
    return state.render();
  }
  await receiptStep(signed.trackingCode, null);
}

async function receiptStep(/** @type {Uint8Array} */ code, /** @type {string | null} */ note) {
  const clients = /** @type {ReturnType<typeof connect>} */ (state.clients);
  const hex = bytesToHex(code);
  const head = [
    el("h2", {}, [tr("receiptHeading")]),
    ...(note ? [message(note, "status")] : []),
    el("p", {}, [tr("trackingCode"), ": ", el("code", { id: "tracking-code" }, [hex])]),
  ];
  show("waiting", [...head, message(tr("waiting"), "status")]);
  /** @type {Node[]} */
  let outcome;
  try {
    const answer = await clients.gateway.waitReceipt(
      { trackingCode: code, timeoutMs: WAIT_RECEIPT_MS },
      { timeoutMs: WAIT_RECEIPT_MS + 5000 },
    );
    if (answer.status !== ReceiptStatus.COMMITTED || !answer.receipt) {
      outcome = [message(tr("receiptPending"), "status")];
    } else {
      try {
        const checked = checkReceipt(state.genesis, answer.receipt, code);
        const json = toJsonString(ReceiptSchema, answer.receipt);
        outcome = [
          message(tr("receiptChecked", { height: checked.height, signers: checked.signers, validators: checked.validators }), "ok"),
          el("a", {
            id: "receipt-save",
            class: "button",
            download: `receipt-${hex.slice(0, 16)}.json`,
            href: URL.createObjectURL(new Blob([json], { type: "application/json" })),
          }, [tr("saveReceipt")]),
          el("pre", { id: "receipt-json", hidden: "" }, [json]),
        ];
      } catch (err) {
        outcome = [message(tr("receiptBad", { reason: String(/** @type {Error} */ (err).message) }))];
      }
    }
  } catch {
    outcome = [message(tr("receiptPending"), "status")];
  }
  state.render = () => show("receipt", [...head, ...outcome]);
  state.render();
}

if (LANGUAGES.length !== 2) throw new Error("unreachable");
start();
