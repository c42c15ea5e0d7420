import "server-only";
import { SAFE_BUILTIN_FUNCTIONS } from "./builtin-functions.generated";
import type { FunctionFacts } from "./catalog";
import type { Verdict } from "./settings";

// What calling a function can do, by capability. A call is a read only when the function is known to be free
// of side effects: a built-in on the shipped allowlist (generated from PostgreSQL 15's pg_proc by
// scripts/generate-builtin-functions.ts immutable and stable functions minus the families below), a volatile
// built-in reviewed by hand as a harmless read, or a function the target's own catalog describes as immutable
// or stable, not SECURITY DEFINER, in a trusted language. Everything else is at least a write.
// It does not walk statements (classify-statement.ts) and does not query the target (catalog.ts).

export type Capability = Verdict;

const FILES = "reaches the server's file system";
const CONFIG_FILES = "reads the server's configuration files or control data";
const OTHER_SESSIONS = "acts on other sessions";
const SESSION_DATA = "shows other sessions' activity and queries";
const OTHER_SERVERS = "connects to other servers";
const SERVER = "changes the running server";
const REPLICATION = "changes replication state that outlives the session";
const STATS_RESET = "resets statistics that monitoring relies on";
const UPGRADE = "is for binary upgrades and changes the catalog";
const LARGE_OBJECT_WRITE = "writes a large object";
const ADVISORY_LOCK = "takes an advisory lock that other sessions wait on";

const dangerous = (reason: string): Capability => ({ class: "dangerous", reason });
const write = (reason: string): Capability => ({ class: "write", reason });
const ddl = (reason: string): Capability => ({ class: "ddl", reason });

/** Built-in functions whose capability is known by name: the families the allowlist leaves out. */
export const BUILTIN_CAPABILITIES = new Map<string, Capability>([
  ...[
    "pg_read_file",
    "pg_read_binary_file",
    "pg_read_file_old",
    "pg_stat_file",
    "pg_current_logfile",
    "pg_show_all_file_settings",
    "pg_hba_file_rules",
    "pg_ident_file_mappings",
    "lo_import",
    "lo_export",
    "pg_logdir_ls",
  ].map((name) => [name, dangerous(FILES)] as const),
  ...[
    "pg_config",
    "pg_control_checkpoint",
    "pg_control_init",
    "pg_control_recovery",
    "pg_control_system",
  ].map((name) => [name, dangerous(CONFIG_FILES)] as const),
  ...["pg_terminate_backend", "pg_cancel_backend", "pg_log_backend_memory_contexts"].map(
    (name) => [name, dangerous(OTHER_SESSIONS)] as const,
  ),
  ...["pg_stat_get_activity", "pg_stat_get_progress_info"].map(
    (name) => [name, dangerous(SESSION_DATA)] as const,
  ),
  ...["pg_stat_get_wal_receiver", "pg_stat_get_subscription"].map(
    (name) => [name, dangerous(`${OTHER_SERVERS} (shows their connection strings)`)] as const,
  ),
  ...[
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_rotate_logfile_old",
    "pg_logfile_rotate",
    "pg_promote",
    "pg_switch_wal",
    "pg_switch_xlog",
    "pg_create_restore_point",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_wal_replay_pause",
    "pg_wal_replay_resume",
    "pg_stat_force_next_flush",
    "pg_nextoid",
    "pg_stop_making_pinned_objects",
  ].map((name) => [name, dangerous(SERVER)] as const),
  ...[
    "pg_create_physical_replication_slot",
    "pg_create_logical_replication_slot",
    "pg_drop_replication_slot",
    "pg_copy_physical_replication_slot",
    "pg_copy_logical_replication_slot",
    "pg_replication_slot_advance",
    "pg_sync_replication_slots",
    "pg_logical_slot_get_changes",
    "pg_logical_slot_peek_changes",
    "pg_logical_slot_get_binary_changes",
    "pg_logical_slot_peek_binary_changes",
    "pg_replication_origin_create",
    "pg_replication_origin_drop",
    "pg_replication_origin_advance",
    "pg_replication_origin_session_setup",
    "pg_replication_origin_session_reset",
    "pg_replication_origin_xact_setup",
    "pg_replication_origin_xact_reset",
  ].map((name) => [name, dangerous(REPLICATION)] as const),
  ["pg_logical_emit_message", dangerous("writes a message into the write-ahead log for logical decoding")],
  ["pg_import_system_collations", ddl("imports the operating system's collations into the catalog")],
  ["pg_extension_config_dump", ddl("changes what pg_dump saves of an extension")],
  ...[
    "brin_summarize_new_values",
    "brin_summarize_range",
    "brin_desummarize_range",
    "gin_clean_pending_list",
  ].map((name) => [name, ddl("maintains an index")] as const),
  ["nextval", write("advances a sequence")],
  ["setval", write("sets a sequence")],
  ["pg_notify", write("signals other sessions")],
  ...[
    "lo_create",
    "lo_creat",
    "lo_from_bytea",
    "lo_put",
    "lowrite",
    "lo_truncate",
    "lo_truncate64",
    "lo_unlink",
  ].map((name) => [name, write(LARGE_OBJECT_WRITE)] as const),
]);

/** Families by prefix, for names the exact list does not hold (including later versions' additions). */
const CAPABILITY_PREFIXES: ReadonlyArray<readonly [string, Capability]> = [
  ["pg_ls_", dangerous(FILES)],
  ["pg_file_", dangerous(FILES)],
  ["dblink", dangerous(OTHER_SERVERS)],
  ["pg_stat_get_backend_", dangerous(SESSION_DATA)],
  ["pg_stat_reset", dangerous(STATS_RESET)],
  ["binary_upgrade_", dangerous(UPGRADE)],
  ["pg_advisory_", write(ADVISORY_LOCK)],
  ["pg_try_advisory_", write(ADVISORY_LOCK)],
  ["fmgr_", write("validates function bodies (internal)")],
];

/**
 * Volatile built-ins reviewed by hand as harmless reads: clocks and random numbers, sizes, the session's own
 * sequence values, lock and recovery status. Volatile only means "may give a different answer each call".
 */
export const REVIEWED_VOLATILE_READS = new Set([
  "random",
  "setseed",
  "clock_timestamp",
  "timeofday",
  "gen_random_uuid",
  "pg_sleep",
  "pg_sleep_for",
  "pg_sleep_until",
  "currval",
  "lastval",
  "current_query",
  "pg_relation_size",
  "pg_table_size",
  "pg_total_relation_size",
  "pg_indexes_size",
  "pg_database_size",
  "pg_tablespace_size",
  "pg_partition_tree",
  "pg_partition_ancestors",
  "pg_sequence_last_value",
  "pg_is_in_recovery",
  "pg_is_wal_replay_paused",
  "pg_get_wal_replay_pause_state",
  "pg_current_wal_lsn",
  "pg_current_wal_insert_lsn",
  "pg_current_wal_flush_lsn",
  "pg_last_wal_receive_lsn",
  "pg_last_wal_replay_lsn",
  "pg_last_xact_replay_timestamp",
  "pg_last_committed_xact",
  "pg_xact_status",
  "txid_status",
  "pg_xact_commit_timestamp",
  "pg_xact_commit_timestamp_origin",
  "pg_jit_available",
  "pg_collation_actual_version",
  "pg_database_collation_actual_version",
  "pg_lock_status",
  "pg_blocking_pids",
  "pg_safe_snapshot_blocking_pids",
  "pg_notification_queue_usage",
  "pg_prepared_xact",
  "pg_get_backend_memory_contexts",
  "pg_stat_clear_snapshot",
  "pg_stat_have_stats",
  "pg_stat_get_recovery_prefetch",
  "pg_show_replication_origin_status",
  "pg_get_shmem_allocations",
  // Fetch from a cursor the caller opened, like FETCH (whose query was classified when it was declared).
  "cursor_to_xml",
  "cursor_to_xmlschema",
]);
const REVIEWED_READ_PREFIXES = ["pg_stat_get_xact_"];

/**
 * Built-ins that run SQL given as text, and which argument holds it (by arity where overloads differ:
 * ts_rewrite(tsquery, tsquery, tsquery) runs nothing, ts_rewrite(tsquery, text) runs its second argument).
 */
export const SQL_TEXT_FUNCTIONS = new Map<string, (arity: number) => number | undefined>([
  ["ts_rewrite", (arity) => (arity === 2 ? 1 : undefined)],
  ["ts_stat", () => 0],
  ["query_to_xml", () => 0],
  ["query_to_xmlschema", () => 0],
  ["query_to_xml_and_xmlschema", () => 0],
]);

/** Built-ins that read a table, a schema's tables or the whole database's, named by their arguments. */
export type TableReach = "table" | "schema" | "database";
export const TABLE_READING_FUNCTIONS = new Map<string, TableReach>([
  ["table_to_xml", "table"],
  ["table_to_xmlschema", "table"],
  ["table_to_xml_and_xmlschema", "table"],
  ["schema_to_xml", "schema"],
  ["schema_to_xmlschema", "schema"],
  ["schema_to_xml_and_xmlschema", "schema"],
  ["database_to_xml", "database"],
  ["database_to_xmlschema", "database"],
  ["database_to_xml_and_xmlschema", "database"],
]);

/**
 * Catalog tables that hold secrets or every table's values, and the columns that do (undefined: all of them).
 * A statement or view reading such a column (or `*`, or the whole row) is dangerous.
 */
export const SENSITIVE_TABLES = new Map<string, { columns?: readonly string[]; why: string }>([
  ["pg_authid", { columns: ["rolpassword"], why: "holds password hashes" }],
  ["pg_user_mapping", { columns: ["umoptions"], why: "holds credentials for foreign servers" }],
  ["pg_subscription", { columns: ["subconninfo"], why: "holds connection strings with credentials" }],
  ["pg_largeobject", { why: "holds every large object's contents, whatever their privileges" }],
  ["pg_statistic", { why: "holds sample values of every table's columns" }],
  ["pg_statistic_ext_data", { why: "holds sample values of every table's columns" }],
]);

/** Whether the name is settled without the target's catalog (and what it does), by its bare name. */
export function builtinCapability(bare: string): Capability | undefined {
  const known = BUILTIN_CAPABILITIES.get(bare);
  if (known) return known;
  for (const [prefix, capability] of CAPABILITY_PREFIXES) if (bare.startsWith(prefix)) return capability;
  return undefined;
}

/** A built-in known to be a harmless read: the generated allowlist or the reviewed volatile reads. */
export function isSafeBuiltin(bare: string): boolean {
  return (
    (SAFE_BUILTIN_FUNCTIONS.has(bare) || REVIEWED_VOLATILE_READS.has(bare) || hasReviewedReadPrefix(bare)) &&
    builtinCapability(bare) === undefined
  );
}

function hasReviewedReadPrefix(bare: string): boolean {
  return REVIEWED_READ_PREFIXES.some((prefix) => bare.startsWith(prefix));
}

/** Whether a name the generator sees in pg_proc is left out of the allowlist by the families above. */
export function isExcludedFromAllowlist(bare: string): boolean {
  return (
    builtinCapability(bare) !== undefined ||
    SQL_TEXT_FUNCTIONS.has(bare) ||
    TABLE_READING_FUNCTIONS.has(bare) ||
    bare === "set_config"
  );
}

const UNTRUSTED_WORDS = "which can reach the server's files and network";

/** What one function the target's catalog describes does. */
export function capabilityOfFacts(facts: FunctionFacts): Capability {
  const name = `${facts.schema}.${facts.name}`;
  if (facts.schema === "pg_catalog") {
    const known = builtinCapability(facts.name);
    if (known) return known;
    if (isSafeBuiltin(facts.name))
      return { class: "read", reason: `${name}() is a built-in known to be safe` };
    return write(`${name}() is a built-in that is not on the reviewed list of safe functions`);
  }
  if (facts.volatility === "v") return write(`${name}() is volatile: it may change data or state`);
  if (facts.isSecurityDefiner) return write(`${name}() runs with its owner's privileges (SECURITY DEFINER)`);
  if (!facts.isTrustedLanguage) {
    return write(`${name}() is written in the untrusted language ${facts.language}, ${UNTRUSTED_WORDS}`);
  }
  const how = facts.volatility === "i" ? "immutable" : "stable";
  return { class: "read", reason: `${name}() is ${how} in the target's catalog` };
}

/**
 * Whether a call to this function can by itself raise a statement's class. Rules that allow by function must
 * name every such call a statement makes: everything but the built-ins known to be safe.
 */
export function isSignificantFunction(name: string): boolean {
  const lower = name.toLowerCase();
  const dot = lower.lastIndexOf(".");
  const bare = lower.slice(dot + 1);
  const schema = dot < 0 ? undefined : lower.slice(0, dot);
  if (schema !== undefined && schema !== "pg_catalog") return true;
  return !isSafeBuiltin(bare);
}
