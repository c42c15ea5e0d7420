/**
 * A small SQL tokenizer for display: splits text into keyword, string, comment, number, identifier and plain
 * runs so a held statement reads like it does in the editor. It never drops or changes a character (the runs
 * concatenate to the input), and it is not a parser: what runs is decided by the PostgreSQL parser on the server.
 */

export type SqlTokenKind = "keyword" | "string" | "comment" | "number" | "identifier" | "plain";
export interface SqlToken {
  kind: SqlTokenKind;
  text: string;
}

const KEYWORDS = new Set(
  `select from where and or not insert into values update set delete returning with as join left right full
  inner outer cross on using group by order having limit offset union all distinct intersect except case when
  then else end create alter drop table view index schema function procedure trigger grant revoke to is null
  true false in exists between like ilike begin commit rollback truncate copy explain analyze vacuum primary key
  references default constraint unique check cascade restrict if replace language returns do declare execute
  call lateral window over partition asc desc nulls first last fetch next rows only for share lock nowait skip
  locked role user password superuser login database extension sequence type materialized refresh security
  policy owner rename column add conflict nothing interval cast array any some`.split(/\s+/),
);

/** Splits `text` into display tokens; `tokens.map(t => t.text).join("") === text` always holds. */
export function highlightSql(text: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  const push = (kind: SqlTokenKind, value: string) => {
    const last = tokens[tokens.length - 1];
    if (last && last.kind === kind && kind === "plain") last.text += value;
    else if (value) tokens.push({ kind, text: value });
  };
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const ch = text[i] ?? "";
    let match: string | undefined;
    if (rest.startsWith("--")) {
      const end = text.indexOf("\n", i);
      match = end === -1 ? rest : text.slice(i, end);
      push("comment", match);
    } else if (rest.startsWith("/*")) {
      match = text.slice(i, blockCommentEnd(text, i));
      push("comment", match);
    } else if (ch === "'" || (/[eE]/.test(ch) && text[i + 1] === "'")) {
      match = text.slice(i, quotedEnd(text, ch === "'" ? i : i + 1, "'", /[eE]/.test(ch)));
      push("string", match);
    } else if (ch === "$" && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(rest)) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest)?.[0] ?? "$$";
      const close = text.indexOf(tag, i + tag.length);
      match = close === -1 ? rest : text.slice(i, close + tag.length);
      push("string", match);
    } else if (ch === "$" && /^\$\d/.test(rest)) {
      match = /^\$\d+/.exec(rest)?.[0] ?? ch;
      push("plain", match);
    } else if (ch === '"') {
      match = text.slice(i, quotedEnd(text, i, '"', false));
      push("identifier", match);
    } else if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(text[i + 1] ?? ""))) {
      match = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(rest)?.[0] ?? ch;
      push("number", match);
    } else if (/[A-Za-z_]/.test(ch)) {
      match = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(rest)?.[0] ?? ch;
      push(KEYWORDS.has(match.toLowerCase()) ? "keyword" : "plain", match);
    } else {
      match = ch;
      push("plain", match);
    }
    i += match.length;
  }
  return tokens;
}

/** End (exclusive) of a PostgreSQL block comment starting at `start`; they nest. */
function blockCommentEnd(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    if (text.startsWith("/*", i)) {
      depth++;
      i += 2;
    } else if (text.startsWith("*/", i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return text.length;
}

/** End (exclusive) of a quoted run opening at `open`; a doubled quote stays inside, so does `\'` in E'' strings. */
function quotedEnd(text: string, open: number, quote: string, backslashEscapes: boolean): number {
  let i = open + 1;
  while (i < text.length) {
    const ch = text[i];
    if (backslashEscapes && ch === "\\") i += 2;
    else if (ch === quote && text[i + 1] === quote) i += 2;
    else if (ch === quote) return i + 1;
    else i++;
  }
  return text.length;
}
