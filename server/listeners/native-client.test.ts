import { describe, expect, it } from "vitest";
import { isEmptyQuery } from "./native-client";

describe("input with nothing to run", () => {
  it.each([
    ["", true],
    ["   \n\t", true],
    [";", true],
    [" ; ;; ", true],
    ["-- a comment", true],
    ["-- a comment\n;", true],
    ["/* a block */", true],
    ["/* a * b / c */;", true],
    ["select 1", false],
    ["-- comment\nselect 1", false],
    ["/* a */ select 1", false],
    // PostgreSQL nests block comments: the end of the first is not the end of the comment; the pipeline decides
    ["/* /* */ select 1 */", false],
    ["/* unterminated", false],
    ["';'", false],
  ])("%j: %s", (text, empty) => {
    expect(isEmptyQuery(text)).toBe(empty);
  });
});
