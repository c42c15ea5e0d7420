/**
 * The one path every SQL request takes, from the editor, the API and agents alike:
 *   identify (caller's principal) -> authorize (may they use this connection?) -> inspect (real PostgreSQL
 *   parser) -> decide (rules) -> [hold for review] -> execute (gateway's credentials) -> mask -> record -> respond.
 * Fail closed: when a stage cannot decide (parser, rules or recorder unavailable) the request is refused.
 * Recording is write-ahead: the statement and its decision are stored before anything runs on the target.
 */
import "server-only";
import { createReview } from "@/server/approvals";
import type { Principal } from "@/server/auth/principal";
import { type ConnectionView, getConnectionForUse } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import type { StageTimer } from "@/server/http/server-timing";
import {
  BatchMasker,
  type ColumnRef,
  type MaskedCell,
  type MaskRowsResult,
  maskRows,
  maskText,
} from "@/server/masking";
import { maskingConfigFor } from "@/server/masking-config";
import {
  type Classification,
  classifiedAsWrite,
  classifySql,
  type DecisionReason,
  evaluateRules,
  loadRules,
  type PolicyDecision,
} from "@/server/policy";
import {
  appendSessionEvent,
  resumeSession,
  type SessionCounters,
  startSession,
  startSessionWithEvent,
} from "@/server/recording";
import { type PinnedSession, type ResultColumn, runStatements, TargetError } from "@/server/targets/postgres";
import { beginRun } from "@/server/targets/runs";

export const LIMITS = {
  maxInputBytes: Number(process.env.MAX_STATEMENT_BYTES ?? 256 * 1024),
  defaultRowLimit: Number(process.env.ROW_LIMIT ?? 10_000),
  maxRowLimit: Number(process.env.MAX_ROW_LIMIT ?? 1_000_000),
  recordedRows: Number(process.env.RECORDED_RESULT_ROWS ?? 1000),
};

export interface SqlRequest {
  principal: Principal;
  connectionName: string;
  input: string;
  channel: "editor" | "api" | "mcp" | "native";
  sessionId?: string;
  /** a native client's own target session (server/listeners): its statements run there, not on the pool */
  targetSession?: PinnedSession;
  /**
   * Values for $1, $2... of a single statement (a native client's extended protocol), as text; they stay
   * parameters on the target and are recorded masked. Such a statement is refused rather than held for review
   * (a review shows the statement without them).
   */
  parameters?: readonly (string | null)[];
  runId?: string;
  rowLimit?: number;
  note?: string;
  /** stage timings for the Server-Timing header */
  timer?: StageTimer;
}

export interface StatementOutcome {
  statementIndex: number;
  statement: string;
  command: string;
  columns: ResultColumn[];
  rows: unknown[][];
  masked: MaskedCell[];
  rowCount: number;
  truncated: boolean;
  rowLimit: number;
  durationMs: number;
}

export type SqlOutcome =
  | {
      status: "done";
      sessionId: string;
      decision: PolicyDecision;
      results: StatementOutcome[];
      durationMs: number;
    }
  | {
      status: "pending_review";
      sessionId: string;
      reviewId: string;
      decision: PolicyDecision;
      reasons: DecisionReason[];
    }
  | {
      status: "blocked";
      sessionId: string;
      decision: PolicyDecision;
      reasons: DecisionReason[];
      /** where the parser stopped (1-based, like PostgreSQL's positions) */
      parseError?: { message: string; position?: number };
    }
  | {
      status: "failed";
      sessionId: string;
      decision: PolicyDecision;
      results: StatementOutcome[];
      error: { code: "target_error" | "cancelled"; message: string; position?: number; sqlState?: string };
    };

/** Statements that can return many rows are streamed through a cursor. */
const ROW_RETURNING_KINDS = new Set([
  "SelectStmt",
  "ExplainStmt",
  "VariableShowStmt",
  "FetchStmt",
  "ExecuteStmt",
]);

function validateInput(input: string) {
  if (Buffer.byteLength(input, "utf8") > LIMITS.maxInputBytes) {
    throw new GatewayError(
      "payload_too_large",
      `the statement is larger than the limit of ${LIMITS.maxInputBytes} bytes`,
    );
  }
  if (input.trim().length === 0) throw new GatewayError("bad_request", "the statement is empty");
}

async function inspect(input: string): Promise<Classification> {
  try {
    return await classifySql(input);
  } catch {
    // The parser failing is not a reason to let a statement through.
    return {
      class: "unparseable",
      statements: [],
      error: { message: "the gateway could not parse this input" },
    };
  }
}

/** Classifies and decides without executing anything (the dry run behind `/check`). */
export async function checkSql(principal: Principal, connectionName: string, input: string) {
  const connection = await sqlConnection(principal, connectionName);
  validateInput(input);
  const classification = await inspect(input);
  const decision = evaluateRules(classification, await rulesFor(connection), {
    connectionId: connection.id,
    groups: principal.groups.map((g) => g.name),
  });
  return {
    ...decision,
    statements: classification.statements.map((s) => ({
      index: s.index,
      class: s.class,
      kind: s.kind,
      tables: s.tables,
    })),
  };
}

async function sqlConnection(principal: Principal, name: string): Promise<ConnectionView> {
  const connection = await getConnectionForUse(principal, name);
  if (connection.kind !== "postgres") {
    throw new GatewayError("bad_request", `${name} is an SSH connection; open it in a terminal instead`);
  }
  return connection;
}

async function rulesFor(_connection: ConnectionView) {
  try {
    return await loadRules();
  } catch {
    throw new GatewayError("unavailable", "the policy store cannot be read, so nothing runs (fail closed)");
  }
}

export async function runSql(request: SqlRequest): Promise<SqlOutcome> {
  const { principal, timer } = request;
  const connection = await sqlConnection(principal, request.connectionName);
  validateInput(request.input);
  const rowLimit = Math.min(
    Math.max(1, Math.floor(request.rowLimit ?? LIMITS.defaultRowLimit)),
    LIMITS.maxRowLimit,
  );
  timer?.mark("connection");

  const classification = await inspect(request.input);
  timer?.mark("parse");
  return decideAndRun(request, connection, classification, rowLimit, true);
}

/** SQLSTATE read_only_sql_transaction: the target refused a write inside a read-only transaction. */
const READ_ONLY_VIOLATION = "25006";

/**
 * An input whose statements are all reads runs on a read-only session of the target (server/targets/postgres.ts),
 * which refuses whatever in it writes after all: a function or a view whose body the parser cannot see.
 */
function readsOnly(classification: Classification): boolean {
  return classification.statements.length > 0 && classification.statements.every((s) => s.class === "read");
}

/**
 * Decides (rules) and then blocks, holds or runs. A pure read runs read-only; when the target refuses a write in
 * it, the input is decided again as a write (`mayRunReadOnly` false), in the same session, so a function that
 * writes is held or blocked as any write would be instead of passing as a read.
 */
async function decideAndRun(
  request: SqlRequest,
  connection: ConnectionView,
  classification: Classification,
  rowLimit: number,
  mayRunReadOnly: boolean,
): Promise<SqlOutcome> {
  const { principal, timer } = request;
  const decision = evaluateRules(classification, await rulesFor(connection), {
    connectionId: connection.id,
    groups: principal.groups.map((g) => g.name),
  });
  timer?.mark("policy");

  const parameters = request.parameters;
  if (parameters && classification.statements.length > 1) {
    throw new GatewayError("bad_request", "cannot insert multiple commands into a prepared statement");
  }
  const statementEvent = {
    input: request.input,
    ...(parameters && { parameters: await maskedParameters(parameters, connection.id) }),
    class: decision.class,
    decision: decision.decision,
    reasons: decision.reasons,
    ...(classification.error && { parseError: classification.error }),
  };
  // Write-ahead: the statement and its decision are stored before anything runs. A new session and its first
  // statement go in one round trip; a resumed one is checked (owner, connection, live) by the append itself.
  const recordStatement = async (data: Record<string, unknown>, counters: SessionCounters) => {
    if (request.sessionId) {
      const eventId = await appendSessionEvent(request.sessionId, "statement", data, counters, {
        principal,
        connectionId: connection.id,
      });
      return { sessionId: request.sessionId, eventId };
    }
    return startSessionWithEvent(principal, connection, "sql", request.channel, {
      type: "statement",
      data,
      counters,
    });
  };

  if (decision.decision === "deny") {
    const { sessionId } = await recordStatement(
      { ...statementEvent, status: "blocked" },
      { statements: 1, blocked: 1 },
    );
    const parseError = classification.error && {
      message: classification.error.message,
      ...(classification.error.position !== undefined && { position: classification.error.position + 1 }),
    };
    return {
      status: "blocked",
      sessionId,
      decision,
      reasons: decision.reasons,
      ...(parseError && { parseError }),
    };
  }
  if (decision.decision === "review" && parameters) {
    await recordStatement({ ...statementEvent, status: "blocked" }, { statements: 1, blocked: 1 });
    throw new GatewayError(
      "blocked",
      "this statement needs a review, which cannot yet show parameter values: send it with its values written in, as a simple query",
    );
  }
  if (decision.decision === "review") {
    // The review names the session, so the session exists before the held statement is recorded in it.
    const sessionId = request.sessionId
      ? await resumeSession(principal, request.sessionId, connection.id)
      : await startSession(principal, connection, "sql", request.channel);
    const reviewId = await createReview({
      principal,
      connection,
      sessionId,
      channel: request.channel,
      input: request.input,
      class: decision.class,
      reasons: decision.reasons,
      note: request.note,
    });
    await appendSessionEvent(
      sessionId,
      "statement",
      { ...statementEvent, status: "held", reviewId },
      { statements: 1, held: 1 },
    );
    return { status: "pending_review", sessionId, reviewId, decision, reasons: decision.reasons };
  }

  const { sessionId, eventId: statementEventId } = await recordStatement(
    { ...statementEvent, status: "running" },
    { statements: 1, allowed: 1 },
  );
  timer?.mark("record");
  const readOnly = mayRunReadOnly && readsOnly(classification);
  const outcome = await executeAndRecord({
    request,
    connection,
    classification,
    decision,
    sessionId,
    statementEventId,
    rowLimit,
    readOnly,
  });
  if (readOnly && outcome.status === "failed" && outcome.error.sqlState === READ_ONLY_VIOLATION) {
    // Nothing was changed (the transaction refused it and was rolled back); the attempt stays recorded as failed.
    const writing = classifiedAsWrite(
      classification,
      outcome.results.length,
      "it changes data: the target refused it in a read-only transaction (a function it calls, or a view it reads, writes)",
    );
    return decideAndRun({ ...request, sessionId }, connection, writing, rowLimit, false);
  }
  return outcome;
}

/**
 * Runs a request an approver let through: the exact input that was reviewed (its hash is checked), once, for the
 * requester, who must still be allowed to use the connection. The result is recorded in the requester's session.
 */
export async function runApproved(options: {
  requester: Principal;
  connectionName: string;
  input: string;
  inputHash: string;
  sessionId: string;
  reviewId: string;
  channel: SqlRequest["channel"];
}): Promise<SqlOutcome> {
  const { createHash } = await import("node:crypto");
  if (createHash("sha256").update(options.input, "utf8").digest("hex") !== options.inputHash) {
    throw new GatewayError("conflict", "the reviewed input does not match what was approved");
  }
  const connection = await sqlConnection(options.requester, options.connectionName);
  const classification = await inspect(options.input);
  if (classification.error || classification.class === "unparseable") {
    throw new GatewayError("blocked", "the approved input no longer parses");
  }
  const decision: PolicyDecision = {
    decision: "allow",
    class: classification.class,
    reasons: classification.statements.map((s) => ({
      statementIndex: s.index,
      statement: s.text,
      class: s.class,
      ruleId: null,
      ruleName: "approved review",
      action: "allow" as const,
      message: `approved in review ${options.reviewId}`,
    })),
  };
  const statementEventId = await appendSessionEvent(
    options.sessionId,
    "statement",
    {
      input: options.input,
      class: decision.class,
      decision: "allow",
      reasons: decision.reasons,
      status: "running",
      reviewId: options.reviewId,
    },
    { statements: 1, allowed: 1 },
  );
  return executeAndRecord({
    request: {
      principal: options.requester,
      connectionName: options.connectionName,
      input: options.input,
      channel: options.channel,
    },
    connection,
    classification,
    decision,
    sessionId: options.sessionId,
    statementEventId,
    rowLimit: LIMITS.defaultRowLimit,
    reviewId: options.reviewId,
  });
}

async function executeAndRecord(ctx: {
  request: SqlRequest;
  connection: ConnectionView;
  classification: Classification;
  decision: PolicyDecision;
  sessionId: string;
  statementEventId: number;
  rowLimit: number;
  reviewId?: string;
  /** run in a read-only transaction (see decideAndRun) */
  readOnly?: boolean;
}): Promise<SqlOutcome> {
  const { request, connection, classification, sessionId, rowLimit } = ctx;
  const statements = classification.statements;
  const run = request.runId ? beginRun(request.runId, request.principal.id) : undefined;
  // A run that ends without a result still ends its statement in the recording.
  const recordFailure = (error: string) =>
    appendSessionEvent(sessionId, "result", {
      statementEventId: ctx.statementEventId,
      status: "failed",
      error,
    });
  // Large results are masked batch by batch while the next batch is read (server/masking/pool.ts).
  const masking = await maskingConfigFor(connection.id).catch(async () => {
    await recordFailure("the masking settings cannot be read");
    throw new GatewayError(
      "unavailable",
      "the masking settings cannot be read, so nothing runs (fail closed)",
    );
  });
  const maskers = new Map<number, BatchMasker>();
  const started = performance.now();
  let executed: Awaited<ReturnType<typeof runStatements>>;
  const timings: number[] = [];
  let last = started;
  try {
    executed = await runStatements(
      connection.id,
      statements.map((s) => s.text),
      {
        rowLimit,
        readOnly: ctx.readOnly === true,
        version: connection.updatedAt,
        statementKinds: statements.map((s) => s.kind),
        ...(request.parameters && { parameters: request.parameters }),
        ...(request.targetSession && { pinned: request.targetSession }),
        // A statement proven to return no more than the limit runs in one round trip, without a cursor.
        throughCursor: (i) =>
          ROW_RETURNING_KINDS.has(statements[i]?.kind ?? "") &&
          !((statements[i]?.maxRows ?? Number.POSITIVE_INFINITY) <= rowLimit),
        rowSink: (i, columns) => {
          const masker = new BatchMasker(columnRefs(columns, connection.name), masking);
          maskers.set(i, masker);
          return (rows) => masker.push(rows);
        },
        onCancellable: (cancel) => {
          const now = performance.now();
          timings.push(now - last);
          last = now;
          run?.setCancel(cancel);
        },
      },
    );
  } catch (err) {
    await recordFailure(err instanceof GatewayError ? err.message : "the target could not be reached");
    throw err;
  } finally {
    run?.end();
  }
  const durationMs = Math.round((performance.now() - started) * 10) / 10;
  timings.push(performance.now() - last);
  request.timer?.mark("target");
  // Batches masked on this thread while the rows were read are masking, not the target.
  let maskedWhileReading = 0;
  for (const masker of maskers.values()) maskedWhileReading += masker.inlineMs;
  request.timer?.reassign(maskedWhileReading, "target", "mask");

  let maskedResults: MaskRowsResult[];
  try {
    maskedResults = await Promise.all(
      executed.results.map(
        (r, i) =>
          // Rows read without a sink are the pipeline's own too: masked in place.
          maskers.get(i)?.result() ??
          maskRows(columnRefs(r.columns, connection.name), r.rows, masking, { inPlace: true }),
      ),
    );
  } catch (err) {
    // Nothing unmasked leaves the gateway: no masking, no result.
    console.error("[portcullis] masking failed:", err instanceof Error ? err.message : err);
    await recordFailure("the result could not be masked, so it is not returned");
    throw new GatewayError(
      "unavailable",
      "the result could not be masked, so it is not returned (fail closed)",
    );
  }
  const results: StatementOutcome[] = executed.results.map((r, i) => {
    const masked = maskedResults[i]!;
    return {
      statementIndex: statements[i]?.index ?? i,
      statement: statements[i]?.text ?? "",
      command: r.command,
      columns: r.columns,
      rows: masked.rows,
      masked: masked.masked,
      rowCount: r.rowCount,
      truncated: r.truncated,
      rowLimit,
      durationMs: Math.round((timings[i + 1] ?? 0) * 10) / 10,
    };
  });
  const maskedFields = results.reduce((n, r) => n + r.masked.length, 0);
  request.timer?.mark("mask");
  const failedAt =
    statementOffsets(
      request.input,
      statements.map((s) => s.text),
    )[executed.results.length] ?? 0;
  const described = executed.error ? describeTargetError(executed.error, failedAt) : undefined;
  // A target's message can quote a value (`invalid input syntax for type integer: "4111 ..."`): masked like rows.
  const error = described && { ...described, message: maskText(described.message, masking).text };
  await appendSessionEvent(
    sessionId,
    "result",
    {
      statementEventId: ctx.statementEventId,
      ...(ctx.reviewId && { reviewId: ctx.reviewId }),
      status: error ? (error.code === "cancelled" ? "cancelled" : "failed") : "done",
      durationMs,
      rowCount: results.reduce((n, r) => n + r.rowCount, 0),
      results: results.map((r) => ({
        ...r,
        rows: r.rows.slice(0, LIMITS.recordedRows),
        masked: r.masked.filter(([row]) => row < LIMITS.recordedRows),
        recordedRows: Math.min(r.rows.length, LIMITS.recordedRows),
        maskedTypes: [...new Set(r.masked.map(([, , type]) => type))],
        maskedColumns: [...new Set(r.masked.map(([, col]) => r.columns[col]?.name ?? ""))],
      })),
      ...(error && { error }),
    },
    { maskedFields },
  );
  request.timer?.mark("record");
  if (error) return { status: "failed", sessionId, decision: ctx.decision, results, error };
  return { status: "done", sessionId, decision: ctx.decision, results, durationMs };
}

/** Parameter values as recorded: masked like result cells (fail closed: unreadable settings, nothing runs). */
async function maskedParameters(values: readonly (string | null)[], connectionId: string) {
  try {
    const masking = await maskingConfigFor(connectionId);
    return values.map((v) => (v === null ? null : maskText(v, masking).text));
  } catch {
    throw new GatewayError(
      "unavailable",
      "the masking settings cannot be read, so nothing runs (fail closed)",
    );
  }
}

/** The masking stage's view of result columns: name, type, schema and table, and the connection. */
function columnRefs(columns: ResultColumn[], connectionName: string): ColumnRef[] {
  return columns.map((c) => {
    const [schema, table] = c.table?.split(".") ?? [];
    return {
      name: c.name,
      type: c.type,
      ...(table && { table }),
      ...(schema && { schema }),
      connection: connectionName,
    };
  });
}

/** Where each statement's text starts in the input (statements are ordered, exact slices of it). */
function statementOffsets(input: string, texts: string[]): number[] {
  let from = 0;
  return texts.map((text) => {
    const at = input.indexOf(text, from);
    from = at < 0 ? from : at + text.length;
    return Math.max(0, at);
  });
}

/** PostgreSQL reports positions 1-based within the statement it ran; callers get them within their input. */
function describeTargetError(err: Error, statementOffset: number) {
  if (err instanceof TargetError) {
    return {
      code: err.sqlState === "57014" ? ("cancelled" as const) : ("target_error" as const),
      message: err.message,
      ...(err.position !== undefined && { position: err.position + statementOffset }),
      ...(err.sqlState && { sqlState: err.sqlState }),
    };
  }
  if (err instanceof GatewayError) return { code: "target_error" as const, message: err.message };
  throw err;
}
