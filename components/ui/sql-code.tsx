import { highlightSql } from "./highlight-sql";

const TOKEN_COLORS: Record<string, string> = {
  keyword: "#93c5fd",
  string: "#fca5a5",
  comment: "#94a3b8",
  number: "#fcd34d",
  identifier: "#c4b5fd",
};

/** A block of SQL with syntax colours, for reading a statement (held reviews, timelines). */
export function SqlCode({ sql }: { sql: string }) {
  return (
    <pre className="mono code-block" data-language="sql">
      {highlightSql(sql).map((token, i) =>
        token.kind === "plain" ? (
          token.text
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: tokens are a fixed sequence for one input
          <span key={i} className={`sql-${token.kind}`} style={{ color: TOKEN_COLORS[token.kind] }}>
            {token.text}
          </span>
        ),
      )}
    </pre>
  );
}
