/**
 * Regenerates server/policy/builtin-functions.generated.ts from a real PostgreSQL: a throwaway server started
 * with the test harness (the newest under /usr/lib/postgresql, or PG_BIN), or the server at the URL given.
 *   npm run generate:builtins [-- postgres://user:pw@host:port/db]
 * Then review the diff: every name that enters the allowlist becomes callable in a read.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import postgres from "postgres";
import { readBuiltinCatalog, renderBuiltinCatalog, SAFE_BUILTIN_FUNCTIONS } from "@/server/policy";
import { startPostgres } from "@/test/harness/postgres";

const TARGET = new URL("../server/policy/builtin-functions.generated.ts", import.meta.url);

const url = process.argv[2];
const server = url ? undefined : await startPostgres();
const sql = postgres(url ?? server!.url, { max: 1, onnotice: () => {} });
try {
  const catalog = await readBuiltinCatalog(
    (text, parameters) => sql.unsafe(text, parameters as never[]) as Promise<Record<string, unknown>[]>,
  );
  writeFileSync(TARGET, renderBuiltinCatalog(catalog));
  execFileSync("npx", ["biome", "format", "--write", TARGET.pathname], { stdio: "inherit" });
  // System views are classified with the allowlist this process loaded: when it changed, once more.
  const changed =
    catalog.safe.length !== SAFE_BUILTIN_FUNCTIONS.size ||
    catalog.safe.some((n) => !SAFE_BUILTIN_FUNCTIONS.has(n));
  if (changed)
    console.log("The allowlist changed: run the generator once more so system views are classified with it.");
  console.log(
    `PostgreSQL ${catalog.serverVersion}: ${catalog.safe.length} safe built-ins, ${Object.keys(catalog.systemViews).length} system views with unsafe parts`,
  );
} finally {
  await sql.end();
  await server?.stop();
}
