/**
 * The few DOM helpers the voter page and the public pages share (plain DOM, no framework).
 * Text always goes in as text nodes, never as HTML, so nothing a server or a visitor sends can
 * become markup.
 * @module
 */

/**
 * @param {string} tag
 * @param {Record<string, string>} [attrs]
 * @param {(Node | string)[]} [children]
 */
export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}

/**
 * A message paragraph: an error is an alert, anything else a status; `data-message` names the
 * kind for the tests.
 * @param {string} text
 * @param {string} [kind] "error", "status" or "ok"
 */
export function message(text, kind = "error") {
  return el("p", { class: kind, role: kind === "error" ? "alert" : "status", "data-message": kind }, [text]);
}
