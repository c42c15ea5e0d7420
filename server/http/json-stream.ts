/**
 * JSON replies for large results, streamed: the body is exactly `JSON.stringify(value)`, but long arrays (result
 * rows, masked cells) are serialized a batch at a time as the client reads, instead of one string of tens of
 * megabytes first. An array that appears twice in the value (the exec reply repeats the last result's rows at
 * the top level) is serialized once and its text sent twice.
 */
import "server-only";

/** Arrays longer than this are streamed in batches of this many elements. */
const BATCH = 1000;

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return (
    (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== "function"
  );
}

/** Pieces of `JSON.stringify(value)`, in order; long arrays come as several pieces. */
function* jsonPieces(value: unknown, memo: Map<unknown[], string[]>): Generator<string> {
  if (Array.isArray(value) && value.length > BATCH) {
    const done = memo.get(value);
    if (done) {
      yield* done;
      return;
    }
    const pieces: string[] = [];
    for (let i = 0; i < value.length; i += BATCH) {
      const text = JSON.stringify(value.slice(i, i + BATCH));
      // "[a,b]" -> "[a,b" for the first batch, ",c,d" for the next ones, and the closing bracket at the end.
      const piece = (i === 0 ? "[" : ",") + text.slice(1, -1);
      pieces.push(piece);
      yield piece;
    }
    pieces.push("]");
    memo.set(value, pieces);
    yield "]";
    return;
  }
  if (value !== null && typeof value === "object" && !Array.isArray(value) && isPlainObject(value)) {
    let first = true;
    yield "{";
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined || typeof v === "function" || typeof v === "symbol") continue;
      yield `${first ? "" : ","}${JSON.stringify(key)}:`;
      first = false;
      yield* jsonPieces(v, memo);
    }
    yield "}";
    return;
  }
  if (Array.isArray(value)) {
    // Short arrays may still hold long ones (results[].rows): walk them too.
    yield "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) yield ",";
      const v: unknown = value[i];
      if (v === undefined || typeof v === "function" || typeof v === "symbol") yield "null";
      else yield* jsonPieces(v, memo);
    }
    yield "]";
    return;
  }
  yield JSON.stringify(value);
}

/** Small pieces are joined so the stream carries chunks of useful size. */
const CHUNK = 64 * 1024;

/** Text chunks of about CHUNK characters that together are `JSON.stringify(value)`. */
export function* jsonChunks(value: unknown): Generator<string> {
  let chunk = "";
  for (const piece of jsonPieces(value, new Map())) {
    chunk += piece;
    if (chunk.length >= CHUNK) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}

const JSON_VALUE = Symbol.for("portcullis.jsonValue");

/**
 * The value behind a response made by streamJsonResponse, for a server that writes it itself (the data-path
 * dispatch writes the text to the socket, which encodes it natively, instead of going through a web stream).
 * Undefined for any other response, and once its body has been read.
 */
export function jsonValueOf(response: Response): { value: unknown } | undefined {
  if (response.bodyUsed) return undefined;
  return (response as unknown as { [JSON_VALUE]?: { value: unknown } })[JSON_VALUE];
}

/** `Response.json(value, init)`, streamed. */
export function streamJsonResponse(value: unknown, init: ResponseInit = {}): Response {
  let chunks: Generator<string> | undefined;
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        chunks ??= jsonChunks(value);
        const next = chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
    },
    // Nothing is serialized before somebody reads (a server writing the value itself never does).
    { highWaterMark: 0 },
  );
  const headers = new Headers(init.headers);
  if (!headers.has("content-type")) headers.set("content-type", "application/json");
  const response = new Response(body, { ...init, headers });
  Object.defineProperty(response, JSON_VALUE, { value: { value } });
  return response;
}
