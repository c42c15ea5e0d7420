import { describe, expect, it } from "vitest";
import { ReadyStatusTap } from "./ready-status";

function message(type: string, body: Buffer | string): Buffer {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const head = Buffer.alloc(5);
  head.write(type, 0, "ascii");
  head.writeInt32BE(bytes.length + 4, 1);
  return Buffer.concat([head, bytes]);
}

const ready = (status: string) => message("Z", status);
/** a DataRow whose body holds bytes that look like a ReadyForQuery ("Z", length 5, "T") */
const trap = message("D", Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 6]), Buffer.from("Z\0\0\0\x05T")]));

describe("ReadyStatusTap", () => {
  it.each([
    ["nothing yet", [], undefined, 0],
    ["idle after a query", [message("C", "SELECT 1\0"), ready("I")], "I", 1],
    ["in a transaction after BEGIN", [message("C", "BEGIN\0"), ready("T")], "T", 1],
    [
      "failed after an error in a transaction",
      [ready("T"), message("E", "SERROR\0C22012\0\0"), ready("E")],
      "E",
      2,
    ],
    ["a body that looks like a ReadyForQuery is skipped", [ready("I"), trap, message("C", "x\0")], "I", 1],
    ["an empty body", [message("1", ""), message("2", ""), ready("T")], "T", 1],
    ["a status PostgreSQL never sends is unknown", [ready("I"), ready("X")], undefined, 2],
  ])("reads %s, however the bytes are cut", (_what, messages, status, count) => {
    const stream = Buffer.concat(messages as Buffer[]);
    // every way of cutting the stream in two, and byte by byte
    for (let cut = 0; cut <= stream.length; cut++) {
      const tap = new ReadyStatusTap();
      tap.push(stream.subarray(0, cut));
      tap.push(stream.subarray(cut));
      expect([tap.status, tap.readyCount]).toEqual([status, count]);
    }
    const tap = new ReadyStatusTap();
    for (let i = 0; i < stream.length; i++) tap.push(stream.subarray(i, i + 1));
    expect([tap.status, tap.readyCount]).toEqual([status, count]);
  });
});
