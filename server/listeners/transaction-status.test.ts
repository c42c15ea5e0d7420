import { describe, expect, it } from "vitest";
import { statusAfter } from "./transaction-status";
import type { TransactionStatus } from "./wire";

const ran = (statement: string, command: string) => ({ statement, command });

describe("the transaction status told to a native client", () => {
  it.each<[string, TransactionStatus, ReturnType<typeof ran>[], boolean, TransactionStatus]>([
    ["BEGIN opens a transaction", "I", [ran("begin", "BEGIN")], false, "T"],
    ["START TRANSACTION opens one", "I", [ran("start transaction", "START TRANSACTION")], false, "T"],
    ["a read inside stays inside", "T", [ran("select 1", "SELECT")], false, "T"],
    ["COMMIT ends it", "T", [ran("commit", "COMMIT")], false, "I"],
    ["ROLLBACK ends it", "T", [ran("rollback", "ROLLBACK")], false, "I"],
    ["COMMIT of a failed one reports ROLLBACK and ends it", "E", [ran("commit", "ROLLBACK")], false, "I"],
    [
      "ROLLBACK TO SAVEPOINT recovers a failed one",
      "E",
      [ran("rollback to savepoint a", "ROLLBACK")],
      false,
      "T",
    ],
    ["COMMIT AND CHAIN stays in one", "T", [ran("commit and chain", "COMMIT")], false, "T"],
    ["a comment does not fool it", "T", [ran("rollback -- to nowhere", "ROLLBACK")], false, "I"],
    ["an error outside a transaction leaves it idle", "I", [], true, "I"],
    ["an error inside fails the transaction", "T", [], true, "E"],
    ["an error after BEGIN in the same input fails it", "I", [ran("begin", "BEGIN")], true, "E"],
    ["PREPARE TRANSACTION ends it", "T", [ran("prepare transaction 'x'", "PREPARE TRANSACTION")], false, "I"],
  ])("%s", (_name, before, executed, failed, after) => {
    expect(statusAfter(before, executed, failed)).toBe(after);
  });
});
