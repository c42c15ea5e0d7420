/**
 * The auditor's questions, answered from what the gateway recorded (never from values: masked types and
 * column names only): who read a sensitive type or column on a connection since a date, which writes ran
 * without an approval, and which approvals a user gave. Not responsible for permission checks (matrix-service.ts).
 */
import "server-only";
import { sql } from "drizzle-orm";
import type { z } from "zod";
import { rowsOf } from "@/db/rows";
import type { Db } from "@/db/store";
import { parseDateParam } from "./evidence";
import type { questionSchema } from "./schema";

export interface QuestionAnswer {
  title: string;
  columns: string[];
  rows: { cells: string[]; sessionId: string | null }[];
  /** the answer stops here; narrow the question for more */
  limit: number;
}

const LIMIT = 500;
/** Classes that change a target: a write that ran with decision allow and no review went around approval. */
const WRITE_CLASSES = ["write", "unbounded-write", "ddl", "privilege", "dangerous"];

const iso = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString();
const EPOCH = new Date(0);

function sinceOf(value: string | undefined) {
  return value ? parseDateParam(value, "since") : EPOCH;
}

type Question = z.output<typeof questionSchema>;

async function touched(db: Db, q: Extract<Question, { question: "touched" }>): Promise<QuestionAnswer> {
  const since = sinceOf(q.since);
  const rows = rowsOf<{
    session_id: string;
    principal_label: string;
    at: Date | string;
    statement: string | null;
    types: string[] | null;
    columns: string[] | null;
  }>(
    await db.execute(sql`
      select s.id as session_id, s.principal_label, e.at, r->>'statement' as statement,
        array(select jsonb_array_elements_text(coalesce(r->'maskedTypes', '[]'::jsonb))) as types,
        array(select jsonb_array_elements_text(coalesce(r->'maskedColumns', '[]'::jsonb))) as columns
      from sessions s
      join session_events e on e.session_id = s.id and e.type = 'result'
      cross join lateral jsonb_array_elements(
        case when jsonb_typeof(e.data->'results') = 'array' then e.data->'results' else '[]'::jsonb end) r
      where s.connection_name = ${q.connection} and e.at >= ${since.toISOString()}::timestamptz
        and (
          exists (select 1 from jsonb_array_elements_text(
            case when jsonb_typeof(r->'maskedTypes') = 'array' then r->'maskedTypes' else '[]'::jsonb end) t
            where lower(t) = lower(${q.field}))
          or exists (select 1 from jsonb_array_elements_text(
            case when jsonb_typeof(r->'maskedColumns') = 'array' then r->'maskedColumns' else '[]'::jsonb end) c
            where lower(c) = lower(${q.field})))
      order by e.at desc
      limit ${LIMIT}`),
  );
  return {
    title: `Who read ${q.field} on ${q.connection} since ${since.toISOString().slice(0, 10)}`,
    columns: ["when", "who", "masked types", "masked columns", "statement"],
    rows: rows.map((r) => ({
      cells: [
        iso(r.at),
        r.principal_label,
        (r.types ?? []).join(" "),
        (r.columns ?? []).join(" "),
        r.statement ?? "",
      ],
      sessionId: r.session_id,
    })),
    limit: LIMIT,
  };
}

async function unapprovedWrites(
  db: Db,
  q: Extract<Question, { question: "unapproved-writes" }>,
): Promise<QuestionAnswer> {
  const since = sinceOf(q.since);
  const classes = sql.join(
    WRITE_CLASSES.map((c) => sql`${c}`),
    sql`, `,
  );
  const rows = rowsOf<{
    session_id: string;
    principal_label: string;
    connection_name: string;
    at: Date | string;
    class: string;
    input: string;
    rule: string | null;
  }>(
    await db.execute(sql`
      select s.id as session_id, s.principal_label, s.connection_name, e.at, e.data->>'class' as class,
        e.data->>'input' as input, e.data->'reasons'->0->>'ruleName' as rule
      from session_events e join sessions s on s.id = e.session_id
      where e.type = 'statement' and e.data->>'decision' = 'allow' and not (e.data ? 'reviewId')
        and e.data->>'class' in (${classes})
        and e.at >= ${since.toISOString()}::timestamptz
        ${q.connection ? sql`and s.connection_name = ${q.connection}` : sql``}
      order by e.id desc
      limit ${LIMIT}`),
  );
  return {
    title: `Writes that ran without an approval${q.connection ? ` on ${q.connection}` : ""}${q.since ? ` since ${q.since}` : ""}`,
    columns: ["when", "who", "connection", "class", "allowed by rule", "statement"],
    rows: rows.map((r) => ({
      cells: [iso(r.at), r.principal_label, r.connection_name, r.class, r.rule ?? "", r.input],
      sessionId: r.session_id,
    })),
    limit: LIMIT,
  };
}

async function approvalsBy(
  db: Db,
  q: Extract<Question, { question: "approvals-by" }>,
): Promise<QuestionAnswer> {
  const since = sinceOf(q.since);
  const rows = rowsOf<{
    at: string | Date;
    what: string;
    requester: string;
    connection: string;
    detail: string;
    decision: string;
    comment: string;
    session_id: string | null;
  }>(
    await db.execute(sql`
      select (d->>'at')::timestamptz as at, 'review' as what, r.requester_label as requester,
        r.connection_name as connection, r.input as detail, d->>'decision' as decision,
        coalesce(d->>'comment', '') as comment, r.session_id
      from reviews r cross join lateral jsonb_array_elements(r.decisions) d
      where lower(d->>'byLabel') = lower(${q.user}) and (d->>'at')::timestamptz >= ${since.toISOString()}::timestamptz
      union all
      select g.decided_at, 'access grant', u.email, c.name, g.duration_minutes || ' min: ' || g.reason,
        case when g.state = 'denied' then 'deny' else 'approve' end, g.comment, null
      from access_grants g
      join users d on d.id = g.decided_by
      join users u on u.id = g.user_id
      join connections c on c.id = g.connection_id
      where lower(d.email) = lower(${q.user}) and g.state in ('active', 'expired', 'revoked', 'denied')
        and g.decided_at >= ${since.toISOString()}::timestamptz
      order by 1 desc
      limit ${LIMIT}`),
  );
  return {
    title: `Approvals given by ${q.user}${q.since ? ` since ${q.since}` : ""}`,
    columns: ["when", "what", "decision", "requester", "connection", "request", "comment"],
    rows: rows.map((r) => ({
      cells: [iso(r.at), r.what, r.decision, r.requester, r.connection, r.detail, r.comment],
      sessionId: r.session_id,
    })),
    limit: LIMIT,
  };
}

export async function answerQuestion(db: Db, q: Question): Promise<QuestionAnswer> {
  if (q.question === "touched") return touched(db, q);
  if (q.question === "unapproved-writes") return unapprovedWrites(db, q);
  return approvalsBy(db, q);
}
