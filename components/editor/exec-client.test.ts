// The editor reads both shapes of an exec reply: one statement (its result and details at the top level, no
// `results`) and several (a `results` list).
import { describe, expect, it } from "vitest";
import { readExecReply } from "./exec-client";

describe("readExecReply", () => {
  it("reads a one-statement reply from its top level, details included", () => {
    const outcome = readExecReply(200, {
      status: "done",
      sessionId: "s1",
      statementIndex: 0,
      statement: "select email from customers",
      command: "SELECT",
      columns: [{ name: "email", type: "text" }],
      rows: [["g***@example.com"]],
      masked: [[0, 0, "email"]],
      rowCount: 1,
      truncated: false,
      rowLimit: 10000,
      durationMs: 1.5,
    });
    expect(outcome).toMatchObject({
      status: "done",
      sessionId: "s1",
      durationMs: 1.5,
      results: [
        {
          statement: "select email from customers",
          command: "SELECT",
          rows: [["g***@example.com"]],
          masked: [[0, 0, "email"]],
          rowCount: 1,
          rowLimit: 10000,
          durationMs: 1.5,
        },
      ],
    });
  });

  it("keeps a column's lineage: the type it is masked as, its sources and why it is untraced", () => {
    const outcome = readExecReply(200, {
      status: "done",
      columns: [
        { name: "raise", type: "int4", lineage: { type: "salary", sources: ["public.employees.salary"] } },
        { name: "p", type: "int4", lineage: { type: "untraced", sources: [], reason: "the function f" } },
        { name: "id", type: "int4" },
      ],
      rows: [["[SALARY]", "[UNTRACED]", 1]],
      masked: [
        [0, 0, "salary"],
        [0, 1, "untraced"],
      ],
      rowCount: 1,
      truncated: false,
    });
    expect(outcome.status === "done" && outcome.results[0]?.columns).toEqual([
      { name: "raise", type: "int4", lineage: { type: "salary", sources: ["public.employees.salary"] } },
      { name: "p", type: "int4", lineage: { type: "untraced", sources: [], reason: "the function f" } },
      { name: "id", type: "int4" },
    ]);
  });

  it("reads every statement of a several-statement reply from its results list", () => {
    const one = (statement: string, rows: unknown[][]) => ({
      statement,
      command: "SELECT",
      columns: [{ name: "n", type: "int4" }],
      rows,
      masked: [],
      rowCount: rows.length,
      truncated: false,
    });
    const outcome = readExecReply(200, {
      status: "done",
      sessionId: "s1",
      results: [one("select 1", [[1]]), one("select 2", [[2]])],
      columns: [{ name: "n", type: "int4" }],
      rows: [[2]],
      masked: [],
      truncated: false,
    });
    expect(outcome.status === "done" && outcome.results.map((r) => [r.statement, r.rows])).toEqual([
      ["select 1", [[1]]],
      ["select 2", [[2]]],
    ]);
  });
});
