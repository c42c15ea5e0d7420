/**
 * For db/store-thread.int.test.ts's crash test, run as its own process: opens the embedded store in DATA_DIR in
 * the thread STORE_THREAD names, then records from SESSIONS concurrent sessions (each a statement and its result,
 * in loops, as the recorder does for a native statement) and prints one line per append the recorder acknowledged:
 * `ack <sessionId> <eventId> <n>`. It runs until it is killed. Not part of the console.
 */
import { getSettings } from "@/server/config";

const SESSIONS = 8;
const principal = { id: "crash", kind: "person", email: "crash@example.com", groups: [] } as never;
const connection = { id: "conn", name: "crash" };

const { installStore, openStore } = await import("@/db/store");
installStore(await openStore({ dataDir: getSettings().dataDir }));
const { appendSessionEvent, startSessionWithEvent } = await import("@/server/recording");
const ack = (sessionId: string, eventId: number, n: number) =>
  process.stdout.write(`ack ${sessionId} ${eventId} ${n}\n`);

let next = 0;
await Promise.all(
  Array.from({ length: SESSIONS }, async () => {
    const n0 = next++;
    const { sessionId, eventId } = await startSessionWithEvent(principal, connection, "sql", "native", {
      type: "statement",
      data: { input: `select ${n0}`, decision: "allow" },
      counters: { statements: 1, allowed: 1 },
    });
    ack(sessionId, eventId, n0);
    for (;;) {
      const n = next++;
      const statementId = await appendSessionEvent(sessionId, "statement", { input: `select ${n}` });
      ack(sessionId, statementId, n);
      const resultId = await appendSessionEvent(sessionId, "result", {
        statementEventId: statementId,
        status: "done",
        rowCount: 1,
        results: [{ columns: [{ name: "n" }], rows: [[n]], masked: [] }],
      });
      ack(sessionId, resultId, n);
    }
  }),
);
