// The memory of PREPAREs per pinned session, against a fake of our own look-up (what pg_prepared_statements
// answers): the real session is in server/listeners/pg-dump.int.test.ts.
import { describe, expect, it } from "vitest";
import { classifySql } from "@/server/policy";
import { classifiedWithSessionPrepared, rememberPreparedStatements } from "./prepared-statements";

const READ_PREPARE = "PREPARE q(int) AS SELECT id FROM orders WHERE id = $1";

/** A session on which `prepares` ran, answering pg_prepared_statements with `rows`. */
async function sessionWith(prepares: string, rows: Record<string, unknown>[] | Error) {
  const session = {};
  const prepared = await classifySql(prepares);
  rememberPreparedStatements(session, prepared.statements, prepared.statements.length);
  const asked: unknown[][] = [];
  const lookup = async (_text: string, params: unknown[]) => {
    asked.push(params);
    if (rows instanceof Error) throw rows;
    return rows;
  };
  return { session, lookup, asked };
}

const shown = (statement: string, fromSql = true) => [{ statement, from_sql: fromSql }];

async function classifyOn(input: string, prepares: string, rows: Record<string, unknown>[] | Error) {
  const { session, lookup, asked } = await sessionWith(prepares, rows);
  const result = await classifiedWithSessionPrepared(await classifySql(input), session, lookup, (text) =>
    classifySql(text),
  );
  return { result, asked };
}

describe("an EXECUTE of a statement prepared in an earlier input", () => {
  it.each<
    [
      behaviour: string,
      input: string,
      prepares: string,
      rows: Record<string, unknown>[] | Error,
      expected: string,
    ]
  >([
    [
      "is the read it prepared when the session shows that very text",
      "EXECUTE q(1)",
      READ_PREPARE,
      shown(READ_PREPARE),
      "read",
    ],
    [
      "stays a write when the session shows another text (swapped)",
      "EXECUTE q(1)",
      READ_PREPARE,
      shown("PREPARE q AS DELETE FROM orders"),
      "write",
    ],
    [
      "stays a write when the statement was prepared by the protocol, not SQL",
      "EXECUTE q(1)",
      READ_PREPARE,
      shown(READ_PREPARE, false),
      "write",
    ],
    [
      "stays a write when the session has no statement of that name",
      "EXECUTE q(1)",
      READ_PREPARE,
      [],
      "write",
    ],
    [
      "stays a write when the session cannot be asked (fail closed)",
      "EXECUTE q(1)",
      READ_PREPARE,
      new Error("25P02"),
      "write",
    ],
    [
      "stays a write when the gateway never saw it prepared",
      "EXECUTE other(1)",
      READ_PREPARE,
      shown(READ_PREPARE),
      "write",
    ],
    [
      "is a write when what it prepared is a write",
      "EXECUTE w",
      "PREPARE w AS DELETE FROM orders WHERE id = 1",
      shown("PREPARE w AS DELETE FROM orders WHERE id = 1"),
      "write",
    ],
    [
      "keeps what its own parameters do (a dangerous call)",
      "EXECUTE q(length(pg_read_file('/etc/passwd')))",
      READ_PREPARE,
      shown(READ_PREPARE),
      "dangerous",
    ],
    [
      "stays a write after a statement of its input that is not a read",
      "SELECT nextval('s'); EXECUTE q(1)",
      READ_PREPARE,
      shown(READ_PREPARE),
      "write",
    ],
    [
      "is the read after reads of its input",
      "SELECT 1; EXECUTE q(1); EXECUTE q(2)",
      READ_PREPARE,
      shown(READ_PREPARE),
      "read",
    ],
  ])("%s", async (_behaviour, input, prepares, rows, expected) => {
    const { result } = await classifyOn(input, prepares, rows);
    expect(result.class).toBe(expected);
  });

  it("gives the EXECUTE the prepared statement's tables, for table rules", async () => {
    const { result, asked } = await classifyOn("EXECUTE q(1)", READ_PREPARE, shown(READ_PREPARE));
    expect(result.statements[0]?.tables).toEqual(["orders"]);
    expect(result.statements[0]?.reasons.join(" ")).toContain("prepared earlier on this session");
    expect(asked).toEqual([["q"]]);
  });

  it("remembers only the PREPAREs that ran", async () => {
    const session = {};
    const input = await classifySql(`${READ_PREPARE}; PREPARE r AS SELECT 2`);
    rememberPreparedStatements(session, input.statements, 1);
    const lookup = async () => shown("PREPARE r AS SELECT 2");
    const result = await classifiedWithSessionPrepared(
      await classifySql("EXECUTE r"),
      session,
      lookup,
      (text) => classifySql(text),
    );
    expect(result.class).toBe("write");
  });
});
