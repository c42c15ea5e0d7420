import "server-only";
import type { ParseResult } from "libpg-query";
// @ts-expect-error -- the emscripten factory of libpg-query ships without type declarations
import createPgQueryModule from "libpg-query/wasm/libpg-query.js";

// PostgreSQL's own parser (libpg-query, WebAssembly) and the text checks around it: one instance, loaded
// once, replaced only if it traps; the mapping between the parser's byte offsets and JavaScript indexes.
// It does not classify anything (classify-statement.ts does).

// ---------------------------------------------------------------------------------------------------
// The parser: one WebAssembly instance, loaded once, replaced only if it traps.

export interface PgQueryWasm {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(pointer: number): void;
  _wasm_parse_query_raw(queryPointer: number): number;
  _wasm_free_parse_result(resultPointer: number): void;
  getValue(pointer: number, type: "i32"): number;
  UTF8ToString(pointer: number): string;
}

type PgQueryFactory = () => Promise<PgQueryWasm>;

export type ParseOutcome =
  | { ok: true; tree: ParseResult }
  | { ok: false; message: string /** 0-based, in code points */; cursor?: number };

/** The instance trapped (e.g. native stack overflow on a very deep tree); its memory is no longer sound. */
export class ParserCrash extends Error {}

let parser: PgQueryWasm | null = null;
let parserLoading: Promise<PgQueryWasm> | null = null;

export function loadParser(): Promise<PgQueryWasm> {
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
export function parseBytes(instance: PgQueryWasm, bytes: Uint8Array): ParseOutcome {
  const raw = parseRaw(instance, bytes);
  return raw.ok ? { ok: true, tree: JSON.parse(raw.json) as ParseResult } : raw;
}

/** The parser's answer as it prints it: the tree as JSON text (parsed by each reader into its own objects). */
type RawOutcome = { ok: true; json: string } | Extract<ParseOutcome, { ok: false }>;

function parseRaw(instance: PgQueryWasm, bytes: Uint8Array): RawOutcome {
  parseStats.parsed++;
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
    return { ok: true, json: instance.UTF8ToString(treePointer) };
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
// The parser's answers by exact text (decision 0020). A parse depends on the text alone (no catalog, no
// session setting: libpg-query always reads with standard_conforming_strings on), so an answer never goes
// stale. What is kept is the parser's own JSON text, and every hit parses it again into new objects: no reader
// can change what the next one gets (the classifier is free to annotate its tree). Kept per scope (the
// pipeline passes the connection), as lineage's answers by text are: how fast a text is classified says
// nothing across connections about which texts were sent there. Bounded: at most PARSE_CACHE_ENTRIES texts of
// at most PARSE_CACHE_MAX_TEXT characters, whose trees are at most PARSE_CACHE_MAX_TREE characters (a few MB
// at most); the least recently used goes first.

export const PARSE_CACHE_ENTRIES = 512;
const PARSE_CACHE_MAX_TEXT = 4096;
const PARSE_CACHE_MAX_TREE = 32_768;
const parsedByText = new Map<string, RawOutcome>();

/** Counts the parser's runs (for tests and the benchmark: a remembered text is not parsed again). */
export const parseStats = { parsed: 0 };

/**
 * parseBytes, with the answer for this exact text remembered in `scope`. `bytes` must be `input` as UTF-8.
 * A parser crash is not remembered (it throws, as parseBytes does). `heard` is told whether the answer was
 * remembered (the text was seen before in this scope).
 */
export function parseCached(
  instance: PgQueryWasm,
  input: string,
  bytes: Uint8Array,
  scope: string,
  heard?: (repeated: boolean) => void,
): ParseOutcome {
  const cacheable = input.length <= PARSE_CACHE_MAX_TEXT;
  const key = `${scope}\u0000${input}`;
  let raw = cacheable ? parsedByText.get(key) : undefined;
  heard?.(raw !== undefined);
  if (raw) {
    parsedByText.delete(key); // most recently used last
    parsedByText.set(key, raw);
  } else {
    raw = parseRaw(instance, bytes);
    if (cacheable && (!raw.ok || raw.json.length <= PARSE_CACHE_MAX_TREE)) {
      if (parsedByText.size >= PARSE_CACHE_ENTRIES)
        parsedByText.delete(parsedByText.keys().next().value as string);
      parsedByText.set(key, raw);
    }
  }
  return raw.ok ? { ok: true, tree: JSON.parse(raw.json) as ParseResult } : { ...raw };
}

// ---------------------------------------------------------------------------------------------------
// Text: what the parser sees must be exactly what the server will see.

export const encoder = new TextEncoder();

/**
 * A NUL ends the C string the parser reads (it would never see what follows), and a lone surrogate has no
 * UTF-8 form (the driver would send U+FFFD instead). Either makes the parser's view differ from the server's.
 */
export function findTextProblem(input: string): { message: string; position: number } | undefined {
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
export function byteOffsetMapper(input: string, byteLength: number): (byteOffset: number) => number {
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
export function codePointToIndex(input: string, codePoints: number): number {
  let index = 0;
  for (let seen = 0; seen < codePoints && index < input.length; seen++) {
    const unit = input.charCodeAt(index);
    index += unit >= 0xd800 && unit <= 0xdbff ? 2 : 1;
  }
  return Math.min(index, input.length);
}
/**
 * PostgreSQL's scanner treats only space, tab, newline, carriage return and form feed as whitespace
 * (scan.l). JavaScript's trim() also strips U+00A0, U+FEFF, U+2028 and others, which PostgreSQL reads as
 * part of an identifier: trimming with it would send the target a different statement than the one
 * classified. Only these are ever trimmed.
 */
export function trimSqlWhitespace(text: string): string {
  return text.replace(/^[ \t\n\r\f]+|[ \t\n\r\f]+$/g, "");
}
