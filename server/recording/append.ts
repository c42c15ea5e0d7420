/**
 * Writing a recording: a session started with its first event, and events appended to a session's hash chain
 * (decision 0003) with its counters advanced, each in one statement. The writes go through group commit
 * (group-commit.ts): concurrent writes share one transaction, and each call returns only when its own event is
 * committed. What is written here has already passed masking; this module never sees unmasked target data.
 * Not responsible for replay or integrity proofs (they read what is written here).
 */
import "server-only";
import { randomUUID } from "node:crypto";
import type { PreparedStatement } from "@/db/prepared";
import { canonicalJson, chainHash, chainHashSqlText, sessionEventDigestOf } from "@/server/integrity";
import type { Principal } from "@/server/principal";
import { commitWrite } from "./group-commit";
import { refuseResume, type SessionTarget, sessionRow } from "./sessions";

/** The session's first event with the session row (see startSessionWithEvent). */
const repeat = (type: string, n: number): string[] => Array.from({ length: n }, () => type);

const START_WITH_EVENT: PreparedStatement = {
  name: "portcullis_start_session_v1",
  // id, principal id/label/kind, connection id/name, kind, channel; at; five counters; hash, type; data
  types: [...repeat("text", 8), "timestamptz", ...repeat("int", 5), "text", "text", "jsonb"],
  text: `with started as (
      insert into sessions (id, principal_id, principal_label, principal_kind, connection_id, connection_name,
        kind, channel, started_at, last_activity_at, statements, allowed, held, blocked, masked_fields,
        event_seq, chain_head)
      values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::timestamptz,
        $9::timestamptz, $10::int, $11::int, $12::int, $13::int, $14::int, 1, $15::text)
      returning id
    )
    insert into session_events (session_id, seq, hash, at, type, data)
    select id, 1, $15::text, $9::timestamptz, $16::text, $17::jsonb from started
    returning id`,
};

/** One event appended to a session's chain, its counters advanced (see appendSessionEvent). */
function appendStatement(name: string, guard: string): PreparedStatement {
  return {
    name,
    // session id; five counters; digest, at, type, data; then principal and connection for a resumed session
    types: [
      "text",
      ...repeat("int", 5),
      "text",
      "timestamptz",
      "text",
      "jsonb",
      ...(guard ? repeat("text", 2) : []),
    ],
    text: `with head as (
      update sessions set
        last_activity_at = now(),
        statements = statements + $2::int,
        allowed = allowed + $3::int,
        held = held + $4::int,
        blocked = blocked + $5::int,
        masked_fields = masked_fields + $6::int,
        event_seq = event_seq + 1,
        chain_head = ${chainHashSqlText("chain_head", "event_seq + 1", "$7::text")}
      where id = $1::text${guard}
      returning event_seq, chain_head
    )
    insert into session_events (session_id, seq, hash, at, type, data)
    select $1::text, event_seq, chain_head, $8::timestamptz, $9::text, $10::jsonb from head
    returning id`,
  };
}
const APPEND_EVENT = appendStatement("portcullis_append_event_v1", "");
const APPEND_EVENT_RESUMED = appendStatement(
  "portcullis_append_resumed_event_v1",
  " and principal_id = $11::text and connection_id = $12::text and state = 'live'",
);

/**
 * Starts a session with its first event, in one statement (one round trip, atomic): the event is the first
 * link of the session's hash chain (prevHash "", seq 1), so its hash is computed here and the session row is
 * inserted holding it as the head, with the counters already advanced.
 */
export async function startSessionWithEvent(
  principal: Principal,
  connection: SessionTarget,
  kind: "sql" | "terminal",
  channel: "editor" | "api" | "mcp" | "native" | "terminal",
  event: { type: string; data: Record<string, unknown>; counters?: SessionCounters },
): Promise<{ sessionId: string; eventId: number }> {
  const id = randomUUID();
  const at = new Date();
  // The data is written once, canonically: the text hashed is the text stored (jsonb keeps no key order).
  const json = canonicalJson(event.data);
  const hash = chainHash("", 1, sessionEventDigestOf({ sessionId: id, type: event.type, at }, json));
  const c = event.counters ?? {};
  const row = sessionRow(id, principal, connection, kind, channel);
  const rows = await commitWrite<{ id: number | string }>(START_WITH_EVENT, [
    row.id,
    row.principalId,
    row.principalLabel,
    row.principalKind,
    row.connectionId,
    row.connectionName,
    row.kind,
    row.channel,
    at.toISOString(),
    c.statements ?? 0,
    c.allowed ?? 0,
    c.held ?? 0,
    c.blocked ?? 0,
    c.maskedFields ?? 0,
    hash,
    event.type,
    json,
  ]);
  const [inserted] = rows;
  if (!inserted) throw new Error("cannot record the session's first event");
  return { sessionId: id, eventId: Number(inserted.id) };
}

export interface SessionCounters {
  statements?: number;
  allowed?: number;
  held?: number;
  blocked?: number;
  maskedFields?: number;
}

/**
 * Appends one event and advances the session's counters, in one statement (one round trip, atomic). The event
 * takes the next place in the session's hash chain: the session row holds the chain head, and updating it
 * first serializes concurrent appends to one session (a second writer waits for the row and then sees the new
 * head), so the chain cannot fork. The time is set here, in milliseconds, so the hashed time is the stored one.
 */
export async function appendSessionEvent(
  sessionId: string,
  type: string,
  data: Record<string, unknown>,
  counters: SessionCounters = {},
  /** append only when the session is this principal's, live, on this connection (else the reason is thrown) */
  resumeBy?: { principal: Principal; connectionId: string },
): Promise<number> {
  const at = new Date();
  // The data is written once, canonically: the text hashed is the text stored (jsonb keeps no key order).
  const json = canonicalJson(data);
  const digest = sessionEventDigestOf({ sessionId, type, at }, json);
  const values = [
    sessionId,
    counters.statements ?? 0,
    counters.allowed ?? 0,
    counters.held ?? 0,
    counters.blocked ?? 0,
    counters.maskedFields ?? 0,
    digest,
    at.toISOString(),
    type,
    json,
  ];
  const rows = await commitWrite<{ id: number | string }>(
    resumeBy ? APPEND_EVENT_RESUMED : APPEND_EVENT,
    resumeBy ? [...values, resumeBy.principal.id, resumeBy.connectionId] : values,
  );
  const [row] = rows;
  if (!row && resumeBy) {
    const refused = await refuseResume(resumeBy.principal, sessionId, resumeBy.connectionId);
    if (refused) throw refused;
  }
  if (!row) throw new Error(`cannot record an event: session ${sessionId} does not exist`);
  return Number(row.id);
}
