import { describe, expect, it } from "vitest";
import {
  auditEventDigest,
  type ChainLink,
  canonicalJson,
  chainHash,
  sessionEventDigest,
  sha256Hex,
  verifyChain,
} from "./hash-chain";

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
