/**
 * Statements a native client prepared with SQL's PREPARE on its own target session, for the EXECUTEs it sends in
 * later inputs (pg_dump PREPAREs in one Query and EXECUTEs in the next ones). The classifier alone knows only
 * statements prepared earlier in the same input: an EXECUTE of any other name counts as a write. So the gateway
 * remembers, per pinned session, the exact text of each PREPARE it ran there **without error**, and when a later
 * EXECUTE names it, the EXECUTE is classified as that PREPARE's text classifies now (the catalog's current answers:
 * a function replaced since counts as it is now), joined with what the EXECUTE's own parameters do. Only when the
 * target's `pg_prepared_statements` says the statement of that name was prepared by SQL from exactly that text: a
 * function can PREPARE through dynamic SQL, a DEALLOCATE and a PREPARE the gateway did not see can swap it, a
 * protocol-level Parse can name one; then the EXECUTE stays a write. Checked just before the decision, and only for
 * an EXECUTE that nothing before it in its input could have changed (every statement before it a read: a read
 * calls no volatile function, and PostgreSQL refuses PREPARE inside a non-volatile one).
 * Not responsible for classifying (server/policy), lineage of the rows (masking-lineage.ts explains EXECUTE on the
 * session, never cached by text), or deciding anything.
 */
import "server-only";
import { CLASS_SEVERITY, type Classification, type ClassifiedStatement } from "@/server/policy";

type Lookup = (text: string, params: unknown[]) => Promise<readonly Record<string, unknown>[]>;

/** Prepared statements remembered per session; the oldest goes first beyond this (an EXECUTE of it is a write). */
const MAX_PREPARED = 256;
const preparedBySession = new WeakMap<object, Map<string, string>>();

/** Remembers the PREPAREs among `statements[0, ranBefore)`, which ran on `session` without error. */
export function rememberPreparedStatements(
  session: object,
  statements: readonly ClassifiedStatement[],
  ranBefore: number,
): void {
  for (const s of statements.slice(0, ranBefore)) {
    if (s.prepares === undefined) continue;
    const prepared = preparedBySession.get(session) ?? new Map<string, string>();
    preparedBySession.set(session, prepared);
    prepared.delete(s.prepares);
    if (prepared.size >= MAX_PREPARED) prepared.delete(prepared.keys().next().value as string);
    prepared.set(s.prepares, s.text);
  }
}

/**
 * `classification` with each EXECUTE of a statement prepared in an earlier input on `session` classified as that
 * PREPARE, when the session's pg_prepared_statements shows it is the one the gateway ran; otherwise unchanged.
 * `classifyText` classifies a PREPARE's text as the pipeline classifies any input.
 */
export async function classifiedWithSessionPrepared(
  classification: Classification,
  session: object,
  lookup: Lookup,
  classifyText: (text: string) => Promise<Classification>,
): Promise<Classification> {
  const remembered = preparedBySession.get(session);
  if (!remembered || classification.error) return classification;
  const statements = [...classification.statements];
  let changed = false;
  for (let i = 0; i < statements.length; i++) {
    const s = statements[i] as ClassifiedStatement;
    if (s.class !== "read" && !(s.kind === "ExecuteStmt" && s.executesElsewhere)) break;
    const execute = s.executesElsewhere;
    if (s.kind !== "ExecuteStmt" || !execute) continue;
    const text = remembered.get(execute.name);
    if (text === undefined || !(await isPreparedFrom(lookup, execute.name, text))) break;
    const prepared = (await classifyText(text)).statements;
    const [prepare] = prepared;
    if (prepared.length !== 1 || !prepare || prepare.prepares !== execute.name) break;
    const strictest =
      CLASS_SEVERITY[prepare.class] >= CLASS_SEVERITY[execute.class] ? prepare.class : execute.class;
    const reasons = [
      ...(execute.class === strictest ? execute.reasons : []),
      ...(prepare.class === strictest
        ? prepare.reasons.map(
            (reason) => `EXECUTE runs ${execute.name}, prepared earlier on this session: ${reason}`,
          )
        : []),
    ];
    statements[i] = {
      ...s,
      class: strictest,
      reasons,
      tables: [...new Set([...s.tables, ...prepare.tables])],
      functions: [...new Set([...s.functions, ...prepare.functions])],
    };
    changed = true;
    if (strictest !== "read") break;
  }
  if (!changed) return classification;
  let strictestOfAll = statements[0]?.class ?? "read";
  for (const s of statements)
    if (CLASS_SEVERITY[s.class] > CLASS_SEVERITY[strictestOfAll]) strictestOfAll = s.class;
  return { ...classification, class: strictestOfAll, statements };
}

async function isPreparedFrom(lookup: Lookup, name: string, text: string): Promise<boolean> {
  try {
    // Qualified: a temporary view named pg_prepared_statements would come first on the search path.
    const rows = await lookup(
      "select statement, from_sql from pg_catalog.pg_prepared_statements where name operator(pg_catalog.=) $1",
      [name],
    );
    return rows.length === 1 && rows[0]?.from_sql === true && rows[0]?.statement === text;
  } catch {
    return false;
  }
}
