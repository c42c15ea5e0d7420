// Completion of table and column names for Monaco's "sql" language, from the catalog the page fetched for
// the chosen connection. One provider per page, reading whatever catalog is current; `alias.` and `table.`
// complete that table's columns, `schema.` its tables. Not a SQL parser: aliases are found with a pattern
// good enough for suggestions, never for decisions (the gateway parses SQL for real).
import type { MonacoApi } from "./monaco-loader";
import type { CatalogTable } from "./types";

type Monaco = MonacoApi;
type CompletionItem = import("monaco-editor").languages.CompletionItem;
type TextModel = import("monaco-editor").editor.ITextModel;
type Position = import("monaco-editor").Position;
type IRange = import("monaco-editor").IRange;

let catalog: CatalogTable[] = [];
let registered = false;

/** Makes `tables` the catalog suggestions come from (empty while none is loaded). */
export function setCompletionCatalog(tables: CatalogTable[]) {
  catalog = tables;
}

const KEYWORDS = [
  "select",
  "from",
  "where",
  "join",
  "left join",
  "inner join",
  "on",
  "group by",
  "order by",
  "having",
  "limit",
  "offset",
  "distinct",
  "as",
  "and",
  "or",
  "not",
  "null",
  "is null",
  "is not null",
  "in",
  "like",
  "ilike",
  "between",
  "case",
  "when",
  "then",
  "else",
  "end",
  "count",
  "with",
  "union all",
  "insert into",
  "values",
  "update",
  "set",
  "delete from",
  "returning",
  "explain",
];

/** Words that may follow a table name but are not an alias. */
const NOT_ALIAS = new Set([
  "where",
  "join",
  "left",
  "right",
  "inner",
  "outer",
  "full",
  "cross",
  "on",
  "using",
  "group",
  "order",
  "limit",
  "offset",
  "set",
  "values",
  "returning",
  "union",
  "having",
  "window",
  "natural",
  "lateral",
  "for",
  "as",
]);

function unquote(identifier: string): string {
  return identifier.startsWith('"') && identifier.endsWith('"') && identifier.length >= 2
    ? identifier.slice(1, -1).replace(/""/g, '"')
    : identifier.toLowerCase();
}

function quoteIfNeeded(identifier: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(identifier) ? identifier : `"${identifier.replace(/"/g, '""')}"`;
}

function findTable(name: string, schema?: string): CatalogTable | undefined {
  const matches = catalog.filter((t) => t.name === name && (schema === undefined || t.schema === schema));
  return matches.find((t) => t.schema === "public") ?? matches[0];
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;
const TABLE_REF = new RegExp(
  String.raw`\b(?:from|join|update|into)\s+(${IDENT}(?:\s*\.\s*${IDENT})?)(?:\s+(?:as\s+)?(${IDENT}))?`,
  "gi",
);

/** Tables the text names after FROM/JOIN/UPDATE/INTO, keyed by alias and by their own name. */
function referencedTables(text: string): Map<string, CatalogTable> {
  const refs = new Map<string, CatalogTable>();
  for (const match of text.matchAll(TABLE_REF)) {
    const parts = (match[1] ?? "").split(/\s*\.\s*/).map(unquote);
    const table = parts.length === 2 ? findTable(parts[1] ?? "", parts[0]) : findTable(parts[0] ?? "");
    if (!table) continue;
    refs.set(table.name, table);
    const alias = match[2] ? unquote(match[2]) : undefined;
    if (alias && !NOT_ALIAS.has(alias)) refs.set(alias, table);
  }
  return refs;
}

function tableItem(monaco: Monaco, table: CatalogTable, range: IRange, qualify: boolean): CompletionItem {
  const label = table.schema === "public" || !qualify ? table.name : `${table.schema}.${table.name}`;
  const insertText =
    table.schema === "public" || !qualify
      ? quoteIfNeeded(table.name)
      : `${quoteIfNeeded(table.schema)}.${quoteIfNeeded(table.name)}`;
  return {
    label,
    kind: monaco.languages.CompletionItemKind.Struct,
    detail: `table in ${table.schema} · ${table.columns.length} columns`,
    insertText,
    range,
    sortText: `1${label}`,
  };
}

function columnItems(monaco: Monaco, table: CatalogTable, range: IRange, rank: string): CompletionItem[] {
  return table.columns.map((column) => ({
    label: column.name,
    kind: monaco.languages.CompletionItemKind.Field,
    detail: `${column.type} · ${table.name}`,
    insertText: quoteIfNeeded(column.name),
    range,
    sortText: `${rank}${column.name}`,
  }));
}

function suggest(monaco: Monaco, model: TextModel, position: Position): CompletionItem[] {
  const word = model.getWordUntilPosition(position);
  const range: IRange = {
    startLineNumber: position.lineNumber,
    endLineNumber: position.lineNumber,
    startColumn: word.startColumn,
    endColumn: word.endColumn,
  };
  const before = model.getValueInRange({
    startLineNumber: position.lineNumber,
    startColumn: 1,
    endLineNumber: position.lineNumber,
    endColumn: word.startColumn,
  });
  const refs = referencedTables(model.getValue());
  const dotted = new RegExp(`(${IDENT})\\s*\\.$`).exec(before);
  if (dotted) {
    const qualifier = unquote(dotted[1] ?? "");
    const table = refs.get(qualifier) ?? findTable(qualifier);
    if (table) return columnItems(monaco, table, range, "0");
    return catalog.filter((t) => t.schema === qualifier).map((t) => tableItem(monaco, t, range, false));
  }
  const items: CompletionItem[] = [];
  const seen = new Set<CatalogTable>();
  for (const table of refs.values()) {
    if (seen.has(table)) continue;
    seen.add(table);
    items.push(...columnItems(monaco, table, range, "0"));
  }
  for (const table of catalog) items.push(tableItem(monaco, table, range, true));
  const upper = /^[A-Z]/.test(word.word);
  for (const keyword of KEYWORDS) {
    items.push({
      label: upper ? keyword.toUpperCase() : keyword,
      kind: monaco.languages.CompletionItemKind.Keyword,
      insertText: upper ? keyword.toUpperCase() : keyword,
      range,
      sortText: `2${keyword}`,
    });
  }
  return items;
}

/** Registers the page's one SQL completion provider (later calls do nothing). */
export function registerSqlCompletion(monaco: Monaco) {
  if (registered) return;
  registered = true;
  monaco.languages.registerCompletionItemProvider("sql", {
    triggerCharacters: ["."],
    provideCompletionItems: (model, position) => ({ suggestions: suggest(monaco, model, position) }),
  });
}
