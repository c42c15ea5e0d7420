// The gateway's own catalog reads when the pooled session under them is lost: the read is asked once more on a
// new session instead of failing the caller's decision (which would refuse a statement for no fault of its
// own), and the next use of the pool is not failed with the ended session's error (a defect of postgres.js
// 3.4.9 mended at install: scripts/patch-postgres.mjs). Real PostgreSQL 15.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayFixture, startGatewayFixture } from "@/test/harness/gateway";

let gateway: GatewayFixture;
let connectionId: string;

beforeAll(async () => {
  gateway = await startGatewayFixture({ name: "catalog-read", targetSql: "create table notes (id int)" });
  ({ connectionId } = gateway);
  // One session per pool: the read after the kill would get the killed backend's connection.
  const store = postgres(gateway.storeUrl, { max: 1, onnotice: () => {} });
  await store`update connections set options = options || '{"poolSize": 1}'::jsonb where id = ${connectionId}`;
  await store.end();
});

afterAll(async () => {
  await gateway?.stop();
});

const PID = "select pg_backend_pid() as pid";

describe("a catalog read on the connection's pool", () => {
  it("is asked again on a new session when its session was ended under it", async () => {
    const { queryCatalog } = await import("./postgres");
    const [first] = await queryCatalog(connectionId, PID);
    const admin = postgres(gateway.targetUrl, { max: 1, onnotice: () => {} });
    try {
      // Ended while a read is on it: the driver has the read in flight when the server's FATAL arrives.
      const reading = queryCatalog(connectionId, "select pg_backend_pid() as pid, pg_sleep(2)");
      await new Promise((r) => setTimeout(r, 500));
      await admin`select pg_terminate_backend(${first?.pid as number})`;
      const [again] = await reading;
      expect(again?.pid).not.toBe(first?.pid);
    } finally {
      await admin.end();
    }
  });

  it("does not fail a connection's next query with the error of the session the server ended under it (the driver as installed)", async () => {
    const sql = postgres(gateway.targetUrl, { max: 1, onnotice: () => {} });
    const admin = postgres(gateway.targetUrl, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
      const pid = row?.pid as number;
      const sleeping = sql`select pg_sleep(5)`.catch((err: Error) => err);
      await new Promise((r) => setTimeout(r, 300));
      await admin`select pg_terminate_backend(${pid})`;
      expect(await sleeping).toBeInstanceOf(Error);
      // The one connection connects anew; its first query must not get the ended backend's 57P01.
      const [next] = await sql<{ one: number }[]>`select 1 as one`;
      expect(next?.one).toBe(1);
    } finally {
      await Promise.all([sql.end(), admin.end()]);
    }
  });
});
