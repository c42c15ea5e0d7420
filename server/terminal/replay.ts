/**
 * Terminal replay that scales to recordings of hours and hundreds of megabytes: a seek reads the nearest
 * keyframe at or before the time and the output from there (never the whole recording); a timeline gives
 * the length and the markers (commands, blocked commands, commands held for approval, masked output,
 * keyframes) without reading output; search runs in the store over the output events and returns times.
 * Access: the session's owner, or audit:read (as viewing the session). Everything read here is the
 * recording, which holds masked output only. Not responsible for writing keyframes (recorder.ts).
 */
import "server-only";
import { and, asc, desc, eq, gt, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { type Session, sessionEvents, sessions } from "@/db/schema";
import { getDb } from "@/db/store";
import { GatewayError, notFound } from "@/server/errors";
import { hasPermission, type Principal } from "@/server/principal";
import { escapeLike } from "@/server/recording";
import { MAX_OUTPUT_EVENT_CHARS } from "./event-sizes";
import { AHEAD_SECONDS, ChunkCollector, plainText, type ReplayEvent, type StoredRow } from "./replay-chunk";

export type { ReplayEvent } from "./replay-chunk";

export interface ReplayKeyframe {
  id: number;
  t: number;
  cols: number;
  rows: number;
  screen: string;
}

export interface ReplayChunk {
  /** the screen to start from; null: start from an empty terminal of `cols` x `rows` */
  keyframe: ReplayKeyframe | null;
  cols: number;
  rows: number;
  /** output and size changes after the keyframe (or from the start), in order */
  events: ReplayEvent[];
  /** pass as `after` for the next chunk; null when the recording has no more */
  next: number | null;
}

export type MarkerKind = "command" | "blocked" | "approval" | "masked";

export interface TimelineMarker {
  t: number;
  kind: MarkerKind;
  label: string;
  /** why a command was blocked or held */
  reason: string;
}

export interface ReplayTimeline {
  sessionId: string;
  /** seconds from the start to the last event */
  duration: number;
  cols: number;
  rows: number;
  markers: TimelineMarker[];
  keyframes: number[];
}

export interface SearchHit {
  t: number;
  eventId: number;
  /** the match with some output around it, escape sequences removed */
  context: string;
}

/** Rows read per round trip while collecting a chunk: of the largest output events, 2 MB at most. */
const PAGE_ROWS = Math.max(4, Math.floor((2 * 1024 * 1024) / MAX_OUTPUT_EVENT_CHARS));
export const MAX_SEARCH_HITS = 200;

const tOf = sql<number>`(${sessionEvents.data}->>'t')::float8`;

/** The session (without its events), if the principal may see it: their own, or any with audit:read. */
export async function viewableSession(principal: Principal, sessionId: string): Promise<Session | undefined> {
  const db = await getDb();
  const [session] = await db.select().from(sessions).where(eq(sessions.id, sessionId)).limit(1);
  if (!session || (session.principalId !== principal.id && !hasPermission(principal, "audit:read")))
    return undefined;
  return session;
}

/** The terminal session, if the principal may replay it. */
async function replayableSession(principal: Principal, sessionId: string): Promise<Session> {
  const session = await viewableSession(principal, sessionId);
  if (!session) throw notFound("no such session");
  if (session.kind !== "terminal")
    throw new GatewayError(
      "bad_request",
      "only terminal sessions have a replay; SQL sessions list statements",
    );
  return session;
}

async function firstSize(sessionId: string): Promise<{ cols: number; rows: number }> {
  const db = await getDb();
  const [row] = await db
    .select({ data: sessionEvents.data })
    .from(sessionEvents)
    .where(and(eq(sessionEvents.sessionId, sessionId), eq(sessionEvents.type, "resize")))
    .orderBy(asc(sessionEvents.id))
    .limit(1);
  const cols = Number(row?.data.cols);
  const rows = Number(row?.data.rows);
  return { cols: cols > 0 ? cols : 80, rows: rows > 0 ? rows : 24 };
}

/**
 * The nearest keyframe at or before `at`, and the event its screen follows (replay goes on from the events
 * after that one). A keyframe is written once the screen has caught up, possibly after later output, and
 * names the output event it follows (`afterEventId`); older recordings wrote it in place, right after it.
 */
async function nearestKeyframe(
  sessionId: string,
  at: number,
): Promise<{ keyframe: ReplayKeyframe; afterEventId: number } | null> {
  const db = await getDb();
  // Served by the partial expression index session_events_keyframe_idx: one index probe, one row read.
  const [row] = await db
    .select({ id: sessionEvents.id, data: sessionEvents.data })
    .from(sessionEvents)
    .where(
      and(eq(sessionEvents.sessionId, sessionId), eq(sessionEvents.type, "keyframe"), sql`${tOf} <= ${at}`),
    )
    .orderBy(desc(tOf))
    .limit(1);
  if (!row) return null;
  const d = row.data;
  const after = d.afterEventId;
  return {
    keyframe: {
      id: row.id,
      t: Number(d.t),
      cols: Number(d.cols),
      rows: Number(d.rows),
      screen: typeof d.screen === "string" ? d.screen : "",
    },
    afterEventId:
      typeof after === "number" && Number.isSafeInteger(after) && after > 0 && after < row.id
        ? after
        : row.id,
  };
}

/** A page of output and resize rows after event `afterId`, in recording order. */
export async function screenEventsAfter(
  sessionId: string,
  afterId: number,
  limit = PAGE_ROWS,
): Promise<StoredRow[]> {
  const db = await getDb();
  return db
    .select({ id: sessionEvents.id, type: sessionEvents.type, data: sessionEvents.data })
    .from(sessionEvents)
    .where(
      and(
        eq(sessionEvents.sessionId, sessionId),
        gt(sessionEvents.id, afterId),
        inArray(sessionEvents.type, ["output", "resize"]),
      ),
    )
    .orderBy(asc(sessionEvents.id))
    .limit(limit);
}

/** Output and resize events after `afterId` until the collector has what it needs. */
async function collect(
  sessionId: string,
  afterId: number,
  collector: ChunkCollector,
): Promise<number | null> {
  let cursor = afterId;
  // Pages of PAGE_ROWS: a seek usually needs a few dozen events, each up to MAX_OUTPUT_EVENT_CHARS.
  for (;;) {
    const rows = await screenEventsAfter(sessionId, cursor, PAGE_ROWS);
    collector.add(rows);
    if (collector.isDone) return collector.lastId() ?? cursor;
    if (rows.length < PAGE_ROWS) return null;
    cursor = rows.at(-1)?.id ?? cursor;
  }
}

/**
 * The screen at `at` seconds: the nearest keyframe at or before it and the events from there through `at`,
 * plus a window ahead for playing on.
 */
export async function replayAt(principal: Principal, sessionId: string, at: number): Promise<ReplayChunk> {
  await replayableSession(principal, sessionId);
  const nearest = await nearestKeyframe(sessionId, at);
  const keyframe = nearest?.keyframe ?? null;
  const size = keyframe ?? (await firstSize(sessionId));
  const collector = new ChunkCollector(at);
  const next = await collect(sessionId, nearest?.afterEventId ?? 0, collector);
  return { keyframe, cols: size.cols, rows: size.rows, events: collector.events, next };
}

/** The events after event `after` (a chunk's `next`), for a player that plays on from `from` seconds. */
export async function replayAfter(
  principal: Principal,
  sessionId: string,
  after: number,
  from: number,
): Promise<Omit<ReplayChunk, "keyframe" | "cols" | "rows">> {
  await replayableSession(principal, sessionId);
  const collector = new ChunkCollector(-1, from + AHEAD_SECONDS);
  const next = await collect(sessionId, after, collector);
  return { events: collector.events, next };
}

/** A timeline marker for a recorded command, review outcome or masked output. */
export function markerOf(row: Pick<StoredRow, "type" | "data">, t: number): TimelineMarker | undefined {
  const d = row.data;
  if (row.type === "review") {
    // The held line itself is marked by its command event; the outcome says who let it run or not.
    if (d.outcome === "held") return undefined;
    const by = Array.isArray(d.by) ? d.by.map(String).join(", ") : "";
    const outcome = String(d.outcome ?? "");
    return {
      t,
      kind: outcome === "approved" ? "approval" : "blocked",
      label: `review ${outcome}${by ? ` by ${by}` : ""}`,
      reason: String(d.message ?? d.comments ?? ""),
    };
  }
  if (row.type === "masked") {
    const fields = Number(d.fields) || 1;
    return { t, kind: "masked", label: `${fields} masked value${fields === 1 ? "" : "s"}`, reason: "" };
  }
  const command = d.isHidden === true ? "(input not echoed)" : String(d.command ?? "");
  const [first] = Array.isArray(d.reasons) ? d.reasons : [];
  const reason = typeof first === "object" && first !== null ? (first as Record<string, unknown>) : {};
  const kind: MarkerKind =
    d.decision === "deny" ? "blocked" : d.decision === "review" ? "approval" : "command";
  return { t, kind, label: command, reason: String(reason.message ?? reason.ruleName ?? "") };
}

/** Length, size, markers and keyframe times of a recording, without reading its output. */
export async function replayTimeline(principal: Principal, sessionId: string): Promise<ReplayTimeline> {
  await replayableSession(principal, sessionId);
  const db = await getDb();
  const marked = await db
    .select({ id: sessionEvents.id, type: sessionEvents.type, data: sessionEvents.data })
    .from(sessionEvents)
    .where(
      and(
        eq(sessionEvents.sessionId, sessionId),
        inArray(sessionEvents.type, ["command", "masked", "review"]),
      ),
    )
    .orderBy(asc(sessionEvents.id));
  const keyframes = await db
    .select({ t: tOf })
    .from(sessionEvents)
    .where(and(eq(sessionEvents.sessionId, sessionId), eq(sessionEvents.type, "keyframe")))
    .orderBy(asc(tOf));
  // Keystrokes are stored after the output they caused, so the last few events hold the latest time.
  const tail = await db
    .select({ t: tOf })
    .from(sessionEvents)
    .where(eq(sessionEvents.sessionId, sessionId))
    .orderBy(desc(sessionEvents.id))
    .limit(20);
  const size = await firstSize(sessionId);
  const markers = marked
    .map((row) => markerOf(row, Number(row.data.t) || 0))
    .filter((m): m is TimelineMarker => m !== undefined);
  const duration = Math.max(0, ...tail.map((r) => Number(r.t) || 0), ...markers.map((m) => m.t));
  return {
    sessionId,
    duration,
    ...size,
    markers,
    keyframes: keyframes.map((k) => Number(k.t)),
  };
}

/** Where `query` appears in the recorded output (case-insensitive), first MAX_SEARCH_HITS in order. */
export async function searchReplay(
  principal: Principal,
  sessionId: string,
  query: string,
): Promise<SearchHit[]> {
  await replayableSession(principal, sessionId);
  const needle = query.trim();
  if (needle === "") throw new GatewayError("bad_request", "say what to search for (q)");
  const db = await getDb();
  const text = sql`(${sessionEvents.data}->>'data')`;
  const position = sql`strpos(lower(${text}), lower(${needle}))`;
  const rows = await db
    .select({
      id: sessionEvents.id,
      t: tOf,
      context: sql<string>`substr(${text}, greatest(${position} - 80, 1), ${needle.length + 240})`,
    })
    .from(sessionEvents)
    .where(
      and(
        eq(sessionEvents.sessionId, sessionId),
        eq(sessionEvents.type, "output"),
        sql`${text} ilike ${`%${escapeLike(needle)}%`}`,
      ),
    )
    .orderBy(asc(sessionEvents.id))
    .limit(MAX_SEARCH_HITS);
  return rows.map((r) => ({ t: Number(r.t), eventId: r.id, context: plainText(r.context).slice(0, 200) }));
}

/** `?at=` (seconds) to seek, or `?after=<next>&from=` (seconds) to play on. */
export const replayQuerySchema = z.union([
  z.strictObject({ after: z.coerce.number().int().min(0), from: z.coerce.number().min(0).default(0) }),
  z.strictObject({ at: z.coerce.number().min(0).default(0) }),
]);

/** The replay route's answer: a seek or a continuation, by the query. */
export async function readReplay(principal: Principal, sessionId: string, params: URLSearchParams) {
  const query = replayQuerySchema.parse(Object.fromEntries(params));
  return "after" in query
    ? replayAfter(principal, sessionId, query.after, query.from)
    : replayAt(principal, sessionId, query.at);
}
