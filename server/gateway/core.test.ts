// The core's fail-closed rule on its own, with our own interfaces standing in for the stores (the real parts are
// in fail-closed.int.test.ts): a part that breaks becomes a refusal naming the stage; a refusal a part gives on
// purpose passes unchanged; a hold that cannot create its review records nothing.
import { describe, expect, it } from "vitest";
import type { ConnectionView } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import type { Principal } from "@/server/principal";
import { createGatewayCore, type GatewayDeps, REFUSALS } from "./core";

const broken = () => Promise.reject(new Error("10.0.0.7: password authentication failed for hunter2"));
const refused = () => Promise.reject(new GatewayError("forbidden", "this session is not yours"));
const principal = { id: "u1", groups: [] } as unknown as Principal;
const connection = { id: "c1", name: "shop", kind: "postgres" } as unknown as ConnectionView;

function deps(overrides: Partial<GatewayDeps> = {}): GatewayDeps {
  return {
    connections: { forUse: async () => connection },
    rules: { sql: async () => [], commands: async () => [] },
    masking: { configFor: async () => ({}) as never },
    recorder: {
      startSession: async () => "s1",
      startSessionWithEvent: async () => ({ sessionId: "s1", eventId: 1 }),
      resumeSession: async (_p, sessionId) => sessionId,
      appendSessionEvent: async () => 1,
    },
    reviews: { create: async () => "r1" },
    clock: { now: () => 0 },
    ...overrides,
  };
}

async function refusalOf(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

describe("a stage whose part breaks refuses, naming the stage and nothing the part said", () => {
  const recorderDown = deps().recorder;
  const cases = [
    {
      stage: "the SQL rules",
      run: () => createGatewayCore(deps({ rules: { sql: broken, commands: async () => [] } })).sqlRules(),
      reason: REFUSALS.rules,
    },
    {
      stage: "the command rules",
      run: () => createGatewayCore(deps({ rules: { sql: async () => [], commands: broken } })).commandRules(),
      reason: REFUSALS.rules,
    },
    {
      stage: "the masking settings",
      run: () => createGatewayCore(deps({ masking: { configFor: broken } })).maskingFor(connection),
      reason: REFUSALS.masking,
    },
    {
      stage: "the recorder before the target",
      run: () =>
        createGatewayCore(
          deps({ recorder: { ...recorderDown, appendSessionEvent: broken } }),
        ).record.appendSessionEvent("s1", "statement", {}),
      reason: REFUSALS.recorder,
    },
    {
      stage: "the recorder before the reply",
      run: () =>
        createGatewayCore(
          deps({ recorder: { ...recorderDown, appendSessionEvent: broken } }),
        ).record.after.appendSessionEvent("s1", "result", {}),
      reason: REFUSALS.recorderAfter,
    },
    {
      stage: "a new session",
      run: () =>
        createGatewayCore(deps({ recorder: { ...recorderDown, startSession: broken } })).record.startSession(
          principal,
          connection,
          "sql",
          "api",
        ),
      reason: REFUSALS.recorder,
    },
  ];
  it.each(cases)("$stage", async ({ run, reason }) => {
    const error = await refusalOf(run());
    expect(error.code).toBe("unavailable");
    expect(error.message).toBe(reason);
    expect(error.message).not.toMatch(/hunter2|10\.0\.0\.7/);
  });
});

describe("refusals given on purpose", () => {
  it("pass unchanged through the recorder (a session that is not the caller's stays that refusal)", async () => {
    const core = createGatewayCore(deps({ recorder: { ...deps().recorder, appendSessionEvent: refused } }));
    const error = await refusalOf(core.record.appendSessionEvent("s1", "statement", {}));
    expect(error.code).toBe("forbidden");
    expect(error.message).toBe("this session is not yours");
  });

  it("authorize refuses a connection of another kind with the channel's words", async () => {
    const core = createGatewayCore(deps());
    const error = await refusalOf(
      core.authorize(principal, "shop", "ssh", "shop is a PostgreSQL connection"),
    );
    expect(error.code).toBe("bad_request");
    expect(error.message).toBe("shop is a PostgreSQL connection");
    await expect(core.authorize(principal, "shop", "postgres", "")).resolves.toBe(connection);
  });
});

describe("hold", () => {
  it("creates the review, then records the held input with its id", async () => {
    const held: string[] = [];
    const core = createGatewayCore(deps());
    const hold = { principal, connection, sessionId: "s1", channel: "api", input: "x", class: "write" };
    const reviewId = await core.hold({ ...hold, reasons: [] }, async (id) => held.push(id));
    expect(reviewId).toBe("r1");
    expect(held).toEqual(["r1"]);
  });

  it("records nothing held when the review cannot be created, and refuses", async () => {
    const held: string[] = [];
    const core = createGatewayCore(deps({ reviews: { create: broken } }));
    const hold = { principal, connection, sessionId: "s1", channel: "api", input: "x", class: "write" };
    const error = await refusalOf(core.hold({ ...hold, reasons: [] }, async (id) => held.push(id)));
    expect(error.message).toBe(REFUSALS.review);
    expect(held).toEqual([]);
  });
});
