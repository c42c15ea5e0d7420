// Property-based tests: idempotence, no detected value left in the output, no throw on any input, and
// the stream masker agreeing with whole-text masking for every chunking.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileConfig } from "./config";
import { hintFromName } from "./detectors";
import { lookAlike, makeRng, POSITIVE, sampleValue } from "./fixtures/samples";
import { createStreamMasker, type MaskingConfig, maskRows, maskText, maskValue } from "./index";
import { maskTextCompiled, maskTextTypes } from "./mask-text";

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

/** Column rules on top of the full style: a ruled column (`*.ssn`) is masked whole. */
const cfgWithRules: MaskingConfig = { ...STYLES.full!, columnRules: [{ pattern: "ssn", type: "us_ssn" }] };

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

  it("masks a cell that is exactly one value the same with and without the whole-value fast path", () => {
    // (and maskTextTypes, the cell masker's entry, agrees with both)
    const hints = fc.constantFrom("", "email", "phone number", "customers card", "notes", "tax id");
    // Values alone, values with a prefix or suffix glued on, and any text: the fast path must agree on all.
    const cell = fc.oneof(
      { weight: 4, arbitrary: sensitive },
      { weight: 1, arbitrary: fc.tuple(sensitive, fragment).map(([v, f]) => v + f) },
      { weight: 1, arbitrary: fc.tuple(fragment, sensitive).map(([f, v]) => f + v) },
      { weight: 1, arbitrary: text },
    );
    for (const cfg of Object.values(STYLES)) {
      const cc = compileConfig(cfg);
      fc.assert(
        fc.property(cell, hints, (value, name) => {
          const hint = hintFromName(name);
          const slow = maskTextCompiled(cc, value, hint, false);
          expect(maskTextCompiled(cc, value, hint, true)).toEqual(slow);
          const types: string[] = [];
          expect(maskTextTypes(cc, value, hint, types)).toBe(slow.findings.length === 0 ? value : slow.text);
          expect(types).toEqual(slow.findings.map((f) => f.type));
        }),
        { numRuns: 1000 },
      );
    }
  });

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

  it("masks a result set cell by cell exactly like maskValue (repeated values are scanned once)", () => {
    // A small pool of values so that columns repeat them, and the row masker's per-column memory is used.
    const cell = fc.oneof(
      { weight: 6, arbitrary: text },
      { weight: 2, arbitrary: fc.integer({ min: -1e15, max: 1e15 }) },
      { weight: 1, arbitrary: fc.constantFrom(null, true, 4111111111111111, "4111 1111 1111 1111") },
      { weight: 1, arbitrary: fc.dictionary(fc.constantFrom("password", "note", "email"), text) },
    );
    const columns = [
      { name: "email" },
      { name: "notes", table: "users" },
      { name: "ssn", table: "people" },
      { name: "amount", type: "numeric" },
    ];
    fc.assert(
      fc.property(
        fc.array(cell, { minLength: 1, maxLength: 6 }),
        fc.array(fc.array(fc.nat(), { minLength: 4, maxLength: 4 }), { maxLength: 12 }),
        fc.constantFrom(...Object.values(STYLES)),
        (pool, picks, style) => {
          const cfg = { ...style, columnRules: cfgWithRules.columnRules };
          const rows = picks.map((row) => row.map((i) => pool[i % pool.length]));
          const got = maskRows(columns, rows, cfg);
          const want: unknown[][] = [];
          const masked: [number, number, string][] = [];
          rows.forEach((row, r) => {
            want.push(
              row.map((v, c) => {
                const one = maskValue(v, cfg, columns[c]);
                if (one.value !== v || columns[c]?.name === "ssn")
                  for (const t of one.types) masked.push([r, c, t]);
                return one.value;
              }),
            );
          });
          expect(got.rows).toEqual(want);
          expect(got.masked).toEqual(masked);
          // In place: the same result, written into the rows it was given.
          const own = structuredClone(rows);
          const inPlace = maskRows(columns, own, cfg, { inPlace: true });
          expect(inPlace.rows).toEqual(want);
          expect(inPlace.masked).toEqual(masked);
          expect(inPlace.rows.every((row, i) => row === own[i])).toBe(true);
          // A batch further into a result numbers its masked cells from where it starts.
          const later = maskRows(columns, rows, cfg, { rowOffset: 7000 });
          expect(later.masked).toEqual(masked.map(([r, c, t]) => [r + 7000, c, t]));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("leaves numbers with short integer parts in number columns as they are, and scans the rest", () => {
    const cfg = STYLES.full!;
    const columns = [{ name: "amount", type: "numeric" }];
    const rows = [
      ["1234.56"],
      ["-12e5"],
      ["12345.6789012345678"],
      ["4111111111111111"],
      ["4111111111111111.00"],
      ["call +1 555 0100"],
      ["a@b.io"],
      ["12.5 or 4111111111111111"],
    ];
    const got = maskRows(columns, rows, cfg);
    expect(got.rows.slice(0, 3)).toEqual(rows.slice(0, 3));
    expect(got.rows.slice(3).flat()).toEqual(rows.slice(3).map(([v]) => maskValue(v, cfg, columns[0]).value));
    expect(got.rows[3]?.[0]).not.toBe("4111111111111111");
    // Any number: an integer part under seven digits is left as it is; any other is masked as a scan masks it.
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ noNaN: true }).map(String),
          fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
          fc
            .tuple(fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.nat({ max: 10 ** 9 }))
            .map(([a, b]) => `${a}.${b}`),
        ),
        fc.constantFrom("numeric", "float8", "int8"),
        (v, type) => {
          const col = [{ name: "total", type }];
          const integerDigits = /^[-+]?(\d+)(\.\d*)?([eE][-+]?\d+)?$/.exec(v)?.[1]?.length ?? 99;
          expect(maskRows(col, [[v]], cfg).rows[0]?.[0]).toBe(
            integerDigits < 7 ? v : maskValue(v, cfg, col[0]).value,
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it("does not scan columns whose PostgreSQL type holds only dates, times, booleans or UUIDs", () => {
    fc.assert(
      fc.property(text, fc.constantFrom("timestamptz", "date", "uuid", "interval"), (t, type) => {
        const got = maskRows([{ name: "note", type }], [[t]], STYLES.full!);
        expect(got.rows[0]?.[0]).toBe(t);
        expect(got.masked).toEqual([]);
      }),
      { numRuns: 100 },
    );
    // Column rules still apply to them.
    const ruled = maskRows([{ name: "ssn", type: "date" }], [["1990-01-01"]], cfgWithRules);
    expect(ruled.masked).toEqual([[0, 0, "us_ssn"]]);
  });
});
