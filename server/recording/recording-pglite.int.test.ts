// The recorder on the embedded PGlite store, where its appends run as prepared statements (db/prepared.ts): a
// session started with its first event, appends (plain and checked for a resumed session), and the hash chain
// verified from the stored rows. The PostgreSQL store runs the same statements in server/pipeline.int.test.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "@/server/principal";

let dataDir: string;
const owner = {
  id: "user-1",
  kind: "person",
  email: "owner@example.com",
  groups: [],
} as unknown as Principal;
const other = {
  id: "user-2",
  kind: "person",
  email: "other@example.com",
  groups: [],
} as unknown as Principal;
const connection = { id: "conn-1", name: "shop" };

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-recording-"));
  delete process.env.DATABASE_URL;
  process.env.DATA_DIR = dataDir;
  const { getStore } = await import("@/db/store");
  const store = await getStore();
  expect(store.kind).toBe("pglite");
});

afterAll(async () => {
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function appendAs(principal: Principal, sessionId: string, connectionId = connection.id) {
  const { appendSessionEvent } = await import("./index");
  return appendSessionEvent(
    sessionId,
    "statement",
    { input: "select 3" },
    { statements: 1 },
    {
      principal,
      connectionId,
    },
  );
}

describe("recording on the embedded store", () => {
  it("starts a session with its first event, appends, refuses a foreign resume, and keeps the chain whole", async () => {
    const { appendSessionEvent, endSession, getSessionWithEvents, startSessionWithEvent } = await import(
      "./index"
    );
    const { verifySession } = await import("@/server/integrity");
    const { sessionId, eventId } = await startSessionWithEvent(owner, connection, "sql", "api", {
      type: "statement",
      data: { input: "select 'it''s' as quoted, E'\\\\n' as escaped", status: "running" },
      counters: { statements: 1, allowed: 1 },
    });
    await appendSessionEvent(sessionId, "result", { statementEventId: eventId, rows: [["it's", "\\n"]] });
    await appendSessionEvent(
      sessionId,
      "statement",
      { input: "select 2" },
      { statements: 1, allowed: 1 },
      {
        principal: owner,
        connectionId: connection.id,
      },
    );
    await expect(appendAs(other, sessionId)).rejects.toMatchObject({ status: 404 });
    await expect(appendAs(owner, sessionId, "conn-2")).rejects.toMatchObject({ status: 400 });

    const recorded = await getSessionWithEvents(sessionId);
    expect(recorded?.events.map((e) => [e.seq, e.type])).toEqual([
      [1, "statement"],
      [2, "result"],
      [3, "statement"],
    ]);
    expect(recorded?.events[0]?.data.input).toBe("select 'it''s' as quoted, E'\\\\n' as escaped");
    expect(recorded?.events[1]?.data.rows).toEqual([["it's", "\\n"]]);
    expect(recorded?.session).toMatchObject({
      statements: 2,
      allowed: 2,
      eventSeq: 3,
      principalId: owner.id,
    });
    expect(await verifySession(sessionId)).toMatchObject({ ok: true, events: 3 });

    await endSession(sessionId);
    await expect(appendAs(owner, sessionId)).rejects.toMatchObject({
      status: 400,
      message: "that session has ended; start a new one",
    });
  });

  it("reads a session's events a page at a time, in append order, of the types asked for", async () => {
    const { appendSessionEvent, readSessionEvents, startSessionWithEvent } = await import("./index");
    const { sessionId } = await startSessionWithEvent(owner, connection, "terminal", "terminal", {
      type: "resize",
      data: { t: 0, cols: 80, rows: 24 },
    });
    for (let i = 1; i <= 7; i++)
      await appendSessionEvent(sessionId, i % 3 === 0 ? "keyframe" : "output", { t: i, data: `line ${i}` });
    const all: string[] = [];
    for await (const e of readSessionEvents(sessionId, { pageSize: 2 })) all.push(`${e.seq}:${e.type}`);
    expect(all).toEqual([
      "1:resize",
      "2:output",
      "3:output",
      "4:keyframe",
      "5:output",
      "6:output",
      "7:keyframe",
      "8:output",
    ]);
    const outputs: number[] = [];
    for await (const e of readSessionEvents(sessionId, { types: ["output"], pageSize: 3 }))
      outputs.push(e.seq ?? 0);
    expect(outputs).toEqual([2, 3, 5, 6, 8]);
  });

  it("continues a chain recorded by the earlier code (data hashed through JSON text and back), which verifies, and still catches a changed old event", async () => {
    const { appendSessionEvent, startSessionWithEvent } = await import("./index");
    const { canonicalJson, chainHash, verifySession } = await import("@/server/integrity");
    const { createHash } = await import("node:crypto");
    const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
    const { getDb } = await import("@/db/store");
    const { rowsOf } = await import("@/db/rows");
    const { sql } = await import("drizzle-orm");
    const db = await getDb();
    const { sessionId } = await startSessionWithEvent(owner, connection, "sql", "native", {
      type: "notice",
      data: { message: "opened" },
    });
    // Two events as the earlier append wrote them: JSON.stringify's text stored, the digest over the text parsed
    // back and canonicalised, the chain step as before.
    const [head] = rowsOf<{ event_seq: number; chain_head: string }>(
      await db.execute(sql`select event_seq, chain_head from sessions where id = ${sessionId}`),
    );
    let prev = head?.chain_head ?? "";
    let seq = head?.event_seq ?? 0;
    const old = [
      {
        type: "statement",
        data: { status: "running", input: "select 'x' as \"é\"", reasons: [{ b: 1, a: [0.5, null] }] },
      },
      {
        type: "result",
        data: { rows: [["x"]], rowCount: 1, skipped: undefined, at: new Date("2026-01-01T00:00:00Z") },
      },
    ];
    for (const event of old) {
      const at = new Date();
      const json = JSON.stringify(event.data);
      const digest = sha256Hex(
        canonicalJson({ at: at.toISOString(), data: JSON.parse(json), sessionId, type: event.type }),
      );
      seq += 1;
      prev = chainHash(prev, seq, digest);
      await db.execute(sql`insert into session_events (session_id, seq, hash, at, type, data)
        values (${sessionId}, ${seq}, ${prev}, ${at.toISOString()}::timestamptz, ${event.type}, ${json}::jsonb)`);
      await db.execute(
        sql`update sessions set event_seq = ${seq}, chain_head = ${prev} where id = ${sessionId}`,
      );
    }
    await appendSessionEvent(sessionId, "statement", { input: "select 2", reasons: [{ z: 1, a: 2 }] });
    expect(await verifySession(sessionId)).toMatchObject({ ok: true, events: 4 });

    await db.execute(
      sql`update session_events set data = jsonb_set(data, '{rowCount}', '2') where session_id = ${sessionId} and seq = 3`,
    );
    expect(await verifySession(sessionId)).toMatchObject({ ok: false, firstBadSeq: 3 });
  });
});
