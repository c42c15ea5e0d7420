/**
 * The one pattern matcher of policy rules, SQL rules and command rules alike: in a pattern `*` stands for any
 * run of characters (none included) and every other character for itself (`.`, `?`, `[`, `$` are no
 * wildcards), and a pattern matches only the whole text. Compiled patterns are cached.
 * Not responsible for what the text is or how it is folded: qualified names, default schemas and lower case
 * are evaluate-rules.ts's; command names and arguments (case kept, paths normalised) are evaluate-commands.ts's.
 * Pure; no I/O.
 */
import "server-only";

const cache = new Map<string, RegExp>();

/** The regular expression of a glob pattern, anchored at both ends. */
export function globRegex(pattern: string): RegExp {
  let regex = cache.get(pattern);
  if (!regex) {
    const source = pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*");
    regex = new RegExp(`^${source}$`);
    if (cache.size > 2000) cache.clear();
    cache.set(pattern, regex);
  }
  return regex;
}

/** Whether `text` is matched whole by the glob `pattern`. */
export function matchesGlob(pattern: string, text: string): boolean {
  return globRegex(pattern).test(text);
}
