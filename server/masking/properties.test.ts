// Property-based tests: idempotence, no detected value left in the output, no throw on any input, and
// the stream masker agreeing with whole-text masking for every chunking.
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { lookAlike, makeRng, POSITIVE, sampleValue } from "./fixtures/samples";
import { createStreamMasker, type MaskingConfig, maskText, maskValue } from "./index";

const KEY = "property-test-key-0123456789abcdef";
const STYLES: Record<string, MaskingConfig> = {
  full: { defaultStyle: "full", pseudonymKey: KEY, columnRules: [] },
  partial: { defaultStyle: "partial", pseudonymKey: KEY, columnRules: [] },
  pseudonym: { defaultStyle: "pseudonym", pseudonymKey: KEY, columnRules: [] },
};
const TYPES = Object.keys(POSITIVE);

const sensitive = fc
  .tuple(fc.constantFrom(...TYPES), fc.integer())
  .map(([t, seed]) => sampleValue(makeRng(seed), t));
const fragment = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z]{1,10}$/) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      " ",
      " ",
      "\n",
      ", ",
      ": ",
      "=",
      "\t",
      " | ",
      '"',
      "'",
      "(",
      ")",
      ".",
      "-",
      "/",
    ),
  },
  { weight: 4, arbitrary: sensitive },
  { weight: 2, arbitrary: fc.integer().map((seed) => lookAlike(makeRng(seed))) },
  { weight: 1, arbitrary: fc.constantFrom("\u001b[31m", "\u001b[0m", "\u001b[1;32m", "😀", "é", "身份证") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9 .\-+()]{1,16}$/) },
);
const text = fc.array(fragment, { maxLength: 30 }).map((parts) => parts.join(""));

const RUNS = { numRuns: 300 };

describe("masking properties", () => {
  for (const [style, cfg] of Object.entries(STYLES)) {
    it(`is idempotent (${style})`, () => {
      fc.assert(
        fc.property(text, (t) => {
          const once = maskText(t, cfg).text;
          expect(maskText(once, cfg).text).toBe(once);
        }),
        RUNS,
      );
    });

    it(`never leaves a detected value in the output (${style})`, () => {
      fc.assert(
        fc.property(text, (t) => {
          const r = maskText(t, cfg);
          for (const f of r.findings) {
            const value = t.slice(f.start, f.end);
            // A value that also occurs elsewhere in the input in clear (not detected there) may remain.
            if (value.length >= 4 && t.indexOf(value) === t.lastIndexOf(value))
              expect(r.text).not.toContain(value);
          }
        }),
        RUNS,
      );
    });
  }

  it("never throws on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (t) => {
        maskText(t, STYLES.partial!);
        const m = createStreamMasker(STYLES.pseudonym!);
        m.push(t);
        m.flush();
      }),
      { numRuns: 1000 },
    );
  });

  it("never throws on arbitrary values", () => {
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withDate: true, withMap: true, withTypedArray: true }),
        (v) => {
          maskValue(v, STYLES.full!, { name: "payload" });
        },
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        maskValue(JSON.stringify(v), STYLES.partial!);
      }),
      { numRuns: 500 },
    );
  });

  it("is idempotent on JSON values and cells", () => {
    const leaf = fc.oneof(text, fc.integer(), fc.constant(null), fc.boolean());
    const key = fc.oneof(
      fc.constantFrom("password", "token", "email", "note", "ssn", "api_key"),
      fc.string(),
    );
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: "small" }, leaf, fc.array(tie("value")), fc.dictionary(key, tie("value"))),
    })).value;
    for (const cfg of Object.values(STYLES)) {
      fc.assert(
        fc.property(json, fc.boolean(), (v, asString) => {
          const input = asString ? JSON.stringify(v) : v;
          const once = maskValue(input, cfg, { name: "payload" }).value;
          expect(maskValue(once, cfg, { name: "payload" }).value).toEqual(once);
        }),
        { numRuns: 150 },
      );
    }
  });

  it("gives the same output for any chunking as masking the whole text", () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 20 }), (t, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (t.length + 1)))].sort((a, b) => a - b);
        const m = createStreamMasker(STYLES.partial!);
        let out = "";
        let prev = 0;
        for (const p of points) {
          out += m.push(t.slice(prev, p));
          prev = p;
        }
        out += m.push(t.slice(prev));
        out += m.flush();
        expect(out).toBe(maskText(t, STYLES.partial!).text);
      }),
      { numRuns: 1000 },
    );
  });

  it("gives the same output when fed one character at a time", () => {
    fc.assert(
      fc.property(text, (t) => {
        const m = createStreamMasker(STYLES.full!);
        let out = "";
        for (const ch of t) out += m.push(ch);
        out += m.flush();
        expect(out).toBe(maskText(t, STYLES.full!).text);
      }),
      { numRuns: 200 },
    );
  });
});
