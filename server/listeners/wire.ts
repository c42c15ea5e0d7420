/**
 * Backend messages of the PostgreSQL protocol (v3) the listener sends after start-up (RowDescription, DataRow,
 * CommandComplete, ErrorResponse, NoticeResponse, ReadyForQuery...), and values as PostgreSQL's text format.
 * Pure: no sockets, no I/O. Not responsible for start-up, TLS or authentication messages (pg-gateway's).
 */
import "server-only";

/**
 * Largest frontend message accepted (PostgreSQL allows 1 GB): well above a Query of MAX_STATEMENT_BYTES, which
 * the pipeline refuses with a clear error, and small enough that a client cannot make the gateway buffer much.
 */
export const MAX_FRONTEND_MESSAGE = 16 * 1024 * 1024;

/**
 * Splits the bytes a client sends (after start-up) into whole messages: type byte, int32 length (itself
 * included), body. `push` returns the messages completed by the chunk; a partial one waits for the next.
 */
export class FrontendFramer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    let offset = 0;
    while (this.pending.length - offset >= 5) {
      const length = this.pending.readInt32BE(offset + 1);
      if (length < 4 || length > MAX_FRONTEND_MESSAGE) {
        throw new RangeError(`a message of ${length} bytes is not acceptable`);
      }
      if (this.pending.length - offset < 1 + length) break;
      messages.push(this.pending.subarray(offset, offset + 1 + length));
      offset += 1 + length;
    }
    this.pending = this.pending.subarray(offset);
    return messages;
  }
}

/** A message: its type byte, then its length (itself included) and body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, "ascii");
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const cstring = (text: string) => Buffer.from(`${text}\0`, "utf8");

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

export const TEXT_OID = 25;

export interface WireColumn {
  name: string;
  /** the type's OID; text (25) when unknown */
  oid: number;
}

// RowDescription and DataRow are built in one allocation each: their sizes are known before a byte is written
// (a reply of many rows was a Buffer per field, then a copy of them all, per row).

export function rowDescription(columns: readonly WireColumn[]): Buffer {
  let length = 4 + 2;
  const names: Buffer[] = [];
  for (const c of columns) {
    const name = Buffer.from(c.name, "utf8");
    names.push(name);
    length += name.length + 1 + 18;
  }
  const b = Buffer.allocUnsafe(1 + length);
  b[0] = 0x54; // T
  b.writeInt32BE(length, 1);
  let at = b.writeInt16BE(columns.length, 5);
  columns.forEach((c, i) => {
    const name = names[i] as Buffer;
    at += name.copy(b, at);
    b[at++] = 0;
    // table OID and column number unknown (0), size and modifier unknown (-1), text format (0)
    at = b.writeInt32BE(0, at);
    at = b.writeInt16BE(0, at);
    at = b.writeInt32BE(c.oid, at);
    at = b.writeInt16BE(-1, at);
    at = b.writeInt32BE(-1, at);
    at = b.writeInt16BE(0, at);
  });
  return b;
}

export function dataRow(values: readonly (string | null)[]): Buffer {
  let length = 4 + 2;
  for (const v of values) length += v === null ? 4 : 4 + Buffer.byteLength(v, "utf8");
  const b = Buffer.allocUnsafe(1 + length);
  b[0] = 0x44; // D
  b.writeInt32BE(length, 1);
  let at = b.writeInt16BE(values.length, 5);
  for (const v of values) {
    if (v === null) at = b.writeInt32BE(-1, at);
    else {
      const written = b.write(v, at + 4, "utf8");
      b.writeInt32BE(written, at);
      at += 4 + written;
    }
  }
  return b;
}

/** The tag PostgreSQL ends a command with: `SELECT 3`, `INSERT 0 1`, `UPDATE 2`, `BEGIN`... */
export function commandTag(command: string, rowCount: number): string {
  const word = command.toUpperCase();
  if (word === "INSERT") return `INSERT 0 ${rowCount}`;
  if (["SELECT", "UPDATE", "DELETE", "MERGE", "FETCH", "MOVE", "COPY"].includes(word))
    return `${word} ${rowCount}`;
  return word;
}

export const commandComplete = (tag: string) => message("C", cstring(tag));
export const parseComplete = () => message("1", Buffer.alloc(0));
export const bindComplete = () => message("2", Buffer.alloc(0));
export const closeComplete = () => message("3", Buffer.alloc(0));
export const noData = () => message("n", Buffer.alloc(0));
export const portalSuspended = () => message("s", Buffer.alloc(0));

/** Reads the body of a frontend message (after its type byte and length). Throws RangeError past its end. */
export class FrontendReader {
  private at = 5;

  constructor(private readonly message: Buffer) {}

  cstring(): string {
    const end = this.message.indexOf(0, this.at);
    if (end < 0) throw new RangeError("a string without its end");
    const text = this.message.toString("utf8", this.at, end);
    this.at = end + 1;
    return text;
  }

  byte(): number {
    return this.message.readUInt8(this.at++);
  }

  int16(): number {
    const n = this.message.readInt16BE(this.at);
    this.at += 2;
    return n;
  }

  int32(): number {
    const n = this.message.readInt32BE(this.at);
    this.at += 4;
    return n;
  }

  /** the rest of the message as UTF-8 text */
  rest(): string {
    const text = this.message.toString("utf8", this.at);
    this.at = this.message.length;
    return text;
  }

  /** `length` bytes as they are, or null for length -1 */
  bytes(length: number): Buffer | null {
    if (length < 0) return null;
    if (this.at + length > this.message.length) throw new RangeError("a value past the message's end");
    const bytes = this.message.subarray(this.at, this.at + length);
    this.at += length;
    return bytes;
  }

  /** `length` bytes as UTF-8 text, or null for length -1 */
  value(length: number): string | null {
    if (length < 0) return null;
    if (this.at + length > this.message.length) throw new RangeError("a value past the message's end");
    const text = this.message.toString("utf8", this.at, this.at + length);
    this.at += length;
    return text;
  }
}
export const emptyQueryResponse = () => message("I", Buffer.alloc(0));

/** CopyOutResponse / CopyInResponse: text format (0) overall and for each of `columns` columns. */
function copyResponse(type: "H" | "G", columns: number, binary = false): Buffer {
  const format = binary ? 1 : 0;
  return message(
    type,
    Buffer.concat([Buffer.from([format]), int16(columns), ...Array(columns).fill(int16(format))]),
  );
}
export const copyOutResponse = (columns: number) => copyResponse("H", columns);
/** CopyInResponse: text (or binary, for COPY ... FROM STDIN WITH (FORMAT binary)) for every column. */
export const copyInResponse = (columns: number, binary = false) => copyResponse("G", columns, binary);
export const copyData = (data: string) => message("d", Buffer.from(data, "utf8"));
export const copyDone = () => message("c", Buffer.alloc(0));

/** ParameterDescription: the type OID of each parameter of a described statement. */
export const parameterDescription = (oids: readonly number[]) =>
  message("t", Buffer.concat([int16(oids.length), ...oids.map((oid) => uint32(oid))]));

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export type TransactionStatus = "I" | "T" | "E";
export const readyForQuery = (status: TransactionStatus) => message("Z", Buffer.from(status, "ascii"));

export const parameterStatus = (name: string, value: string) =>
  message("S", Buffer.concat([cstring(name), cstring(value)]));

/** Authentication requests (type R): Ok (0), CleartextPassword (3), SASL (10), SASLContinue (11), SASLFinal (12). */
export const authenticationOk = () => message("R", int32(0));
export const authenticationSasl = (mechanisms: readonly string[]) =>
  message("R", Buffer.concat([int32(10), ...mechanisms.map(cstring), Buffer.from([0])]));
export const authenticationSaslContinue = (data: string) =>
  message("R", Buffer.concat([int32(11), Buffer.from(data, "utf8")]));
export const authenticationSaslFinal = (data: string) =>
  message("R", Buffer.concat([int32(12), Buffer.from(data, "utf8")]));

export const backendKeyData = (processId: number, secretKey: number) =>
  message("K", Buffer.concat([int32(processId), int32(secretKey)]));

/** NotificationResponse: the notifying backend's process id (as the client knows it), the channel, the payload. */
export const notificationResponse = (processId: number, channel: string, payload: string) =>
  message("A", Buffer.concat([int32(processId), cstring(channel), cstring(payload)]));

export interface WireNotice {
  severity: "ERROR" | "FATAL" | "WARNING" | "NOTICE";
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  /** 1-based character position in the query */
  position?: number;
}

function fields(n: WireNotice): Buffer {
  const parts = [
    Buffer.from("S"),
    cstring(n.severity),
    Buffer.from("V"),
    cstring(n.severity),
    Buffer.from("C"),
    cstring(n.code),
    Buffer.from("M"),
    cstring(n.message),
  ];
  if (n.detail !== undefined) parts.push(Buffer.from("D"), cstring(n.detail));
  if (n.hint !== undefined) parts.push(Buffer.from("H"), cstring(n.hint));
  if (n.position !== undefined) parts.push(Buffer.from("P"), cstring(String(n.position)));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export const errorResponse = (n: WireNotice) => message("E", fields(n));
export const noticeResponse = (n: WireNotice) => message("N", fields(n));

/** An array element as PostgreSQL quotes it inside `{...}`. */
function arrayElement(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (Array.isArray(value)) return arrayLiteral(value);
  const text = toWireText(value) ?? "";
  if (text === "" || /^null$/i.test(text) || /[{}",\\\s]/.test(text)) {
    return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  }
  return text;
}

function arrayLiteral(values: unknown[]): string {
  return `{${values.map(arrayElement).join(",")}}`;
}

/**
 * A result value (as the pipeline returns it: JSON-like, masked) in PostgreSQL's text format. Booleans are
 * `t`/`f`, arrays `{...}`, json objects compact JSON (PostgreSQL prints jsonb with spaces after `:` and `,`).
 */
export function toWireText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "string":
      return value;
    case "boolean":
      return value ? "t" : "f";
    case "number":
      return Number.isFinite(value)
        ? String(value)
        : Number.isNaN(value)
          ? "NaN"
          : value > 0
            ? "Infinity"
            : "-Infinity";
    case "bigint":
      return value.toString();
    default:
      break;
  }
  if (Buffer.isBuffer(value)) return `\\x${value.toString("hex")}`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return arrayLiteral(value);
  return JSON.stringify(value);
}
