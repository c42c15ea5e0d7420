// The SQL editor's view of the gateway API: what it shows of exec, schema and history replies. The reply
// shapes themselves are the API's schemas (lib/api, z.infer); what is here is how the editor reads them
// (every result has its index; reasons and errors read leniently). Only types; the calls live in exec-client.ts.
import type { CatalogTable, ExecStatementResult, HistoryItem } from "@/lib/api";

export type { CatalogTable, HistoryItem };

/** A connection the editor may pick, without anything a browser should not hold. */
export interface EditorConnection {
  name: string;
  description: string;
  address: string;
  isDemo: boolean;
}

/**
 * A result column; `lineage` is set when the column is masked by what it derives from: the type it is masked
 * as, the masked source columns (schema.table.column), the keys masked inside JSON built from rows, and why it
 * is masked whole when its lineage could not be traced.
 */
export type ResultColumn = ExecStatementResult["columns"][number];

/** One masked cell: row index, column index, detector type ("email", "credit_card" ...). */
export type MaskedCell = ExecStatementResult["masked"][number];

/** One statement's result as the editor holds it: always with its index in the run. */
export type StatementResult = ExecStatementResult & { statementIndex: number };

export interface BlockReason {
  statementIndex?: number;
  statement?: string;
  class?: string;
  ruleId?: string;
  ruleName?: string;
  action?: string;
  message: string;
}

export interface ApiErrorBody {
  code: string;
  message: string;
  /** 1-based character offset into the input, as PostgreSQL reports it. */
  position?: number;
  sqlState?: string;
  /** the target's detail and hint, masked like results */
  detail?: string;
  hint?: string;
}

/** What one run ended in, as the editor shows it. */
export type RunOutcome =
  | {
      status: "done";
      sessionId?: string;
      decision?: { decision: string; class?: string; reasons?: unknown[] };
      results: StatementResult[];
      durationMs?: number;
      /** the gateway's stages for this run, from its Server-Timing header (ms by stage) */
      gatewayTiming?: Record<string, number>;
    }
  | { status: "pending_review"; sessionId?: string; reviewId: string; reasons: BlockReason[] }
  | {
      status: "blocked";
      sessionId?: string;
      reasons: BlockReason[];
      error?: ApiErrorBody;
      /** The input did not parse: where the parser stopped (1-based offset into the input). */
      parseError?: { message: string; position?: number };
    }
  | { status: "failed"; sessionId?: string; results: StatementResult[]; error: ApiErrorBody }
  | { status: "cancelled"; sessionId?: string; results: StatementResult[]; message: string }
  | { status: "error"; httpStatus: number; error: ApiErrorBody };
