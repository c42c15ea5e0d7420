// Writes server/masking/quality.md, the detector quality table (server/masking/quality-report.ts). Run after
// changing a detector or the corpus: `npm run masking:quality`; the unit test fails while the file is stale.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { evaluate, toMarkdown } from "../server/masking/quality-report";

const { rows, negativeLines } = evaluate();
const file = fileURLToPath(new URL("../server/masking/quality.md", import.meta.url));
writeFileSync(file, toMarkdown(rows, negativeLines));
console.log(`wrote ${file}`);
