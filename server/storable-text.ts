/**
 * Text PostgreSQL cannot hold: a NUL character (text and jsonb refuse it) or half of a UTF-16 surrogate pair
 * (JSON allows `"\ud800"`, UTF-8 has no encoding for it). Found in a request, it is a 400 naming the field,
 * never a 500 from the store. `escapeUnstorable` turns such characters into visible `\u0000` escapes, for
 * recording what was attempted. Not responsible for deciding what a statement may do (server/pipeline.ts).
 */
import "server-only";

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this looks for
const UNSTORABLE = /\u0000|\p{Cs}/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above
const UNSTORABLE_ALL = /\u0000|\p{Cs}/gu;

/** What is wrong with this text, or undefined when PostgreSQL can store it. */
export function unstorableTextProblem(text: string): string | undefined {
  const found = UNSTORABLE.exec(text);
  if (!found) return undefined;
  return found[0] === "\u0000"
    ? "contains a NUL character (\\u0000), which PostgreSQL text cannot hold"
    : "contains a lone UTF-16 surrogate (half of a character), which is not valid Unicode";
}

/** The text with NUL and lone surrogates written as `\uXXXX`, so it can be stored and read. */
export function escapeUnstorable(text: string): string {
  return text.replace(UNSTORABLE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * The first string (or key) in a parsed JSON value that PostgreSQL cannot hold, with its path and problem.
 * `skip` lists top-level fields the handler checks itself (the SQL input, whose refusal is recorded).
 */
export function findUnstorableText(
  value: unknown,
  skip: readonly string[] = [],
): { path: string; problem: string } | undefined {
  const stack: { node: unknown; path: string }[] = [{ node: value, path: "" }];
  while (stack.length > 0) {
    const { node, path } = stack.pop() as { node: unknown; path: string };
    if (typeof node === "string") {
      const problem = unstorableTextProblem(node);
      if (problem) return { path, problem };
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => {
        stack.push({ node: item, path: `${path}[${i}]` });
      });
    } else if (node && typeof node === "object") {
      for (const [key, item] of Object.entries(node)) {
        const keyProblem = unstorableTextProblem(key);
        if (keyProblem) return { path: path || "(body)", problem: `has a field name that ${keyProblem}` };
        if (path === "" && skip.includes(key)) continue;
        stack.push({ node: item, path: path ? `${path}.${key}` : key });
      }
    }
  }
  return undefined;
}
