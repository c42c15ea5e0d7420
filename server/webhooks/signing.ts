/**
 * How a receiver knows a webhook came from this gateway: HMAC-SHA256 with the endpoint's secret over
 * `<timestamp>.<raw body>` (`X-Portcullis-Signature: sha256=<hex>`), the Unix time in `X-Portcullis-Timestamp`
 * (so a receiver can refuse an old message replayed), and `X-Portcullis-Delivery` naming the delivery, the
 * same at every attempt (so a receiver can drop a repeat). Pure; not responsible for sending (delivery.ts) or
 * keeping secrets (registry.ts).
 */
import "server-only";
import { createHmac } from "node:crypto";

export const SIGNATURE_HEADER = "X-Portcullis-Signature";
export const TIMESTAMP_HEADER = "X-Portcullis-Timestamp";
export const DELIVERY_HEADER = "X-Portcullis-Delivery";

/** The signature of one delivery: the timestamp is signed with the body, so neither can be swapped. */
export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex")}`;
}
