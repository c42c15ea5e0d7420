import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  auditEventDigest,
  type ChainLink,
  canonicalJson,
  canonicalText,
  chainHash,
  sessionEventDigest,
  sessionEventDigestOf,
  sha256Hex,
  verifyChain,
} from "./hash-chain";

/** canonicalJson as it was defined before it was written in one walk: through JSON text and back. */
const throughJson = (value: unknown): string => {
  const text = JSON.stringify(value);
  return text === undefined ? "null" : canonicalText(JSON.parse(text));
};

/** Values an event's data can hold, including what JSON writes differently from how it holds it. */
const eventValue = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.jsonValue(),
    fc.string({ unit: "binary" }),
    fc.double(),
    fc.constantFrom(undefined, null, -0, Number.NaN, Number.POSITIVE_INFINITY, 1e21, 5e-324),
    fc.date({ noInvalidDate: true }),
    fc.constantFrom(new Number(3), new String("boxed"), new Boolean(false), () => 1, Symbol("s")),
    fc.string().map((s) => ({ toJSON: (key: string) => ({ key, s }) })),
  ),
  node: fc.oneof(
    { depthSize: "small" },
    tie("leaf"),
    fc.array(tie("node"), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: "binary" }), tie("node"), { maxKeys: 6 }),
  ),
})).node;

describe("canonical JSON", () => {
  it.each([
    [
      "sorts keys at every depth",
      { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } },
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    ],
    ["drops undefined fields as JSON does", { a: undefined, b: 2 }, '{"b":2}'],
    [
      "writes dates as ISO strings",
      { at: new Date("2026-01-02T03:04:05.678Z") },
      '{"at":"2026-01-02T03:04:05.678Z"}',
    ],
    ["escapes strings as JSON", { s: 'a"b\n\u0001é' }, '{"s":"a\\"b\\n\\u0001é"}'],
    ["keeps numbers in their shortest form", { n: [0.1, 1e21, -0, 5e-324] }, '{"n":[0.1,1e+21,0,5e-324]}'],
    ["orders keys by code unit, not locale", { b: 1, B: 2, é: 3, a: 4 }, '{"B":2,"a":4,"b":1,"é":3}'],
  ])("%s", (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it("gives the same text for the same content whatever the key order (as jsonb returns it)", () => {
    const written = {
      input: "select 1",
      decision: "allow",
      results: [{ rows: [[1]], columns: [{ name: "x" }] }],
    };
    const reread = JSON.parse(
      '{"results":[{"columns":[{"name":"x"}],"rows":[[1]]}],"decision":"allow","input":"select 1"}',
    );
    expect(canonicalJson(reread)).toBe(canonicalJson(written));
  });
});

describe("canonical JSON in one walk", () => {
  it("writes the same text as going through JSON text and back, for any value", () => {
    fc.assert(
      fc.property(eventValue, (value) => {
        expect(canonicalJson(value)).toBe(throughJson(value));
      }),
      { numRuns: 3000 },
    );
  });

  it("refuses what JSON refuses (a cycle, a BigInt) instead of writing something else", () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = { back: cycle };
    expect(() => JSON.stringify(cycle)).toThrow(TypeError);
    expect(() => canonicalJson(cycle)).toThrow(TypeError);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
    // the same object twice (not a cycle) is written twice, as JSON does
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"x":1},"b":[{"x":1}]}');
  });

  it("digests an event from its canonical data text exactly as from its data", () => {
    fc.assert(
      fc.property(
        eventValue,
        fc.string(),
        fc.string(),
        fc.date({ noInvalidDate: true }),
        (data, sessionId, type, at) => {
          const plain = JSON.parse(JSON.stringify(data ?? null) ?? "null");
          expect(sessionEventDigestOf({ sessionId, type, at }, canonicalJson(data))).toBe(
            sessionEventDigest({ sessionId, type, at, data: plain }),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  // Digests and chain hashes computed by the code before the one-walk change (commit 498ccaa), for fixed events:
  // chains recorded before it verify after it, and a changed event still does not.
  const at = new Date("2026-12-01T09:30:00.250Z");
  const recorded = [
    {
      type: "statement",
      data: {
        input: "select * from users where email = 'a@b.c';",
        class: "read",
        decision: "allow",
        reasons: [{ statementIndex: 0, ruleId: "r1", action: "allow" }],
        status: "running",
      },
      digest: "cb075a3264129326e4f7e4ace49078d6757fd4fda96d6f71f37ef4619b75c259",
      hash: "0599525cafe46a79cc9d849154b3932cf1ddab59490c81e483c06a958bc031d8",
    },
    {
      type: "result",
      data: {
        statementEventId: 7,
        status: "done",
        rowCount: 1,
        durationMs: 0.4,
        results: [
          {
            columns: [{ name: "email", type: "text" }],
            rows: [["[email]"]],
            masked: [[0, 0]],
            truncated: false,
          },
        ],
        note: undefined,
      },
      digest: "bd2ec4ebd2d01d7d854cd458668fd07cefec2c2f5724180e231e7d0daedc25ac",
      hash: "ea9975355b4588c5ed080c1cbdf274392c26eba8e81164a2d55c67d4f41a3953",
    },
    {
      type: "output",
      data: {
        t: 12.5,
        data: '\u001b[31mé\u0000?"\\ 😀\n',
        n: [0.1, 1e21, -0, 5e-324],
        when: new Date("2026-01-02T03:04:05.678Z"),
      },
      digest: "4067775a80a637b181a4b5c3751f27c97993f7a1cca4157647ba8aafc62797b9",
      hash: "eb29a4bd59f42a1e6e72a5a26805df5de8537956b4ac82c0547660cbe2456ec8",
    },
  ];

  it("gives the digests and hashes the earlier code recorded, so old chains verify", () => {
    const links: ChainLink[] = recorded.map((e, i) => {
      const digest = sessionEventDigestOf({ sessionId: "s-golden", type: e.type, at }, canonicalJson(e.data));
      expect(digest).toBe(e.digest);
      return { id: i + 1, seq: i + 1, hash: e.hash, digest };
    });
    expect(verifyChain(links, { seq: 3, hash: recorded[2]?.hash ?? "" })).toMatchObject({
      ok: true,
      events: 3,
    });
  });

  it("still catches an old event whose data was changed", () => {
    const links: ChainLink[] = recorded.map((e, i) => {
      const data = i === 1 ? { ...e.data, rowCount: 2 } : e.data;
      const digest = sessionEventDigestOf({ sessionId: "s-golden", type: e.type, at }, canonicalJson(data));
      return { id: i + 1, seq: i + 1, hash: e.hash, digest };
    });
    expect(verifyChain(links, { seq: 3, hash: recorded[2]?.hash ?? "" })).toMatchObject({
      ok: false,
      firstBadSeq: 2,
    });
  });
});

describe("digests", () => {
  const at = new Date("2026-11-23T10:00:00.123Z");
  it("change with any part of a session event", () => {
    const base = { sessionId: "s1", type: "statement", at, data: { input: "select 1" } };
    const digest = sessionEventDigest(base);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(sessionEventDigest({ ...base, data: { input: "select 2" } })).not.toBe(digest);
    expect(sessionEventDigest({ ...base, sessionId: "s2" })).not.toBe(digest);
    expect(sessionEventDigest({ ...base, type: "result" })).not.toBe(digest);
    expect(sessionEventDigest({ ...base, at: new Date(at.getTime() + 1) })).not.toBe(digest);
  });

  it("change with any part of an audit event", () => {
    const base = { at, actorId: "u1", actorLabel: "a@b.c", action: "user.create", target: "x", details: {} };
    const digest = auditEventDigest(base);
    expect(auditEventDigest({ ...base, actorId: null })).not.toBe(digest);
    expect(auditEventDigest({ ...base, details: { role: "admin" } })).not.toBe(digest);
  });

  it("chains over the previous hash, the position and the digest", () => {
    expect(chainHash("", 1, "d")).toBe(sha256Hex("\n1\nd"));
    expect(chainHash("p", 2, "d")).not.toBe(chainHash("p", 3, "d"));
  });
});

function chainOf(contents: string[], firstId = 1): ChainLink[] {
  let prev = "";
  return contents.map((content, i) => {
    const digest = sha256Hex(content);
    prev = chainHash(prev, i + 1, digest);
    return { id: firstId + i, seq: i + 1, hash: prev, digest };
  });
}
const headOf = (links: ChainLink[]) => ({ seq: links.length, hash: links.at(-1)?.hash ?? "" });

describe("verifyChain", () => {
  const links = chainOf(["a", "b", "c", "d"]);
  const head = headOf(links);

  it("accepts an intact chain and an empty one", () => {
    expect(verifyChain(links, head)).toMatchObject({ ok: true, events: 4, unchained: 0 });
    expect(verifyChain([], { seq: 0, hash: "" })).toMatchObject({ ok: true, events: 0 });
  });

  it("fails at the event whose content changed", () => {
    const altered = links.map((l) => (l.seq === 3 ? { ...l, digest: sha256Hex("C") } : l));
    expect(verifyChain(altered, head)).toMatchObject({ ok: false, firstBadSeq: 3, firstBadId: 3 });
  });

  it("fails at the next event when an event and its hash were both rewritten", () => {
    const rewritten = chainOf(["a", "b", "X", "d"]).map((l, i) => (i === 2 ? l : (links[i] ?? l)));
    expect(verifyChain(rewritten, head)).toMatchObject({ ok: false, firstBadSeq: 4 });
  });

  it("fails at a deleted event, including the last one", () => {
    expect(
      verifyChain(
        links.filter((l) => l.seq !== 2),
        head,
      ),
    ).toMatchObject({
      ok: false,
      firstBadSeq: 2,
      reason: "event 2 is missing",
    });
    expect(verifyChain(links.slice(0, 3), head)).toMatchObject({ ok: false, firstBadSeq: 4 });
  });

  it("fails when the head was rewritten", () => {
    expect(verifyChain(links, { seq: 4, hash: "0".repeat(64) })).toMatchObject({ ok: false });
  });

  it("counts events from before chaining, but only ahead of the chain", () => {
    const legacy: ChainLink[] = [
      { id: 1, seq: null, hash: null, digest: "" },
      { id: 2, seq: null, hash: null, digest: "" },
    ];
    const chained = chainOf(["a", "b"], 3);
    expect(verifyChain([...legacy, ...chained], headOf(chained))).toMatchObject({
      ok: true,
      events: 2,
      unchained: 2,
    });
    const stripped = [chained[0], { id: 4, seq: null, hash: null, digest: "" }] as ChainLink[];
    expect(verifyChain(stripped, headOf(chained))).toMatchObject({
      ok: false,
      firstBadSeq: 2,
      firstBadId: 4,
    });
  });
});
