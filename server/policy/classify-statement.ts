import "server-only";
import type {
  A_Const,
  AlterTableStmt,
  CopyStmt,
  CreateExtensionStmt,
  CreateFunctionStmt,
  DeleteStmt,
  DropStmt,
  ExplainStmt,
  FuncCall,
  Node,
  ParseResult,
  RangeVar,
  RawStmt,
  SelectStmt,
  UpdateStmt,
  VariableSetStmt,
  WithClause,
} from "libpg-query";
// @ts-expect-error -- the emscripten factory of libpg-query ships without type declarations
import createPgQueryModule from "libpg-query/wasm/libpg-query.js";
import { rowBound } from "./row-bound";
import { CLASS_SEVERITY, type Classification, type ClassifiedStatement, type StatementClass } from "./types";

// Classifies SQL input with PostgreSQL's own parser (libpg-query, WebAssembly): every statement gets a
// class (read, write, unbounded-write, ddl, privilege, dangerous, unparseable) with reasons, the tables
// and the functions it names, and the input gets the strictest class of its statements.
// It decides nothing: rules and decisions are evaluate-rules.ts's job. It never looks at the text with
// patterns, only at the parse tree, so literals and comments never count.

// ---------------------------------------------------------------------------------------------------
// The parser: one WebAssembly instance, loaded once, replaced only if it traps.

interface PgQueryWasm {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(pointer: number): void;
  _wasm_parse_query_raw(queryPointer: number): number;
  _wasm_free_parse_result(resultPointer: number): void;
  getValue(pointer: number, type: "i32"): number;
  UTF8ToString(pointer: number): string;
}

type PgQueryFactory = () => Promise<PgQueryWasm>;

type ParseOutcome =
  | { ok: true; tree: ParseResult }
  | { ok: false; message: string /** 0-based, in code points */; cursor?: number };

/** The instance trapped (e.g. native stack overflow on a very deep tree); its memory is no longer sound. */
class ParserCrash extends Error {}

let parser: PgQueryWasm | null = null;
let parserLoading: Promise<PgQueryWasm> | null = null;

function loadParser(): Promise<PgQueryWasm> {
  if (parser) return Promise.resolve(parser);
  parserLoading ??= (createPgQueryModule as PgQueryFactory)().then(
    (instance) => {
      parser = instance;
      parserLoading = null;
      return instance;
    },
    (error: unknown) => {
      parserLoading = null;
      throw error;
    },
  );
  return parserLoading;
}

// libpg-query's own parseSync shares one instance for the life of the process, and a trap inside it
// (a ~20 KB `1+1+...+1` overflows the stack while the tree is serialised) leaves that instance's memory
// corrupt: every later parse fails or, worse, misreads. So the classifier keeps its own instance and
// throws it away after a trap.
function parseBytes(instance: PgQueryWasm, bytes: Uint8Array): ParseOutcome {
  let queryPointer = 0;
  let resultPointer = 0;
  let isTrapped = false;
  try {
    queryPointer = instance._malloc(bytes.length + 1);
    if (!queryPointer) throw new Error("parser out of memory");
    instance.HEAPU8.set(bytes, queryPointer);
    instance.HEAPU8[queryPointer + bytes.length] = 0;
    resultPointer = instance._wasm_parse_query_raw(queryPointer);
    if (!resultPointer) throw new Error("parser out of memory");
    const treePointer = instance.getValue(resultPointer, "i32");
    const errorPointer = instance.getValue(resultPointer + 8, "i32");
    if (errorPointer) {
      const messagePointer = instance.getValue(errorPointer, "i32");
      const cursor = instance.getValue(errorPointer + 16, "i32");
      return {
        ok: false,
        message: messagePointer ? instance.UTF8ToString(messagePointer) : "the parser rejected the input",
        cursor: cursor > 0 ? cursor - 1 : undefined,
      };
    }
    if (!treePointer) return { ok: false, message: "the parser returned no tree" };
    return { ok: true, tree: JSON.parse(instance.UTF8ToString(treePointer)) as ParseResult };
  } catch (error) {
    isTrapped = true;
    if (parser === instance) parser = null;
    const reason =
      error instanceof RangeError ? "the statement is nested too deeply to parse" : String(error);
    throw new ParserCrash(reason);
  } finally {
    if (!isTrapped) {
      if (queryPointer) instance._free(queryPointer);
      if (resultPointer) instance._wasm_free_parse_result(resultPointer);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Text: what the parser sees must be exactly what the server will see.

const encoder = new TextEncoder();

/**
 * A NUL ends the C string the parser reads (it would never see what follows), and a lone surrogate has no
 * UTF-8 form (the driver would send U+FFFD instead). Either makes the parser's view differ from the server's.
 */
function findTextProblem(input: string): { message: string; position: number } | undefined {
  for (let i = 0; i < input.length; i++) {
    const unit = input.charCodeAt(i);
    if (unit === 0) return { message: "the input contains a NUL character", position: i };
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = input.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return { message: "the input is not well-formed Unicode (lone surrogate)", position: i };
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      return { message: "the input is not well-formed Unicode (lone surrogate)", position: i };
    }
  }
  return undefined;
}

/** Maps the parser's UTF-8 byte offsets to JavaScript string indexes. */
function byteOffsetMapper(input: string, byteLength: number): (byteOffset: number) => number {
  if (byteLength === input.length) return (offset) => offset;
  const indexAtByte = new Uint32Array(byteLength + 1);
  let byte = 0;
  for (let i = 0; i < input.length; i++) {
    const unit = input.charCodeAt(i);
    indexAtByte[byte] = i;
    if (unit < 0x80) byte += 1;
    else if (unit < 0x800) byte += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      byte += 4;
      i++;
    } else byte += 3;
  }
  indexAtByte[byteLength] = input.length;
  return (offset) => indexAtByte[Math.min(Math.max(offset, 0), byteLength)] ?? input.length;
}

/** Maps a 0-based code point offset (how PostgreSQL reports error cursors) to a string index. */
function codePointToIndex(input: string, codePoints: number): number {
  let index = 0;
  for (let seen = 0; seen < codePoints && index < input.length; seen++) {
    const unit = input.charCodeAt(index);
    index += unit >= 0xd800 && unit <= 0xdbff ? 2 : 1;
  }
  return Math.min(index, input.length);
}

// ---------------------------------------------------------------------------------------------------
// What PostgreSQL's catalog knows and the tree does not: settings, functions, languages, extensions.

interface Verdict {
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
 * Settings that make transactions read-only. The gateway runs input classified as reads on sessions where they
 * are on (server/targets/postgres.ts), so the target refuses a write hidden in a function or a view; asking for
 * read-write mode is therefore a write. Setting them back to the session's default keeps them on.
 */
const READ_ONLY_SETTINGS = new Set(["transaction_read_only", "default_transaction_read_only"]);
/** How PostgreSQL accepts true for a boolean setting (on, true, yes, 1 and unique prefixes of them). */
const TRUE_VALUES = new Set(["on", "true", "tru", "tr", "t", "yes", "ye", "y", "1"]);
const ASKS_READ_WRITE =
  "asks for read-write transactions, which the gateway turns off while reads run, so it counts as a write";

/** Whether transaction options (SET TRANSACTION ..., BEGIN ...) ask for READ WRITE. */
function asksReadWrite(options: Node[] | undefined): boolean {
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
function classifySetting(rawName: string, value?: string): Verdict {
  const name = rawName.toLowerCase();
  if (value !== undefined && SAFE_SETTING_VALUES.get(name)?.has(value)) {
    return { class: "read", reason: `${name} = ${value} keeps the server's defaults` };
  }
  if (READ_ONLY_SETTINGS.has(name) && !(value !== undefined && TRUE_VALUES.has(value))) {
    return { class: "write", reason: `${name} ${ASKS_READ_WRITE}` };
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

type Reach = "file" | "network" | "session" | "server";
const REACH_WORDS: Record<Reach, string> = {
  file: "reaches the server's file system",
  network: "connects to other servers",
  session: "acts on other sessions",
  server: "changes the running server",
};

const DANGEROUS_FUNCTIONS = new Map<string, Reach>([
  ["pg_read_file", "file"],
  ["pg_read_binary_file", "file"],
  ["pg_ls_dir", "file"],
  ["pg_stat_file", "file"],
  ["pg_ls_logdir", "file"],
  ["pg_ls_waldir", "file"],
  ["pg_ls_tmpdir", "file"],
  ["pg_ls_archive_statusdir", "file"],
  ["pg_ls_logicalsnapdir", "file"],
  ["pg_ls_logicalmapdir", "file"],
  ["pg_ls_replslotdir", "file"],
  ["pg_ls_summariesdir", "file"],
  ["pg_show_all_file_settings", "file"],
  ["pg_hba_file_rules", "file"],
  ["pg_ident_file_mappings", "file"],
  ["lo_import", "file"],
  ["lo_export", "file"],
  ["pg_file_write", "file"],
  ["pg_file_rename", "file"],
  ["pg_file_unlink", "file"],
  ["pg_file_sync", "file"],
  ["pg_file_read", "file"],
  ["pg_file_length", "file"],
  ["pg_logdir_ls", "file"],
  ["pg_terminate_backend", "session"],
  ["pg_cancel_backend", "session"],
  ["pg_log_backend_memory_contexts", "session"],
  ["pg_logical_slot_get_changes", "session"],
  ["pg_logical_slot_peek_changes", "session"],
  ["pg_logical_slot_get_binary_changes", "session"],
  ["pg_logical_slot_peek_binary_changes", "session"],
  ["pg_reload_conf", "server"],
  ["pg_rotate_logfile", "server"],
  ["pg_logfile_rotate", "server"],
  ["pg_promote", "server"],
  ["pg_switch_wal", "server"],
  ["pg_switch_xlog", "server"],
  ["pg_create_restore_point", "server"],
  ["pg_backup_start", "server"],
  ["pg_backup_stop", "server"],
  ["pg_start_backup", "server"],
  ["pg_stop_backup", "server"],
  ["pg_wal_replay_pause", "server"],
  ["pg_wal_replay_resume", "server"],
  ["pg_create_physical_replication_slot", "server"],
  ["pg_create_logical_replication_slot", "server"],
  ["pg_drop_replication_slot", "server"],
  ["pg_copy_physical_replication_slot", "server"],
  ["pg_copy_logical_replication_slot", "server"],
  ["pg_replication_slot_advance", "server"],
  ["pg_sync_replication_slots", "server"],
]);

const WRITE_FUNCTIONS = new Map<string, string>([
  ["nextval", "advances a sequence"],
  ["setval", "sets a sequence"],
  ["pg_notify", "signals other sessions"],
  ["lo_create", "creates a large object"],
  ["lo_creat", "creates a large object"],
  ["lo_from_bytea", "creates a large object"],
  ["lo_put", "writes a large object"],
  ["lowrite", "writes a large object"],
  ["lo_truncate", "truncates a large object"],
  ["lo_truncate64", "truncates a large object"],
  ["lo_unlink", "deletes a large object"],
]);

/** Built-in functions that run SQL given to them as text: the text is classified too. */
const SQL_TEXT_FUNCTIONS = new Set([
  "query_to_xml",
  "query_to_xmlschema",
  "query_to_xml_and_xmlschema",
  "ts_stat",
]);

const TRUSTED_LANGUAGES = new Set(["sql", "plpgsql", "plperl", "pltcl", "plv8", "pljs", "plrust"]);

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

function classifyExtension(name: string): Verdict {
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

// ---------------------------------------------------------------------------------------------------
// Reading the tree.

type KeysOfUnion<T> = T extends unknown ? keyof T : never;
type NodeTag = KeysOfUnion<Node>;
type BodyOf<K extends NodeTag> = Extract<Node, Record<K, unknown>>[K];

function stringOf(node: Node | undefined): string | undefined {
  return node && "String" in node ? (node.String.sval ?? "") : undefined;
}

/** A string literal, also behind a cast ('role'::text). */
function literalStringOf(node: Node | undefined): string | undefined {
  if (!node) return undefined;
  if ("A_Const" in node) return node.A_Const.sval ? (node.A_Const.sval.sval ?? "") : undefined;
  if ("TypeCast" in node) return literalStringOf(node.TypeCast.arg);
  return undefined;
}

/** A literal setting value as the server would spell it: 'UTF8', on, 1, true. */
function settingValueOf(node: Node | undefined): string | undefined {
  if (!node) return undefined;
  if ("A_Const" in node) {
    const constant = node.A_Const;
    if (constant.sval) return (constant.sval.sval ?? "").trim().toLowerCase();
    if (constant.ival) return String(constant.ival.ival ?? 0);
    if (constant.boolval) return constant.boolval.boolval === true ? "true" : "false";
    return undefined;
  }
  if ("TypeCast" in node) return settingValueOf(node.TypeCast.arg);
  return stringOf(node)?.toLowerCase();
}

function nameOf(parts: Node[] | undefined): string {
  return (parts ?? []).map((part) => (stringOf(part) ?? "").toLowerCase()).join(".");
}

function relationName(relation: RangeVar): string {
  return [relation.catalogname, relation.schemaname, relation.relname]
    .filter((part): part is string => part !== undefined && part !== "")
    .join(".")
    .toLowerCase();
}

function isBooleanConst(constant: A_Const): constant is A_Const & { boolval: object } {
  return constant.boolval !== undefined;
}

const TRUE_WORDS = new Set(["t", "true", "y", "yes", "on", "1"]);
const FALSE_WORDS = new Set(["f", "false", "n", "no", "off", "0"]);

function booleanConstantOf(node: Node | undefined): boolean | undefined {
  if (!node) return undefined;
  if ("A_Const" in node)
    return isBooleanConst(node.A_Const) ? node.A_Const.boolval.boolval === true : undefined;
  if ("TypeCast" in node) {
    const typeName = nameOf(node.TypeCast.typeName?.names);
    if (!typeName.endsWith("bool") && !typeName.endsWith("boolean"))
      return booleanConstantOf(node.TypeCast.arg);
    const text = literalStringOf(node.TypeCast.arg)?.trim().toLowerCase();
    if (text === undefined) return booleanConstantOf(node.TypeCast.arg);
    if (TRUE_WORDS.has(text)) return true;
    if (FALSE_WORDS.has(text)) return false;
  }
  return undefined;
}

function withoutLocations(node: Node | undefined): string {
  return JSON.stringify(node, (key, value: unknown) => (key === "location" ? undefined : value));
}

/** A WHERE that holds for every row: `true`, `1 = 1`, `id = id`, `x OR true`, `NOT false`. */
function isAlwaysTrue(node: Node | undefined): boolean {
  if (!node) return false;
  const constant = booleanConstantOf(node);
  if (constant !== undefined) return constant;
  if ("BoolExpr" in node) {
    const args = node.BoolExpr.args ?? [];
    if (node.BoolExpr.boolop === "OR_EXPR") return args.some(isAlwaysTrue);
    if (node.BoolExpr.boolop === "AND_EXPR") return args.length > 0 && args.every(isAlwaysTrue);
    if (node.BoolExpr.boolop === "NOT_EXPR") return booleanConstantOf(args[0]) === false;
    return false;
  }
  if ("A_Expr" in node) {
    const expr = node.A_Expr;
    return (
      expr.kind === "AEXPR_OP" &&
      nameOf(expr.name) === "=" &&
      expr.lexpr !== undefined &&
      withoutLocations(expr.lexpr) === withoutLocations(expr.rexpr)
    );
  }
  return false;
}

function isOptionOn(option: Node | undefined): boolean {
  if (!option || !("DefElem" in option)) return false;
  const arg = option.DefElem.arg;
  if (!arg) return true;
  if ("Boolean" in arg) return arg.Boolean.boolval === true;
  if ("Integer" in arg) return (arg.Integer.ival ?? 0) !== 0;
  const text = stringOf(arg)?.toLowerCase();
  // Anything the server would not read as false counts as on: the stricter reading.
  return text === undefined || !FALSE_WORDS.has(text);
}

/**
 * Every option of that name. PostgreSQL lets a later EXPLAIN option override an earlier one
 * (`EXPLAIN (ANALYZE false, ANALYZE true)` runs), so callers look at all of them, never just the first.
 */
function optionsNamed(options: Node[] | undefined, name: string): Node[] {
  return (options ?? []).filter(
    (option) => "DefElem" in option && option.DefElem.defname?.toLowerCase() === name,
  );
}

// ---------------------------------------------------------------------------------------------------
// Walking one statement.

interface Scope {
  /** False under a plain EXPLAIN: the statement is planned, never run. */
  isExecuted: boolean;
  /** CTE names visible here: an unqualified reference to one is not a table. */
  ctes: ReadonlySet<string> | null;
}

interface InputContext {
  parser: PgQueryWasm;
  /** Statements prepared earlier in the same input, by name. */
  prepared: Map<string, StatementClass>;
  /** How deep in SQL text run by query_to_xml() and the like. */
  depth: number;
}

const MAX_SQL_TEXT_DEPTH = 3;

interface Finding {
  class: StatementClass;
  reason: string;
}

type Handler<Body> = (body: Body, scope: Scope, walk: StatementWalk) => Scope | null;
type Handlers = { [K in NodeTag]?: Handler<BodyOf<K>> };

class StatementWalk {
  severity = -1;
  readonly findings: Finding[] = [];
  readonly tables = new Set<string>();
  readonly functions = new Set<string>();
  private readonly values: unknown[] = [];
  private readonly scopes: Scope[] = [];

  constructor(readonly context: InputContext) {}

  get class(): StatementClass {
    return (
      this.findings.find((finding) => CLASS_SEVERITY[finding.class] === this.severity)?.class ?? "dangerous"
    );
  }

  /** Records what a statement form does; under a plain EXPLAIN nothing runs, so only reading counts. */
  raise(scope: Scope, statementClass: StatementClass, reason: string): void {
    if (!scope.isExecuted && statementClass !== "read") return;
    this.note(statementClass, reason);
  }

  /** Records a function call: counted wherever it stands, even under a plain EXPLAIN (fail closed). */
  note(statementClass: StatementClass, reason: string): void {
    const severity = CLASS_SEVERITY[statementClass];
    if (severity > this.severity) this.severity = severity;
    this.findings.push({ class: statementClass, reason });
  }

  addTable(relation: RangeVar, scope: Scope | null): void {
    const isCteReference =
      scope?.ctes && !relation.schemaname && !relation.catalogname && scope.ctes.has(relation.relname ?? "");
    if (!isCteReference && relation.relname) this.tables.add(relationName(relation));
  }

  push(value: unknown, scope: Scope): void {
    if (value !== null && typeof value === "object") {
      this.values.push(value);
      this.scopes.push(scope);
    }
  }

  /** Pushes a statement's fields, giving its WITH names to the fields and to the CTEs that may see them. */
  descend(body: object, scope: Scope, skip?: string): null {
    const withClause: WithClause | undefined = (body as { withClause?: WithClause }).withClause;
    const ctes = withClause?.ctes ?? [];
    const names = ctes.map((cte) => ("CommonTableExpr" in cte ? (cte.CommonTableExpr.ctename ?? "") : ""));
    const inner = names.length > 0 ? { isExecuted: scope.isExecuted, ctes: union(scope.ctes, names) } : scope;
    for (const [key, value] of Object.entries(body)) {
      if (key !== skip && key !== "withClause") this.push(value, inner);
    }
    ctes.forEach((cte, i) => {
      const visible = withClause?.recursive ? names : names.slice(0, i);
      this.push(
        cte,
        visible.length > 0 ? { isExecuted: scope.isExecuted, ctes: union(scope.ctes, visible) } : scope,
      );
    });
    return null;
  }

  run(root: unknown, scope: Scope): void {
    this.push(root, scope);
    for (let value = this.values.pop(); value !== undefined; value = this.values.pop()) {
      const current = this.scopes.pop() as Scope;
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) this.push(value[i], current);
        continue;
      }
      const object = value as Record<string, unknown>;
      // RangeVar is often embedded without its tag (InsertStmt.relation, IntoClause.rel ...): know it by shape.
      if (typeof object.relname === "string" && typeof object.relpersistence === "string") {
        this.addTable(object as RangeVar, current);
      }
      for (const key in object) {
        const child = object[key];
        if (child === null || typeof child !== "object") continue;
        const first = key.charCodeAt(0);
        if (first < 65 || first > 90) {
          this.push(child, current);
          continue;
        }
        const handler = HANDLERS[key as NodeTag] as Handler<unknown> | undefined;
        let childScope: Scope | null = current;
        if (handler) childScope = handler(child, current, this);
        else if (key.endsWith("Stmt")) {
          this.raise(current, "dangerous", `${key} is a statement the classifier does not know`);
        }
        if (childScope) this.push(child, childScope);
      }
    }
  }
}

function union(base: ReadonlySet<string> | null, names: string[]): ReadonlySet<string> {
  const merged = new Set(base ?? []);
  for (const name of names) merged.add(name);
  return merged;
}

function fixed(statementClass: StatementClass, reason: string): Handler<unknown> {
  return (_body, scope, walk) => {
    walk.raise(scope, statementClass, reason);
    return scope;
  };
}

function targetName(relation: RangeVar | undefined): string {
  return relation ? relationName(relation) : "the table";
}

function classifyModification(
  verb: "UPDATE" | "DELETE",
  body: UpdateStmt | DeleteStmt,
  scope: Scope,
  walk: StatementWalk,
): null {
  const target = targetName(body.relation);
  if (body.relation) walk.addTable(body.relation, null); // a DML target is always a real table, never a CTE
  if (!body.whereClause) {
    walk.raise(scope, "unbounded-write", `${verb} without WHERE affects every row of ${target}`);
  } else if (isAlwaysTrue(body.whereClause)) {
    walk.raise(
      scope,
      "unbounded-write",
      `${verb} with a WHERE that is always true affects every row of ${target}`,
    );
  } else {
    walk.raise(scope, "write", `${verb} changes rows of ${target}`);
  }
  return walk.descend(body, scope, "relation");
}

function classifySelect(body: SelectStmt, scope: Scope, walk: StatementWalk): null {
  walk.raise(scope, "read", body.valuesLists ? "VALUES only computes rows" : "SELECT only reads data");
  if (body.intoClause) walk.raise(scope, "ddl", "SELECT INTO creates a table");
  if (body.lockingClause && body.lockingClause.length > 0) {
    walk.raise(scope, "write", "SELECT ... FOR UPDATE/SHARE locks rows");
  }
  // Set-operation branches are embedded without their tag.
  if (body.larg) walk.push({ SelectStmt: body.larg }, scope);
  if (body.rarg) walk.push({ SelectStmt: body.rarg }, scope);
  const { larg: _larg, rarg: _rarg, ...rest } = body;
  return walk.descend(rest, scope);
}

function classifyVariableSet(body: VariableSetStmt): Verdict {
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

function classifyCopy(body: CopyStmt, scope: Scope, walk: StatementWalk): Scope {
  const target = body.relation ? relationName(body.relation) : "a query";
  if (body.filename !== undefined) {
    const where = body.is_program ? "runs a program on the server" : "uses a file on the server";
    walk.raise(scope, "dangerous", `COPY ${body.is_from ? "FROM" : "TO"} ${where}`);
  } else if (body.is_from) {
    walk.raise(scope, "write", `COPY FROM STDIN loads rows into ${target}`);
  } else {
    walk.raise(scope, "read", `COPY TO STDOUT sends rows of ${target} to the client`);
  }
  return scope;
}

function classifyExplain(body: ExplainStmt, scope: Scope, walk: StatementWalk): null {
  const isAnalyze = optionsNamed(body.options, "analyze").some(isOptionOn);
  walk.raise(
    scope,
    "read",
    isAnalyze ? "EXPLAIN ANALYZE runs a statement that only reads" : "EXPLAIN only plans",
  );
  walk.push(body.query, { isExecuted: scope.isExecuted && isAnalyze, ctes: scope.ctes });
  walk.push(body.options, scope);
  return null;
}

function classifyFunctionCall(body: FuncCall, scope: Scope, walk: StatementWalk): Scope {
  const qualified = nameOf(body.funcname);
  // Judged by the bare name: pg_catalog.pg_read_file and "PG_READ_FILE" are the same danger.
  const bare = qualified.slice(qualified.lastIndexOf(".") + 1);
  walk.functions.add(qualified);
  const reach = DANGEROUS_FUNCTIONS.get(bare) ?? (bare.startsWith("dblink") ? "network" : undefined);
  if (reach) {
    walk.note("dangerous", `calls ${qualified}(), which ${REACH_WORDS[reach]}`);
    return scope;
  }
  const writes = WRITE_FUNCTIONS.get(bare);
  if (writes) walk.note("write", `calls ${qualified}(), which ${writes}`);
  if (bare === "set_config") {
    const setting = literalStringOf(body.args?.[0]);
    if (setting === undefined) {
      walk.note("dangerous", "calls set_config() with a setting name computed at run time");
    } else {
      const verdict = classifySetting(setting, settingValueOf(body.args?.[1]));
      walk.note(verdict.class, `set_config(): ${verdict.reason}`);
    }
  }
  if (SQL_TEXT_FUNCTIONS.has(bare)) classifySqlText(qualified, literalStringOf(body.args?.[0]), walk);
  return scope;
}

/** query_to_xml('select ...') runs its text: classify that text as if it were written here. */
function classifySqlText(caller: string, sql: string | undefined, walk: StatementWalk): void {
  if (sql === undefined) {
    walk.note("dangerous", `calls ${caller}() with SQL computed at run time`);
    return;
  }
  const { context } = walk;
  if (context.depth >= MAX_SQL_TEXT_DEPTH) {
    walk.note("dangerous", `${caller}() nests SQL text too deeply to inspect`);
    return;
  }
  if (sql.trim() === "" || findTextProblem(sql)) {
    walk.note("unparseable", `the SQL given to ${caller}() cannot be read`);
    return;
  }
  const outcome = parseBytes(context.parser, encoder.encode(sql));
  if (!outcome.ok) {
    walk.note("unparseable", `the SQL given to ${caller}() does not parse: ${outcome.message}`);
    return;
  }
  const inner: InputContext = { parser: context.parser, prepared: new Map(), depth: context.depth + 1 };
  for (const raw of outcome.tree.stmts ?? []) {
    const nested = walkStatement(raw, inner);
    for (const finding of nested.findings)
      walk.note(finding.class, `${caller}() runs SQL that ${finding.reason}`);
    for (const table of nested.tables) walk.tables.add(table);
    for (const name of nested.functions) walk.functions.add(name);
  }
}

function classifyCreateFunction(body: CreateFunctionStmt, scope: Scope, walk: StatementWalk): Scope {
  const noun = body.is_procedure ? "procedure" : "function";
  const languages = optionArgs(body.options, "language").map((arg) => stringOf(arg)?.toLowerCase() ?? "");
  const language = languages.find((name) => !TRUSTED_LANGUAGES.has(name)) ?? languages[0] ?? "sql";
  if (!TRUSTED_LANGUAGES.has(language)) {
    walk.raise(
      scope,
      "dangerous",
      `CREATE ${noun.toUpperCase()} in untrusted language ${language} runs code on the server`,
    );
  } else {
    walk.raise(scope, "ddl", `CREATE ${noun.toUpperCase()} defines a ${noun}`);
  }
  if (isSecurityDefiner(body.options)) {
    walk.raise(scope, "privilege", `SECURITY DEFINER makes the ${noun} run with its owner's privileges`);
  }
  // A string body in SQL is classified like the calls it makes (SQL-standard bodies are in the tree already).
  const definition = optionArgs(body.options, "as")[0];
  const source = definition && "List" in definition ? stringOf(definition.List.items?.[0]) : undefined;
  if (language === "sql" && source !== undefined && walk.context.depth < MAX_SQL_TEXT_DEPTH) {
    const outcome = findTextProblem(source)
      ? undefined
      : parseBytes(walk.context.parser, encoder.encode(source));
    if (outcome?.ok) {
      const inner: InputContext = {
        parser: walk.context.parser,
        prepared: new Map(),
        depth: walk.context.depth + 1,
      };
      for (const raw of outcome.tree.stmts ?? []) {
        const nested = walkStatement(raw, inner);
        for (const finding of nested.findings) {
          if (CLASS_SEVERITY[finding.class] > CLASS_SEVERITY.ddl) {
            walk.raise(scope, finding.class, `its body ${finding.reason}`);
          }
        }
        for (const name of nested.functions) walk.functions.add(name);
      }
    }
  }
  return scope;
}

function optionArgs(options: Node[] | undefined, name: string): Node[] {
  return optionsNamed(options, name).flatMap((option) =>
    "DefElem" in option && option.DefElem.arg ? [option.DefElem.arg] : [],
  );
}

function isSecurityDefiner(options: Node[] | undefined): boolean {
  return optionArgs(options, "security").some((arg) => "Boolean" in arg && arg.Boolean.boolval === true);
}

const ROW_SECURITY_COMMANDS = new Set([
  "AT_EnableRowSecurity",
  "AT_DisableRowSecurity",
  "AT_ForceRowSecurity",
  "AT_NoForceRowSecurity",
]);

function classifyAlterTable(body: AlterTableStmt, scope: Scope, walk: StatementWalk): Scope {
  const target = targetName(body.relation);
  walk.raise(scope, "ddl", `ALTER changes the definition of ${target}`);
  for (const command of body.cmds ?? []) {
    if (!("AlterTableCmd" in command)) continue;
    const subtype = command.AlterTableCmd.subtype ?? "";
    if (subtype === "AT_ChangeOwner")
      walk.raise(scope, "privilege", `ALTER ... OWNER TO gives ${target} to another role`);
    if (ROW_SECURITY_COMMANDS.has(subtype)) {
      walk.raise(scope, "privilege", `ALTER ... ROW LEVEL SECURITY changes who sees which rows of ${target}`);
    }
  }
  return scope;
}

const RELATION_OBJECT_TYPES = new Set([
  "OBJECT_TABLE",
  "OBJECT_VIEW",
  "OBJECT_MATVIEW",
  "OBJECT_FOREIGN_TABLE",
  "OBJECT_SEQUENCE",
  "OBJECT_INDEX",
]);

function classifyDrop(body: DropStmt, scope: Scope, walk: StatementWalk): Scope {
  const objectType = (body.removeType ?? "OBJECT")
    .replace(/^OBJECT_/, "")
    .toLowerCase()
    .replace(/_/g, " ");
  if (body.removeType === "OBJECT_POLICY") {
    walk.raise(scope, "privilege", "DROP POLICY changes who sees which rows");
  } else {
    walk.raise(scope, "ddl", `DROP removes a ${objectType}`);
  }
  if (body.removeType && RELATION_OBJECT_TYPES.has(body.removeType)) {
    for (const object of body.objects ?? []) {
      if ("List" in object) walk.tables.add(nameOf(object.List.items));
    }
  }
  return scope;
}

function classifyCreateExtension(body: CreateExtensionStmt, scope: Scope, walk: StatementWalk): Scope {
  const verdict = classifyExtension(body.extname ?? "");
  walk.raise(scope, verdict.class, verdict.reason);
  return scope;
}

const DDL = "ddl";
const PRIVILEGE = "privilege";
const DANGEROUS = "dangerous";

const HANDLERS: Handlers = {
  // Reading, session and transaction control.
  SelectStmt: classifySelect,
  VariableShowStmt: fixed("read", "SHOW reads a setting"),
  VariableSetStmt: (body, scope, walk) => {
    const verdict = classifyVariableSet(body);
    walk.raise(scope, verdict.class, verdict.reason);
    return scope;
  },
  TransactionStmt: (body, scope, walk) => {
    const kind = body.kind ?? "";
    if (kind.endsWith("PREPARE") || kind.endsWith("_PREPARED")) {
      walk.raise(scope, "write", "two-phase commit keeps a transaction beyond the session");
    } else if (asksReadWrite(body.options)) {
      walk.raise(
        scope,
        "write",
        `${kind.endsWith("START") ? "START TRANSACTION" : "BEGIN"} READ WRITE ${ASKS_READ_WRITE}`,
      );
    } else walk.raise(scope, "read", "transaction control");
    return scope;
  },
  DeclareCursorStmt: fixed("read", "DECLARE opens a cursor over a query"),
  FetchStmt: fixed("read", "FETCH reads from a cursor"),
  ClosePortalStmt: fixed("read", "CLOSE closes a cursor"),
  PrepareStmt: fixed("read", "PREPARE stores a statement that only reads"),
  ExecuteStmt: (body, scope, walk) => {
    const name = body.name ?? "";
    const known = walk.context.prepared.get(name);
    if (known) walk.raise(scope, known, `EXECUTE runs ${name}, prepared above as ${known}`);
    else
      walk.raise(
        scope,
        "write",
        `EXECUTE runs ${name}, prepared elsewhere: an unknown statement counts as a write`,
      );
    return scope;
  },
  DeallocateStmt: fixed("read", "DEALLOCATE forgets a prepared statement"),
  ListenStmt: fixed("read", "LISTEN waits for notifications"),
  UnlistenStmt: fixed("read", "UNLISTEN stops waiting for notifications"),
  ConstraintsSetStmt: fixed("read", "SET CONSTRAINTS only changes when this transaction checks them"),
  ReturnStmt: fixed("read", "RETURN computes a value"),
  PLAssignStmt: fixed("read", "assignment computes a value"),
  ExplainStmt: classifyExplain,
  CopyStmt: classifyCopy,
  DiscardStmt: (body, scope, walk) => {
    if (body.target === "DISCARD_ALL") {
      walk.raise(
        scope,
        PRIVILEGE,
        "DISCARD ALL also resets the session's user (SET SESSION AUTHORIZATION DEFAULT)",
      );
    } else if (body.target === "DISCARD_TEMP") {
      walk.raise(scope, DDL, "DISCARD TEMP drops the session's temporary tables");
    } else walk.raise(scope, "read", "DISCARD only clears this session's caches");
    return scope;
  },

  // Changing data.
  InsertStmt: (body, scope, walk) => {
    if (body.relation) walk.addTable(body.relation, null);
    walk.raise(scope, "write", `INSERT adds rows to ${targetName(body.relation)}`);
    return walk.descend(body, scope, "relation");
  },
  UpdateStmt: (body, scope, walk) => classifyModification("UPDATE", body, scope, walk),
  DeleteStmt: (body, scope, walk) => classifyModification("DELETE", body, scope, walk),
  MergeStmt: (body, scope, walk) => {
    if (body.relation) walk.addTable(body.relation, null);
    walk.raise(scope, "write", `MERGE changes rows of ${targetName(body.relation)}`);
    return walk.descend(body, scope, "relation");
  },
  TruncateStmt: (body, scope, walk) => {
    const names = (body.relations ?? []).flatMap((node) =>
      "RangeVar" in node ? [relationName(node.RangeVar)] : [],
    );
    walk.raise(scope, "unbounded-write", `TRUNCATE removes every row of ${names.join(", ") || "the tables"}`);
    return scope;
  },
  LockStmt: fixed("write", "LOCK takes table locks that block other sessions"),
  NotifyStmt: fixed("write", "NOTIFY signals other sessions"),
  FuncCall: classifyFunctionCall,
  CallStmt: (body, scope, walk) => {
    walk.raise(scope, DDL, "CALL runs a procedure, which may do anything its body does");
    walk.push({ FuncCall: body.funccall }, scope);
    return null;
  },

  // Definitions and maintenance.
  CreateStmt: fixed(DDL, "CREATE TABLE defines a table"),
  CreateTableAsStmt: fixed(DDL, "CREATE ... AS creates a table from a query"),
  ViewStmt: fixed(DDL, "CREATE VIEW defines a view"),
  IndexStmt: fixed(DDL, "CREATE INDEX builds an index"),
  AlterTableStmt: classifyAlterTable,
  DropStmt: classifyDrop,
  CommentStmt: fixed(DDL, "COMMENT changes a description in the catalog"),
  RenameStmt: (body, scope, walk) => {
    if (body.renameType === "OBJECT_ROLE")
      walk.raise(scope, PRIVILEGE, "ALTER ROLE ... RENAME renames a role");
    else walk.raise(scope, DDL, "RENAME changes a name in the catalog");
    return scope;
  },
  CreateFunctionStmt: classifyCreateFunction,
  AlterFunctionStmt: (body, scope, walk) => {
    walk.raise(scope, DDL, "ALTER FUNCTION changes a function");
    if (isSecurityDefiner(body.actions)) {
      walk.raise(scope, PRIVILEGE, "SECURITY DEFINER makes the function run with its owner's privileges");
    }
    return scope;
  },
  CreateExtensionStmt: classifyCreateExtension,
  AlterExtensionStmt: fixed(DDL, "ALTER EXTENSION changes an extension"),
  AlterExtensionContentsStmt: fixed(DDL, "ALTER EXTENSION changes an extension"),
  AlterDatabaseSetStmt: (body, scope, walk) => {
    walk.raise(scope, DDL, "ALTER DATABASE ... SET changes a default for every session of the database");
    if (body.setstmt) {
      const verdict = classifyVariableSet(body.setstmt);
      if (verdict.class !== "read") walk.raise(scope, verdict.class, `ALTER DATABASE ... ${verdict.reason}`);
    }
    return null;
  },
  CreateSchemaStmt: fixed(DDL, "CREATE SCHEMA defines a schema"),
  CreateSeqStmt: fixed(DDL, "CREATE SEQUENCE defines a sequence"),
  AlterSeqStmt: fixed(DDL, "ALTER SEQUENCE changes a sequence"),
  CreateDomainStmt: fixed(DDL, "CREATE DOMAIN defines a type"),
  AlterDomainStmt: fixed(DDL, "ALTER DOMAIN changes a type"),
  CompositeTypeStmt: fixed(DDL, "CREATE TYPE defines a type"),
  CreateEnumStmt: fixed(DDL, "CREATE TYPE defines a type"),
  CreateRangeStmt: fixed(DDL, "CREATE TYPE defines a type"),
  AlterEnumStmt: fixed(DDL, "ALTER TYPE changes a type"),
  AlterTypeStmt: fixed(DDL, "ALTER TYPE changes a type"),
  DefineStmt: fixed(DDL, "CREATE defines an aggregate, operator, type or collation"),
  AlterCollationStmt: fixed(DDL, "ALTER COLLATION changes a collation"),
  CreateOpClassStmt: fixed(DDL, "CREATE OPERATOR CLASS defines an operator class"),
  CreateOpFamilyStmt: fixed(DDL, "CREATE OPERATOR FAMILY defines an operator family"),
  AlterOpFamilyStmt: fixed(DDL, "ALTER OPERATOR FAMILY changes an operator family"),
  AlterOperatorStmt: fixed(DDL, "ALTER OPERATOR changes an operator"),
  CreateCastStmt: fixed(DDL, "CREATE CAST defines a cast"),
  CreateConversionStmt: fixed(DDL, "CREATE CONVERSION defines a conversion"),
  CreateTransformStmt: fixed(DDL, "CREATE TRANSFORM defines a transform"),
  CreateAmStmt: fixed(DDL, "CREATE ACCESS METHOD defines an access method"),
  CreateStatsStmt: fixed(DDL, "CREATE STATISTICS defines statistics"),
  AlterStatsStmt: fixed(DDL, "ALTER STATISTICS changes statistics"),
  CreateTrigStmt: fixed(DDL, "CREATE TRIGGER attaches a trigger"),
  CreateEventTrigStmt: fixed(DDL, "CREATE EVENT TRIGGER attaches an event trigger"),
  AlterEventTrigStmt: fixed(DDL, "ALTER EVENT TRIGGER changes an event trigger"),
  RuleStmt: fixed(DDL, "CREATE RULE rewrites queries on a table"),
  AlterObjectDependsStmt: fixed(DDL, "ALTER ... DEPENDS ON EXTENSION changes a dependency"),
  AlterObjectSchemaStmt: fixed(DDL, "ALTER ... SET SCHEMA moves an object"),
  ReplicaIdentityStmt: fixed(DDL, "REPLICA IDENTITY changes a table"),
  AlterTableMoveAllStmt: fixed(DDL, "ALTER ... SET TABLESPACE moves tables"),
  AlterTableSpaceOptionsStmt: fixed(DDL, "ALTER TABLESPACE changes a tablespace"),
  DropTableSpaceStmt: fixed(DDL, "DROP TABLESPACE removes a tablespace"),
  CreateFdwStmt: fixed(DDL, "CREATE FOREIGN DATA WRAPPER defines a wrapper"),
  AlterFdwStmt: fixed(DDL, "ALTER FOREIGN DATA WRAPPER changes a wrapper"),
  CreateForeignServerStmt: fixed(DDL, "CREATE SERVER defines a foreign server"),
  AlterForeignServerStmt: fixed(DDL, "ALTER SERVER changes a foreign server"),
  CreateForeignTableStmt: fixed(DDL, "CREATE FOREIGN TABLE defines a foreign table"),
  CreateUserMappingStmt: fixed(DDL, "CREATE USER MAPPING stores credentials for a foreign server"),
  AlterUserMappingStmt: fixed(DDL, "ALTER USER MAPPING changes credentials for a foreign server"),
  DropUserMappingStmt: fixed(DDL, "DROP USER MAPPING removes credentials for a foreign server"),
  CreatePublicationStmt: fixed(DDL, "CREATE PUBLICATION publishes changes"),
  AlterPublicationStmt: fixed(DDL, "ALTER PUBLICATION changes a publication"),
  DropSubscriptionStmt: fixed(DDL, "DROP SUBSCRIPTION removes a subscription"),
  AlterTSDictionaryStmt: fixed(DDL, "ALTER TEXT SEARCH DICTIONARY changes a dictionary"),
  AlterTSConfigurationStmt: fixed(DDL, "ALTER TEXT SEARCH CONFIGURATION changes a configuration"),
  CreatedbStmt: fixed(DDL, "CREATE DATABASE creates a database"),
  AlterDatabaseStmt: fixed(DDL, "ALTER DATABASE changes a database"),
  AlterDatabaseRefreshCollStmt: fixed(DDL, "ALTER DATABASE changes a database"),
  DropdbStmt: fixed(DDL, "DROP DATABASE removes a database"),
  VacuumStmt: (body, scope, walk) => {
    walk.raise(
      scope,
      DDL,
      `${body.is_vacuumcmd ? "VACUUM" : "ANALYZE"} is maintenance that rewrites or locks tables`,
    );
    return scope;
  },
  ClusterStmt: fixed(DDL, "CLUSTER rewrites a table"),
  ReindexStmt: fixed(DDL, "REINDEX rebuilds indexes"),
  RefreshMatViewStmt: fixed(DDL, "REFRESH MATERIALIZED VIEW rebuilds a view"),
  CheckPointStmt: fixed(DDL, "CHECKPOINT forces a server-wide checkpoint"),

  // Privileges.
  GrantStmt: (body, scope, walk) => {
    walk.raise(scope, PRIVILEGE, `${body.is_grant ? "GRANT" : "REVOKE"} changes privileges`);
    return scope;
  },
  GrantRoleStmt: (body, scope, walk) => {
    walk.raise(scope, PRIVILEGE, `${body.is_grant ? "GRANT" : "REVOKE"} changes role membership`);
    return scope;
  },
  AlterDefaultPrivilegesStmt: fixed(
    PRIVILEGE,
    "ALTER DEFAULT PRIVILEGES changes privileges of future objects",
  ),
  CreateRoleStmt: fixed(PRIVILEGE, "CREATE ROLE creates a role"),
  AlterRoleStmt: fixed(PRIVILEGE, "ALTER ROLE changes a role"),
  AlterRoleSetStmt: (_body, scope, walk) => {
    walk.raise(scope, PRIVILEGE, "ALTER ROLE ... SET changes a role's session defaults");
    return null;
  },
  DropRoleStmt: fixed(PRIVILEGE, "DROP ROLE removes a role"),
  DropOwnedStmt: fixed(PRIVILEGE, "DROP OWNED removes a role's objects and privileges"),
  ReassignOwnedStmt: fixed(PRIVILEGE, "REASSIGN OWNED gives a role's objects to another role"),
  AlterOwnerStmt: fixed(PRIVILEGE, "ALTER ... OWNER TO gives an object to another role"),
  SecLabelStmt: fixed(PRIVILEGE, "SECURITY LABEL changes a mandatory access control label"),
  CreatePolicyStmt: fixed(PRIVILEGE, "CREATE POLICY changes who sees which rows"),
  AlterPolicyStmt: fixed(PRIVILEGE, "ALTER POLICY changes who sees which rows"),

  // Reaching outside the database.
  DoStmt: fixed(DANGEROUS, "DO runs an anonymous code block the gateway cannot inspect"),
  LoadStmt: fixed(DANGEROUS, "LOAD loads a shared library into the server"),
  AlterSystemStmt: (_body, scope, walk) => {
    walk.raise(scope, DANGEROUS, "ALTER SYSTEM rewrites the server's configuration");
    return null;
  },
  CreatePLangStmt: fixed(DANGEROUS, "CREATE LANGUAGE installs a procedural language"),
  CreateTableSpaceStmt: fixed(
    DANGEROUS,
    "CREATE TABLESPACE points the server at a directory on its file system",
  ),
  CreateSubscriptionStmt: fixed(DANGEROUS, "CREATE SUBSCRIPTION connects to another server"),
  AlterSubscriptionStmt: fixed(DANGEROUS, "ALTER SUBSCRIPTION can point a subscription at another server"),
  ImportForeignSchemaStmt: fixed(DANGEROUS, "IMPORT FOREIGN SCHEMA connects to another server"),
};

function walkStatement(raw: RawStmt, context: InputContext): StatementWalk {
  const walk = new StatementWalk(context);
  walk.run(raw.stmt, { isExecuted: true, ctes: null });
  if (walk.findings.length === 0) walk.note("dangerous", "nothing in the statement was recognised");
  return walk;
}

function statementKind(raw: RawStmt): string {
  return raw.stmt ? (Object.keys(raw.stmt)[0] ?? "Unknown") : "Unknown";
}

// ---------------------------------------------------------------------------------------------------
// The whole input.

function unparseable(input: string, message: string, position?: number): Classification {
  return {
    class: "unparseable",
    statements: [
      {
        index: 0,
        text: input.trim(),
        class: "unparseable",
        kind: "ParseError",
        tables: [],
        functions: [],
        reasons: [message],
      },
    ],
    error: position === undefined ? { message } : { message, position },
  };
}

function strictest(statements: ClassifiedStatement[]): StatementClass {
  let result: StatementClass = "read";
  for (const statement of statements) {
    if (CLASS_SEVERITY[statement.class] > CLASS_SEVERITY[result]) result = statement.class;
  }
  return result;
}

/**
 * `classification` with its statement at `index` classed a write for `reason` (something the parse tree could not
 * show, such as the target refusing it in a read-only transaction), the input's class recomputed.
 */
export function classifiedAsWrite(
  classification: Classification,
  index: number,
  reason: string,
): Classification {
  const statements = classification.statements.map((s, i) =>
    i === index ? { ...s, class: "write" as const, reasons: [reason] } : s,
  );
  return { ...classification, class: strictest(statements), statements };
}

function classifyTree(
  input: string,
  bytes: Uint8Array,
  tree: ParseResult,
  instance: PgQueryWasm,
): Classification {
  const raws = tree.stmts ?? [];
  if (raws.length === 0) return unparseable(input, "no statement");
  const toIndex = byteOffsetMapper(input, bytes.length);
  const context: InputContext = { parser: instance, prepared: new Map(), depth: 0 };
  const statements = raws.map((raw, index): ClassifiedStatement => {
    const startByte = raw.stmt_location ?? 0;
    const endByte = raw.stmt_len ? startByte + raw.stmt_len : bytes.length;
    const walk = walkStatement(raw, context);
    const statementClass = walk.class;
    const kind = statementKind(raw);
    const stmt = raw.stmt;
    if (stmt && "PrepareStmt" in stmt) context.prepared.set(stmt.PrepareStmt.name ?? "", statementClass);
    if (stmt && "DeallocateStmt" in stmt) {
      if (stmt.DeallocateStmt.isall) context.prepared.clear();
      else context.prepared.delete(stmt.DeallocateStmt.name ?? "");
    }
    const reasons = [
      ...new Set(walk.findings.filter((finding) => finding.class === statementClass).map((f) => f.reason)),
    ];
    const maxRows = rowBound(stmt);
    return {
      index,
      text: input.slice(toIndex(startByte), toIndex(endByte)).trim(),
      class: statementClass,
      kind,
      tables: [...walk.tables],
      functions: [...walk.functions],
      reasons,
      ...(maxRows !== undefined && { maxRows }),
    };
  });
  return { class: strictest(statements), statements };
}

/**
 * Classifies SQL input, one or many statements. Never throws: anything that cannot be read (parse error,
 * empty input, text the server would read differently, a parser failure) is "unparseable" with a message.
 */
export async function classifySql(input: string): Promise<Classification> {
  if (typeof input !== "string") return unparseable("", "the input is not text");
  const problem = findTextProblem(input);
  if (problem) return unparseable(input, problem.message, problem.position);
  if (input.trim() === "") return unparseable(input, "no statement");
  let instance: PgQueryWasm;
  try {
    instance = await loadParser();
  } catch (error) {
    return unparseable(input, `the SQL parser is unavailable: ${String(error)}`);
  }
  try {
    const bytes = encoder.encode(input);
    const outcome = parseBytes(instance, bytes);
    if (!outcome.ok) {
      const position = outcome.cursor === undefined ? undefined : codePointToIndex(input, outcome.cursor);
      return unparseable(input, outcome.message, position);
    }
    return classifyTree(input, bytes, outcome.tree, instance);
  } catch (error) {
    // A trapped parser is replaced on the next call. Anything else is a classifier bug: it must still
    // refuse rather than throw past the policy stage.
    if (error instanceof ParserCrash) return unparseable(input, error.message);
    return unparseable(input, `the classifier failed: ${String(error)}`);
  }
}

/**
 * Whether a call to this function can by itself raise a statement's class (file, network, session, write or
 * setting functions). Rules that allow by function must name every such call a statement makes.
 */
export function isSignificantFunction(name: string): boolean {
  const bare = name.toLowerCase().slice(name.lastIndexOf(".") + 1);
  return (
    DANGEROUS_FUNCTIONS.has(bare) ||
    bare.startsWith("dblink") ||
    WRITE_FUNCTIONS.has(bare) ||
    SQL_TEXT_FUNCTIONS.has(bare) ||
    bare === "set_config"
  );
}
