// The shape of the code, read from the sources with TypeScript's own parser (STYLE.md, "Shape"): no import
// cycles; folders meet only at their index.ts; an index.ts only re-exports; only server/config.ts reads
// process.env. Each failure lists the offenders. EXEMPT names the few offences other branches are removing;
// the lead empties it as they merge.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const SCANNED = ["server", "db", "app", "components", "lib", "scripts"];
const SOURCE = /\.(ts|tsx|mts|mjs)$/;
const TEST = /\.test\.tsx?$/;

/**
 * Known offences, each owned by the engineer rewriting that code now (issue 20). Entries are exact: one that no
 * longer occurs fails the test too, so the list only shrinks.
 */
const EXEMPT = {
  /** import cycles, as the sorted files of each */
  cycles: [] as string[][],
  /** index.ts files that hold logic */
  logicInIndex: [] as string[],
  /** "importer -> imported" pairs that reach past an index.ts */
  pastIndex: [
    // a development script over a report built from test fixtures, which the masking folder's surface (loaded
    // by every masking caller and worker) should not carry
    "scripts/masking-quality.ts -> server/masking/quality-report.ts",
    // verbatim copies of earlier detectors, kept as the equivalence tests' oracle (decision 0022): test-only
    // code that imports the detectors' own modules as the originals did
    "server/masking/fixtures/reference/detectors/detect.ts -> server/masking/detectors/alnum.ts",
    "server/masking/fixtures/reference/detectors/detect.ts -> server/masking/detectors/secrets.ts",
    "server/masking/fixtures/reference/detectors/network.ts -> server/masking/detectors/catalog.ts",
    "server/masking/fixtures/reference/detectors/network.ts -> server/masking/detectors/context.ts",
    "server/masking/fixtures/reference/detectors/numeric.ts -> server/masking/detectors/alnum.ts",
    "server/masking/fixtures/reference/detectors/numeric.ts -> server/masking/detectors/catalog.ts",
    "server/masking/fixtures/reference/detectors/numeric.ts -> server/masking/detectors/context.ts",
  ],
};

/** Every source file under the scanned folders, relative to the root, tests excluded. */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && !entry.name.startsWith(".")) walk(rel);
      } else if (SOURCE.test(entry.name) && !TEST.test(entry.name) && !entry.name.endsWith(".d.ts")) {
        files.push(rel);
      }
    }
  };
  for (const dir of SCANNED) if (existsSync(path.join(root, dir))) walk(dir);
  return files.sort();
}

const CANDIDATES = ["", ".ts", ".tsx", ".mts", ".mjs", "/index.ts", "/index.tsx"];

/** The project file a specifier names, or undefined for a package (or a file outside the project). */
function resolve(from: string, specifier: string): string | undefined {
  let base: string;
  if (specifier.startsWith("@/")) base = specifier.slice(2);
  else if (specifier.startsWith(".")) base = path.posix.join(path.posix.dirname(from), specifier);
  else return undefined;
  for (const suffix of CANDIDATES) {
    const candidate = base + suffix;
    const full = path.join(root, candidate);
    if (existsSync(full) && SOURCE.test(candidate)) return candidate;
  }
  // a .js specifier of a .ts file (ESM style)
  const asTs = base.replace(/\.js$/, ".ts");
  return existsSync(path.join(root, asTs)) ? asTs : undefined;
}

/** Static imports, re-exports, `import type`, and dynamic import() with a literal: they all shape the graph. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(root, file), "utf8");
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .map((i) => resolve(file, i.fileName))
    .filter((target): target is string => target !== undefined);
}

function buildGraph(files: string[]): Map<string, string[]> {
  return new Map(files.map((file) => [file, [...new Set(importsOf(file))].filter((t) => t !== file)]));
}

/** Strongly connected components of more than one file (Tarjan): each is one or more cycles. */
function cyclesOf(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? ""));
}

/** Folders that have an index.ts (their surface). */
function foldersWithIndex(files: string[]): Set<string> {
  return new Set(files.filter((f) => /\/index\.tsx?$/.test(f)).map((f) => path.posix.dirname(f)));
}

/**
 * "importer -> imported" for every import of a file inside a folder with an index.ts, from outside that folder,
 * that is not the index itself.
 */
function pastIndexImports(graph: Map<string, string[]>, surfaces: Set<string>): string[] {
  const offenders: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      let folder = path.posix.dirname(to);
      while (folder !== "." && folder !== "") {
        const isIndex = to === `${folder}/index.ts` || to === `${folder}/index.tsx`;
        if (surfaces.has(folder) && !isIndex && !from.startsWith(`${folder}/`)) {
          offenders.push(`${from} -> ${to}`);
          break;
        }
        folder = path.posix.dirname(folder);
      }
    }
  }
  return offenders.sort();
}

/** A statement an index.ts may hold: a re-export (`export ... from`), or a bare `import "server-only"`. */
function isSurfaceStatement(statement: ts.Statement): boolean {
  if (ts.isExportDeclaration(statement)) return statement.moduleSpecifier !== undefined;
  if (ts.isImportDeclaration(statement)) return statement.importClause === undefined;
  return false;
}

/** "file:line: statement" for each statement of an index.ts that is not a re-export. */
function logicInIndexes(files: string[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of files.filter((f) => /\/index\.tsx?$/.test(f))) {
    const source = ts.createSourceFile(
      file,
      readFileSync(path.join(root, file), "utf8"),
      ts.ScriptTarget.Latest,
    );
    const logic = source.statements
      .filter((s) => !isSurfaceStatement(s))
      .map((s) => {
        const line = source.getLineAndCharacterOfPosition(s.getStart(source)).line + 1;
        return `${file}:${line}: ${s.getText(source).split("\n")[0]?.slice(0, 80)}`;
      });
    if (logic.length > 0) found.set(file, logic);
  }
  return found;
}

/** Files reading process.env, besides server/config.ts (the one place configuration is read). */
const ENV_READERS_ALLOWED = new Map([
  ["server/config.ts", "the configuration schema"],
  ["scripts/start.mjs", "the launcher: REBUILD and the child's environment, before any TypeScript runs"],
  ["scripts/admin.ts", "PORTCULLIS_TARGET_PASSWORD: a secret input of one admin command, not configuration"],
]);

function envReaders(files: string[]): string[] {
  const readers: string[] = [];
  for (const file of files) {
    const text = readFileSync(path.join(root, file), "utf8");
    if (!text.includes("process.env")) continue;
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const lines: number[] = [];
    const visit = (node: ts.Node) => {
      if (ts.isPropertyAccessExpression(node) && node.getText(source) === "process.env") {
        lines.push(source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    if (lines.length > 0) readers.push(`${file}:${lines.join(",")}`);
  }
  return readers;
}

const files = sourceFiles();
const graph = buildGraph(files);

describe("the import graph", () => {
  it("reads the sources it is meant to", () => {
    // a guard against a scan that finds nothing and so passes
    expect(files.length).toBeGreaterThan(300);
    expect(graph.get("server/pipeline.ts")).toContain("server/errors.ts");
  });

  it("has no import cycle", () => {
    const cycles = cyclesOf(graph).map((c) => c.join(" <-> "));
    const exempt = EXEMPT.cycles.map((c) => c.join(" <-> "));
    expect(
      cycles.filter((c) => !exempt.includes(c)),
      "import cycles (break each)",
    ).toEqual([]);
    expect(
      exempt.filter((c) => !cycles.includes(c)),
      "exempt cycles that are gone: drop them",
    ).toEqual([]);
  });

  it("reaches a folder that has an index.ts only through it", () => {
    const offenders = pastIndexImports(graph, foldersWithIndex(files));
    expect(
      offenders.filter((o) => !EXEMPT.pastIndex.includes(o)),
      "imports past an index.ts (export what is needed from that index.ts)",
    ).toEqual([]);
    expect(EXEMPT.pastIndex.filter((o) => !offenders.includes(o))).toEqual([]);
  });

  it("keeps index.ts files to re-exports", () => {
    const logic = logicInIndexes(files);
    const offenders = [...logic.entries()].filter(([file]) => !EXEMPT.logicInIndex.includes(file));
    expect(
      offenders.flatMap(([, statements]) => statements),
      "logic in an index.ts (move it to a file of the folder and re-export it)",
    ).toEqual([]);
    expect(
      EXEMPT.logicInIndex.filter((file) => !logic.has(file)),
      "exempt index.ts now clean",
    ).toEqual([]);
  });
});

describe("configuration", () => {
  it("is read from process.env only in server/config.ts", () => {
    const readers = envReaders([...files, "server.ts"]).filter(
      (reader) => !ENV_READERS_ALLOWED.has(reader.split(":")[0] ?? ""),
    );
    expect(readers, "process.env read outside server/config.ts (add the variable to its schema)").toEqual([
      // server.ts hands PUBLIC_URL to next-auth, which reads NEXTAUTH_URL itself: a write, not a read
      expect.stringMatching(/^server\.ts:\d+$/),
    ]);
  });
});

// The checks themselves, on small graphs: each must be able to fail.
describe("the checks", () => {
  it("finds a cycle, and only a cycle", () => {
    const g = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
      ["d.ts", ["a.ts"]],
    ]);
    expect(cyclesOf(g)).toEqual([["a.ts", "b.ts", "c.ts"]]);
    expect(
      cyclesOf(
        new Map([
          ["a.ts", ["b.ts"]],
          ["b.ts", []],
        ]),
      ),
    ).toEqual([]);
  });

  it("finds imports past an index, nested folders included, but not from inside the folder", () => {
    const g = new Map([
      ["server/pipeline.ts", ["server/masking/mask-rows.ts", "server/masking/index.ts"]],
      ["server/masking/pool.ts", ["server/masking/mask-rows.ts", "server/masking/detectors/email.ts"]],
      ["server/masking/detectors/email.ts", ["server/masking/detectors/index.ts"]],
    ]);
    const surfaces = new Set(["server/masking", "server/masking/detectors"]);
    expect(pastIndexImports(g, surfaces)).toEqual([
      "server/masking/pool.ts -> server/masking/detectors/email.ts",
      "server/pipeline.ts -> server/masking/mask-rows.ts",
    ]);
  });

  it("tells a re-export from logic", () => {
    const statements = ts.createSourceFile(
      "index.ts",
      `import "server-only";\nexport { a } from "./a";\nexport * from "./b";\nexport type { C } from "./c";\nimport { d } from "./d";\nexport const e = d + 1;\nexport { d };`,
      ts.ScriptTarget.Latest,
    ).statements;
    expect(statements.map(isSurfaceStatement)).toEqual([true, true, true, true, false, false, false]);
  });
});
