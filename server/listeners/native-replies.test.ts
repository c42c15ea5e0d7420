import { PassThrough } from "node:stream";
import { parse } from "pg-protocol";
import { describe, expect, it } from "vitest";
import { type ErrorCode, GatewayError } from "@/server/errors";
import type { SqlOutcome, StatementOutcome } from "@/server/pipeline";
import type { DecisionReason } from "@/server/policy";
import { blockedNotice, gatewayErrorNotice, refusalOf, wireColumns, writeResult } from "./native-replies";

/** Our backend messages read back by node-postgres's own parser (pg-protocol). */
async function decode(bytes: Buffer[]) {
  const stream = new PassThrough();
  const messages: Record<string, unknown>[] = [];
  const done = parse(stream, (m) => messages.push(m as unknown as Record<string, unknown>));
  stream.end(Buffer.concat(bytes));
  await done;
  return messages;
}

const reason = (action: DecisionReason["action"], ruleName: string, message: string): DecisionReason => ({
  statementIndex: 0,
  statement: "delete from t",
  class: "write",
  ruleId: null,
  ruleName,
  action,
  message,
});

type Blocked = Extract<SqlOutcome, { status: "blocked" }>;
const blocked = (reasons: DecisionReason[], parseError?: Blocked["parseError"]): Blocked =>
  ({
    status: "blocked",
    sessionId: "s",
    decision: {},
    reasons,
    ...(parseError && { parseError }),
  }) as Blocked;

const result = (over: Partial<StatementOutcome>): StatementOutcome => ({
  statementIndex: 0,
  statement: "select 1",
  command: "SELECT",
  columns: [],
  rows: [],
  masked: [],
  rowCount: 0,
  truncated: false,
  rowLimit: 1000,
  durationMs: 0,
  ...over,
});

describe("a blocked statement's ErrorResponse", () => {
  it.each([
    [
      "a parse error is a syntax error at its position",
      blocked([], { message: "syntax error", position: 8 }),
      { code: "42601", message: "syntax error", position: 8 },
    ],
    [
      "a rule's refusal is insufficient_privilege",
      blocked([reason("deny", "no deletes", "deletes are refused")]),
      { code: "42501", message: "deletes are refused" },
    ],
    [
      "several refusals are joined",
      blocked([
        reason("deny", "a", "first"),
        reason("allow", "b", "not a refusal"),
        reason("deny", "c", "second"),
      ]),
      { code: "42501", message: "first; second" },
    ],
    [
      "what the gateway cannot carry is feature_not_supported",
      blocked([reason("deny", "not supported", "COPY to a file")]),
      { code: "0A000", message: "COPY to a file" },
    ],
    [
      "a rule's refusal carries the classifier's reasons as DETAIL",
      {
        ...blocked([
          reason("deny", "no privilege changes", "changes to roles and privileges are not allowed"),
        ]),
        classReasons: ["SET synchronize_seqscans is not a setting known to be harmless"],
      },
      {
        code: "42501",
        message: "changes to roles and privileges are not allowed",
        detail: "SET synchronize_seqscans is not a setting known to be harmless",
      },
    ],
    [
      "what the gateway cannot carry has no classifier's DETAIL",
      { ...blocked([reason("deny", "not supported", "COPY to a file")]), classReasons: ["COPY TO a file"] },
      { code: "0A000", message: "COPY to a file" },
    ],
    [
      "a refusal with no reason still says why",
      blocked([]),
      { code: "42501", message: "refused by the gateway's rules" },
    ],
  ])("%s", (_, outcome, expected) => {
    expect(blockedNotice(outcome)).toEqual({ severity: "ERROR", ...expected });
  });
});

describe("an outcome that did not run, as an ErrorResponse", () => {
  const failed = (error: Record<string, unknown>) =>
    ({ status: "failed", sessionId: "s", decision: {}, results: [], error }) as unknown as SqlOutcome;

  it.each([
    [
      "a target error keeps its SQLSTATE and position",
      failed({ code: "target_error", message: "division by zero", sqlState: "22012", position: 3 }),
      { code: "22012", message: "division by zero", position: "3" },
    ],
    [
      "a cancelled statement is query_canceled",
      failed({ code: "cancelled", message: "cancelled" }),
      { code: "57014" },
    ],
    [
      "a target error without SQLSTATE is internal_error",
      failed({ code: "target_error", message: "lost" }),
      { code: "XX000" },
    ],
    ["a blocked one is its notice", blocked([reason("deny", "r", "no")]), { code: "42501", message: "no" }],
  ])("%s", async (_, outcome, expected) => {
    const [message, ...rest] = await decode(refusalOf(outcome, "https://gw.example"));
    expect(rest).toEqual([]);
    expect(message).toMatchObject({ name: "error", severity: "ERROR", ...expected });
  });

  it("names a held statement's review, its console URL and why, and says what an approval does", async () => {
    const held = {
      status: "pending_review",
      sessionId: "s",
      reviewId: "r-1",
      decision: {},
      reasons: [reason("review", "deletes", "a delete needs a second pair of eyes")],
    } as unknown as SqlOutcome;
    const [sent] = await decode(refusalOf(held, "https://gw.example"));
    expect(sent).toMatchObject({
      code: "42501",
      message: "held for review r-1: nothing ran; an approver decides at https://gw.example/inbox/r-1",
      detail: "a delete needs a second pair of eyes",
      hint: expect.stringContaining("send exactly this statement"),
    });
    const [told] = await decode(refusalOf(held, "https://gw.example", "it loads nothing"));
    expect(told).toMatchObject({ hint: "it loads nothing" });
  });

  it("is nothing for an outcome that ran", () => {
    const done = {
      status: "done",
      sessionId: "s",
      decision: {},
      results: [],
      durationMs: 0,
    } as unknown as SqlOutcome;
    expect(refusalOf(done, "https://gw.example")).toEqual([]);
  });
});

describe("a gateway's refusal as a SQLSTATE", () => {
  const codes: ErrorCode[] = [
    "bad_request",
    "unauthenticated",
    "forbidden",
    "cross_site",
    "not_found",
    "conflict",
    "payload_too_large",
    "unsupported_media_type",
    "rate_limited",
    "target_unavailable",
    "unavailable",
    "blocked",
  ];
  it.each(codes)("%s has a five-character SQLSTATE and keeps its message", (code) => {
    const notice = gatewayErrorNotice(new GatewayError(code, "why"));
    expect(notice).toEqual({
      severity: "ERROR",
      code: expect.stringMatching(/^[0-9A-Z]{5}$/),
      message: "why",
    });
  });
  it("says a denied access the way PostgreSQL does (42501), and an unreachable target as 08006", () => {
    expect(gatewayErrorNotice(new GatewayError("forbidden", "x")).code).toBe("42501");
    expect(gatewayErrorNotice(new GatewayError("target_unavailable", "x")).code).toBe("08006");
  });
});

describe("a result as the simple protocol sends it", () => {
  it("announces a masked column as text whatever its type, and others as their type", () => {
    const columns = wireColumns(
      result({
        columns: [
          { name: "id", oid: 23 },
          { name: "card", oid: 1700 },
          { name: "unknown" },
        ] as StatementOutcome["columns"],
        masked: [[0, 1, "card"]],
      }),
    );
    expect(columns).toEqual([
      { name: "id", oid: 23 },
      { name: "card", oid: 25 },
      { name: "unknown", oid: 25 },
    ]);
  });

  it("writes RowDescription, DataRows, a WARNING when cut, and CommandComplete", async () => {
    const out: Buffer[] = [];
    writeResult(
      result({
        columns: [{ name: "n", oid: 23 }] as StatementOutcome["columns"],
        rows: [[1], [null]],
        rowCount: 2,
        truncated: true,
        rowLimit: 2,
      }),
      out,
    );
    const messages = await decode(out);
    expect(messages.map((m) => m.name)).toEqual([
      "rowDescription",
      "dataRow",
      "dataRow",
      "notice",
      "commandComplete",
    ]);
    expect(messages[1]).toMatchObject({ fields: ["1"] });
    expect(messages[2]).toMatchObject({ fields: [null] });
    expect(messages[3]).toMatchObject({
      severity: "WARNING",
      message: "the result was cut at 2 rows (MAX_ROW_LIMIT)",
    });
    expect(messages[4]).toMatchObject({ text: "SELECT 2" });
  });

  it("writes only CommandComplete for a statement without columns", async () => {
    const out: Buffer[] = [];
    writeResult(result({ command: "UPDATE", rowCount: 3 }), out);
    expect(await decode(out)).toMatchObject([{ name: "commandComplete", text: "UPDATE 3" }]);
  });
});
