import { PassThrough } from "node:stream";
import { parse } from "pg-protocol";
import { describe, expect, it } from "vitest";
import type { DecidedState } from "@/server/approvals";
import { lastMessageType, NoticeGate, reviewDecisionNotice } from "./review-notices";
import {
  commandComplete,
  copyData,
  copyDone,
  dataRow,
  noticeResponse,
  parseComplete,
  readyForQuery,
  rowDescription,
  type WireNotice,
} from "./wire";

/** What the client read, message by message, with node-postgres's own parser. */
async function decode(chunks: Buffer[]) {
  const stream = new PassThrough();
  const names: string[] = [];
  const done = parse(stream, (m) => names.push(m.name));
  stream.end(Buffer.concat(chunks));
  await done;
  return names;
}

const notice = noticeResponse({ severity: "NOTICE", code: "00000", message: "decided" });
const result = () =>
  Buffer.concat([rowDescription([{ name: "a", oid: 25 }]), dataRow(["Z"]), commandComplete("SELECT 1")]);

describe("when a review notice reaches the client", () => {
  it.each<[string, (gate: NoticeGate) => void, string[]]>([
    [
      "before the start-up ends: after its ReadyForQuery",
      (g) => {
        g.notify(notice);
        g.send(readyForQuery("I"));
      },
      ["readyForQuery", "notice"],
    ],
    [
      "idle: at once",
      (g) => {
        g.send(readyForQuery("I"));
        g.notify(notice);
      },
      ["readyForQuery", "notice"],
    ],
    [
      "during a simple query: after its ReadyForQuery, not between its rows",
      (g) => {
        g.send(readyForQuery("I"));
        g.received();
        g.notify(notice);
        g.send(result());
        g.send(readyForQuery("T"));
      },
      ["readyForQuery", "rowDescription", "dataRow", "commandComplete", "readyForQuery", "notice"],
    ],
    [
      "during an extended-protocol batch answered at a Flush: after the Sync's ReadyForQuery",
      (g) => {
        g.send(readyForQuery("I"));
        g.received();
        g.send(parseComplete());
        g.notify(notice);
        g.received();
        g.send(Buffer.concat([result(), readyForQuery("I")]));
      },
      [
        "readyForQuery",
        "parseComplete",
        "rowDescription",
        "dataRow",
        "commandComplete",
        "readyForQuery",
        "notice",
      ],
    ],
    [
      "during COPY out: after the copy's ReadyForQuery",
      (g) => {
        g.send(readyForQuery("I"));
        g.received();
        g.notify(notice);
        g.send(copyData("Z\t1\n"));
        g.send(Buffer.concat([copyDone(), commandComplete("COPY 1"), readyForQuery("I")]));
      },
      ["readyForQuery", "copyData", "copyDone", "commandComplete", "readyForQuery", "notice"],
    ],
    [
      "a reply whose last row ends with bytes like a ReadyForQuery: still waiting",
      (g) => {
        g.send(readyForQuery("I"));
        g.received();
        g.notify(notice);
        g.send(dataRow(["Z\u0000\u0000\u0000\u0005I"]));
      },
      ["readyForQuery", "dataRow"],
    ],
    [
      "two notices while busy: both, in order, after the ReadyForQuery",
      (g) => {
        g.received();
        g.notify(notice);
        g.notify(notice);
        g.send(readyForQuery("I"));
      },
      ["readyForQuery", "notice", "notice"],
    ],
  ])("%s", async (_, steps, expected) => {
    const written: Buffer[] = [];
    steps(new NoticeGate((b) => written.push(b)));
    expect(await decode(written)).toEqual(expected);
  });

  it("knows the last message of a reply by its framing, not by its last bytes", () => {
    const fake = Buffer.concat([commandComplete("SELECT 1"), Buffer.from([0x5a, 0, 0, 0, 5, 0x49])]);
    expect(lastMessageType(fake)).toBe(0x5a); // a real ReadyForQuery after a message
    // a DataRow whose value ends like a ReadyForQuery is still a DataRow
    expect(lastMessageType(dataRow(["Z\u0000\u0000\u0000\u0005I"]))).toBe(0x44);
    expect(lastMessageType(Buffer.concat([readyForQuery("I"), dataRow(["x"])]))).toBe(0x44);
  });
});

describe("what the notice says", () => {
  type Decision = Parameters<typeof reviewDecisionNotice>[0]["decisions"][number];
  const ann: Decision = {
    by: "u1",
    byLabel: "ann@example.com",
    at: "",
    decision: "approve",
    comment: "ok\n\ttoday",
  };
  const bob: Decision = { by: "u2", byLabel: "bob@example.com", at: "", decision: "approve", comment: "" };
  const review = {
    id: "5d1f8a8e-0000-4000-8000-000000000001",
    class: "write",
    expiresAt: new Date("2026-12-07T10:00:00.000Z"),
    reasons: [{ ruleName: "writes need review", action: "review" }] as unknown[],
    decisions: [ann, bob],
  };
  it.each<[DecidedState, typeof review, Partial<WireNotice>]>([
    [
      "approved",
      review,
      {
        message: `Portcullis: review ${review.id} of your write statement was approved by ann@example.com, bob@example.com`,
        detail: "ann@example.com: ok today",
        hint: "to run it, send exactly the same statement (with the same values) again on this connection before 2026-12-07T10:00:00.000Z: it runs once",
      },
    ],
    [
      "approved",
      { ...review, reasons: [...review.reasons, { ruleName: "COPY FROM STDIN", action: "review" }] },
      {
        message: `Portcullis: review ${review.id} of your write statement was approved by ann@example.com, bob@example.com`,
        detail: "ann@example.com: ok today",
        hint: "to load it, send the same COPY with exactly the same data again on this connection before 2026-12-07T10:00:00.000Z: it loads once",
      },
    ],
    [
      "denied",
      {
        ...review,
        decisions: [{ ...ann, decision: "deny", comment: "x".repeat(400) }],
      },
      {
        message: `Portcullis: review ${review.id} of your write statement was denied by ann@example.com: it will not run`,
        detail: `ann@example.com: ${"x".repeat(299)}…`,
      },
    ],
    [
      "expired",
      { ...review, decisions: [] },
      {
        message: `Portcullis: review ${review.id} of your write statement expired without a decision: it will not run`,
        hint: "sent again, it is held for a new review (https://c.example/inbox)",
      },
    ],
    [
      "expired",
      review,
      {
        message: `Portcullis: review ${review.id} of your write statement expired (its approval was not used in time): it will not run`,
      },
    ],
    [
      "cancelled",
      review,
      {
        message: `Portcullis: review ${review.id} of your write statement was cancelled: it will not run`,
      },
    ],
  ])("the %s notice (case %#)", (state, r, expected) => {
    const n = reviewDecisionNotice(r, state, "https://c.example");
    expect(n).toMatchObject({ severity: "NOTICE", code: "00000", ...expected });
    if (!("detail" in expected)) expect(n.detail).toBeUndefined();
  });
});
