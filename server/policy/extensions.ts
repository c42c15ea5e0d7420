import "server-only";
import type { Verdict } from "./settings";

// Extensions and procedural languages: which reach outside the database when installed or used.

export const TRUSTED_LANGUAGES = new Set(["sql", "plpgsql", "plperl", "pltcl", "plv8", "pljs", "plrust"]);

const DANGEROUS_EXTENSIONS = new Map<string, string>([
  ["dblink", "connects to other servers"],
  ["postgres_fdw", "connects to other servers"],
  ["file_fdw", "reads the server's file system"],
  ["adminpack", "writes the server's file system"],
  ["pg_cron", "runs SQL on a schedule, outside the gateway"],
  ["pg_background", "runs SQL in other sessions, outside the gateway"],
  ["pg_net", "makes network requests from the server"],
  ["http", "makes network requests from the server"],
  ["aws_s3", "connects to other services"],
  ["aws_lambda", "connects to other services"],
  ["plsh", "runs shell code on the server"],
  ["pageinspect", "reads raw data pages, bypassing privileges"],
  ["pg_walinspect", "reads the write-ahead log of every session"],
  ["pg_dirtyread", "reads deleted rows"],
  ["pg_proctab", "reads the server's process table"],
  ["system_stats", "reads the server's operating system"],
]);

export function classifyExtension(name: string): Verdict {
  const extension = name.toLowerCase();
  const why = DANGEROUS_EXTENSIONS.get(extension);
  if (why) return { class: "dangerous", reason: `extension ${extension} ${why}` };
  if (extension.endsWith("_fdw")) {
    return {
      class: "dangerous",
      reason: `extension ${extension} is a foreign-data wrapper reaching outside the database`,
    };
  }
  if (extension.startsWith("pl") && extension.endsWith("u")) {
    return {
      class: "dangerous",
      reason: `extension ${extension} is an untrusted language with full server access`,
    };
  }
  return { class: "ddl", reason: `CREATE EXTENSION installs ${extension}` };
}
