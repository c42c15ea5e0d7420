// Proves the PostgreSQL harness starts a real server that checks passwords, and cleans up after itself.
import { existsSync } from "node:fs";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type PostgresServer, startPostgres } from "./postgres";

describe("startPostgres", () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres({ database: "portcullis_test" });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("accepts the superuser password over TCP on 127.0.0.1", async () => {
    expect(server.host).toBe("127.0.0.1");
    expect(server.url).toContain(`:${server.port}/portcullis_test`);
    const sql = postgres(server.url, { max: 1 });
    try {
      const rows = await sql`select 1 as one, current_database() as db, current_user as who`;
      expect(rows[0]).toEqual({ one: 1, db: "portcullis_test", who: server.user });
    } finally {
      await sql.end();
    }
  });

  it("refuses a wrong password with an authentication error", async () => {
    const sql = postgres({
      host: server.host,
      port: server.port,
      user: server.user,
      password: "not-the-password",
      database: server.database,
      max: 1,
    });
    try {
      await expect(sql`select 1`).rejects.toMatchObject({ code: "28P01" });
    } finally {
      await sql.end();
    }
  });

  it("creates further databases with createDatabase", async () => {
    const url = await createDatabase(server.url, "second_db");
    const sql = postgres(url, { max: 1 });
    try {
      const [row] = await sql`select current_database() as db`;
      expect(row?.db).toBe("second_db");
    } finally {
      await sql.end();
    }
  });

  it("runs two servers side by side and removes the data dir on stop", async () => {
    const other = await startPostgres({ user: "alice", password: "s3cret 'quoted'" });
    expect(other.port).not.toBe(server.port);
    const sql = postgres(other.url, { max: 1 });
    try {
      const [row] = await sql`select current_user as who`;
      expect(row?.who).toBe("alice");
    } finally {
      await sql.end();
    }
    await other.stop();
    expect(existsSync(other.dataDir)).toBe(false);
    await other.stop();
  });
});
