import xtermHeadless from "@xterm/headless";
import { describe, expect, it } from "vitest";
import { captureAnchor, readCommandLine, TypedLine } from "./prompt";

const { Terminal } = xtermHeadless;

function term(cols = 40, rows = 10) {
  return new Terminal({ cols, rows, allowProposedApi: true });
}

function write(t: InstanceType<typeof Terminal>, data: string) {
  return new Promise<void>((resolve) => t.write(data, resolve));
}

describe("reading the command line from the screen", () => {
  it("strips the prompt that was there when typing began", async () => {
    const t = term();
    await write(t, "last output\r\nuser@box:~$ ");
    const anchor = captureAnchor(t);
    expect(anchor.prompt).toBe("user@box:~$ ");
    await write(t, "echo hello");
    expect(readCommandLine(t, anchor)).toBe("echo hello");
  });

  it("follows edits made with backspace and redraws", async () => {
    const t = term();
    await write(t, "$ ");
    const anchor = captureAnchor(t);
    await write(t, "echo helo");
    await write(t, "\b\u001b[K"); // readline erasing the last character
    await write(t, "lo");
    expect(readCommandLine(t, anchor)).toBe("echo hello");
  });

  it("reads a history recall that replaced the line", async () => {
    const t = term();
    await write(t, "$ ");
    const anchor = captureAnchor(t);
    await write(t, "x");
    await write(t, "\r\u001b[K$ kubectl delete pod web");
    expect(readCommandLine(t, anchor)).toBe("kubectl delete pod web");
  });

  it("joins a line wrapped over several rows", async () => {
    const t = term(20, 10);
    await write(t, "prompt> ");
    const anchor = captureAnchor(t);
    const long = `echo ${"a".repeat(40)}`;
    await write(t, long);
    expect(readCommandLine(t, anchor)).toBe(long);
  });

  it("finds the line again below a tab-completion listing", async () => {
    const t = term();
    await write(t, "me@h$ ");
    const anchor = captureAnchor(t);
    await write(t, "ls fi\r\nfile-a  file-b\r\nme@h$ ls file-");
    expect(readCommandLine(t, anchor)).toBe("ls file-");
  });

  it("reads a multi-line paste as separate lines", async () => {
    const t = term();
    await write(t, "$ ");
    const anchor = captureAnchor(t);
    await write(t, "echo one\r\necho two");
    expect(readCommandLine(t, anchor)).toBe("echo one\necho two");
  });

  it("reads nothing when nothing was typed after the prompt", async () => {
    const t = term();
    await write(t, "$ ");
    expect(readCommandLine(t, captureAnchor(t))).toBe("");
  });
});

describe("TypedLine", () => {
  it.each([
    [["e", "c", "h", "o"], "echo", true],
    [["echo x", "\u007f", "y"], "echo y", true],
    [["rm -rf /", "\u0015", "ls"], "ls", true],
    [["ls foo bar", "\u0017"], "ls foo ", true],
    [["\u001b[200~echo a\recho b\u001b[201~"], "echo a\necho b", true],
    [["ec", "\t"], "ec", false],
    [["ls", "\u001b[D"], "ls", false],
  ])("%j -> %j (known: %s)", (keys, text, isKnown) => {
    const typed = new TypedLine();
    for (const k of keys) typed.feed(k);
    if (isKnown) expect(typed.text).toBe(text);
    expect(typed.isKnown).toBe(isKnown);
  });
});
