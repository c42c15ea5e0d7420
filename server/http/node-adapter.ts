/**
 * Serves a web route handler (`(Request, { params }) => Response`, the shape of a Next.js route module's
 * exports) straight from Node's HTTP server, for the few data-path routes the custom server dispatches itself
 * (see docs/decisions/0004-sql-data-path.md). Converts the Node request to a web Request (the body
 * stays a stream: withAuth counts it while reading and stops at its limit) and streams the Response back.
 * Not responsible for authentication or parsing: the handler (withAuth) does that exactly as under Next.
 */
import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CLIENT_ADDRESS_HEADER } from "./client-address";
import { jsonChunks, jsonValueOf } from "./json-stream";
import { attachBody } from "./request-body";
import { noteArrival } from "./server-timing";

export type WebRouteHandler = (
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response>;

export interface DataRoute {
  method: string;
  /** the path pattern; named groups become the route params (decoded like Next decodes segments) */
  pattern: RegExp;
  handler: WebRouteHandler;
}

/** The decoded params, or the name of the one whose percent-escapes are malformed (`%`, `%zz`, `%ED%A0%80`). */
function paramsOf(match: RegExpExecArray): { params: Record<string, string> } | { malformed: string } {
  const params: Record<string, string> = {};
  for (const [key, raw] of Object.entries(match.groups ?? {})) {
    try {
      params[key] = decodeURIComponent(raw);
    } catch {
      return { malformed: key };
    }
  }
  return { params };
}

/** 400 in the API's error shape, for a request the handler cannot even be given. */
function answerBadPath(req: IncomingMessage, res: ServerResponse, param: string) {
  const body = JSON.stringify({
    error: { code: "bad_request", message: `the ${param} in the path is not valid percent-encoded UTF-8` },
  });
  res.writeHead(400, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
  discardUnreadBody(req);
}

/**
 * A body this small, announced by Content-Length, is read before the handler runs and handed over as bytes
 * (cheaper than a web stream over the Node request); a larger or unannounced body stays a stream, so the
 * handler can still refuse it before reading it.
 */
const EAGER_BODY_BYTES = 64 * 1024;

function readSmallBody(req: IncomingMessage): Promise<Buffer> | undefined {
  const length = Number(req.headers["content-length"]);
  if (req.headers["transfer-encoding"] !== undefined || !Number.isInteger(length)) return undefined;
  if (length < 0 || length > EAGER_BODY_BYTES) return undefined;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > length) {
        req.destroy();
        reject(new Error("the request body is longer than its Content-Length"));
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => resolve(Buffer.concat(chunks, size)));
    req.once("error", reject);
    // A client that goes away before the end: nothing to answer.
    req.once("close", () => {
      if (!req.readableEnded)
        reject(Object.assign(new Error("the client went away"), { code: "ECONNRESET" }));
    });
  });
}

async function toWebRequest(req: IncomingMessage, pathAndQuery: string): Promise<Request> {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    // HTTP/2 pseudo-headers and hop-by-hop headers are not part of a web Request.
    if (name.startsWith(":") || name.toLowerCase() === CLIENT_ADDRESS_HEADER) continue;
    headers.append(name, req.rawHeaders[i + 1]!);
  }
  // Stamped by the custom server (server/http/client-address.ts), never taken from the client.
  const address = req.headers[CLIENT_ADDRESS_HEADER];
  if (typeof address === "string") headers.set(CLIENT_ADDRESS_HEADER, address);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  // The handlers never read the origin; a Host header that makes no URL must not turn into a 500.
  const host =
    req.headers.host && URL.canParse(`http://${req.headers.host}`) ? req.headers.host : "localhost";
  const small = hasBody ? readSmallBody(req) : undefined;
  if (small) {
    // Already in memory: handed to withAuth's body reader as it is (server/http/request-body.ts), not copied
    // into a web stream only to be read back out of it.
    const bytes = await small;
    const request = new Request(`http://${host}${pathAndQuery}`, { method: req.method, headers });
    attachBody(request, bytes);
    return request;
  }
  const body = hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined;
  return new Request(`http://${host}${pathAndQuery}`, {
    method: req.method,
    headers,
    ...(body !== undefined && { body, duplex: "half" }),
  } as RequestInit);
}

/** Resolves when `res` can take more, or has closed (the next write sees it destroyed). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

async function writeWebResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const json = jsonValueOf(response);
  if (json) {
    // Text straight to the socket (encoded natively), waiting for it to drain: no web stream in between.
    for (const chunk of jsonChunks(json.value)) {
      if (res.destroyed)
        throw Object.assign(new Error("the client went away"), { code: "ERR_STREAM_PREMATURE_CLOSE" });
      if (!res.write(chunk)) await drained(res);
    }
    res.end();
    return;
  }
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), res);
}

/**
 * A reply sent before the body was read (401, 403...): read the rest and drop it, as Node does for a request
 * nobody reads, so the client sees the reply instead of a reset connection. The web stream over the request
 * stops listening first, so nothing is buffered. A 413 is the exception (lingerAfterRefusedBody).
 */
function discardUnreadBody(req: IncomingMessage): void {
  if (req.readableEnded) return;
  req.removeAllListeners("data");
  req.removeAllListeners("end");
  req.on("data", () => {});
  req.resume();
}

/** How much of a refused body is still read and dropped, and for how long, before its connection is closed. */
const LINGER_BYTES = 8 * 1024 * 1024;
const LINGER_MS = 2000;

/**
 * After a 413 (a body refused as too large, on any route): the rest is not read to its end, but the connection is
 * not closed at once either. A socket closed with unread data is reset, and the reset can reach a client that is
 * still sending before the reply does, so it never sees the 413. So, as web servers' "lingering close": the body
 * is read and dropped for a moment (at most LINGER_BYTES or LINGER_MS, nothing kept), which lets the reply
 * arrive and the client stop; then the connection is closed. A client that finished its body keeps it.
 */
const lingering = new WeakSet<IncomingMessage>();

export function lingerAfterRefusedBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed || lingering.has(req)) return;
  lingering.add(req);
  let dropped = 0;
  const close = () => req.socket.destroy();
  const timer = setTimeout(close, LINGER_MS);
  timer.unref();
  req.removeAllListeners("data");
  req.removeAllListeners("end");
  req.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) {
      clearTimeout(timer);
      close();
    }
  });
  req.once("end", () => clearTimeout(timer));
  req.resume();
}

/**
 * Handles `req` when it matches one of `routes` and returns true; false leaves it to Next. The path must
 * match exactly (no trailing slash), like Next's router with its default settings.
 */
export function dispatchDataRoute(
  routes: readonly DataRoute[],
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const pathname = q === -1 ? url : url.slice(0, q);
  for (const route of routes) {
    if (req.method !== route.method) continue;
    const match = route.pattern.exec(pathname);
    if (!match) continue;
    const decoded = paramsOf(match);
    if ("malformed" in decoded) {
      answerBadPath(req, res, decoded.malformed);
      return true;
    }
    const { params } = decoded;
    const arrived = performance.now();
    void (async () => {
      const request = await toWebRequest(req, url);
      noteArrival(request, arrived);
      const response = await route.handler(request, { params: Promise.resolve(params) });
      await writeWebResponse(response, res);
      // A body refused as too large is not read to its end, but its client still gets the reply.
      if (response.status === 413) lingerAfterRefusedBody(req);
      else discardUnreadBody(req);
    })().catch((err: unknown) => {
      // withAuth maps every error to a reply; what lands here is a client that went away (mid-body or
      // mid-reply), which needs no log line.
      const code = (err as { code?: string }).code;
      if (code !== "ERR_STREAM_PREMATURE_CLOSE" && code !== "ECONNRESET")
        console.error("[portcullis] data-path request failed:", err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
    return true;
  }
  return false;
}
