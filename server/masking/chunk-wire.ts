// How a chunk of scanned strings and its masked form cross to a worker thread and back (./pool.ts,
// ./worker.ts): each list joined into one string, because posting one long string costs a copy while
// posting thousands of short ones costs a serialization step per string on this thread. PostgreSQL text
// cannot hold NUL, so NUL separates the values; a list holding one anyway fails to decode (its count is
// wrong) and the chunk is masked on this thread instead.
import "server-only";
import type { MaskedChunk } from "./mask-rows";

const SEP = "\u0000";

/** The values as one string; `decodeValues(text, values.length)` gives them back. */
export function encodeValues(values: readonly string[]): string {
  return values.join(SEP);
}

export function decodeValues(text: string, count: number): string[] {
  const values = count === 0 ? [] : text.split(SEP);
  if (values.length !== count) throw new Error(`a chunk of ${count} values arrived as ${values.length}`);
  return values;
}

/** A masked chunk as posted: the changed indexes as they are, the masked values and their types joined. */
export interface WireChunk {
  changed: Int32Array<ArrayBuffer>;
  shown: string;
  /** per changed value, its types joined by "," (type names are identifiers) */
  types: string;
}

export function encodeMasked(chunk: MaskedChunk): WireChunk {
  return {
    changed: chunk.changed,
    shown: chunk.shown.join(SEP),
    types: chunk.types.map((t) => t.join(",")).join(SEP),
  };
}

export function decodeMasked(wire: WireChunk): MaskedChunk {
  const n = wire.changed.length;
  const shown = decodeValues(wire.shown, n);
  const types = decodeValues(wire.types, n).map((t) => t.split(","));
  return { changed: wire.changed, shown, types };
}
