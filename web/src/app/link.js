/**
 * The personal link: `…/#c=<credential secret, 64 hex>&e=<election id>`. The secret lives in the
 * fragment only, which a browser never sends to a server (nor in a Referer); the page reads it,
 * then removes it from the address bar so it is not left in the history entry.
 * @module
 */
import { hexToBytes } from "@noble/hashes/utils.js";
import { CREDENTIAL_SECRET_BYTES } from "../crypto/credential.js";

export class LinkError extends Error {}

const MAX_ELECTION_ID_CHARS = 128;

/**
 * @param {string} hash location.hash, with or without the leading '#'
 * @returns {{secret: Uint8Array, electionId: string}}
 */
export function parseLink(hash) {
  const params = new URLSearchParams(hash.startsWith("#") ? hash.slice(1) : hash);
  const secretHex = params.get("c") ?? "";
  const electionId = params.get("e") ?? "";
  if (!new RegExp(`^[0-9a-fA-F]{${2 * CREDENTIAL_SECRET_BYTES}}$`).test(secretHex)) {
    throw new LinkError("credential missing or not 64 hex digits");
  }
  if (electionId.length === 0 || electionId.length > MAX_ELECTION_ID_CHARS) {
    throw new LinkError("election id missing");
  }
  return { secret: hexToBytes(secretHex.toLowerCase()), electionId };
}
