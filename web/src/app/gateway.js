/**
 * The Gateway and IdentityProvider services from the browser, over gRPC-Web (Connect-ES's
 * transport, protobuf-es messages generated from the same .proto files as the Python code; no
 * JSON mirror). The bridge's address comes from the page's own origin (config.json).
 * @module
 */
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { Gateway } from "../gen/proto/votestore/v1/gateway_pb.js";
import { IdentityProvider } from "../gen/proto/votestore/v1/identity_pb.js";

export const CALL_TIMEOUT_MS = 20_000;
export const WAIT_RECEIPT_MS = 30_000;

/** @param {string} baseUrl */
export function connect(baseUrl) {
  const transport = createGrpcWebTransport({ baseUrl, useBinaryFormat: true, defaultTimeoutMs: CALL_TIMEOUT_MS });
  return {
    gateway: createClient(Gateway, transport),
    identity: createClient(IdentityProvider, transport),
  };
}
