/**
 * The transaction status a native client is told in ReadyForQuery (I idle, T in a transaction, E in a failed
 * one), followed from what ran on its pinned target session. It is what psql shows in its prompt; the gateway's
 * own safety never depends on it (a read's read-only scope asks the target, server/targets/postgres.ts).
 */
import "server-only";
import type { TransactionStatus } from "./wire";

export interface Executed {
  statement: string;
  /** the command tag's word(s): BEGIN, COMMIT, ROLLBACK, SELECT... */
  command: string;
}

const withoutComments = (sql: string) => sql.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/--[^\n]*/g, " ");

function afterStatement(status: TransactionStatus, { statement, command }: Executed): TransactionStatus {
  const tag = command.toUpperCase();
  if (tag === "BEGIN" || tag === "START TRANSACTION") return "T";
  if (tag === "COMMIT" || tag === "ROLLBACK") {
    const text = withoutComments(statement);
    // ROLLBACK TO SAVEPOINT (its tag is ROLLBACK) and ... AND CHAIN stay in a transaction
    if (/\bto\b/i.test(text) || /\band\s+chain\b/i.test(text)) return "T";
    return "I";
  }
  if (tag === "PREPARE TRANSACTION") return "I";
  return status;
}

/** The status after the statements that ran (in order) and, when `failed`, the error that stopped them. */
export function statusAfter(
  status: TransactionStatus,
  executed: readonly Executed[],
  failed: boolean,
): TransactionStatus {
  const reached = executed.reduce(afterStatement, status);
  if (!failed) return reached;
  return reached === "I" ? "I" : "E";
}
