import "server-only";
import type {
  AlterTableStmt,
  CopyStmt,
  CreateExtensionStmt,
  CreateFunctionStmt,
  DeleteStmt,
  DropStmt,
  ExplainStmt,
  FuncCall,
  Node,
  RawStmt,
  SelectStmt,
  UpdateStmt,
} from "libpg-query";
import { classifyExtension, TRUSTED_LANGUAGES } from "./extensions";
import { builtinCapability, SQL_TEXT_FUNCTIONS, TABLE_READING_FUNCTIONS, type TableReach } from "./functions";
import { encoder, findTextProblem, parseBytes, trimSqlWhitespace } from "./parser";
import { settingNamedByPgSettings } from "./pg-settings-call";
import { ASKS_READ_WRITE, asksReadWrite, classifySetting, classifyVariableSet } from "./settings";
import {
  isAlwaysTrue,
  isOptionOn,
  isSecurityDefiner,
  literalStringOf,
  nameOf,
  optionArgs,
  optionsNamed,
  parseQualifiedName,
  relationName,
  settingValueOf,
  stringOf,
} from "./tree";
import { CLASS_SEVERITY } from "./types";
import {
  fixed,
  type Handlers,
  type InputContext,
  MAX_SQL_TEXT_DEPTH,
  type Scope,
  StatementWalk,
  targetName,
} from "./walk";

// What each statement form and expression does, by parse node: the classes, reasons, tables and calls the walk
// collects. Functions are judged by functions.ts and, for what their names cannot settle, by the target's
// catalog afterwards (resolve-capabilities.ts); settings by settings.ts.

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
  const named = settingNamedByPgSettings(body);
  if (named) {
    walk.settingNames.set(named.call, named.setting);
    if (named.isUnqualified) walk.catalogOnly.relations.add("pg_settings");
    walk.catalogOnly.operators.add("=");
  }
  // Set-operation branches are embedded without their tag.
  if (body.larg) walk.push({ SelectStmt: body.larg }, scope);
  if (body.rarg) walk.push({ SelectStmt: body.rarg }, scope);
  const { larg: _larg, rarg: _rarg, ...rest } = body;
  return walk.descend(rest, scope);
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
  const dot = qualified.lastIndexOf(".");
  // Judged by the bare name: pg_catalog.pg_read_file and "PG_READ_FILE" are the same danger.
  const bare = qualified.slice(dot + 1);
  const schema = dot < 0 ? undefined : qualified.slice(0, dot);
  walk.functions.add(qualified);
  const known = builtinCapability(bare);
  if (known) {
    walk.note(known.class, `calls ${qualified}(), which ${known.reason}`);
    return scope;
  }
  const args = body.args ?? [];
  let isJudgedByName = true;
  const sqlArgument = SQL_TEXT_FUNCTIONS.get(bare)?.(args.length);
  const reach = TABLE_READING_FUNCTIONS.get(bare);
  if (bare === "set_config") {
    const named = walk.settingNames.get(body);
    const setting = literalStringOf(args[0]) ?? named;
    if (setting === undefined) {
      walk.note("dangerous", "calls set_config() with a setting name computed at run time");
    } else {
      const verdict = classifySetting(setting, settingValueOf(args[1]));
      const how =
        named === undefined ? "" : " (the setting is the row of pg_catalog.pg_settings its WHERE names)";
      walk.note(verdict.class, `set_config(): ${verdict.reason}${how}`);
    }
  } else if (sqlArgument !== undefined) {
    classifySqlText(qualified, literalStringOf(args[sqlArgument]), walk);
  } else if (SQL_TEXT_FUNCTIONS.has(bare)) {
    // ts_rewrite(tsquery, tsquery, tsquery): the overload that takes no SQL, immutable.
    walk.note("read", `${qualified}() with ${args.length} arguments runs no SQL`);
  } else if (reach) {
    classifyTableReading(qualified, reach, args[0], walk);
  } else isJudgedByName = false;
  walk.calls.push({ qualified, bare, ...(schema !== undefined && { schema }), isJudgedByName });
  return scope;
}

/** table_to_xml('payroll', ...) reads payroll; schema_to_xml('hr', ...) every table of hr. */
function classifyTableReading(
  caller: string,
  reach: TableReach,
  argument: Node | undefined,
  walk: StatementWalk,
): void {
  walk.note("read", `${caller}() reads ${reach === "database" ? "every table" : `a ${reach}`} as XML`);
  if (reach === "database") {
    walk.tableReaches.add(null);
    return;
  }
  const text = literalStringOf(argument);
  // A schema is given as a name, taken exactly as written; a table as a regclass, read like an identifier.
  const name = text === undefined ? undefined : reach === "schema" ? text : parseQualifiedName(text);
  if (name === undefined) {
    // A name computed at run time may be any table.
    walk.tableReaches.add(null);
    walk.note("read", `${caller}() reads a ${reach} chosen at run time, so it counts as reading every table`);
  } else if (reach === "schema") walk.tableReaches.add(name);
  else walk.tables.add(name);
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
  if (trimSqlWhitespace(sql) === "" || findTextProblem(sql)) {
    walk.note("unparseable", `the SQL given to ${caller}() cannot be read`);
    return;
  }
  const outcome = parseBytes(context.parser, encoder.encode(sql));
  if (!outcome.ok) {
    walk.note("unparseable", `the SQL given to ${caller}() does not parse: ${outcome.message}`);
    return;
  }
  const inner: InputContext = { parser: context.parser, prepared: new Map(), depth: context.depth + 1 };
  const via = `${caller}() runs SQL that`;
  for (const raw of outcome.tree.stmts ?? []) {
    const nested = walkStatement(raw, inner);
    for (const finding of nested.findings) walk.note(finding.class, `${via} ${finding.reason}`);
    for (const table of nested.tables) walk.tables.add(table);
    for (const name of nested.functions) walk.functions.add(name);
    for (const call of nested.calls) walk.calls.push({ ...call, via: call.via ? `${via} ${call.via}` : via });
    for (const operator of nested.operators) walk.operators.add(operator);
    for (const reach of nested.tableReaches) walk.tableReaches.add(reach);
  }
}

/**
 * `a OPERATOR(public.===) b`, and `=` under IN, LIKE's `~~`, IS DISTINCT FROM, ORDER BY ... USING: a user-defined
 * operator (also one a search_path puts before pg_catalog's) runs its function; the catalog says which.
 */
function noteOperator(names: Node[] | undefined, scope: Scope, walk: StatementWalk): Scope {
  const name = nameOf(names);
  if (name !== "" && !name.startsWith("pg_catalog.")) walk.operators.add(name);
  return scope;
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

/** PostgreSQL's lockmode numbers (storage/lockdefs.h): AccessShareLock is 1. */
const ACCESS_SHARE_LOCK = 1;
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
    const prepared = walk.context.prepared.get(name);
    if (prepared) {
      // Its class is final once the catalog has answered: classify-statement.ts raises this one to it then.
      walk.raise(scope, "read", `EXECUTE runs ${name}, prepared above`);
      if (scope.isExecuted) walk.executes.push({ name, prepared });
    } else if (scope.isExecuted) {
      // A write unless a native client's session shows it prepared it through the gateway (the pipeline asks:
      // server/prepared-statements.ts); classify-statement.ts raises it once what the EXECUTE itself does is known.
      walk.raise(scope, "read", `EXECUTE runs ${name}`);
      walk.executedElsewhere.push(name);
    } else walk.raise(scope, "read", `EXPLAIN only plans EXECUTE ${name}`);
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
  LockStmt: (body, scope, walk) => {
    // ACCESS SHARE is the lock every SELECT takes on what it reads (pg_dump takes it on every table it dumps): it
    // waits only for, and holds off only, ACCESS EXCLUSIVE (DROP, TRUNCATE, most ALTER TABLE), as a long read does.
    // Every stronger mode holds off writers or readers: a write.
    if (body.mode === ACCESS_SHARE_LOCK)
      walk.raise(scope, "read", "LOCK ... IN ACCESS SHARE MODE takes the lock a SELECT takes");
    else walk.raise(scope, "write", "LOCK takes table locks that block other sessions");
    return scope;
  },
  NotifyStmt: fixed("write", "NOTIFY signals other sessions"),
  FuncCall: classifyFunctionCall,
  A_Expr: (body, scope, walk) => noteOperator(body.name, scope, walk),
  SortBy: (body, scope, walk) => noteOperator(body.useOp, scope, walk),
  ColumnRef: (body, scope, walk) => {
    const fields = body.fields ?? [];
    const last = fields[fields.length - 1];
    if (last && "A_Star" in last) walk.hasStar = true;
    else {
      const name = stringOf(last);
      if (name !== undefined) walk.columns.add(name.toLowerCase());
    }
    return scope;
  },
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

export function walkStatement(raw: RawStmt, context: InputContext): StatementWalk {
  const walk = new StatementWalk(context, HANDLERS);
  walk.run(raw.stmt, { isExecuted: true, ctes: null });
  if (walk.findings.length === 0) walk.note("dangerous", "nothing in the statement was recognised");
  return walk;
}

export function statementKind(raw: RawStmt): string {
  return raw.stmt ? (Object.keys(raw.stmt)[0] ?? "Unknown") : "Unknown";
}
