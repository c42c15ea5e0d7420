/**
 * Whether a simple Query runs in one implicit transaction, as PostgreSQL runs several statements sent in one
 * Query: all of them commit together, or none (the first error rolls back the ones before it). Read with
 * PostgreSQL's scanner (no parse tree: it cannot overflow on deep input): more than one statement, and none that
 * controls transactions itself (BEGIN, COMMIT, SAVEPOINT ...: then the client's own statements decide, as before).
 * When in doubt it answers false, which runs the statements one after another. Not responsible for running or
 * deciding anything.
 */
import "server-only";
import { loadModule, scanSync } from "libpg-query";

const TRANSACTION_CONTROL = new Set([
  "begin",
  "start",
  "commit",
  "end",
  "rollback",
  "abort",
  "savepoint",
  "release",
  "prepare",
]);

export async function runsAsImplicitTransaction(text: string): Promise<boolean> {
  if (!text.includes(";")) return false;
  await loadModule();
  let tokens: { text: string; tokenName: string }[];
  try {
    tokens = scanSync(text).tokens;
  } catch {
    return false;
  }
  let statements = 0;
  let atStart = true;
  for (const token of tokens) {
    if (token.tokenName === "SQL_COMMENT" || token.tokenName === "C_COMMENT") continue;
    if (token.text === ";") {
      atStart = true;
      continue;
    }
    if (atStart) {
      if (TRANSACTION_CONTROL.has(token.text.toLowerCase())) return false;
      statements++;
      atStart = false;
    }
  }
  return statements > 1;
}
