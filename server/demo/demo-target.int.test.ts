// The zero-setup demo target speaks the PostgreSQL wire protocol to postgres.js like any other target.
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoTarget, startDemoTarget } from "./demo-target";
import { luhnCheckDigit } from "./sample-data";

let demo: DemoTarget;
beforeAll(async () => {
  demo = await startDemoTarget(0);
});
afterAll(async () => {
  await demo?.stop();
});

describe("demo target", () => {
  it("serves sample tables with realistic sensitive values", async () => {
    const sql = postgres({
      host: "127.0.0.1",
      port: demo.port,
      username: "postgres",
      password: "x",
      database: "postgres",
      max: 2,
    });
    try {
      const [counts] =
        await sql`select (select count(*) from customers)::int as customers, (select count(*) from orders)::int as orders,
        (select count(*) from support_tickets)::int as tickets, (select count(*) from api_keys)::int as keys`;
      expect(counts).toEqual({ customers: 200, orders: 1000, tickets: 40, keys: 5 });
      const cards = await sql<
        { card_number: string; email: string; ssn: string }[]
      >`select card_number, email, ssn from customers limit 50`;
      for (const { card_number, email, ssn } of cards) {
        const digits = card_number.replace(/\D/g, "");
        expect(luhnCheckDigit(digits.slice(0, -1))).toBe(Number(digits.at(-1)));
        expect(email).toMatch(/^[a-z0-9.-]+@example\.com$/);
        expect(ssn).toMatch(/^(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$/);
      }
      const [ticket] = await sql`select body from support_tickets where id = 1`;
      expect(ticket?.body).toMatch(/card \d{4} /);
    } finally {
      await sql.end();
    }
  });
});
