// The access matrix's rollup of touched masked columns follows session_events by id. Ids come from a sequence, so
// an append can take id X while a later one (X+1) commits first: a rollup that moved its watermark to the last
// visible id would pass X, and X's masked columns would never reach the matrix. Real PostgreSQL 15 store (the
// embedded one has one connection: an append and a rollup cannot overlap there).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "@/db/rows";
import { createDatabase, type PostgresServer, startPostgres } from "@/test/harness/postgres";

let pg: PostgresServer;
let storeUrl: string;
let dataDir: string;

beforeAll(async () => {
  pg = await startPostgres();
  storeUrl = await createDatabase(pg.url, "rollup");
  dataDir = mkdtempSync(path.join(tmpdir(), "portcullis-rollup-"));
  const { installStore, openStore } = await import("@/db/store");
  installStore(await openStore({ databaseUrl: storeUrl, dataDir }));
});

afterAll(async () => {
  const { getStore } = await import("@/db/store");
  await (await getStore()).close();
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const resultWith = (column: string) => ({ results: [{ maskedColumns: [column] }] });

describe("the access matrix's rollup of touched columns", () => {
  it("does not pass an event whose append has not committed, and folds it once it has", async () => {
    const { getDb } = await import("@/db/store");
    const { refreshTouches } = await import("./matrix");
    const db = await getDb();
    const touched = async () =>
      rowsOf<{ name: string }>(await db.execute(sql`select name from access_touches order by name`)).map(
        (r) => r.name,
      );
    const store = postgres(storeUrl, { max: 2, onnotice: () => {} });
    try {
      await store`insert into sessions (id, principal_id, principal_label, principal_kind, connection_id,
        connection_name, kind, channel) values ('s1', 'p1', 'ana@example.com', 'person', 'c1', 'shop', 'sql', 'api')`;
      await store`insert into session_events (session_id, type, data) values ('s1', 'result', ${store.json(resultWith("before"))})`;
      await refreshTouches(db);
      expect(await touched()).toEqual(["before"]);
      await store.begin(async (tx) => {
        const [late] = await tx<{ id: string }[]>`insert into session_events (session_id, type, data)
          values ('s1', 'result', ${tx.json(resultWith("late"))}) returning id`;
        const [after] = await store<{ id: string }[]>`insert into session_events (session_id, type, data)
          values ('s1', 'result', ${store.json(resultWith("after"))}) returning id`;
        expect(Number(after?.id)).toBeGreaterThan(Number(late?.id));
        // A read of the matrix while X is in flight: it must not move past X.
        await refreshTouches(db, 200);
        const [state] = await store<{ last: string }[]>`
          select last_event_id as last from access_rollup_state where id = 'access_touches'`;
        expect(Number(state?.last)).toBeLessThan(Number(late?.id));
      });
      await refreshTouches(db);
      expect(await touched()).toEqual(["after", "before", "late"]);
    } finally {
      await store.end({ timeout: 5 });
    }
  });
});
