// The masking worker pool: real worker threads (started as the server starts them) mask the scanned strings of a
// result and give exactly what maskRows gives inline, in order and with row numbers in the whole result; chunks no
// worker has taken at the end are masked on this thread, and a worker that stops mid-result leaves its chunks to
// this thread rather than returning them unmasked.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { makeRng, POSITIVE, sampleValue } from "./fixtures/samples";
import type { ColumnRef, MaskingConfig } from "./index";

const CONFIG: MaskingConfig = {
  defaultStyle: "partial",
  styles: { us_ssn: "full" },
  pseudonymKey: "pool-test-key-0123456789abcdef",
  columnRules: [{ pattern: "customers.secret_note", type: "secret" }],
};
const COLUMNS: ColumnRef[] = [
  { name: "id", type: "int4", table: "customers" },
  { name: "contact", type: "text", table: "customers" },
  { name: "secret_note", type: "text", table: "customers" },
  { name: "doc", type: "jsonb", table: "customers" },
  { name: "seen", type: "timestamptz", table: "customers" },
];
const TYPES = Object.keys(POSITIVE);

function sampleRows(count: number, seed: number): unknown[][] {
  const rng = makeRng(seed);
  return Array.from({ length: count }, (_, i) => {
    const type = TYPES[i % TYPES.length]!;
    const value = sampleValue(rng, type);
    return [
      i,
      i % 3 === 0 ? `reach me at ${value}` : i % 3 === 1 ? value : "nothing here",
      i % 5 === 0 ? null : `note ${i}`,
      { owner: { email: `person${i}@example.com` }, tags: ["a", value] },
      "2026-01-02 03:04:05+00",
    ];
  });
}

let pool: typeof import("./pool");
let maskRows: typeof import("./index").maskRows;

beforeAll(async () => {
  vi.stubEnv("MASK_WORKERS", "2");
  pool = await import("./pool");
  ({ maskRows } = await import("./index"));
});

afterAll(async () => {
  await pool.closeMaskWorkers();
  vi.unstubAllEnvs();
});

describe("BatchMasker", () => {
  it("masks batches on worker threads exactly as maskRows masks the whole result", async () => {
    const rows = sampleRows(7_500, 7);
    // Before pushing: the masker may mask the batches it is given in place.
    const inline = maskRows(COLUMNS, structuredClone(rows), CONFIG);
    const masker = new pool.BatchMasker(COLUMNS, CONFIG);
    // Large batches go to the workers, the small last one is masked inline.
    for (const [from, to] of [
      [0, 3_000],
      [3_000, 6_000],
      [6_000, 7_400],
      [7_400, 7_500],
    ] as const)
      masker.push(rows.slice(from, to));
    const pooled = await masker.result();
    expect(pooled.rows).toEqual(inline.rows);
    expect(pooled.masked).toEqual(inline.masked);
    expect(pooled.masked.some(([row]) => row >= 6_000)).toBe(true);
    expect(JSON.stringify(pooled.rows)).not.toMatch(/person\d+@/);
    expect(pool.maskPoolStats()).toMatchObject({ workers: 2, offloaded: 3, fellBack: 0, keptHere: 0 });
  });

  it("masks on this thread the chunks no worker has taken when the last batch is in", async () => {
    const rows = sampleRows(30_000, 5);
    const expected = maskRows(COLUMNS, structuredClone(rows), CONFIG);
    const before = pool.maskPoolStats();
    const masker = new pool.BatchMasker(COLUMNS, CONFIG);
    // One batch of 30,000 rows: 30,000 scanned strings (the `contact` column), more chunks than the two
    // workers hold at once, so result() finds some still queued and masks them here.
    masker.push(rows);
    const result = await masker.result();
    expect(result).toEqual(expected);
    const after = pool.maskPoolStats();
    const chunks = Math.ceil(30_000 / pool.CHUNK_VALUES);
    expect(after.keptHere - before.keptHere).toBeGreaterThan(0);
    expect(after.keptHere - before.keptHere + after.offloaded - before.offloaded).toBe(chunks);
  });

  it("masks here what a stopped worker was given, never returning it unmasked", async () => {
    const rows = sampleRows(30_000, 11);
    const expected = maskRows(COLUMNS, structuredClone(rows), CONFIG);
    const before = pool.maskPoolStats();
    const masker = new pool.BatchMasker(COLUMNS, CONFIG);
    masker.push(rows.slice(0, 15_000));
    // The workers are stopped at once, with the first batch's chunks just handed to them; the second batch
    // goes to new workers.
    const stopping = pool.closeMaskWorkers();
    masker.push(rows.slice(15_000));
    await stopping;
    const result = await masker.result();
    expect(result).toEqual(expected);
    // A worker may finish a chunk before it stops; the rest of what it held falls back to this thread.
    expect(pool.maskPoolStats().fellBack - before.fellBack).toBeGreaterThan(0);
  });
});
