/**
 * Files written a piece at a time (session exports, evidence bundles): JSON laid out as JSON.stringify(value, null,
 * 2) lays it out, pieces gathered to a size worth a write, and the whole text again for tests. The response side is
 * fileResponse (./route.ts).
 */
import "server-only";

/** JSON.stringify(value, null, 2), indented `depth` levels further (to sit inside an outer object). */
export function indentedJson(value: unknown, depth: number): string {
  return JSON.stringify(value, null, 2).replaceAll("\n", `\n${"  ".repeat(depth)}`);
}

/** An array laid out as indentedJson lays it out at `depth`, its items written as they come. */
export async function* indentedJsonArray(
  items: AsyncIterable<unknown>,
  depth: number,
): AsyncGenerator<string> {
  const inside = `\n${"  ".repeat(depth + 1)}`;
  let count = 0;
  yield "[";
  for await (const item of items) {
    yield `${count === 0 ? "" : ","}${inside}${indentedJson(item, depth + 1)}`;
    count++;
  }
  yield count === 0 ? "]" : `\n${"  ".repeat(depth)}]`;
}

/** Pieces of output are gathered to about this many characters before they are handed on. */
const CHUNK_CHARS = 64 * 1024;

/** The same text, in pieces of about CHUNK_CHARS. */
export async function* chunked(pieces: AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = "";
  for await (const piece of pieces) {
    buffer += piece;
    if (buffer.length >= CHUNK_CHARS) {
      yield buffer;
      buffer = "";
    }
  }
  if (buffer !== "") yield buffer;
}

/** The whole text (tests, and callers that know the file is small). */
export async function collectText(pieces: AsyncIterable<string>): Promise<string> {
  let text = "";
  for await (const piece of pieces) text += piece;
  return text;
}
