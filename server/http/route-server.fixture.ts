// Test fixture: a real HTTP server that dispatches to the app's route handlers (app/api/**/route.ts and
// app/mcp/route.ts) the way Next.js does: path segments matched to the file tree (static segments before
// dynamic ones), params handed over as a promise, and the request's AbortSignal aborted when the client goes.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { listApiRoutes } from "@/e2e/support/routes";

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

interface RouteFile {
  pattern: string;
  segments: string[];
  file: string;
}

const root = path.resolve(import.meta.dirname, "../..");

function routeFiles(): RouteFile[] {
  const files = [
    ...listApiRoutes().map((r) => ({ pattern: r.pattern, file: r.file })),
    { pattern: "/mcp", file: path.join(root, "app", "mcp", "route.ts") },
  ].filter((r) => !r.pattern.includes("[..."));
  const dynamicCount = (r: { pattern: string }) => (r.pattern.match(/\[/g) ?? []).length;
  return files
    .map((r) => ({ ...r, segments: r.pattern.split("/").filter(Boolean) }))
    .sort((a, b) => dynamicCount(a) - dynamicCount(b));
}

function match(route: RouteFile, parts: string[]): Record<string, string> | undefined {
  if (route.segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of route.segments.entries()) {
    const part = parts[i] ?? "";
    const dynamic = /^\[(\w+)\]$/.exec(segment);
    if (dynamic?.[1]) params[dynamic[1]] = decodeURIComponent(part);
    else if (segment !== part) return undefined;
  }
  return params;
}

function isDecodable(part: string): boolean {
  try {
    decodeURIComponent(part);
    return true;
  } catch {
    return false;
  }
}

export interface RouteServer {
  url: string;
  close(): Promise<void>;
}

export async function startRouteServer(): Promise<RouteServer> {
  const routes = routeFiles();
  let base = "";

  async function dispatch(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", base);
    const parts = url.pathname.split("/").filter(Boolean);
    // Like Next.js: a path segment that is not a valid percent-encoding is answered 400 before any route.
    if (!parts.every((part) => URL.canParse(`http://x/${part}`) && isDecodable(part))) {
      res.writeHead(400).end();
      return;
    }
    let found: { route: RouteFile; params: Record<string, string> } | undefined;
    for (const route of routes) {
      const params = match(route, parts);
      if (params) {
        found = { route, params };
        break;
      }
    }
    const method = req.method ?? "GET";
    const module = found ? ((await import(found.route.file)) as Record<string, Handler | undefined>) : {};
    const handler = module[method];
    if (!found || !handler) {
      res.writeHead(found ? 405 : 404).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string") headers.set(name, value);
      else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    }
    // Like Next.js: the request's signal aborts when the response closes before it was sent.
    const aborter = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) aborter.abort();
    });
    const response = await handler(
      new Request(url, {
        method,
        headers,
        signal: aborter.signal,
        ...(chunks.length > 0 && method !== "GET" && method !== "HEAD" && { body: Buffer.concat(chunks) }),
      }),
      { params: Promise.resolve(found.params) },
    );
    if (res.destroyed) return;
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  }

  const server: Server = createServer((req, res) => {
    dispatch(req, res).catch((err: unknown) => {
      console.error("[route-server]", err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
