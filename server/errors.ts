/**
 * The one error type for expected refusals. Anything else thrown is a bug: the HTTP layer logs it with an id
 * and answers 500 without details.
 */
import "server-only";

export type ErrorCode =
  | "bad_request"
  | "unauthenticated"
  | "forbidden"
  | "cross_site"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "target_unavailable"
  | "unavailable"
  | "blocked";

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  cross_site: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  target_unavailable: 502,
  unavailable: 503,
  blocked: 403,
};

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "GatewayError";
    this.code = code;
    this.status = STATUS[code];
    this.details = details;
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new GatewayError("bad_request", message, details);
export const notFound = (message: string) => new GatewayError("not_found", message);
export const forbidden = (message: string) => new GatewayError("forbidden", message);
export const conflict = (message: string) => new GatewayError("conflict", message);
