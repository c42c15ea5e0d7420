/**
 * Parameters a driver sends in binary format (Bind format code 1), turned into the text PostgreSQL's own input
 * functions read back as the same value, so that the statement still runs with its values as text parameters
 * (decided, recorded masked, bound on the target as the other parameters are). Only types whose binary form is
 * simple and fixed are decoded; any other type is refused by name (0A000) rather than guessed. Not responsible
 * for result formats (the listener sends text only) or for deciding anything.
 */
import "server-only";

/** A decoder per type OID: the binary value as the text its input function reads. */
const DECODERS: Record<number, { name: string; decode: (b: Buffer) => string }> = {
  16: { name: "boolean", decode: (b) => (fixed(b, 1).readUInt8(0) !== 0 ? "t" : "f") },
  17: { name: "bytea", decode: (b) => `\\x${b.toString("hex")}` },
  18: { name: '"char"', decode: (b) => b.toString("latin1") },
  19: { name: "name", decode: utf8 },
  20: { name: "bigint", decode: (b) => fixed(b, 8).readBigInt64BE(0).toString() },
  21: { name: "smallint", decode: (b) => String(fixed(b, 2).readInt16BE(0)) },
  23: { name: "integer", decode: (b) => String(fixed(b, 4).readInt32BE(0)) },
  25: { name: "text", decode: utf8 },
  26: { name: "oid", decode: (b) => String(fixed(b, 4).readUInt32BE(0)) },
  114: { name: "json", decode: utf8 },
  700: { name: "real", decode: (b) => float(fixed(b, 4).readFloatBE(0)) },
  701: { name: "double precision", decode: (b) => float(fixed(b, 8).readDoubleBE(0)) },
  1042: { name: "character", decode: utf8 },
  1043: { name: "character varying", decode: utf8 },
  2950: { name: "uuid", decode: uuid },
  3802: { name: "jsonb", decode: jsonb },
};

function utf8(b: Buffer): string {
  const text = b.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(b)) throw new RangeError("not valid UTF-8");
  return text;
}

function fixed(b: Buffer, length: number): Buffer {
  if (b.length !== length) throw new RangeError(`${b.length} bytes where ${length} were expected`);
  return b;
}

/** A float as PostgreSQL's float input reads it back exactly (shortest round-trip form, NaN and Infinity). */
function float(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Infinity" : "-Infinity";
  return Object.is(n, -0) ? "-0" : String(n);
}

function uuid(b: Buffer): string {
  const hex = fixed(b, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function jsonb(b: Buffer): string {
  if (b.readUInt8(0) !== 1) throw new RangeError("an unknown jsonb version");
  return utf8(b.subarray(1));
}

/**
 * The text of one binary parameter of type `oid` (as the statement's Parse declared it, or as the target typed
 * it), or why it cannot be taken.
 */
export function decodeBinaryParameter(oid: number, bytes: Buffer): { text: string } | { refused: string } {
  const decoder = DECODERS[oid];
  if (!decoder) {
    return {
      refused: `a parameter in binary format of type ${oid === 0 ? "unknown" : `OID ${oid}`} is not supported through the gateway: send it as text`,
    };
  }
  try {
    return { text: decoder.decode(bytes) };
  } catch (err) {
    return {
      refused: `a ${decoder.name} parameter in binary format is malformed (${err instanceof Error ? err.message : "unreadable"})`,
    };
  }
}
