import "server-only";
import type { Node, VariableSetStmt } from "libpg-query";
import { settingValueOf } from "./tree";
import type { StatementClass } from "./types";

// Run-time settings: which a caller may change (SET, RESET, set_config(), ALTER ... SET) and what changing
// each one can do. Guards the read-only safety net: asking for read-write transactions is a write.
// It does not walk statements (classify-statement.ts) and does not know functions (functions.ts).

export interface Verdict {
  class: StatementClass;
  reason: string;
}

// Session settings a caller may change freely: formatting, planner knobs, timeouts, memory for this
// session. The transaction_ prefixes are here for isolation level, deferrable and timeouts; asking for
// read-write mode is a write (READ_ONLY_SETTINGS).
const HARMLESS_SETTINGS = new Set([
  "application_name",
  "array_nulls",
  "bytea_output",
  "check_function_bodies",
  "client_min_messages",
  "constraint_exclusion",
  "cursor_tuple_fraction",
  "datestyle",
  "default_statistics_target",
  "default_table_access_method",
  "default_tablespace",
  "default_text_search_config",
  "default_toast_compression",
  "effective_cache_size",
  "effective_io_concurrency",
  "escape_string_warning",
  "extra_float_digits",
  "from_collapse_limit",
  "gin_fuzzy_search_limit",
  "gin_pending_list_limit",
  "hash_mem_multiplier",
  "idle_in_transaction_session_timeout",
  "idle_session_timeout",
  "intervalstyle",
  "jit",
  "jit_above_cost",
  "jit_inline_above_cost",
  "jit_optimize_above_cost",
  "join_collapse_limit",
  "lc_monetary",
  "lc_numeric",
  "lc_time",
  "lock_timeout",
  "maintenance_io_concurrency",
  "maintenance_work_mem",
  "max_parallel_maintenance_workers",
  "max_parallel_workers_per_gather",
  "min_parallel_index_scan_size",
  "min_parallel_table_scan_size",
  "parallel_leader_participation",
  "parallel_setup_cost",
  "parallel_tuple_cost",
  "plan_cache_mode",
  "quote_all_identifiers",
  "random_page_cost",
  "recursive_worktree_factor",
  "row_security",
  "search_path",
  "seq_page_cost",
  "statement_timeout",
  // Where this session's sequential scans start reading a table (pg_dump turns it off): order, not content.
  "synchronize_seqscans",
  "synchronous_commit",
  "temp_buffers",
  "temp_tablespaces",
  "timezone",
  "timezone_abbreviations",
  "transaction_timeout",
  "transform_null_equals",
  "work_mem",
  "xmlbinary",
  "xmloption",
]);
const HARMLESS_SETTING_PREFIXES = ["enable_", "cpu_", "geqo", "transaction_", "default_transaction_"];

// Settings that reach beyond the session's own queries: they change how the server reads the text that
// follows (so the gateway's parse would no longer match the server's), silence auditing and logging,
// skip triggers and foreign keys, load code, or weaken the server's integrity checks.
const DANGEROUS_SETTINGS = new Map<string, string>([
  ["session_replication_role", "skips triggers and foreign-key checks"],
  [
    "standard_conforming_strings",
    "changes how the server reads string literals, so the gateway's parse would differ",
  ],
  ["client_encoding", "changes how the server decodes the text, so the gateway's parse would differ"],
  ["session_preload_libraries", "loads shared libraries into the server"],
  ["local_preload_libraries", "loads shared libraries into the server"],
  ["shared_preload_libraries", "loads shared libraries into the server"],
  ["dynamic_library_path", "changes where the server loads code from"],
  ["jit_provider", "changes which library the server loads for JIT"],
  ["allow_system_table_mods", "allows changes to the system catalogs"],
  ["allow_in_place_tablespaces", "lets tablespaces be created inside the data directory"],
  ["zero_damaged_pages", "lets the server destroy damaged data"],
  ["ignore_checksum_failure", "hides data corruption"],
  ["ignore_system_indexes", "changes how the server reads its catalogs"],
  ["ignore_invalid_pages", "hides data corruption"],
  ["lo_compat_privileges", "turns off privilege checks on large objects"],
  ["exit_on_error", "changes how the server handles errors"],
  ["compute_query_id", "changes what monitoring records"],
  ["update_process_title", "changes what monitoring records"],
]);
const DANGEROUS_SETTING_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ["log_", "changes what the server logs"],
  ["debug_", "changes the server's debugging output"],
  ["trace_", "changes the server's tracing output"],
  ["track_", "changes what monitoring records"],
  ["pgaudit.", "changes what the audit extension records"],
  ["wal_", "changes how the server writes its log"],
];
// Values of otherwise dangerous settings that leave the server reading text as the gateway does.
const SAFE_SETTING_VALUES = new Map<string, ReadonlySet<string>>([
  ["client_encoding", new Set(["utf8", "utf-8", "unicode"])],
  ["standard_conforming_strings", new Set(["on", "true", "yes", "1"])],
  ["session_replication_role", new Set(["origin"])],
]);
/**
 * Settings that restrict what this session may use, and the values that restrict the most: setting one of them
 * to such a value cannot loosen anything (pg_dump asks restrict_nonsystem_relation_kind for 'view,
 * foreign-table'); any other value could undo a restriction an administrator set, so it counts as unknown.
 */
const RESTRICTING_SETTINGS = new Map<string, (value: string) => boolean>([
  [
    "restrict_nonsystem_relation_kind",
    (value) => {
      const kinds = new Set(value.split(",").map((kind) => kind.trim()));
      return kinds.has("view") && kinds.has("foreign-table");
    },
  ],
]);
/**
 * Settings that make transactions read-only. The gateway runs input classified as reads on sessions where they
 * are on (server/targets/postgres.ts), so the target refuses a write hidden in a function or a view; asking for
 * read-write mode is therefore a write. Setting them back to the session's default keeps them on.
 */
export const READ_ONLY_SETTINGS = new Set(["transaction_read_only", "default_transaction_read_only"]);
/** How PostgreSQL accepts true for a boolean setting (on, true, yes, 1 and unique prefixes of them). */
export const TRUE_VALUES = new Set(["on", "true", "tru", "tr", "t", "yes", "ye", "y", "1"]);
export const ASKS_READ_WRITE =
  "asks for read-write transactions, which the gateway turns off while reads run, so it counts as a write";

/** Whether transaction options (SET TRANSACTION ..., BEGIN ...) ask for READ WRITE. */
export function asksReadWrite(options: Node[] | undefined): boolean {
  return (options ?? []).some((option) => {
    const element = (option as { DefElem?: { defname?: string; arg?: Node } }).DefElem;
    if (element?.defname !== "transaction_read_only") return false;
    const value = settingValueOf(element.arg);
    return value === undefined || !TRUE_VALUES.has(value);
  });
}

const IDENTITY_SETTINGS = new Map<string, string>([
  ["role", "changes the role the session acts as"],
  ["session_authorization", "changes the user the session acts as"],
]);

/**
 * Classifies a change to a run-time setting, by SET, RESET, set_config() or ALTER DATABASE ... SET.
 * `value` is the literal new value, lower-case; undefined when reset to a default or computed.
 */
export function classifySetting(rawName: string, value?: string): Verdict {
  const name = rawName.toLowerCase();
  if (value !== undefined && SAFE_SETTING_VALUES.get(name)?.has(value)) {
    return { class: "read", reason: `${name} = ${value} keeps the server's defaults` };
  }
  if (READ_ONLY_SETTINGS.has(name) && !(value !== undefined && TRUE_VALUES.has(value))) {
    return { class: "write", reason: `${name} ${ASKS_READ_WRITE}` };
  }
  if (value !== undefined && RESTRICTING_SETTINGS.get(name)?.(value)) {
    return { class: "read", reason: `${name} = '${value}' only restricts this session further` };
  }
  const identity = IDENTITY_SETTINGS.get(name);
  if (identity) return { class: "privilege", reason: `${name} ${identity}` };
  const dangerous = DANGEROUS_SETTINGS.get(name);
  if (dangerous) return { class: "dangerous", reason: `${name} ${dangerous}` };
  for (const [prefix, why] of DANGEROUS_SETTING_PREFIXES) {
    if (name.startsWith(prefix)) return { class: "dangerous", reason: `${name} ${why}` };
  }
  if (HARMLESS_SETTINGS.has(name) || HARMLESS_SETTING_PREFIXES.some((prefix) => name.startsWith(prefix))) {
    return { class: "read", reason: `${name} only tunes this session` };
  }
  if (name.includes(".")) {
    return {
      class: "privilege",
      reason: `${name} is a custom setting; row-level security policies often read these to decide who sees what`,
    };
  }
  return { class: "privilege", reason: `${name} is not a setting known to be harmless` };
}
export function classifyVariableSet(body: VariableSetStmt): Verdict {
  switch (body.kind) {
    case "VAR_RESET_ALL":
      return { class: "read", reason: "RESET ALL restores this session's settings" };
    case "VAR_SET_MULTI":
      // SET TRANSACTION ..., SET SESSION CHARACTERISTICS AS TRANSACTION ...
      if (asksReadWrite(body.args))
        return { class: "write", reason: `SET ${body.name ?? ""} READ WRITE ${ASKS_READ_WRITE}` };
      return { class: "read", reason: `SET ${body.name ?? ""} only sets transaction characteristics` };
    default: {
      const name = (body.name ?? "").toLowerCase();
      if (READ_ONLY_SETTINGS.has(name) && (body.kind === "VAR_RESET" || body.kind === "VAR_SET_DEFAULT"))
        return { class: "read", reason: `RESET ${name} restores this session's default` };
      const value =
        body.kind === "VAR_SET_VALUE" && body.args?.length === 1 ? settingValueOf(body.args[0]) : undefined;
      const verdict = classifySetting(body.name ?? "", value);
      const verb = body.kind === "VAR_RESET" ? "RESET" : "SET";
      return { class: verdict.class, reason: `${verb} ${verdict.reason}` };
    }
  }
}
