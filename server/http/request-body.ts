/**
 * Reading a request body with a limit: bytes are counted as they arrive and reading stops at the limit (the
 * stream is cancelled), so a body without Content-Length, or one longer than it claims, never sits in memory
 * whole. Also keeps a body the server already read (the data-path dispatch reads small bodies eagerly:
 * server/http/node-adapter.ts) beside its web Request instead of inside it, so reading it costs no web stream.
 * Not responsible for parsing (withAuth's readJsonBody, the OAuth token endpoint, the sign-in routes do that).
 */
import "server-only";
import { GatewayError } from "@/server/errors";

const bodies = new WeakMap<Request, Buffer>();

/** Keeps `body` as the body of `request` (a Request built without one). */
export function attachBody(request: Request, body: Buffer): void {
  bodies.set(request, body);
}

/** What a too-large body is answered with: 413 in the API's JSON error shape. */
export function bodyTooLarge(maxBytes: number): GatewayError {
  const size = maxBytes >= 1024 * 1024 ? `${maxBytes / (1024 * 1024)} MiB` : `${maxBytes / 1024} KiB`;
  return new GatewayError("payload_too_large", `the request body is larger than ${size}`);
}

/**
 * The request's body, at most `maxBytes` of it: a declared Content-Length over the limit is refused before a
 * byte is read, and a body that grows past the limit while being read is refused there (413).
 */
export async function readBodyLimited(request: Request, maxBytes: number): Promise<Buffer> {
  const attached = bodies.get(request);
  if (attached) {
    if (attached.length > maxBytes) throw bodyTooLarge(maxBytes);
    return attached;
  }
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > maxBytes) throw bodyTooLarge(maxBytes);
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

/** The request's body as text, at most `maxBytes` of it (see readBodyLimited). */
export async function requestText(request: Request, maxBytes: number): Promise<string> {
  return (await readBodyLimited(request, maxBytes)).toString("utf8");
}
