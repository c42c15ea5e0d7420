/**
 * The address a request came from, worked out once by the custom server and carried to every handler in a
 * header of our own (a client cannot set it: whatever it sent under that name is replaced). Behind reverse
 * proxies (TRUST_PROXY = the number of proxies that append to X-Forwarded-For) the client is the entry the
 * first of our proxies appended; otherwise X-Forwarded-For is ignored, as anyone can write it.
 * Not responsible for what the address is used for (sign-in throttling: server/auth/sign-in-throttle.ts).
 */
import "server-only";
import type { IncomingMessage } from "node:http";

export const CLIENT_ADDRESS_HEADER = "x-portcullis-client-address";

export function clientAddressOf(req: IncomingMessage, trustProxyHops: number): string {
  const peer = req.socket.remoteAddress ?? "unknown";
  if (trustProxyHops === 0) return peer;
  const header = req.headers["x-forwarded-for"];
  const forwarded = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  // [client, proxy1, ..., peer]: each of our proxies appended the address it saw; the last hop is the peer.
  const chain = [...forwarded, peer];
  return (chain[Math.max(0, chain.length - 1 - trustProxyHops)] ?? peer).slice(0, 100);
}

/** Replaces whatever the client sent as the client-address header with the address worked out here. */
export function stampClientAddress(req: IncomingMessage, trustProxyHops: number): void {
  req.headers[CLIENT_ADDRESS_HEADER] = clientAddressOf(req, trustProxyHops);
}

/** The address stamped by the custom server; "unknown" when the request did not pass it (tests, scripts). */
export function clientAddressFrom(headers: Headers | Record<string, unknown>): string {
  const value =
    headers instanceof Headers ? headers.get(CLIENT_ADDRESS_HEADER) : headers[CLIENT_ADDRESS_HEADER];
  return typeof value === "string" && value !== "" ? value : "unknown";
}
