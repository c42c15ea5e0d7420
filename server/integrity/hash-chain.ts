/**
 * Hash chains over append-only records (a session's events, the audit log). Each record stores its position
 * `seq` (1..n) and `hash = sha256(prevHash + "\n" + seq + "\n" + digest)`, where `digest` is the sha256 of the
 * record's content as canonical JSON and `prevHash` is "" for the first record. The owner of the chain keeps
 * its head (last seq and hash) beside it, so losing the last records is detected too.
 *
 * The content digest is computed here, in Node; the chaining step runs in the database inside the append
 * statement (chainHashSql), because only the database knows the previous hash at the moment of the append.
 * Both compute the same function (chainHash). Not responsible for reading or writing the store.
 */
import { createHash } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";

export const HASH_ALGORITHM =
  'sha256 chain: hash = sha256_hex(prevHash + "\\n" + seq + "\\n" + digest), prevHash of seq 1 = ""; ' +
  "digest = sha256_hex(canonical JSON of the record: keys sorted, no whitespace, times as ISO 8601 UTC with milliseconds)";

export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/**
 * JSON with object keys sorted (by UTF-16 code units) and no whitespace, of the value as JSON sees it (undefined
 * fields dropped, dates and other toJSON values as they write themselves), which is what a jsonb column stores and
 * returns, so content hashed before an insert and re-read afterwards gives the same text. Written in one walk over
 * the value: the same text as canonicalText(JSON.parse(JSON.stringify(value))) (property-tested), without writing
 * and parsing the value first. Text this returns is valid JSON and can be stored as the value itself.
 */
export function canonicalJson(value: unknown): string {
  return canonicalValue(value, "", []) ?? "null";
}

/** JSON.stringify's view of one value (SerializeJSONProperty), written canonically; undefined when JSON omits it. */
function canonicalValue(input: unknown, key: string, ancestors: object[]): string | undefined {
  let value = input;
  if (value !== null && (typeof value === "object" || typeof value === "bigint")) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") value = toJSON.call(value, key);
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) value = value.valueOf();
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      throw new TypeError("Do not know how to serialize a BigInt");
    case "object": {
      if (value === null) return "null";
      if (ancestors.includes(value)) throw new TypeError("Converting circular structure to JSON");
      ancestors.push(value);
      let text: string;
      if (Array.isArray(value)) {
        const items: string[] = [];
        for (let i = 0; i < value.length; i++)
          items.push(canonicalValue(value[i], String(i), ancestors) ?? "null");
        text = `[${items.join(",")}]`;
      } else {
        const entries: string[] = [];
        for (const name of Object.keys(value).sort()) {
          const item = canonicalValue((value as Record<string, unknown>)[name], name, ancestors);
          if (item !== undefined) entries.push(`${JSON.stringify(name)}:${item}`);
        }
        text = `{${entries.join(",")}}`;
      }
      ancestors.pop();
      return text;
    }
    default:
      return undefined; // undefined, functions, symbols
  }
}

/** canonicalJson for a value that is already plain JSON (parsed from JSON text or read from jsonb). */
export function canonicalText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalText).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalText((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A session event's content; `data` is plain JSON (parsed from JSON text, or read back from jsonb). */
export interface SessionEventContent {
  sessionId: string;
  type: string;
  at: Date;
  data: unknown;
}

export function sessionEventDigest(event: SessionEventContent): string {
  return sessionEventDigestOf(event, canonicalText(event.data));
}

/**
 * sessionEventDigest for an event whose data is given as its canonical JSON (canonicalJson(data)), as an append
 * has it: the record's canonical text is put together around it (keys at, data, sessionId, type are in sorted
 * order), so the data is written once and hashed once.
 */
export function sessionEventDigestOf(
  event: Omit<SessionEventContent, "data">,
  canonicalData: string,
): string {
  return sha256Hex(
    `{"at":${JSON.stringify(event.at.toISOString())},"data":${canonicalData},"sessionId":${JSON.stringify(
      event.sessionId,
    )},"type":${JSON.stringify(event.type)}}`,
  );
}

/** An audit event's content; `details` is plain JSON, as for session events. */
export interface AuditEventContent {
  at: Date;
  actorId: string | null;
  actorLabel: string;
  action: string;
  target: string;
  details: unknown;
}

export function auditEventDigest(event: AuditEventContent): string {
  return sha256Hex(
    canonicalText({
      action: event.action,
      actorId: event.actorId,
      actorLabel: event.actorLabel,
      at: event.at.toISOString(),
      details: event.details,
      target: event.target,
    }),
  );
}

export function chainHash(prevHash: string, seq: number, digest: string): string {
  return sha256Hex(`${prevHash}\n${seq}\n${digest}`);
}

/** chainHash as SQL text over SQL expressions (for statements written as text, like prepared ones). */
export function chainHashSqlText(prevHash: string, seq: string, digest: string): string {
  return `encode(sha256(convert_to(${prevHash} || E'\\n' || (${seq})::text || E'\\n' || ${digest}::text, 'UTF8')), 'hex')`;
}

/** chainHash in SQL, for the append statement (sha256() is built into PostgreSQL 11+ and PGlite). */
export function chainHashSql(prevHash: SQL, seq: SQL, digest: string): SQL {
  return sql`encode(sha256(convert_to(${prevHash} || E'\\n' || (${seq})::text || E'\\n' || ${digest}::text, 'UTF8')), 'hex')`;
}

/** One stored record as the verifier sees it, in append (id) order. */
export interface ChainLink {
  id: number;
  seq: number | null;
  hash: string | null;
  /** the digest recomputed from the stored content */
  digest: string;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export interface ChainVerification {
  ok: boolean;
  /** chained records checked */
  events: number;
  /** records from before chaining existed (no seq or hash), all before the chain; not covered */
  unchained: number;
  head: ChainHead;
  /** the first position where the chain breaks, and the stored record's id there when there is one */
  firstBadSeq?: number;
  firstBadId?: number;
  reason?: string;
}

/** Checks records one at a time in id order (so a long audit log can be read in pages), then the head. */
export class ChainVerifier {
  private unchained = 0;
  private last: ChainHead = { seq: 0, hash: "" };
  private failure: Pick<ChainVerification, "firstBadSeq" | "firstBadId" | "reason"> | undefined;

  get isBroken(): boolean {
    return this.failure !== undefined;
  }

  add(link: ChainLink): void {
    if (this.failure) return;
    const expected = this.last.seq + 1;
    if (link.seq === null || link.hash === null) {
      if (this.last.seq === 0) this.unchained++;
      else this.fail(expected, link.id, `event id ${link.id} has no seq or hash inside the chain`);
      return;
    }
    if (link.seq > expected) {
      const gap =
        link.seq === expected + 1 ? `event ${expected} is` : `events ${expected}–${link.seq - 1} are`;
      this.fail(expected, undefined, `${gap} missing`);
      return;
    }
    if (link.seq < expected) {
      this.fail(link.seq, link.id, `event ${link.seq} appears again or out of order`);
      return;
    }
    if (chainHash(this.last.hash, link.seq, link.digest) !== link.hash) {
      this.fail(
        link.seq,
        link.id,
        `event ${link.seq} does not match its hash (altered after it was recorded)`,
      );
      return;
    }
    this.last = { seq: link.seq, hash: link.hash };
  }

  finish(head: ChainHead): ChainVerification {
    if (!this.failure && head.seq > this.last.seq) {
      const from = this.last.seq + 1;
      this.fail(
        from,
        undefined,
        `${from === head.seq ? `event ${from} is` : `events ${from}–${head.seq} are`} missing (the chain head records ${head.seq})`,
      );
    } else if (!this.failure && (head.seq !== this.last.seq || head.hash !== this.last.hash)) {
      this.fail(this.last.seq, undefined, `the chain head does not match event ${this.last.seq}`);
    }
    return {
      ok: !this.failure,
      events: this.last.seq,
      unchained: this.unchained,
      head,
      ...this.failure,
    };
  }

  private fail(seq: number, id: number | undefined, reason: string) {
    this.failure = { firstBadSeq: seq, ...(id !== undefined && { firstBadId: id }), reason };
  }
}

export function verifyChain(links: Iterable<ChainLink>, head: ChainHead): ChainVerification {
  const verifier = new ChainVerifier();
  for (const link of links) verifier.add(link);
  return verifier.finish(head);
}
