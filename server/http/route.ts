/**
 * The one wrapper every API route handler goes through: identifies the caller (bearer token or session
 * cookie), checks the permission, parses the JSON body with zod, and maps errors to JSON replies
 * `{ error: { code, message } }`. Unexpected errors become a 500 with an id that is logged with the stack.
 * A person's session cookie changes nothing from another site (server/http/cross-site.ts), and no body is read
 * past its limit. A handler cannot be exported without it: the route walk test calls every route without
 * credentials.
 */
import "server-only";
import { randomUUID } from "node:crypto";
import { NextRequest, NextResponse } from "next/server";
import { ZodError, type z } from "zod";
import { principalFromRequest } from "@/server/auth";
import { GatewayError } from "@/server/errors";
import {
  hasPermission,
  type Permission,
  type Principal,
  permissionText,
  rateLimitKey,
} from "@/server/principal";
import { findUnstorableText, unstorableTextProblem } from "@/server/storable-text";
import { refuseCrossSiteCookieRequest, refuseForeignBrowserRequest } from "./cross-site";
import { takeTokenRequest } from "./rate-limit";
import { readBodyLimited, requestText } from "./request-body";
import { assertStrictSchema } from "./strict-schema";

const MAX_BODY_BYTES = 1024 * 1024;
/** next-auth's sign-in, sign-out and callback forms are a few hundred bytes. */
const MAX_AUTH_FORM_BYTES = 64 * 1024;

type Params = Record<string, string | string[]>;
type RouteContext = { params: Promise<Params> };

export interface HandlerContext<B> {
  request: Request;
  principal: Principal;
  body: B;
  params: Record<string, string>;
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  details?: Record<string, unknown>,
) {
  return NextResponse.json({ error: { code, message, ...(details && { details }) } }, { status });
}

/** 429 for a bearer token over its per-minute budget. */
export function rateLimitedResponse(retryAfterSeconds: number): Response {
  const response = errorResponse(
    429,
    "rate_limited",
    `too many requests for this token; retry in ${retryAfterSeconds} s`,
  );
  response.headers.set("Retry-After", String(retryAfterSeconds));
  return response;
}

function formatZodError(error: ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      // A strict schema's refusal, said in the API's words: `unknown field "approverGroup"`.
      const message =
        issue.code === "unrecognized_keys"
          ? `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`
          : issue.message;
      return issue.path.length > 0 ? `${issue.path.join(".")}: ${message}` : message;
    })
    .join("; ");
}

export function toErrorResponse(err: unknown): Response {
  if (err instanceof GatewayError) return errorResponse(err.status, err.code, err.message, err.details);
  if (err instanceof ZodError) return errorResponse(400, "bad_request", formatZodError(err));
  const id = randomUUID();
  console.error(`[portcullis] internal error ${id}:`, err);
  return errorResponse(500, "internal", `Something went wrong on the gateway (error id ${id}).`);
}

async function readJsonBody(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  const text = await requestText(request, MAX_BODY_BYTES);
  if (text.length === 0) return {};
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new GatewayError(
      "unsupported_media_type",
      "send the body as JSON with Content-Type: application/json",
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError("bad_request", "the request body is not valid JSON");
  }
}

async function flatParams(context: RouteContext | undefined): Promise<Record<string, string>> {
  const raw = (await context?.params) ?? {};
  const params = Object.fromEntries(
    Object.entries(raw).map(([k, v]) => [k, Array.isArray(v) ? v.join("/") : v]),
  );
  // A name or id that the store cannot even be asked about (`%00` in the path) is bad input, not a 500.
  for (const [key, value] of Object.entries(params)) {
    const problem = unstorableTextProblem(value);
    if (problem) throw new GatewayError("bad_request", `the ${key} in the path ${problem}`);
  }
  return params;
}

/**
 * The JSON body parsed by the route's schema. Text the store cannot hold is refused by field name first;
 * `ownText` names top-level fields whose handler checks (and records) such text itself.
 */
async function parseBody<S extends z.ZodType>(
  request: Request,
  schema: S,
  ownText: readonly string[] | undefined,
): Promise<z.output<S>> {
  const raw = await readJsonBody(request);
  const found = findUnstorableText(raw, ownText);
  if (found) {
    throw new GatewayError(
      "bad_request",
      found.path ? `${found.path}: ${found.problem}` : `the body ${found.problem}`,
    );
  }
  return schema.parse(raw);
}

/** A download: the body with its type, as an attachment with a safe file name, never cached. */
/** A body written piece by piece as the reader takes it (back-pressure: the next piece is made on demand). */
function streamOf(pieces: AsyncIterable<string>): ReadableStream<Uint8Array> {
  const iterator = pieces[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (err) {
        // Headers are sent: the download ends short, and the log says why.
        console.error("[portcullis] a download stopped:", err instanceof Error ? err.message : err);
        controller.error(err);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

export function fileResponse(file: {
  contentType: string;
  filename: string;
  body: string | AsyncIterable<string>;
}): Response {
  return new Response(typeof file.body === "string" ? file.body : streamOf(file.body), {
    headers: {
      "content-type": file.contentType,
      "content-disposition": `attachment; filename="${file.filename.replace(/[^\w.-]/g, "_")}"`,
      "cache-control": "no-store",
    },
  });
}

function toResponse(result: unknown): Response {
  return result instanceof Response ? result : NextResponse.json(result ?? { ok: true });
}

/** Authenticated route: the permission is checked before the body is even read. */
export function withAuth<S extends z.ZodType = z.ZodUndefined>(
  /** one permission, or several of which the caller needs any one (a read open to members and auditors) */
  options: { permission: Permission | readonly Permission[]; body?: S; ownText?: readonly string[] },
  handler: (ctx: HandlerContext<z.output<S>>) => Promise<unknown>,
) {
  if (options.body) assertStrictSchema(options.body);
  const route = async (request: Request, context?: RouteContext): Promise<Response> => {
    try {
      const principal = await principalFromRequest(request);
      if (!principal) {
        return errorResponse(
          401,
          "unauthenticated",
          request.headers.get("authorization")
            ? "the bearer token is unknown, revoked or expired"
            : "sign in, or send Authorization: Bearer <token>",
        );
      }
      if (principal.via === "session") refuseCrossSiteCookieRequest(request);
      if (principal.via === "token") {
        const limit = takeTokenRequest(rateLimitKey(principal));
        if (!limit.allowed) return rateLimitedResponse(limit.retryAfterSeconds);
      }
      if (!hasPermission(principal, options.permission)) {
        return errorResponse(403, "forbidden", `missing permission ${permissionText(options.permission)}`);
      }
      const body = options.body ? await parseBody(request, options.body, options.ownText) : undefined;
      return toResponse(
        await handler({ request, principal, body: body as z.output<S>, params: await flatParams(context) }),
      );
    } catch (err) {
      return toErrorResponse(err);
    }
  };
  // The permission travels with the handler, so the API description is checked against what is enforced.
  return Object.assign(route, { permission: options.permission });
}

/** Route reachable without a principal (first-run setup, health). It still parses and maps errors. */
export function withoutAuth<S extends z.ZodType = z.ZodUndefined>(
  options: { body?: S },
  handler: (ctx: Omit<HandlerContext<z.output<S>>, "principal">) => Promise<unknown>,
) {
  if (options.body) assertStrictSchema(options.body);
  return async (request: Request, context?: RouteContext): Promise<Response> => {
    try {
      refuseForeignBrowserRequest(request);
      const body = options.body ? await parseBody(request, options.body, undefined) : undefined;
      return toResponse(
        await handler({ request, body: body as z.output<S>, params: await flatParams(context) }),
      );
    } catch (err) {
      return toErrorResponse(err);
    }
  };
}

/** A SAML answer is a base64 XML document: tens of kilobytes with certificates and many groups. */
const MAX_IDP_FORM_BYTES = 600 * 1024;

/**
 * The one route an identity provider's page posts to (SAML's assertion consumer service): an HTML form from
 * the provider's origin, so no origin check and no JSON; the signature inside the body is the credential
 * (checked by the handler). The form is read with a limit and parsed by a strict schema of its fields.
 */
export function withIdentityProviderForm<S extends z.ZodType>(
  options: { body: S },
  handler: (ctx: { request: Request; body: z.output<S> }) => Promise<Response>,
) {
  assertStrictSchema(options.body);
  return async (request: Request): Promise<Response> => {
    try {
      if (!/^application\/x-www-form-urlencoded\b/i.test(request.headers.get("content-type") ?? "")) {
        throw new GatewayError(
          "unsupported_media_type",
          "post the identity provider's answer as a form (application/x-www-form-urlencoded)",
        );
      }
      const text = await requestText(request, MAX_IDP_FORM_BYTES);
      const body = options.body.parse(Object.fromEntries(new URLSearchParams(text)));
      return await handler({ request, body });
    } catch (err) {
      return toErrorResponse(err);
    }
  };
}

/**
 * next-auth's own routes (sign-in, sign-out, callbacks), which read their form themselves: a browser on another
 * origin is refused, and the body is read here with a limit and handed over in memory. next-auth's CSRF token
 * still guards every form it accepts.
 */
export function withBoundedAuthForm<C>(handler: (request: NextRequest, context: C) => Promise<Response>) {
  return async (request: NextRequest, context: C): Promise<Response> => {
    try {
      if (request.method === "POST") {
        refuseForeignBrowserRequest(request);
        const body = await readBodyLimited(request, MAX_AUTH_FORM_BYTES);
        request = new NextRequest(request.url, {
          method: "POST",
          headers: request.headers,
          body: new Uint8Array(body),
        });
      }
    } catch (err) {
      return toErrorResponse(err);
    }
    return handler(request, context);
  };
}
