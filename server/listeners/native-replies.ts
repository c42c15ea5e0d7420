/**
 * The PostgreSQL protocol's words for the pipeline's outcomes, for a native client: GatewayError codes as
 * SQLSTATEs, a refused, failed or held outcome as its ErrorResponse (a held one naming its review and console
 * URL), a result as RowDescription, DataRows and CommandComplete (a masked column announced as text), and which
 * input has nothing to run. Pure: builds messages, sends none. Not responsible for when a reply is sent, nor for
 * the transaction status (native-client.ts), nor for deciding anything (the pipeline does).
 */
import "server-only";
import type { GatewayError } from "@/server/errors";
import type { SqlOutcome, StatementOutcome } from "@/server/pipeline";
import {
  commandComplete,
  commandTag,
  dataRow,
  errorResponse,
  noticeResponse,
  rowDescription,
  TEXT_OID,
  toWireText,
  type WireColumn,
  type WireNotice,
} from "./wire";

/** GatewayError codes as the SQLSTATE a PostgreSQL client understands. */
const SQLSTATE_OF: Record<GatewayError["code"], string> = {
  bad_request: "42601",
  unauthenticated: "28000",
  forbidden: "42501",
  not_found: "42501",
  conflict: "55000",
  payload_too_large: "54000",
  unsupported_media_type: "0A000",
  rate_limited: "53400",
  target_unavailable: "08006",
  unavailable: "58000",
  blocked: "42501",
  cross_site: "42501",
};

/** A gateway's refusal (GatewayError) as an ERROR with its SQLSTATE and its message. */
export function gatewayErrorNotice(err: GatewayError): WireNotice {
  return { severity: "ERROR", code: SQLSTATE_OF[err.code], message: err.message };
}

/**
 * Input with nothing to run (whitespace, semicolons, comments): PostgreSQL answers EmptyQueryResponse, and so do
 * we, without the pipeline (which refuses it: "no statement"). Nothing is sent anywhere. A nested block comment
 * is not matched whole, so it goes to the pipeline like any other input.
 */
export function isEmptyQuery(text: string): boolean {
  return /^(?:\s|;|--[^\n]*(?:\n|$)|\/\*(?:[^*/]|\*(?!\/)|\/(?!\*))*\*\/)*$/.test(text);
}

/** What a held statement's ErrorResponse says an approval of it does, unless told otherwise. */
const SEND_AGAIN_AFTER_APPROVAL =
  "once it is approved, send exactly this statement (with the same values) again on this connection: it runs then, once, here, in your transaction if one is open; the approval expires like the review";

/**
 * The ErrorResponse of an outcome that did not (fully) run: failed, blocked or held (`afterApproval` says what
 * an approval of it does). Empty for an outcome that ran.
 */
export function refusalOf(
  outcome: SqlOutcome,
  publicUrl: string,
  afterApproval = SEND_AGAIN_AFTER_APPROVAL,
): Buffer[] {
  if (outcome.status === "failed") {
    return [
      errorResponse({
        severity: "ERROR",
        code: outcome.error.sqlState ?? (outcome.error.code === "cancelled" ? "57014" : "XX000"),
        message: outcome.error.message, // masked by the pipeline
        ...(outcome.error.position !== undefined && { position: outcome.error.position }),
      }),
    ];
  }
  if (outcome.status === "blocked") return [errorResponse(blockedNotice(outcome))];
  if (outcome.status === "pending_review") {
    const url = `${publicUrl}/inbox/${outcome.reviewId}`;
    const why = outcome.reasons.map((r) => r.message).filter(Boolean);
    return [
      errorResponse({
        severity: "ERROR",
        code: "42501",
        message: `held for review ${outcome.reviewId}: nothing ran; an approver decides at ${url}`,
        ...(why.length > 0 && { detail: why.join("; ") }),
        // What approval does (server/pipeline.ts, runIfApproved): nothing runs until the client sends it again.
        hint: afterApproval,
      }),
    ];
  }
  return [];
}

/** A blocked outcome's ERROR: a parse error as 42601, what cannot be carried as 0A000, a rule's refusal 42501. */
export function blockedNotice(outcome: Extract<SqlOutcome, { status: "blocked" }>): WireNotice {
  if (outcome.parseError) {
    return {
      severity: "ERROR",
      code: "42601",
      message: outcome.parseError.message,
      ...(outcome.parseError.position !== undefined && { position: outcome.parseError.position }),
    };
  }
  const refusals = outcome.reasons.filter((r) => r.action === "deny");
  const denied = refusals.map((r) => r.message);
  // What the gateway cannot carry at all (COPY) is feature_not_supported, not a rule's refusal.
  const unsupported = refusals.length > 0 && refusals.every((r) => r.ruleName === "not supported");
  // The rule's message says what is refused; the classifier's reasons say why this statement counts as that
  // ("synchronize_seqscans is not a setting known to be harmless"): what a person asks an administrator about.
  const why = unsupported ? [] : (outcome.classReasons ?? []);
  return {
    severity: "ERROR",
    code: unsupported ? "0A000" : "42501",
    message: denied.length > 0 ? denied.join("; ") : "refused by the gateway's rules",
    ...(why.length > 0 && { detail: why.join("; ") }),
  };
}

/** A result's columns for RowDescription: a masked column is text now, whatever its type was. */
export function wireColumns(result: StatementOutcome): WireColumn[] {
  const maskedColumns = new Set(result.masked.map(([, column]) => column));
  return result.columns.map((c, i) => ({
    name: c.name,
    oid: maskedColumns.has(i) ? TEXT_OID : (c.oid ?? TEXT_OID),
  }));
}

/**
 * One statement's result as the simple protocol sends it, appended to `out`; a streamed one has sent its
 * RowDescription and rows already (result-stream.ts): only its CommandComplete is left.
 */
export function writeResult(result: StatementOutcome, out: Buffer[]) {
  if (result.columns.length > 0 && !result.streamed) {
    // A masked column is text now, whatever its type was: a driver must not parse "****" as a number.
    out.push(rowDescription(wireColumns(result)));
    for (const row of result.rows) out.push(dataRow(row.map(toWireText)));
  }
  if (result.truncated) {
    out.push(
      noticeResponse({
        severity: "WARNING",
        code: "01000",
        message: `the result was cut at ${result.rowLimit} rows (MAX_ROW_LIMIT)`,
      }),
    );
  }
  out.push(commandComplete(commandTag(result.command, result.rowCount)));
}
