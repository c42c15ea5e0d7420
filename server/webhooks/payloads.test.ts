// Webhook payloads and signatures: what leaves the gateway about a review, and how a receiver verifies it.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Review } from "@/db/schema";
import { reviewPayload, slackMessage } from "./payloads";
import { signBody } from "./signing";

const review: Review = {
  id: "r1",
  sessionId: "s1",
  requesterId: "user-1",
  requesterLabel: "ann@example.com",
  connectionId: "c1",
  connectionName: "shop",
  input: "alter role app password 'hunter2''s secret'; update t set x = 1",
  inputHash: "h",
  class: "privilege",
  reasons: [],
  note: "",
  channel: "api",
  parameters: null,
  parametersHash: null,
  approvalsRequired: 1,
  approverGroups: [],
  decisions: [
    { by: "user-2", byLabel: "bo@example.com", at: "2026-01-01T00:00:00Z", decision: "deny", comment: "" },
  ],
  state: "denied",
  createdAt: new Date("2026-01-01T00:00:00Z"),
  expiresAt: new Date("2026-01-01T01:00:00Z"),
  decidedAt: null,
};

describe("review webhooks", () => {
  it("signs the timestamp and the raw body together with HMAC-SHA256 as sha256=<hex>", () => {
    const body = JSON.stringify({ a: 1 });
    expect(signBody("s3cret", "1795000000", body)).toBe(
      `sha256=${createHmac("sha256", "s3cret").update(`1795000000.${body}`).digest("hex")}`,
    );
    // a replayed body under a new timestamp does not carry a valid signature
    expect(signBody("s3cret", "1795000001", body)).not.toBe(signBody("s3cret", "1795000000", body));
  });

  it("redacts password literals and leaves out user ids", async () => {
    const payload = await reviewPayload("review.denied", review);
    expect(payload.review.input).toBe("alter role app password '[redacted]'; update t set x = [redacted]");
    const text = JSON.stringify(payload);
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("user-1");
    expect(text).not.toContain("user-2");
  });

  it.each([
    ["a salary in a WHERE", "select id from employees where salary = 187345", "187345"],
    ["a card in a string", "update customers set note = 'x' where card = '4111 1111 1111 1111'", "4111"],
    ["an escaped string", "select e'diag\\nflu' from t", "flu"],
    ["a dollar-quoted string", "select $q$chronic flu$q$", "flu"],
    ["a comment", "delete from t where id = $1 -- for ssn 123-45-6789", "6789"],
    ["a block comment", "delete from t /* 187345 */ where id = $1", "187345"],
    ["a bit string", "select b'1010101'", "1010101"],
    ["a hex string", "select x'deadbeef'", "deadbeef"],
    ["a number with a fraction", "update t set pay = 187345.50", "187345"],
    ["a non-ASCII string before a value", "select 'é', 187345", "187345"],
  ])("leaves %s out of the payload", async (_what, input, secret) => {
    const payload = await reviewPayload("review.created", { ...review, input });
    expect(payload.review.input).not.toContain(secret);
    expect(JSON.stringify(slackMessage(payload))).not.toContain(secret);
  });

  it("keeps the shape of the statement: keywords, tables, columns and parameters", async () => {
    const payload = await reviewPayload("review.created", {
      ...review,
      input: "select id, 'é' from employees where salary = 187345 and id = $1",
    });
    expect(payload.review.input).toBe(
      "select id, '[redacted]' from employees where salary = [redacted] and id = $1",
    );
  });

  it("passes an approver's comment through the detectors", async () => {
    const payload = await reviewPayload("review.denied", {
      ...review,
      decisions: [{ ...review.decisions[0]!, comment: "not for grace.hopper@navy.example.com" }],
    });
    expect(payload.review.decisions[0]?.comment).not.toContain("grace.hopper");
    expect(payload.review.decisions[0]?.comment).toContain("not for");
  });

  it("withholds a statement the scanner cannot read", async () => {
    const payload = await reviewPayload("review.created", {
      ...review,
      input: "select 'unterminated 187345",
    });
    expect(payload.review.input).not.toContain("187345");
    expect(payload.review.input).toContain("withheld");
  });

  it("passes a terminal command line through the detectors", async () => {
    const payload = await reviewPayload("review.created", {
      ...review,
      channel: "terminal",
      input: "echo 4111 1111 1111 1111 > /tmp/card",
    });
    expect(payload.review.input).not.toContain("4111 1111");
    expect(payload.review.input).toContain("echo");
  });

  it("phrases a Slack message with the outcome and who decided", async () => {
    const message = slackMessage(await reviewPayload("review.denied", review));
    expect(message.text).toBe("ann@example.com's privilege request on shop was denied");
    expect(JSON.stringify(message.blocks)).toContain("denied by bo@example.com");
  });
});
