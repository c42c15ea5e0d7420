// COPY ... FROM STDIN through postgres.js (copy-in.ts) against a real PostgreSQL 15: the target's row count, its
// errors (a bad row, a constraint, CopyFail) and the transaction it runs in.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type PostgresServer, startPostgres } from "@/test/harness/postgres";
import { startCopyIn } from "./copy-in";

let server: PostgresServer;
let sql: postgres.Sql;
const asError = (err: unknown) => err as Error;

beforeAll(async () => {
  server = await startPostgres();
  sql = postgres(await createDatabase(server.url, "copy"), { max: 1, onnotice: () => {} });
  await sql.unsafe("create table items (id int primary key, name text not null)");
});

afterAll(async () => {
  await sql?.end();
  await server?.stop();
});

const count = async () => (await sql`select count(*)::int as n from items`)[0]?.n as number;

describe("startCopyIn", () => {
  it("loads the data and reports the target's row count", async () => {
    const copy = await startCopyIn(sql, "copy items from stdin", asError);
    await copy.write(Buffer.from("1\tone\n2\t"));
    await copy.write(Buffer.from("two\n3\tthree\n"));
    expect(await copy.end()).toEqual({ rowCount: 3 });
    expect(await count()).toBe(3);
    await sql`delete from items`;
  });

  it("reports a bad row's error with its SQLSTATE, loads nothing, and the session goes on", async () => {
    const copy = await startCopyIn(sql, "copy items from stdin", asError);
    await copy.write(Buffer.from("1\tone\nnot a number\ttwo\n"));
    await expect(copy.end()).rejects.toMatchObject({ code: "22P02" });
    expect(await count()).toBe(0);
  });

  it("reports a constraint the data breaks after CopyDone, and loads nothing", async () => {
    const copy = await startCopyIn(sql, "copy items from stdin with (format csv)", asError);
    await copy.write(Buffer.from("1,one\n1,again\n"));
    await expect(copy.end()).rejects.toMatchObject({ code: "23505" });
    expect(await count()).toBe(0);
  });

  it("a CopyFail ends it with the target's 57014 and loads nothing", async () => {
    const copy = await startCopyIn(sql, "copy items from stdin", asError);
    await copy.write(Buffer.from("1\tone\n"));
    const err = await copy.fail("the client changed its mind");
    expect(err).toMatchObject({ code: "57014" });
    expect(err.message).toContain("the client changed its mind");
    expect(await count()).toBe(0);
  });

  it("refuses a COPY the target refuses before any data (no such table)", async () => {
    await expect(startCopyIn(sql, "copy nothing_here from stdin", asError)).rejects.toMatchObject({
      code: "42P01",
    });
    expect((await sql`select 1 as ok`)[0]?.ok).toBe(1);
  });

  it("runs in the session's transaction: rolled back, nothing stays", async () => {
    const reserved = await sql.reserve();
    try {
      await reserved.unsafe("begin");
      const copy = await startCopyIn(reserved as unknown as postgres.Sql, "copy items from stdin", asError);
      await copy.write(Buffer.from("7\tseven\n"));
      expect(await copy.end()).toEqual({ rowCount: 1 });
      expect((await reserved`select count(*)::int as n from items`)[0]?.n).toBe(1);
      await reserved.unsafe("rollback");
    } finally {
      reserved.release();
    }
    expect(await count()).toBe(0);
  });

  it("carries a large load with back-pressure (4 MB in 64 KB pieces)", async () => {
    const copy = await startCopyIn(sql, "copy items from stdin", asError);
    const rows = 200_000;
    let text = "";
    for (let i = 0; i < rows; i++) text += `${i}\tname number ${i}\n`;
    const data = Buffer.from(text);
    for (let at = 0; at < data.length; at += 65_536) await copy.write(data.subarray(at, at + 65_536));
    expect(await copy.end()).toEqual({ rowCount: rows });
    expect(await count()).toBe(rows);
    await sql`delete from items`;
  });
});
