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
  1700: { name: "numeric", decode: numeric },
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

const NUMERIC_SIGNS: Record<number, string> = { 0: "", 16384: "-" };
const NUMERIC_SPECIALS: Record<number, string> = { 49152: "NaN", 53248: "Infinity", 61440: "-Infinity" };
/** numeric's display scale is at most NUMERIC_DSCALE_MAX (0x3FFF) in PostgreSQL's numeric.c. */
const NUMERIC_DSCALE_MAX = 0x3fff;

/**
 * numeric's binary form (numeric_send: digit count, weight, sign, display scale, then base-10,000 digits, most
 * significant first) as numeric_out writes it: every digit of the integer part, then exactly `dscale` decimals.
 * (pgjdbc sends a BigDecimal so.)
 */
function numeric(b: Buffer): string {
  if (b.length < 8) throw new RangeError(`${b.length} bytes where at least 8 were expected`);
  const ndigits = b.readInt16BE(0);
  const weight = b.readInt16BE(2);
  const sign = b.readUInt16BE(4);
  const dscale = b.readInt16BE(6);
  if (ndigits < 0 || b.length !== 8 + 2 * ndigits)
    throw new RangeError(`${b.length} bytes for ${ndigits} digits`);
  const special = NUMERIC_SPECIALS[sign];
  if (special !== undefined) return special;
  const prefix = NUMERIC_SIGNS[sign];
  if (prefix === undefined) throw new RangeError("an invalid sign");
  if (dscale < 0 || dscale > NUMERIC_DSCALE_MAX) throw new RangeError("an invalid scale");
  const digit = (i: number) => {
    if (i < 0 || i >= ndigits) return 0;
    const d = b.readInt16BE(8 + 2 * i);
    if (d < 0 || d > 9999) throw new RangeError("a digit out of range");
    return d;
  };
  for (let i = 0; i < ndigits; i++) digit(i);
  let whole = "";
  if (weight < 0) whole = "0";
  else
    for (let i = 0; i <= weight; i++) whole += i === 0 ? String(digit(i)) : String(digit(i)).padStart(4, "0");
  let fraction = "";
  for (let i = weight + 1; fraction.length < dscale; i++) fraction += String(digit(i)).padStart(4, "0");
  const text = dscale > 0 ? `${whole}.${fraction.slice(0, dscale)}` : whole;
  return prefix && /^[0.]*$/.test(text) ? text : prefix + text;
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
