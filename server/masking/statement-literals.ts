// Statement text that leaves the console (webhook and Slack payloads) carries its shape, not its values: every
// literal (strings in any quoting, numbers, bit and hex strings) and every comment is replaced, found by
// PostgreSQL's own scanner (libpg-query), so a value the detectors cannot recognise (`WHERE salary = 187345`)
// does not leave either. What is left passes the detectors too (an identifier can hold a value). When the text
// cannot be scanned, none of it is sent. Not responsible for deciding who sees the full statement (the inbox).
import "server-only";

import { scan } from "libpg-query";
import { maskText } from "./mask-text";
import type { MaskingConfig } from "./types";

export const REDACTED_LITERAL = "'[redacted]'";
export const REDACTED_NUMBER = "[redacted]";
export const REDACTED_COMMENT = "/* [redacted] */";
export const WITHHELD_STATEMENT = "[statement withheld: the gateway could not scan it]";

const NUMBERS = new Set(["ICONST", "FCONST"]);
const STRINGS = new Set(["SCONST", "USCONST", "BCONST", "XCONST"]);
const COMMENTS = new Set(["SQL_COMMENT", "C_COMMENT"]);
/** Quoted constants by their opening, whatever name the scanner's table gives them. */
const QUOTED = /^(?:[eEbBxXnN]?'|[uU]&'|\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$)/;

/** The statement with its literals and comments replaced, then passed through the detectors. */
export async function maskStatementLiterals(sql: string, cfg: MaskingConfig): Promise<string> {
  let tokens: Awaited<ReturnType<typeof scan>>["tokens"];
  try {
    tokens = (await scan(sql)).tokens;
  } catch {
    return WITHHELD_STATEMENT;
  }
  const bytes = Buffer.from(sql, "utf8");
  const out: string[] = [];
  let at = 0;
  for (const token of tokens) {
    const replacement = COMMENTS.has(token.tokenName)
      ? REDACTED_COMMENT
      : NUMBERS.has(token.tokenName)
        ? REDACTED_NUMBER
        : STRINGS.has(token.tokenName) || QUOTED.test(token.text)
          ? REDACTED_LITERAL
          : undefined;
    if (replacement === undefined) continue;
    out.push(bytes.subarray(at, token.start).toString("utf8"), replacement);
    at = token.end;
  }
  out.push(bytes.subarray(at).toString("utf8"));
  return maskText(out.join(""), cfg).text;
}
