// Terminals left behind by a console process that stopped: their presence rows go stale, and the sweep ends their
// sessions (a notice at the last heartbeat, then failed) so nothing shows them live any more. Rows that are fresh,
// or belong to this process, are left alone. A PostgreSQL store, rows written as another process would.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessions, terminalPresence } from "@/db/schema";
import type { Principal } from "@/server/principal";
import { type GatewayFixture, startGatewayFixture, TEST_ACTOR } from "@/test/harness/gateway";

let gateway: GatewayFixture;
let operator: Principal;

beforeAll(async () => {
  gateway = await startGatewayFixture({ name: "presence-sweep" });
  const { createUser, loadPrincipal } = await import("@/server/auth");
  const id = await createUser(TEST_ACTOR, {
    email: "ops@example.com",
    password: "operator-password-1",
    groups: ["analysts"],
  });
  operator = (await loadPrincipal(id, "session"))!;
});

afterAll(async () => {
  await gateway?.stop();
});

async function terminalWithPresence(processId: string, heartbeatAgoSeconds: number) {
  const { startSession } = await import("@/server/recording");
  const { getDb } = await import("@/db/store");
  const sessionId = await startSession(operator, { id: "box-1", name: "box" }, "terminal", "terminal");
  const db = await getDb();
  await db.insert(terminalPresence).values({
    sessionId,
    processId,
    host: "10.0.0.5",
    username: "ops",
    cols: 80,
    rows: 24,
    heartbeatAt: new Date(Date.now() - heartbeatAgoSeconds * 1000),
  });
  return sessionId;
}

describe("the stale terminal sweep", () => {
  it("ends the sessions of a stopped process and leaves live ones alone", async () => {
    const { sweepStaleTerminals } = await import("./presence");
    const { getDb } = await import("@/db/store");
    const { getSessionWithEvents } = await import("@/server/recording");
    const { verifySession } = await import("@/server/integrity");
    const stale = await terminalWithPresence("a-process-that-stopped", 300);
    const fresh = await terminalWithPresence("a-process-still-running", 5);

    expect(await sweepStaleTerminals()).toEqual([stale]);
    // A second sweep (another replica) finds nothing left to end.
    expect(await sweepStaleTerminals()).toEqual([]);

    const db = await getDb();
    const presence = await db.select({ id: terminalPresence.sessionId }).from(terminalPresence);
    expect(presence.map((p) => p.id)).toEqual([fresh]);
    const [ended] = await db.select().from(sessions).where(eq(sessions.id, stale));
    expect(ended).toMatchObject({ state: "failed" });
    expect(ended?.endedAt).toBeInstanceOf(Date);
    const [live] = await db.select().from(sessions).where(eq(sessions.id, fresh));
    expect(live).toMatchObject({ state: "live" });

    const recorded = await getSessionWithEvents(stale);
    expect(recorded?.events.map((e) => [e.type, e.data.level])).toEqual([["notice", "error"]]);
    expect(String(recorded?.events[0]?.data.message)).toMatch(/stopped answering/);
    expect(await verifySession(stale)).toMatchObject({ ok: true, events: 1 });
  });

  it("leaves this process's own terminals to its heartbeat, however late", async () => {
    const { announceTerminal, sweepStaleTerminals, withdrawTerminal } = await import("./presence");
    const { startSession } = await import("@/server/recording");
    const { getDb } = await import("@/db/store");
    const sessionId = await startSession(operator, { id: "box-1", name: "box" }, "terminal", "terminal");
    await announceTerminal(
      () => ({ sessionId, host: "10.0.0.5", username: "ops", cols: 80, rows: 24, lastInputAt: new Date() }),
      () => {},
    );
    const db = await getDb();
    await db
      .update(terminalPresence)
      .set({ heartbeatAt: new Date(Date.now() - 600_000) })
      .where(eq(terminalPresence.sessionId, sessionId));
    expect(await sweepStaleTerminals()).toEqual([]);
    const [session] = await db.select().from(sessions).where(eq(sessions.id, sessionId));
    expect(session?.state).toBe("live");
    await withdrawTerminal(sessionId);
  });
});
