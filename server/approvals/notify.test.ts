// Webhook payloads and signatures: what leaves the gateway about a review, and how a receiver verifies it.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Review } from "@/db/schema";
import { reviewPayload, signBody, slackMessage } from "./notify";

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

  it("redacts password literals and leaves out user ids", () => {
    const payload = reviewPayload("review.denied", review);
    expect(payload.review.input).toBe("alter role app password '[redacted]'; update t set x = 1");
    const text = JSON.stringify(payload);
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("user-1");
    expect(text).not.toContain("user-2");
  });

  it("phrases a Slack message with the outcome and who decided", () => {
    const message = slackMessage(reviewPayload("review.denied", review));
    expect(message.text).toBe("ann@example.com's privilege request on shop was denied");
    expect(JSON.stringify(message.blocks)).toContain("denied by bo@example.com");
  });
});
