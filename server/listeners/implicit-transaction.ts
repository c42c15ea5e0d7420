/**
 * Whether a simple Query runs in one implicit transaction, as PostgreSQL runs several statements sent in one
 * Query: all of them commit together, or none (the first error rolls back the ones before it). Read with
 * PostgreSQL's scanner (no parse tree: it cannot overflow on deep input): more than one statement, and none that
 * controls transactions itself (BEGIN, COMMIT, SAVEPOINT ...: then the client's own statements decide, as before).
 * When in doubt it answers false, which runs the statements one after another. Not responsible for running or
 * deciding anything.
 *
 * Most clients send one statement a Query, many with a closing semicolon (pgbench does): a text whose only `;`
 * is followed by nothing but the scanner's own whitespace holds at most one statement, whatever is before it (a
 * `;` inside a literal or a comment would be a second one), so it is answered without scanning (decision 0020:
 * the scan was ~4% of the gateway's CPU a pgbench statement).
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

/** What PostgreSQL 15's scanner takes as whitespace (`space` in scan.l; \v joined it only in 16). */
const SCANNER_WHITESPACE = /^[ \t\n\r\f]*$/;

export async function runsAsImplicitTransaction(text: string): Promise<boolean> {
  const semicolon = text.indexOf(";");
  if (semicolon === -1) return false;
  if (semicolon === text.lastIndexOf(";") && SCANNER_WHITESPACE.test(text.slice(semicolon + 1))) return false;
  return runsAsImplicitTransactionByScan(text);
}

/** The same answer from the scanner's tokens alone (exported for the test that holds the shortcut to it). */
export async function runsAsImplicitTransactionByScan(text: string): Promise<boolean> {
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
