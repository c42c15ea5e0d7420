/**
 * The SQL channel: every SQL request, from the editor, the API, agents and native clients alike, over the
 * gateway core (server/gateway):
 *   identify + authorize (core) -> inspect (real PostgreSQL parser and the target's catalog: this channel) ->
 *   decide (core's rules) -> [hold for review: core] -> execute (gateway's credentials: this channel) -> mask
 *   (this channel, with the core's masking settings) -> record (core, write-ahead) -> respond.
 * Fail closed: when a stage cannot decide (parser, catalog, rules, masking settings or recorder unavailable) the
 * request is refused. Recording is write-ahead: the statement and its decision are stored before anything runs
 * on the target, and its result before the caller sees it.
 * Not responsible for authenticating the caller (server/http, server/listeners) or for deciding reviews
 * (approvals/ hands an approved one to the runner registered here).
 */
import "server-only";
import { createHash } from "node:crypto";
import {
  claimApprovedReview,
  hashInput,
  hashParameters,
  registerApprovedRunner,
  settleClaimedReview,
} from "@/server/approvals";
import { learnFromResults } from "@/server/classification";
import { getSettings } from "@/server/config";
import type { ConnectionView } from "@/server/connections";
import { fetchedCursorLineage, rememberDeclaredCursor } from "@/server/cursor-lineage";
import { GatewayError } from "@/server/errors";
import { type GatewayCore, gatewayCore } from "@/server/gateway";
import type { StageTimer } from "@/server/http/server-timing";
import {
  BatchMasker,
  type ColumnRef,
  type MaskedCell,
  type MaskingConfig,
  type MaskRowsResult,
  maskRows,
  maskTargetError,
  maskText,
  quotesFailingRow,
  type StatementLineage,
} from "@/server/masking";
import {
  cacheableByText,
  columnLineage,
  forgetLineage,
  type KnownLineage,
  keepsNames,
  type LineageAnswer,
  lineageBeforeRun,
  lineagePlan,
  statementLineage,
} from "@/server/masking-lineage";
import { ClientGone, PortalClosed, type ResultSink, StreamedResult } from "@/server/pipeline-stream";
import {
  type Classification,
  catalogFor,
  classifiedAsWrite,
  classifySql,
  type DecisionReason,
  evaluateRules,
  forgetCatalog,
  type PolicyDecision,
  type PolicyRule,
  trimSqlWhitespace,
} from "@/server/policy";
import { classifiedWithSessionPrepared, rememberPreparedStatements } from "@/server/prepared-statements";
import type { Principal } from "@/server/principal";
import type { SessionCounters } from "@/server/recording";
import { escapeUnstorable, unstorableTextProblem } from "@/server/storable-text";
import { readableColumnsOf } from "@/server/targets/catalog";
import { nameCheck, pinnedResolution, poolResolution } from "@/server/targets/name-resolution";
import {
  type NameCheck,
  type PinnedSession,
  queryCatalog,
  runStatements,
  type StatementRoute,
  StreamStopped,
  type ResultColumn as TargetColumn,
  type TargetCopyIn,
  TargetError,
  unsupportedStatement,
} from "@/server/targets/postgres";
import { beginRun } from "@/server/targets/runs";

const { maxInputBytes, defaultRowLimit, maxRowLimit, recordedRows } = getSettings().sql;
export const LIMITS = { maxInputBytes, defaultRowLimit, maxRowLimit, recordedRows };
export { ClientGone, PortalClosed, type ResultSink } from "@/server/pipeline-stream";

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
   * parameters on the target and are recorded masked. A review of it shows them masked and binds its approval
   * to the exact values (a keyed hash; the values are not stored).
   */
  parameters?: readonly (string | null)[];
  runId?: string;
  rowLimit?: number;
  /**
   * A native client's result stream (server/pipeline-stream.ts): a single statement's read on its pinned
   * session whose result is long streams there, masked batch by batch, with no row limit; its outcome is then
   * `streamed` (no rows: they have left).
   */
  stream?: ResultSink<ResultColumn>;
  note?: string;
  /** stage timings for the Server-Timing header */
  timer?: StageTimer;
}

/**
 * A result column; `lineage` is set when the column is masked by what it derives from: the type it is masked
 * as, the masked source columns (schema.table.column), and why it is masked whole when lineage was not traced.
 */
export interface ResultColumn extends TargetColumn {
  /** `keys`: for JSON built from rows, the keys masked inside it (the rest of the document is scanned). */
  lineage?: { type: string; sources: string[]; keys?: string[]; reason?: string };
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
  /** its rows were streamed to the request's `stream` as they came (`rows` is empty, `rowCount` counts them) */
  streamed?: boolean;
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
      /** Why the classifier gave the refused statements their class (a native client's DETAIL). */
      classReasons?: string[];
      /** where the parser stopped (1-based, like PostgreSQL's positions) */
      parseError?: { message: string; position?: number };
    }
  | {
      status: "failed";
      sessionId: string;
      decision: PolicyDecision;
      results: StatementOutcome[];
      error: {
        code: "target_error" | "cancelled";
        message: string;
        detail?: string;
        hint?: string;
        position?: number;
        sqlState?: string;
      };
    };

/** A reviewed input an approver let through, to run for its requester (approvals/ hands it to runApproved). */
export interface ApprovedSql {
  requester: Principal;
  connectionName: string;
  input: string;
  inputHash: string;
  sessionId: string;
  reviewId: string;
  channel: SqlRequest["channel"];
}

/** The dry run's answer (`/check`): the decision and, per statement, what the classifier saw. */
export type CheckOutcome = PolicyDecision & {
  statements: {
    index: number;
    class: Classification["statements"][number]["class"];
    kind: string;
    tables: string[];
    reasons: string[];
  }[];
};

/** Statements that can return many rows are streamed through a cursor. */
const ROW_RETURNING_KINDS = new Set([
  "SelectStmt",
  "ExplainStmt",
  "VariableShowStmt",
  "FetchStmt",
  "ExecuteStmt",
]);

/** Refuses an oversized or empty input; returns the problem of text that is refused but still recorded. */
function validateInput(input: string): string | undefined {
  if (Buffer.byteLength(input, "utf8") > LIMITS.maxInputBytes) {
    throw new GatewayError(
      "payload_too_large",
      `the statement is larger than the limit of ${LIMITS.maxInputBytes} bytes`,
    );
  }
  // Only what PostgreSQL itself skips counts as blank: U+00A0 or U+FEFF are part of a statement there.
  if (trimSqlWhitespace(input).length === 0) throw new GatewayError("bad_request", "the statement is empty");
  // NUL or half a surrogate pair: the parser and the target would each read it their own way (the bytes
  // classified would not be the bytes executed), and the store cannot hold it: refused, and recorded escaped.
  const problem = unstorableTextProblem(input);
  return problem && `the statement ${problem}`;
}

/** A statement the target driver cannot run (COPY) is refused whatever the rules say, before it is held or run. */
function refuseUnsupported(classification: Classification, decision: PolicyDecision): PolicyDecision {
  const refusals = classification.statements.flatMap((s) => {
    const message = unsupportedStatement(s.kind);
    if (!message) return [];
    const reason = { statementIndex: s.index, statement: s.text, class: s.class, ruleId: null };
    return [{ ...reason, ruleName: "not supported", action: "deny" as const, message }];
  });
  if (refusals.length === 0) return decision;
  return { ...decision, decision: "deny", reasons: [...refusals, ...decision.reasons] };
}

/** The decision of an input an approver let through: allowed, each statement naming the review. */
function approvedDecision(classification: Classification, reviewId: string): PolicyDecision {
  return {
    decision: "allow",
    class: classification.class,
    reasons: classification.statements.map((s) => ({
      statementIndex: s.index,
      statement: s.text,
      class: s.class,
      ruleId: null,
      ruleName: "approved review",
      action: "allow" as const,
      message: `approved in review ${reviewId}`,
    })),
  };
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
 * A statement whose masked predicates only showed in the run's session (earlier statements of the input had to
 * run first) is refused there unless a rule allows them: it cannot be held half-way through an input.
 */
function refuseUnallowedPredicates(
  statement: Classification["statements"][number],
  lineage: StatementLineage,
  rules: PolicyRule[],
  principal: Principal,
  connection: ConnectionView,
) {
  const decision = evaluateRules({ class: statement.class, statements: [statement] }, rules, {
    connectionId: connection.id,
    groups: principal.groups.map((g) => g.name),
    maskedPredicates: new Map([[statement.index, lineage.predicates]]),
  });
  if (decision.decision === "allow") return;
  const why = decision.reasons[0]?.message ?? "it filters on a masked column";
  throw new GatewayError(
    "blocked",
    `statement ${statement.index + 1} was not run: ${why}; this was found only once the statements before it ran, so run it on its own to send it for review`,
  );
}

/** The masking stage's view of result columns: name, type, schema and table, the connection, and lineage. */
function columnRefs(columns: TargetColumn[], connectionName: string, lineage?: LineageAnswer): ColumnRef[] {
  const traced = columnLineage(lineage, columns.length);
  return columns.map((c, i) => {
    const [schema, table] = c.table?.split(".") ?? [];
    const l = traced?.[i];
    return {
      name: c.name,
      type: c.type,
      ...(table && { table }),
      ...(schema && { schema }),
      connection: connectionName,
      ...(l?.keys
        ? { maskKeys: l.keys }
        : l?.maskAs && { maskAs: l.maskAs, ...(!l.plain && { labelOnly: true }) }),
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

const CONSULTED_CATALOG =
  "the target's catalog was consulted about the functions, operators and views it names (nothing was run)";

/** What the SQL channel needs of its target (server/targets in the running console). */
export interface SqlTarget {
  runStatements: typeof runStatements;
  queryCatalog: typeof queryCatalog;
  readableColumnsOf: typeof readableColumnsOf;
  namesResolveAlike: typeof namesResolveAlike;
  poolResolution: typeof poolResolution;
}

/** Whether a native client's session resolves names as the pool's read-only session does, now (not known: no). */
async function namesResolveAlike(
  pinned: PinnedSession,
  connectionId: string,
  version: string,
): Promise<boolean> {
  const [own, pool] = await Promise.all([pinnedResolution(pinned), poolResolution(connectionId, version)]);
  return own !== undefined && own === pool;
}

export const postgresTarget: SqlTarget = {
  runStatements,
  queryCatalog,
  readableColumnsOf,
  namesResolveAlike,
  poolResolution,
};

export interface SqlChannel {
  runSql(request: SqlRequest): Promise<SqlOutcome>;
  checkSql(principal: Principal, connectionName: string, input: string): Promise<CheckOutcome>;
  runApproved(options: ApprovedSql): Promise<SqlOutcome>;
  startCopyFromStdin(request: SqlRequest): Promise<CopyInStart>;
  decideCopyFromStdin(request: SqlRequest, data: CopyInData): Promise<SqlOutcome>;
  describeSql(request: SqlRequest): Promise<DescribeOutcome>;
}

/**
 * A statement described before it runs (a native client's Describe of a prepared statement): the target's
 * types for its parameters and result columns, as the target reports them (the listener decides how masked
 * columns are announced); or why it was not described.
 */
export type DescribeOutcome =
  | { status: "described"; parameterTypes: number[]; columns: { name: string; oid: number }[] }
  | Extract<SqlOutcome, { status: "blocked" }>
  | { status: "failed"; error: Extract<SqlOutcome, { status: "failed" }>["error"] };

/**
 * A native client's COPY ... FROM STDIN once decided, before its data flows: refused (blocked, or failed when the
 * target refused the statement), `collect` (the rules hold it: decided at CopyDone with the whole data), or
 * `loading` (allowed and started on the target: the listener passes each CopyData to `write`, then `done` at
 * CopyDone or `fail` at CopyFail; each of those records the result before it returns).
 */
export type CopyInStart =
  | Extract<SqlOutcome, { status: "blocked" | "failed" }>
  | { status: "collect" }
  | {
      status: "loading";
      sessionId: string;
      load: {
        write(chunk: Buffer): Promise<void>;
        done(): Promise<SqlOutcome>;
        fail(reason: string): Promise<SqlOutcome>;
      };
    };

/** A held COPY FROM STDIN's data: all of it (`complete`), or only its size when it was over `limit` bytes. */
export interface CopyInData {
  chunks: readonly Buffer[];
  bytes: number;
  complete: boolean;
  limit: number;
}

interface CopyDecided {
  connection: ConnectionView;
  classification: Classification;
  decision: PolicyDecision;
}

/**
 * The keyed hash an approval of a held COPY FROM STDIN is bound to: HMAC (hashParameters, under a key derived
 * from MASTER_KEY) of the data's SHA-256, however the client cut it into CopyData. The data is not stored.
 */
function hashCopyData(chunks: readonly Buffer[]): string {
  const digest = createHash("sha256");
  for (const chunk of chunks) digest.update(chunk);
  return hashParameters([`COPY FROM STDIN data sha256:${digest.digest("hex")}`]);
}

function countLines(chunk: Buffer): number {
  let n = 0;
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) n++;
  return n;
}

/**
 * The SQL channel over a gateway core: it inspects (parser and catalog), executes on the target and masks; the
 * core authorizes, reads the rules and masking settings, holds and records, each failing closed.
 */
export function createSqlChannel(core: GatewayCore, target: SqlTarget = postgresTarget): SqlChannel {
  /** Records an attempt refused before classification (escaped, blocked) and answers 400 naming the problem. */
  async function refuseInput(
    request: SqlRequest,
    connection: ConnectionView,
    problem: string,
  ): Promise<never> {
    const sessionId = await recordRefused(request, connection, {
      input: escapeUnstorable(request.input),
      class: "unparseable",
      ruleName: "input",
      message: problem,
    });
    throw new GatewayError("bad_request", problem, { sessionId });
  }

  /**
   * A stage that could not decide (the rules or the masking settings unreadable): the attempt is recorded as
   * blocked with that reason, when the recorder can, and refused with it.
   */
  async function refuseUndecided(
    request: SqlRequest,
    connection: ConnectionView,
    classification: Classification,
    err: unknown,
  ): Promise<never> {
    if (!(err instanceof GatewayError) || err.code !== "unavailable") throw err;
    const sessionId = await recordRefused(request, connection, {
      input: request.input,
      class: classification.class,
      ruleName: "fail closed",
      message: err.message,
    }).catch(() => undefined);
    throw new GatewayError("unavailable", err.message, sessionId ? { sessionId } : undefined);
  }

  /** Records a refused attempt as a blocked statement, in the caller's session or a new one; its session id. */
  async function recordRefused(
    request: SqlRequest,
    connection: ConnectionView,
    refused: { input: string; class: string; ruleName: string; message: string },
  ): Promise<string> {
    const data = {
      input: refused.input,
      class: refused.class,
      decision: "deny",
      reasons: [
        {
          statementIndex: 0,
          statement: "",
          class: refused.class,
          ruleId: null,
          ruleName: refused.ruleName,
          action: "deny",
          message: refused.message,
        },
      ],
      status: "blocked",
    };
    const counters = { statements: 1, blocked: 1 };
    if (request.sessionId) {
      await core.record.appendSessionEvent(request.sessionId, "statement", data, counters, {
        principal: request.principal,
        connectionId: connection.id,
      });
      return request.sessionId;
    }
    const event = { type: "statement", data, counters };
    const { sessionId } = await core.record.startSessionWithEvent(
      request.principal,
      connection,
      "sql",
      request.channel,
      event,
    );
    return sessionId;
  }

  /**
   * Classifies with the parser and the target's own catalog (functions, operators, views; cached per connection).
   * A catalog that cannot be read makes the input unparseable with that reason: nothing runs (fail closed).
   */
  async function inspect(input: string, connection: ConnectionView): Promise<Classification> {
    try {
      // The target's refusals are worded for a person (GatewayError); nothing else it says reaches the caller.
      const catalog = catalogFor(connection.id, connection.updatedAt, (text, parameters) =>
        target.queryCatalog(connection.id, text, parameters).catch((err: unknown) => {
          throw err instanceof GatewayError ? err : new Error("the target did not answer");
        }),
      );
      return await classifySql(input, { catalog, parseCacheScope: connection.id });
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
  async function checkSql(principal: Principal, connectionName: string, input: string) {
    const connection = await sqlConnection(principal, connectionName);
    const refused = validateInput(input);
    if (refused) throw new GatewayError("bad_request", refused);
    const classification = await inspect(input, connection);
    const known = classification.error
      ? undefined
      : await lineageBeforeRun(connection, classification.statements, await core.maskingFor(connection));
    const decision = refuseUnsupported(
      classification,
      evaluateRules(classification, await core.sqlRules(), {
        connectionId: connection.id,
        groups: principal.groups.map((g) => g.name),
        ...(known && { maskedPredicates: known.predicates }),
      }),
    );
    return {
      ...decision,
      statements: classification.statements.map((s) => ({
        index: s.index,
        class: s.class,
        kind: s.kind,
        tables: s.tables,
        reasons: classification.consultedCatalog ? [...s.reasons, CONSULTED_CATALOG] : s.reasons,
      })),
    };
  }

  function sqlConnection(principal: Principal, name: string): Promise<ConnectionView> {
    return core.authorize(
      principal,
      name,
      "postgres",
      `${name} is an SSH connection; open it in a terminal instead`,
    );
  }

  async function runSql(request: SqlRequest): Promise<SqlOutcome> {
    const { principal, timer } = request;
    const connection = await sqlConnection(principal, request.connectionName);
    const refused = validateInput(request.input);
    if (refused) await refuseInput(request, connection, refused);
    const rowLimit = Math.min(
      Math.max(1, Math.floor(request.rowLimit ?? LIMITS.defaultRowLimit)),
      LIMITS.maxRowLimit,
    );
    timer?.mark("connection");

    let classification = await inspect(request.input, connection);
    const pinned = request.targetSession;
    if (pinned) {
      // An EXECUTE of what this session PREPAREd in an earlier input: classified as that PREPARE, if the session
      // shows it is (server/prepared-statements.ts).
      classification = await classifiedWithSessionPrepared(
        classification,
        pinned,
        async (text, params) =>
          (await pinned.sql.unsafe(text, params as never[])) as unknown as Record<string, unknown>[],
        (text) => inspect(text, connection),
      );
    }
    timer?.mark("parse");
    return decideAndRun(request, connection, classification, rowLimit, true);
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
    let known: KnownLineage | undefined;
    let rules: PolicyRule[];
    try {
      known = classification.error
        ? undefined
        : await lineageBeforeRun(
            connection,
            classification.statements,
            await core.maskingFor(connection),
            request.parameters !== undefined,
          );
      timer?.mark("lineage");
      rules = await core.sqlRules();
    } catch (err) {
      return refuseUndecided(request, connection, classification, err);
    }
    const decision = refuseUnsupported(
      classification,
      evaluateRules(classification, rules, {
        connectionId: connection.id,
        groups: principal.groups.map((g) => g.name),
        ...(known && { maskedPredicates: known.predicates }),
      }),
    );
    timer?.mark("policy");

    const parameters = request.parameters;
    if (parameters && classification.statements.length > 1) {
      throw new GatewayError("bad_request", "cannot insert multiple commands into a prepared statement");
    }
    const statementEvent = {
      input: request.input,
      ...(parameters && { parameters: await maskedParameters(parameters, connection) }),
      class: decision.class,
      decision: decision.decision,
      reasons: decision.reasons,
      ...(classification.error && { parseError: classification.error }),
    };
    // Write-ahead: the statement and its decision are stored before anything runs. A new session and its first
    // statement go in one round trip; a resumed one is checked (owner, connection, live) by the append itself.
    const recordStatement = async (data: Record<string, unknown>, counters: SessionCounters) => {
      if (request.sessionId) {
        const eventId = await core.record.appendSessionEvent(request.sessionId, "statement", data, counters, {
          principal,
          connectionId: connection.id,
        });
        return { sessionId: request.sessionId, eventId };
      }
      return core.record.startSessionWithEvent(principal, connection, "sql", request.channel, {
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
      const refused = new Set(
        decision.reasons.filter((r) => r.action === "deny").map((r) => r.statementIndex),
      );
      const classReasons = classification.statements.flatMap((s) => (refused.has(s.index) ? s.reasons : []));
      return {
        status: "blocked",
        sessionId,
        decision,
        reasons: decision.reasons,
        ...(classReasons.length > 0 && { classReasons }),
        ...(parseError && { parseError }),
      };
    }
    if (decision.decision === "review" && request.channel === "native") {
      const approved = await runIfApproved(request, connection, classification, rowLimit);
      if (approved) return approved;
    }
    if (decision.decision === "review") {
      // The review names the session, so the session exists before the held statement is recorded in it.
      const sessionId = request.sessionId
        ? await core.record.resumeSession(principal, request.sessionId, connection.id)
        : await core.record.startSession(principal, connection, "sql", request.channel);
      const reviewId = await core.hold(
        {
          principal,
          connection,
          sessionId,
          channel: request.channel,
          input: request.input,
          class: decision.class,
          reasons: decision.reasons,
          ...(request.note !== undefined && { note: request.note }),
          ...(parameters && {
            parameters: {
              shown: statementEvent.parameters ?? [],
              hash: hashParameters(parameters),
            },
          }),
        },
        (reviewId) =>
          core.record.appendSessionEvent(
            sessionId,
            "statement",
            { ...statementEvent, status: "held", reviewId },
            { statements: 1, held: 1 },
          ),
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
      ...(known && { known }),
      rules,
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
  async function runApproved(options: ApprovedSql): Promise<SqlOutcome> {
    if (hashInput(options.input) !== options.inputHash) {
      throw new GatewayError("conflict", "the reviewed input does not match what was approved");
    }
    const connection = await sqlConnection(options.requester, options.connectionName);
    const classification = await inspect(options.input, connection);
    if (classification.error || classification.class === "unparseable") {
      const why = classification.error?.message;
      throw new GatewayError(
        "blocked",
        `the approved input can no longer be classified${why ? `: ${why}` : ""}`,
      );
    }
    const decision = approvedDecision(classification, options.reviewId);
    const statementEventId = await core.record.appendSessionEvent(
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

  /**
   * Describes one statement on the client's own target session without executing it: decided by the rules first
   * (a statement they deny is not even described), then Parse and Describe on the target. Nothing runs, so
   * nothing is recorded; the target's errors are masked like any other.
   */
  async function describeSql(request: SqlRequest): Promise<DescribeOutcome> {
    const { principal } = request;
    const connection = await sqlConnection(principal, request.connectionName);
    const refused = validateInput(request.input);
    if (refused) throw new GatewayError("bad_request", refused);
    if (!request.targetSession)
      throw new GatewayError("bad_request", "only a native client's session describes");
    const classification = await inspect(request.input, connection);
    if (classification.statements.length > 1) {
      throw new GatewayError("bad_request", "cannot insert multiple commands into a prepared statement");
    }
    const decision = refuseUnsupported(
      classification,
      evaluateRules(classification, await core.sqlRules(), {
        connectionId: connection.id,
        groups: principal.groups.map((g) => g.name),
      }),
    );
    if (decision.decision === "deny") {
      const parseError = classification.error && {
        message: classification.error.message,
        ...(classification.error.position !== undefined && { position: classification.error.position + 1 }),
      };
      // Refused before it was even described: an attempt, recorded like a refused statement.
      const sessionId = await recordBlocked(request, connection, {
        input: request.input,
        class: decision.class,
        decision: "deny",
        reasons: decision.reasons,
        status: "blocked",
        describedOnly: true,
      });
      return {
        status: "blocked",
        sessionId,
        decision,
        reasons: decision.reasons,
        ...(parseError && { parseError }),
      };
    }
    const masking = await core.maskingFor(connection);
    try {
      return { status: "described", ...(await request.targetSession.describe(request.input)) };
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      const error = await describeTargetError(err, 0, masking, connection, {
        statementTables: classification.statements[0]?.tables ?? [],
      });
      return { status: "failed", error };
    }
  }

  /**
   * A native client's COPY ... FROM STDIN, decided before its data flows, as the write it is (the same
   * classification, rules and recording as an INSERT into its table). Denied: recorded blocked, nothing sent.
   * Allowed: recorded (write-ahead), started on the client's own target session (its transaction, if one is
   * open), and the listener carries the data through the returned load. Held by the rules: `collect`, the
   * listener gathers the whole data (up to a bound) and decideCopyFromStdin decides with it.
   */
  async function startCopyFromStdin(request: SqlRequest): Promise<CopyInStart> {
    const decided = await decideCopy(request);
    if ("outcome" in decided) return decided.outcome;
    if (decided.decision.decision === "review") return { status: "collect" };
    return loadCopy(request, decided);
  }

  /**
   * A COPY ... FROM STDIN the rules held when it started, at its CopyDone with all its data (or only its size,
   * when it was over the bound): decided again; an approval of this connection, principal, statement and data
   * (a keyed hash of the data, as for parameter values) is taken once and the data loaded; otherwise it is held,
   * the review bound to that hash (the data itself is not kept anywhere).
   */
  async function decideCopyFromStdin(request: SqlRequest, data: CopyInData): Promise<SqlOutcome> {
    const decided = await decideCopy(request);
    if ("outcome" in decided) return decided.outcome;
    const { connection, classification, decision } = decided;
    const lines = data.chunks.reduce((n, c) => n + countLines(c), 0);
    const copied = { bytes: data.bytes, ...(data.complete && { lines }) };
    if (decision.decision === "review" && !data.complete) {
      const message = `a held COPY FROM STDIN keeps its data in memory to bind the approval to it, up to ${data.limit} bytes; this one sent ${data.bytes}: split the load, or ask an admin to allow COPY FROM for this table`;
      const reasons = [...decision.reasons, { ...copyReason(request, decision, "deny"), message }];
      await recordBlocked(request, connection, {
        input: request.input,
        class: decision.class,
        decision: "deny",
        reasons,
        status: "blocked",
        copyFromStdin: copied,
      });
      throw new GatewayError("payload_too_large", message);
    }
    if (decision.decision === "allow") return runCopy(request, decided, data.chunks);
    const hash = hashCopyData(data.chunks);
    if (request.sessionId && !classification.error) {
      const review = await claimApprovedReview({
        sessionId: request.sessionId,
        requesterId: request.principal.id,
        channel: request.channel,
        input: request.input,
        parametersHash: hash,
      });
      if (review) {
        const approved = { ...decided, decision: approvedDecision(classification, review.id) };
        const outcome = await runCopy(request, approved, data.chunks, review.id).catch(async (err) => {
          await settleClaimedReview(review.id);
          throw err;
        });
        if (outcome.status !== "done") await settleClaimedReview(review.id);
        return outcome;
      }
    }
    const reasons = [
      ...decision.reasons,
      {
        ...copyReason(request, decision, "review"),
        message: `a COPY FROM STDIN of ${data.bytes} bytes (${lines} lines): nothing was loaded; the data is not kept, only a keyed hash of it, so an approval loads exactly this data when the client sends it again on this connection`,
      },
    ];
    const sessionId = request.sessionId
      ? await core.record.resumeSession(request.principal, request.sessionId, connection.id)
      : await core.record.startSession(request.principal, connection, "sql", request.channel);
    const reviewId = await core.hold(
      {
        principal: request.principal,
        connection,
        sessionId,
        channel: request.channel,
        input: request.input,
        class: decision.class,
        reasons,
        parameters: { shown: [], hash },
      },
      (reviewId) =>
        core.record.appendSessionEvent(
          sessionId,
          "statement",
          {
            input: request.input,
            class: decision.class,
            decision: "review",
            reasons,
            status: "held",
            reviewId,
            copyFromStdin: copied,
          },
          { statements: 1, held: 1 },
        ),
    );
    return { status: "pending_review", sessionId, reviewId, decision, reasons };
  }

  /** Authorizes, classifies and decides a COPY FROM STDIN; a denial is recorded and returned as its outcome. */
  async function decideCopy(
    request: SqlRequest,
  ): Promise<CopyDecided | { outcome: Extract<SqlOutcome, { status: "blocked" }> }> {
    const { principal } = request;
    const connection = await sqlConnection(principal, request.connectionName);
    if (!request.targetSession)
      throw new GatewayError("bad_request", "COPY FROM STDIN is loaded only on a native client's session");
    const refused = validateInput(request.input);
    if (refused) await refuseInput(request, connection, refused);
    const classification = await inspect(request.input, connection);
    let rules: PolicyRule[];
    try {
      rules = await core.sqlRules();
    } catch (err) {
      return refuseUndecided(request, connection, classification, err);
    }
    const decision = evaluateRules(classification, rules, {
      connectionId: connection.id,
      groups: principal.groups.map((g) => g.name),
    });
    if (decision.decision !== "deny") return { connection, classification, decision };
    const parseError = classification.error && {
      message: classification.error.message,
      ...(classification.error.position !== undefined && { position: classification.error.position + 1 }),
    };
    const sessionId = await recordBlocked(request, connection, {
      input: request.input,
      class: decision.class,
      decision: "deny",
      reasons: decision.reasons,
      status: "blocked",
      ...(classification.error && { parseError: classification.error }),
    });
    return {
      outcome: {
        status: "blocked",
        sessionId,
        decision,
        reasons: decision.reasons,
        ...(parseError && { parseError }),
      },
    };
  }

  /** The held or refused COPY's own reason, beside the rules' (review-notices.ts reads its name). */
  function copyReason(request: SqlRequest, decision: PolicyDecision, action: "review" | "deny") {
    return {
      statementIndex: 0,
      statement: request.input,
      class: decision.class,
      ruleId: null,
      ruleName: "COPY FROM STDIN",
      action,
    };
  }

  /** Loads data already gathered (a held COPY decided at its CopyDone): started, every piece sent, ended. */
  async function runCopy(
    request: SqlRequest,
    decided: CopyDecided,
    chunks: readonly Buffer[],
    reviewId?: string,
  ): Promise<SqlOutcome> {
    const started = await loadCopy(request, decided, reviewId);
    if (started.status !== "loading") return started;
    for (const chunk of chunks) await started.load.write(chunk);
    return started.load.done();
  }

  /**
   * Records the COPY (write-ahead: before the target sees it) and starts it on the client's target session.
   * The load then counts what it carries, and its end (CopyDone, CopyFail, or a target error) records the result
   * (the target's row count or its error, masked) before the listener answers. The data itself is not recorded.
   */
  async function loadCopy(
    request: SqlRequest,
    { connection, classification, decision }: CopyDecided,
    reviewId?: string,
  ): Promise<Extract<CopyInStart, { status: "loading" | "failed" }>> {
    const { principal } = request;
    const pinned = request.targetSession;
    if (!pinned) throw new GatewayError("bad_request", "COPY FROM STDIN needs a native client's session");
    const masking = await core.maskingFor(connection);
    const statement = {
      input: request.input,
      class: decision.class,
      decision: "allow",
      reasons: decision.reasons,
      status: "running",
      copyFromStdin: {},
      ...(reviewId && { reviewId }),
    };
    let sessionId: string;
    let statementEventId: number;
    if (request.sessionId) {
      sessionId = request.sessionId;
      statementEventId = await core.record.appendSessionEvent(
        sessionId,
        "statement",
        statement,
        { statements: 1, allowed: 1 },
        { principal, connectionId: connection.id },
      );
    } else {
      ({ sessionId, eventId: statementEventId } = await core.record.startSessionWithEvent(
        principal,
        connection,
        "sql",
        request.channel,
        { type: "statement", data: statement, counters: { statements: 1, allowed: 1 } },
      ));
    }
    const startedAt = core.clock.now();
    let bytes = 0;
    const finish = async (result: { rowCount: number } | Error): Promise<SqlOutcome> => {
      const durationMs = Math.round((core.clock.now() - startedAt) * 10) / 10;
      const error =
        result instanceof Error
          ? await describeTargetError(result, 0, masking, connection, {
              statementTables: classification.statements[0]?.tables ?? [],
            })
          : undefined;
      const rowCount = result instanceof Error ? 0 : result.rowCount;
      const outcome: StatementOutcome = {
        statementIndex: 0,
        statement: request.input,
        command: "COPY",
        columns: [],
        rows: [],
        masked: [],
        rowCount,
        truncated: false,
        rowLimit: 0,
        durationMs,
      };
      // Write-ahead for the reply: what the target did is stored before the client is told.
      await core.record.after.appendSessionEvent(
        sessionId,
        "result",
        {
          statementEventId,
          ...(reviewId && { reviewId }),
          status: error ? (error.code === "cancelled" ? "cancelled" : "failed") : "done",
          durationMs,
          rowCount,
          copyFromStdin: { bytes },
          results: error ? [] : [{ ...outcome, recordedRows: 0, maskedTypes: [], maskedColumns: [] }],
          ...(error && { error }),
        },
        { maskedFields: 0 },
      );
      if (error) return { status: "failed", sessionId, decision, results: [], error };
      return { status: "done", sessionId, decision, results: [outcome], durationMs };
    };
    let target: TargetCopyIn;
    try {
      target = await pinned.copyIn(request.input);
    } catch (err) {
      if (err instanceof TargetError) {
        const refused = await finish(err);
        if (refused.status === "failed") return refused;
        throw new Error("a COPY the target refused was recorded as done");
      }
      await core.record.after
        .appendSessionEvent(sessionId, "result", {
          statementEventId,
          status: "failed",
          error: err instanceof GatewayError ? err.message : "the target could not be reached",
        })
        .catch(() => {});
      throw err;
    }
    // The result is recorded once: at the client's CopyDone or CopyFail, or when the target session closes
    // under the load (the client went away: the target rolled the COPY back).
    let settled: Promise<SqlOutcome> | undefined;
    const settle = (end: () => Promise<{ rowCount: number } | Error>) => {
      settled ??= (async () => {
        let result: { rowCount: number } | Error;
        try {
          result = await end();
        } catch (err) {
          if (!(err instanceof TargetError) && !(err instanceof GatewayError)) throw err;
          result = err;
        }
        return finish(result);
      })();
      return settled;
    };
    target.finished.catch((err: unknown) => {
      if (pinned.closed) void settle(async () => err as Error).catch(() => {});
    });
    return {
      status: "loading",
      sessionId,
      load: {
        write(chunk) {
          bytes += chunk.length;
          return target.write(chunk);
        },
        done: () => settle(() => target.end()),
        fail: (reason) => settle(() => target.fail(reason)),
      },
    };
  }

  /** Records a refused attempt with its decision in the caller's session (or a new one); its session id. */
  async function recordBlocked(
    request: SqlRequest,
    connection: ConnectionView,
    data: Record<string, unknown>,
  ): Promise<string> {
    const counters = { statements: 1, blocked: 1 };
    if (request.sessionId) {
      await core.record.appendSessionEvent(request.sessionId, "statement", data, counters, {
        principal: request.principal,
        connectionId: connection.id,
      });
      return request.sessionId;
    }
    const event = { type: "statement", data, counters };
    const started = await core.record.startSessionWithEvent(
      request.principal,
      connection,
      "sql",
      request.channel,
      event,
    );
    return started.sessionId;
  }

  /**
   * A native client re-sending, on the connection where it was held, exactly a statement (and values) an approver
   * approved: the approval is taken (once; compare-and-set) and the statement runs now, in the client's own target
   * session and transaction, recorded with the review's id. undefined when no such approval waits: it is held.
   * Only a statement the rules would hold gets here; one they now deny stays denied.
   */
  async function runIfApproved(
    request: SqlRequest,
    connection: ConnectionView,
    classification: Classification,
    rowLimit: number,
  ): Promise<SqlOutcome | undefined> {
    if (!request.sessionId || classification.error) return undefined;
    const review = await claimApprovedReview({
      sessionId: request.sessionId,
      requesterId: request.principal.id,
      channel: request.channel,
      input: request.input,
      ...(request.parameters && { parametersHash: hashParameters(request.parameters) }),
    });
    if (!review) return undefined;
    const decision = approvedDecision(classification, review.id);
    const statementEventId = await core.record.appendSessionEvent(
      request.sessionId,
      "statement",
      {
        input: request.input,
        ...(request.parameters && { parameters: review.parameters ?? [] }),
        class: decision.class,
        decision: "allow",
        reasons: decision.reasons,
        status: "running",
        reviewId: review.id,
      },
      { statements: 1, allowed: 1 },
      { principal: request.principal, connectionId: connection.id },
    );
    const outcome = await executeAndRecord({
      request,
      connection,
      classification,
      decision,
      sessionId: request.sessionId,
      statementEventId,
      rowLimit,
      reviewId: review.id,
    }).catch(async (err) => {
      await settleClaimedReview(review.id);
      throw err;
    });
    if (outcome.status !== "done") await settleClaimedReview(review.id);
    return outcome;
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
    /** lineage found before the run (decideAndRun) */
    known?: KnownLineage;
    /**
     * The rules, to decide masked predicates found only in the run's session (after earlier statements ran);
     * absent when the input was approved in review as it is.
     */
    rules?: PolicyRule[];
  }): Promise<SqlOutcome> {
    const { request, connection, classification, sessionId, rowLimit } = ctx;
    const statements = classification.statements;
    const run = request.runId ? beginRun(request.runId, request.principal.id) : undefined;
    // A run that ends without a result still ends its statement in the recording.
    const recordFailure = (error: string) =>
      core.record.appendSessionEvent(sessionId, "result", {
        statementEventId: ctx.statementEventId,
        status: "failed",
        error,
      });
    // Large results are masked batch by batch while the next batch is read (server/masking/pool.ts).
    const masking = await core.maskingFor(connection).catch(async (err) => {
      await recordFailure("the masking settings cannot be read");
      throw err;
    });
    // A native client's own session may resolve names otherwise than the pool's session lineage explains on
    // (SET search_path, temporary tables, a function's set_config): then no answer explained elsewhere, nor one
    // kept by text, holds for it; each statement is explained on the session itself, just before it runs. Settled
    // only for a statement whose answer would come from elsewhere. A read sent in one message with its read-only
    // scope whose answer was explained on the pool carries the question as a check just before it (nameCheck):
    // no round trip of its own; when it fails, the read did not run, and it is explained here and sent again.
    // Otherwise, and while the session's last answer was "otherwise" (a client that sets its own search_path on
    // every connection would pay the failed check on every input), the session is asked, once per input: what
    // ran before in the input kept names, or answers from elsewhere are not used anyway.
    let alike: Promise<boolean> | undefined;
    const ownNames = async (pinned: PinnedSession) => {
      alike ??= target.namesResolveAlike(pinned, connection.id, connection.updatedAt).then((same) => {
        pinned.resolvesNamesOtherwise = !same;
        return same;
      });
      return !(await alike);
    };
    const namesFor = async (
      route: StatementRoute,
      checkable: boolean,
    ): Promise<{ own: boolean; check?: NameCheck }> => {
      const pinned = request.targetSession;
      if (!pinned) return { own: false };
      if (route.namesDiffered) {
        pinned.resolvesNamesOtherwise = true;
        alike = Promise.resolve(false);
        return { own: true };
      }
      if (checkable && route.checksNames && alike === undefined && !pinned.resolvesNamesOtherwise) {
        const pool = await target.poolResolution(connection.id, connection.updatedAt);
        if (pool !== undefined) return { own: false, check: nameCheck(pool) };
      }
      return { own: await ownNames(pinned) };
    };
    const maskers = new Map<number, BatchMasker>();
    const lineages = new Map<number, LineageAnswer>();
    // DECLAREs explained before they ran, remembered for the FETCHes of their cursors once they ran without error.
    const declared = new Map<number, { portal: string; text: string; answer: LineageAnswer }>();
    const rememberDeclared = (ranBefore: number) => {
      const pinned = request.targetSession;
      if (!pinned) return;
      for (const [index, d] of declared) {
        if (index >= ranBefore) continue;
        rememberDeclaredCursor(pinned, d.portal, d.text, d.answer);
        declared.delete(index);
      }
    };
    // A native client's single read streams once long (pipeline-stream.ts); a multi-statement input does not.
    const sink = request.stream;
    const stream =
      sink && request.targetSession && statements.length === 1
        ? new StreamedResult<ResultColumn>({
            record: core.record,
            sessionId,
            statementEventId: ctx.statementEventId,
            ...(ctx.reviewId && { reviewId: ctx.reviewId }),
            statement: { index: statements[0]?.index ?? 0, text: statements[0]?.text ?? "" },
            masking,
            recordedRows: LIMITS.recordedRows,
            sink,
            shape: (columns) => ({
              refs: columnRefs(columns, connection.name, lineages.get(0)),
              columns: shownColumns(columns, lineages.get(0)),
            }),
          })
        : undefined;
    const started = core.clock.now();
    let executed: Awaited<ReturnType<SqlTarget["runStatements"]>>;
    const timings: number[] = [];
    let last = started;
    try {
      executed = await target.runStatements(
        connection.id,
        statements.map((s) => s.text),
        {
          rowLimit,
          readOnly: ctx.readOnly === true,
          version: connection.updatedAt,
          // SELECT pg_catalog.set_config('search_path', '', false) changes the session as SET does: run as SET is,
          // not in a read's scope, which a client's transaction rolls back to (pg_dump's search_path was lost).
          statementKinds: statements.map((s) => (s.setsSessionOnly ? "VariableSetStmt" : s.kind)),
          ...(request.parameters && { parameters: request.parameters }),
          ...(request.targetSession && { pinned: request.targetSession }),
          ...(stream && { stream }),
          // A statement proven to return no more than the limit runs in one round trip, without a cursor.
          throughCursor: (i) =>
            ROW_RETURNING_KINDS.has(statements[i]?.kind ?? "") &&
            !((statements[i]?.maxRows ?? Number.POSITIVE_INFINITY) <= rowLimit),
          beforeStatement: async (i, query, route) => {
            const s = statements[i];
            if (!s) return;
            // The statements before this one ran without error: a DECLARE among them opened its cursor.
            rememberDeclared(i);
            const pinned = request.targetSession;
            if (s.kind === "FetchStmt" && s.portal !== undefined && pinned) {
              const fetched = await fetchedCursorLineage(pinned, s.portal, query);
              if (fetched) {
                lineages.set(i, fetched);
                return;
              }
            }
            const plan = lineagePlan(s.kind, s.text);
            if (plan.kind === "none") return;
            if (plan.kind === "untraced") {
              lineages.set(i, { untraced: plan.reason });
              return;
            }
            const known = ctx.known?.answers.get(s.index);
            const traced = known !== undefined && !("untraced" in known);
            const cacheable =
              cacheableByText(s.kind) && keepsNames(statements.slice(0, i).map((p) => p.kind));
            // Only an answer explained on the pool is checked with the read: one explained here now would be kept
            // by its text before the check said whether it holds elsewhere.
            const names = traced || cacheable ? await namesFor(route, traced) : { own: true };
            const own = names.own;
            let answer = own ? undefined : known;
            if (!answer || "untraced" in answer) {
              answer = await statementLineage({
                connectionId: connection.id,
                connectionName: connection.name,
                version: connection.updatedAt,
                statement: plan.text,
                masking,
                query,
                cacheable: !own && cacheable,
                parameterCount: request.parameters?.length ?? 0,
              });
              if (ctx.rules && !("untraced" in answer) && answer.predicates.length > 0) {
                refuseUnallowedPredicates(s, answer, ctx.rules, request.principal, connection);
              }
            }
            if (plan.columns) lineages.set(i, answer);
            else if (s.kind === "DeclareCursorStmt" && s.portal !== undefined && pinned)
              declared.set(i, { portal: s.portal, text: s.text, answer });
            else if (s.kind === "CopyStmt")
              lineages.set(i, { untraced: "COPY sends rows the gateway does not trace column by column" });
            return names.check;
          },
          rowSink: (i, columns) => {
            const masker = new BatchMasker(columnRefs(columns, connection.name, lineages.get(i)), masking);
            maskers.set(i, masker);
            return (rows) => masker.push(rows);
          },
          onCancellable: (cancel) => {
            const now = core.clock.now();
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
      // What the catalog said may have changed (CREATE FUNCTION, CREATE VIEW ...): ask again next time.
      if (statements.some((s) => s.class !== "read")) forgetCatalog(connection.id);
    }
    rememberDeclared(executed.results.length);
    if (request.targetSession)
      rememberPreparedStatements(request.targetSession, statements, executed.results.length);
    const durationMs = Math.round((core.clock.now() - started) * 10) / 10;
    timings.push(core.clock.now() - last);
    request.timer?.mark("target");
    if (stream && (stream.isStarted || executed.error instanceof StreamStopped)) {
      return endStream({
        stream,
        executed,
        statements,
        decision: ctx.decision,
        sessionId,
        durationMs,
        rowLimit,
        masking,
        connection,
        recordFailure,
      });
    }
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
            maskRows(columnRefs(r.columns, connection.name, lineages.get(i)), r.rows, masking, {
              inPlace: true,
            }),
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
        columns: shownColumns(r.columns, lineages.get(i)),
        rows: masked.rows,
        masked: masked.masked,
        rowCount: r.rowCount,
        truncated: r.truncated,
        rowLimit,
        durationMs: Math.round((timings[i + 1] ?? 0) * 10) / 10,
      };
    });
    // What was masked per source column teaches discovered classifications (counts only), off the reply's path.
    setImmediate(() =>
      learnFromResults(
        connection.id,
        executed.results.map((r, i) => ({ ...r, masked: maskedResults[i]?.masked ?? [] })),
      ),
    );
    const maskedFields = results.reduce((n, r) => n + r.masked.length, 0);
    request.timer?.mark("mask");
    const failedAt =
      statementOffsets(
        request.input,
        statements.map((s) => s.text),
      )[executed.results.length] ?? 0;
    // The target's words pass masking before the reply and the recording see them.
    const error = executed.error
      ? await describeTargetError(executed.error, failedAt, masking, connection, {
          statementTables: statements[executed.results.length]?.tables ?? [],
        })
      : undefined;
    // Write-ahead for the reply too: a result the recorder cannot store is not returned.
    await core.record.after.appendSessionEvent(
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
    // A schema change through the gateway may change what a view or a table name means: trace anew.
    if (statements.some((st) => !["read", "write", "unbounded-write"].includes(st.class)))
      forgetLineage(connection.id);
    if (error) return { status: "failed", sessionId, decision: ctx.decision, results, error };
    return { status: "done", sessionId, decision: ctx.decision, results, durationMs };
  }

  /**
   * A streamed result's end (executeAndRecord): its completion event stored before the client hears of it, then
   * the outcome. A stop before the first row left (the recorder or the masking refused) is refused whole.
   */
  async function endStream(ctx: {
    stream: StreamedResult<ResultColumn>;
    executed: Awaited<ReturnType<SqlTarget["runStatements"]>>;
    statements: Classification["statements"];
    decision: PolicyDecision;
    sessionId: string;
    durationMs: number;
    rowLimit: number;
    masking: MaskingConfig;
    connection: ConnectionView;
    recordFailure: (error: string) => Promise<unknown>;
  }): Promise<SqlOutcome> {
    const { stream, executed, statements, sessionId, durationMs } = ctx;
    const stopped = executed.error instanceof StreamStopped ? executed.error.reason : undefined;
    if (!stream.isStarted) {
      // Nothing left for the client: refused as a whole result would be.
      const why = stopped instanceof GatewayError ? stopped.message : "the result could not be sent";
      await ctx.recordFailure(why).catch(() => {});
      throw stopped instanceof GatewayError ? stopped : new GatewayError("unavailable", why);
    }
    const statement = statements[0];
    let error: Extract<SqlOutcome, { status: "failed" }>["error"] | undefined;
    let note: string | undefined;
    if (stopped instanceof ClientGone || stream.isGone) {
      error = {
        code: "cancelled",
        message: `the client went away after ${stream.rowCount} rows of the result had been sent: the statement was cancelled and its target session closed (what the client left open rolled back)`,
        sqlState: "57014",
      };
    } else if (stopped instanceof PortalClosed) {
      note = stopped.message;
    } else if (stopped !== undefined) {
      error = {
        code: "target_error",
        message: stopped instanceof GatewayError ? stopped.message : "the result could not be sent",
        sqlState: "58000",
      };
    } else if (executed.error) {
      error = await describeTargetError(executed.error, 0, ctx.masking, ctx.connection, {
        statementTables: statement?.tables ?? [],
      });
    }
    const done = executed.results[0];
    await stream.finish({
      status: error ? (error.code === "cancelled" ? "cancelled" : "failed") : "done",
      command: done?.command ?? "SELECT",
      durationMs,
      ...(error && { error }),
      ...(note && { note }),
    });
    const result: StatementOutcome = {
      statementIndex: statement?.index ?? 0,
      statement: statement?.text ?? "",
      command: done?.command ?? "SELECT",
      columns: stream.columns,
      rows: [],
      masked: [],
      rowCount: stream.rowCount,
      truncated: false,
      rowLimit: ctx.rowLimit,
      durationMs,
      streamed: true,
    };
    if (error) return { status: "failed", sessionId, decision: ctx.decision, results: [], error };
    return { status: "done", sessionId, decision: ctx.decision, results: [result], durationMs };
  }

  /** Parameter values as recorded: masked like result cells (fail closed: unreadable settings, nothing runs). */
  async function maskedParameters(values: readonly (string | null)[], connection: ConnectionView) {
    const masking = await core.maskingFor(connection);
    return values.map((v) => (v === null ? null : maskText(v, masking).text));
  }

  /**
   * PostgreSQL reports positions 1-based within the statement it ran; callers get them within their input. The
   * message, detail and hint are masked (server/masking/target-error.ts): a failing row is matched to its table's
   * columns, looked up here; when that lookup fails every value of the row is masked.
   */
  async function describeTargetError(
    err: Error,
    statementOffset: number,
    masking: MaskingConfig,
    connection: ConnectionView,
    failing: { statementTables: readonly string[] },
  ) {
    if (err instanceof TargetError) {
      const { detail, hint, schema, table } = err.fields;
      const tableColumns =
        quotesFailingRow(detail) && schema && table
          ? await target.readableColumnsOf(connection.id, schema, table)
          : undefined;
      const masked = maskTargetError(
        { message: err.message, detail, hint, schema, table, sqlState: err.sqlState },
        masking,
        {
          connection: connection.name,
          statementTables: failing.statementTables,
          ...(tableColumns && { tableColumns }),
        },
      );
      return {
        code: err.sqlState === "57014" ? ("cancelled" as const) : ("target_error" as const),
        message: masked.message,
        ...(masked.detail !== undefined && { detail: masked.detail }),
        ...(masked.hint !== undefined && { hint: masked.hint }),
        ...(err.position !== undefined && { position: err.position + statementOffset }),
        ...(err.sqlState && { sqlState: err.sqlState }),
      };
    }
    if (err instanceof GatewayError) return { code: "target_error" as const, message: err.message };
    throw err;
  }

  return { runSql, checkSql, runApproved, startCopyFromStdin, decideCopyFromStdin, describeSql };
}

/** A result's columns as shown: each masked by lineage carries it (type, sources, keys, why). */
function shownColumns(columns: TargetColumn[], answer: LineageAnswer | undefined): ResultColumn[] {
  const lineage = columnLineage(answer, columns.length);
  return columns.map((c, k) => {
    const l = lineage?.[k];
    if (!l?.maskAs) return c;
    return {
      ...c,
      lineage: {
        type: l.maskAs,
        sources: l.sources,
        ...(l.keys && { keys: Object.keys(l.keys) }),
        ...(l.unknown && { reason: l.unknown }),
      },
    };
  });
}

/** The SQL channel of this process, over its gateway core (server/gateway), built on first use. */
let channel: { core: GatewayCore; sql: SqlChannel } | undefined;
function sqlChannel(): SqlChannel {
  const core = gatewayCore();
  if (channel?.core !== core) channel = { core, sql: createSqlChannel(core) };
  return channel.sql;
}

export function runSql(request: SqlRequest): Promise<SqlOutcome> {
  return sqlChannel().runSql(request);
}

/** Classifies and decides without executing anything (the dry run behind `/check`). */
export function checkSql(principal: Principal, connectionName: string, input: string): Promise<CheckOutcome> {
  return sqlChannel().checkSql(principal, connectionName, input);
}

/**
 * Runs a request an approver let through: the exact input that was reviewed (its hash is checked), once, for the
 * requester, who must still be allowed to use the connection. The result is recorded in the requester's session.
 */
export function runApproved(options: ApprovedSql): Promise<SqlOutcome> {
  return sqlChannel().runApproved(options);
}

/** Describes a native client's prepared statement on its own target session, without running it. */
export function describeSql(request: SqlRequest): Promise<DescribeOutcome> {
  return sqlChannel().describeSql(request);
}

/** A native client's COPY ... FROM STDIN, decided before its data flows (see the channel's startCopyFromStdin). */
export function startCopyFromStdin(request: SqlRequest): Promise<CopyInStart> {
  return sqlChannel().startCopyFromStdin(request);
}

/** A held COPY ... FROM STDIN decided with its whole data at CopyDone (see the channel's decideCopyFromStdin). */
export function decideCopyFromStdin(request: SqlRequest, data: CopyInData): Promise<SqlOutcome> {
  return sqlChannel().decideCopyFromStdin(request, data);
}

/**
 * The channels whose reviews hold SQL. A native client's approved statement does not run at approval: the
 * client sends it again on its connection and it runs there, once (runIfApproved).
 */
export const SQL_CHANNELS = ["editor", "api", "mcp", "native"] as const;

/**
 * Registers with approvals how an approved SQL review runs (start-up; also on this module's first load, so any
 * process that can hold a statement can run its approval).
 */
export function registerSqlChannel(): void {
  registerApprovedRunner(SQL_CHANNELS, async ({ review, requester }) => {
    if (review.channel === "native") return "handed_over";
    const outcome = await runApproved({
      requester,
      connectionName: review.connectionName,
      input: review.input,
      inputHash: review.inputHash,
      sessionId: review.sessionId ?? "",
      reviewId: review.id,
      channel: review.channel === "editor" || review.channel === "mcp" ? review.channel : "api",
    });
    return outcome.status === "done" ? "executed" : "failed";
  });
}
registerSqlChannel();
