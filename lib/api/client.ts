/**
 * How the console's browser code calls its own API: `apiPath` builds a URL from a template whose every
 * interpolated value is one escaped path segment (a name can never add, remove or climb a segment), and
 * `callApi` sends the request, surfaces the server's error message as an `ApiError`, and checks the reply
 * against its zod schema when it has one. Client-safe (no server imports). Not responsible for which URL a
 * resource lives at (the fetchers beside it) nor for how a page shows an error.
 */
import type { z } from "zod";

/** A refused call: the server's code and message (fit to show a person), or the client's own refusal. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * One path segment from a value: percent-escaped whole (`/`, `?`, `#`, `%` included, so `%2e` stays a name).
 * A value a URL parser would read as a dot segment (`.`, `..`), or an empty one, would change which route is
 * called whatever the escaping, so it is refused before any request is sent.
 */
export function pathSegment(value: string | number): string {
  const text = String(value);
  if (text === "" || text === "." || text === "..") {
    throw new ApiError(`"${text}" cannot be used as a name in a URL`, 0, "bad_path_segment");
  }
  return encodeURIComponent(text);
}

/** `apiPath\`/api/v1/connections/${name}/exec\``: each interpolated value is escaped as one path segment. */
export function apiPath(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  let path = strings[0] ?? "";
  values.forEach((value, index) => {
    path += pathSegment(value) + (strings[index + 1] ?? "");
  });
  return path;
}

/** A query string (with its `?`) from the defined values, or "" when there are none. */
export function queryString(params: Record<string, string | number | boolean | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, String(value));
  const text = query.toString();
  return text ? `?${text}` : "";
}

export interface CallOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  cache?: RequestCache;
}

/** Where relative API paths resolve: the page's own origin (the console only calls itself). */
function resolve(path: string): URL {
  const origin = globalThis.location?.origin;
  if (!origin) throw new ApiError("the console's API is only called from its own pages", 0, "no_origin");
  const url = new URL(path, origin);
  if (url.origin !== origin || !url.pathname.startsWith("/api/")) {
    throw new ApiError(`refused to call ${path}: not the console's API`, 0, "bad_path");
  }
  return url;
}

/** The raw response of an API call (for replies read at every status, like exec's). */
export async function sendApi(path: string, options: CallOptions = {}): Promise<Response> {
  const method = options.method ?? (options.body === undefined ? "GET" : "POST");
  return fetch(resolve(path), {
    method,
    // The console refuses a signed-in change that is not typed JSON, even with no body (cross-site forms).
    headers: { ...(method === "GET" ? {} : { "content-type": "application/json" }), ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: "same-origin",
    signal: options.signal,
    ...(options.cache && { cache: options.cache }),
  });
}

export async function callApi<S extends z.ZodType>(
  path: string,
  options: CallOptions & { schema: S },
): Promise<z.infer<S>>;
export async function callApi(path: string, options?: CallOptions): Promise<unknown>;
/** Sends the call; rejects with an ApiError when refused, or when the reply is not the shape it should be. */
export async function callApi(path: string, options: CallOptions & { schema?: z.ZodType } = {}) {
  const response = await sendApi(path, options);
  const data: unknown = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = (data as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    throw new ApiError(
      typeof error?.message === "string" ? error.message : `request failed (${response.status})`,
      response.status,
      typeof error?.code === "string" ? error.code : "error",
    );
  }
  if (!options.schema) return data;
  const parsed = options.schema.safeParse(data);
  if (!parsed.success) {
    throw new ApiError(
      `the console's reply to ${resolve(path).pathname} was not understood (${parsed.error.issues[0]?.path.join(".") || "body"})`,
      response.status,
      "bad_reply",
    );
  }
  return parsed.data;
}
