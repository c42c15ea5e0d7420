// Precision and recall per detector type on a generated corpus (server/masking/quality-report.ts), and the
// committed quality.md kept current: the test only compares it; `npm run masking:quality` writes it.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

import { evaluate, toMarkdown } from "./quality-report";

describe("detector quality on a generated corpus", () => {
  const { rows, negativeLines } = evaluate();

  it("matches the committed quality.md (npm run masking:quality writes it)", () => {
    const committed = readFileSync(fileURLToPath(new URL("./quality.md", import.meta.url)), "utf8");
    expect(committed).toBe(toMarkdown(rows, negativeLines));
  });

  it("masks every valid value of every type", () => {
    const missed = rows
      .filter((r) => r.found !== r.positives)
      .map((r) => `${r.type} ${r.found}/${r.positives}`);
    expect(missed).toEqual([]);
  });

  it("labels values with their own type almost always", () => {
    const poor = rows
      .filter((r) => r.labelled / r.positives < 0.97)
      .map((r) => `${r.type} ${r.labelled}/${r.positives}`);
    expect(poor).toEqual([]);
  });

  it("keeps overall precision above 0.98 and no type below 0.9", () => {
    const tp = rows.reduce((a, r) => a + r.detections - r.falsePositives, 0);
    const det = rows.reduce((a, r) => a + r.detections, 0);
    expect(tp / det).toBeGreaterThan(0.98);
    const poor = rows
      .filter((r) => r.detections > 0 && (r.detections - r.falsePositives) / r.detections < 0.9)
      .map((r) => `${r.type} ${r.falsePositives}/${r.detections}`);
    expect(poor).toEqual([]);
  });
});
