import { PassThrough } from "node:stream";
import { parse, serialize } from "pg-protocol";
import { describe, expect, it } from "vitest";
import {
  commandComplete,
  commandTag,
  dataRow,
  errorResponse,
  FrontendFramer,
  FrontendReader,
  readyForQuery,
  rowDescription,
  toWireText,
} from "./wire";

/** Our backend messages read back by node-postgres's own parser (pg-protocol): the reference decoder. */
async function decode(bytes: Buffer) {
  const stream = new PassThrough();
  const messages: Record<string, unknown>[] = [];
  const done = parse(stream, (m) => messages.push(m as unknown as Record<string, unknown>));
  stream.end(bytes);
  await done;
  return messages;
}

/** RowDescription and DataRow as they were built before (a Buffer per field, then one copy): the reference. */
function referenceMessage(type: string, parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(type, 0, "ascii");
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const int = (bytes: 2 | 4, n: number) => {
  const b = Buffer.alloc(bytes);
  if (bytes === 2) b.writeInt16BE(n);
  else b.writeInt32BE(n);
  return b;
};
function referenceDataRow(values: readonly (string | null)[]): Buffer {
  const parts = [int(2, values.length)];
  for (const v of values) {
    if (v === null) parts.push(int(4, -1));
    else parts.push(int(4, Buffer.byteLength(v)), Buffer.from(v, "utf8"));
  }
  return referenceMessage("D", parts);
}
function referenceRowDescription(columns: readonly { name: string; oid: number }[]): Buffer {
  const parts = [int(2, columns.length)];
  for (const c of columns) {
    parts.push(
      Buffer.from(`${c.name}\0`),
      int(4, 0),
      int(2, 0),
      int(4, c.oid),
      int(2, -1),
      int(4, -1),
      int(2, 0),
    );
  }
  return referenceMessage("T", parts);
}

// Values whose UTF-8 length differs from their length in UTF-16 units, or that are edge cases of the format.
const ROW_VALUES: [what: string, values: (string | null)[]][] = [
  ["no column", []],
  ["one null", [null]],
  ["an empty string and a null", ["", null]],
  ["ASCII", ["1", "**** 1111", "hello world"]],
  ["two- three- and four-byte characters", ["é", "丁", "😀 emoji", "naïve café"]],
  ["a lone surrogate (sent as U+FFFD)", ["a\ud800b", "\udfff"]],
  ["a NUL and control characters", ["a\u0000b", "\t\n\r"]],
  ["a long value", ["x".repeat(100_000)]],
  ["many columns", Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? null : `v${i}é`))],
];

describe("backend messages built in one allocation", () => {
  it.each(ROW_VALUES)("encodes a DataRow of %s byte for byte as the reference does", (_, values) => {
    expect(dataRow(values).equals(referenceDataRow(values))).toBe(true);
  });

  it.each(ROW_VALUES)(
    "encodes a RowDescription of columns named %s byte for byte as the reference does",
    (_, values) => {
      const columns = values.map((name, i) => ({
        name: (name ?? "").replaceAll("\u0000", ""),
        oid: i * 7919,
      }));
      expect(rowDescription(columns).equals(referenceRowDescription(columns))).toBe(true);
    },
  );

  it("encodes random rows byte for byte as the reference does", () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = ["a", "é", "丁", "😀", "\ud800", " ", "\u0000", "'"];
    for (let n = 0; n < 500; n++) {
      const values = Array.from({ length: Math.floor(random() * 8) }, () =>
        random() < 0.2
          ? null
          : Array.from(
              { length: Math.floor(random() * 20) },
              () => alphabet[Math.floor(random() * alphabet.length)],
            ).join(""),
      );
      expect(dataRow(values).equals(referenceDataRow(values))).toBe(true);
    }
  });
});

describe("backend messages", () => {
  it("encodes a result that node-postgres's parser reads back field by field", async () => {
    const bytes = Buffer.concat([
      rowDescription([
        { name: "id", oid: 23 },
        { name: "card", oid: 25 },
      ]),
      dataRow(["1", "**** 1111"]),
      dataRow(["2", null]),
      commandComplete("SELECT 2"),
      readyForQuery("T"),
    ]);
    const [description, first, second, complete, ready] = await decode(bytes);
    expect(description).toMatchObject({
      name: "rowDescription",
      fields: [
        { name: "id", dataTypeID: 23, format: "text" },
        { name: "card", dataTypeID: 25, format: "text" },
      ],
    });
    expect(first).toMatchObject({ name: "dataRow", fields: ["1", "**** 1111"] });
    expect(second).toMatchObject({ name: "dataRow", fields: ["2", null] });
    expect(complete).toMatchObject({ name: "commandComplete", text: "SELECT 2" });
    expect(ready).toMatchObject({ name: "readyForQuery", status: "T" });
  });

  it("encodes an error with its SQLSTATE, hint and position", async () => {
    const [error] = await decode(
      errorResponse({ severity: "ERROR", code: "42501", message: "denied: é", hint: "ask", position: 7 }),
    );
    expect(error).toMatchObject({
      name: "error",
      severity: "ERROR",
      code: "42501",
      message: "denied: é",
      hint: "ask",
      position: "7",
    });
  });
});

describe("values in PostgreSQL's text format", () => {
  it.each([
    [null, null],
    [undefined, null],
    ["text", "text"],
    ["", ""],
    [true, "t"],
    [false, "f"],
    [42, "42"],
    [0.1, "0.1"],
    [Number.NaN, "NaN"],
    [Number.POSITIVE_INFINITY, "Infinity"],
    [Number.NEGATIVE_INFINITY, "-Infinity"],
    [12345678901234567890n, "12345678901234567890"],
    [Buffer.from([0xde, 0xad]), "\\xdead"],
    [
      ["a", "b c", null, "", 'q"uote', "back\\slash", "NULL"],
      '{a,"b c",NULL,"","q\\"uote","back\\\\slash","NULL"}',
    ],
    [
      [
        [1, 2],
        [3, 4],
      ],
      "{{1,2},{3,4}}",
    ],
    [[], "{}"],
    [{ a: 1, b: [true] }, '{"a":1,"b":[true]}'],
  ])("writes %o as %o", (value, text) => {
    expect(toWireText(value)).toBe(text);
  });
});

describe("command tags", () => {
  it.each([
    ["SELECT", 3, "SELECT 3"],
    ["INSERT", 1, "INSERT 0 1"],
    ["UPDATE", 0, "UPDATE 0"],
    ["DELETE", 2, "DELETE 2"],
    ["BEGIN", 0, "BEGIN"],
    ["CREATE TABLE", 0, "CREATE TABLE"],
    ["SET", 0, "SET"],
  ])("ends %s of %d rows with %j", (command, rows, tag) => {
    expect(commandTag(command, rows)).toBe(tag);
  });
});

describe("frontend framing", () => {
  const query = (text: string) => Buffer.from(serialize.query(text));

  it("splits messages however the bytes arrive: many in one chunk, one across many", () => {
    const bytes = Buffer.concat([query("select 1"), Buffer.from(serialize.sync()), query("select 2")]);
    for (const size of [1, 3, 7, bytes.length]) {
      const framer = new FrontendFramer();
      const messages: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size)
        messages.push(...framer.push(bytes.subarray(at, at + size)));
      expect(messages.map((m) => String.fromCharCode(m[0] ?? 0))).toEqual(["Q", "S", "Q"]);
      expect(Buffer.concat(messages)).toEqual(bytes);
    }
  });

  it("refuses a length no message can have", () => {
    const framer = new FrontendFramer();
    expect(() => framer.push(Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff]))).toThrow(/not acceptable/);
    expect(() => new FrontendFramer().push(Buffer.from([0x51, 0, 0, 0, 2]))).toThrow(/not acceptable/);
  });
});

describe("reading frontend messages", () => {
  it("reads a Parse and a Bind as node-postgres writes them: names, text, parameter values and NULL", () => {
    const parseMessage = Buffer.from(
      serialize.parse({ name: "by-id", text: "select $1, $2, $3", types: [23] }),
    );
    const p = new FrontendReader(parseMessage);
    expect([p.cstring(), p.cstring(), p.int16(), p.int32()]).toEqual(["by-id", "select $1, $2, $3", 1, 23]);

    const bindMessage = Buffer.from(
      serialize.bind({ portal: "", statement: "by-id", values: ["42", null, "é'; drop table x; --"] }),
    );
    const b = new FrontendReader(bindMessage);
    const portal = b.cstring();
    const statement = b.cstring();
    const formats = Array.from({ length: b.int16() }, () => b.int16());
    const values = Array.from({ length: b.int16() }, () => b.value(b.int32()));
    const resultFormats = Array.from({ length: b.int16() }, () => b.int16());
    expect({ portal, statement, values }).toEqual({
      portal: "",
      statement: "by-id",
      values: ["42", null, "é'; drop table x; --"],
    });
    expect([...formats, ...resultFormats].every((f) => f === 0)).toBe(true);
  });

  it("refuses to read past the end of a message", () => {
    const truncated = Buffer.from(serialize.bind({ statement: "s", values: ["a long value"] })).subarray(
      0,
      20,
    );
    const r = new FrontendReader(truncated);
    expect(() => {
      r.cstring();
      r.cstring();
      Array.from({ length: r.int16() }, () => r.int16());
      Array.from({ length: r.int16() }, () => r.value(r.int32()));
    }).toThrow(RangeError);
  });
});
