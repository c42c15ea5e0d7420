// The gateway's screen in its worker thread (the real worker, started as the console starts it): answers are
// about exactly the output written before the question, in order, and a worker that stops refuses every
// question waiting and tells each open screen's owner (its session then ends: fail closed).
import { describe, expect, it } from "vitest";
import { crashScreenWorker, GatewayScreen } from "./screen";

describe("the gateway's screen in the screen worker", () => {
  it("answers each question about the output written before it, without waiting in between", async () => {
    const failures: Error[] = [];
    const screen = new GatewayScreen(40, 10, (error) => failures.push(error));
    screen.write("last output\r\nuser@box:~$ ");
    const anchor = screen.anchor();
    screen.write("echo hello");
    const line = screen.readCommandLine(await anchor);
    screen.write("\u001b[?2004h");
    const paste = screen.isBracketedPaste();
    screen.write("\u001b[?1049h");
    const [alternate, anchorOnAlternate] = [screen.isAlternate(), screen.anchor()];
    expect(await anchor).toMatchObject({ prompt: "user@box:~$ ", col: 12 });
    expect(await line).toBe("echo hello");
    expect(await paste).toBe(true);
    expect(await alternate).toBe(true);
    expect(await anchorOnAlternate).toBeUndefined();
    screen.close();
    expect(failures).toEqual([]);
  });

  it("keyframes the screen as it is after the output before the question, and none mid-sequence", async () => {
    const screen = new GatewayScreen(20, 4, () => {});
    screen.write("one\r\ntwo\r\n\u001b[1;31mred");
    const keyframe = screen.keyframe();
    screen.write("\u001b[1;3"); // an escape sequence cut in half
    const midSequence = screen.keyframe();
    expect(await keyframe).toMatchObject({ cols: 20, rows: 4 });
    expect((await keyframe)?.screen).toContain("red");
    expect(await midSequence).toBeUndefined();
    screen.close();
  });

  it("refuses the questions waiting and tells every open screen's owner when the worker stops", async () => {
    const told: string[] = [];
    const first = new GatewayScreen(40, 10, (error) => told.push(`first: ${error.message}`));
    const second = new GatewayScreen(40, 10, (error) => told.push(`second: ${error.message}`));
    await first.parsed();
    first.write("x".repeat(1_000_000));
    const waiting = first.readCommandLine(undefined);
    await crashScreenWorker();
    await expect(waiting).rejects.toThrow(/screen emulation stopped/);
    expect(told).toHaveLength(2);
    expect(told.every((t) => /screen emulation stopped/.test(t))).toBe(true);
    await expect(second.parsed()).rejects.toThrow(/closed/);
    // The next screen starts a new worker.
    const next = new GatewayScreen(40, 10, () => {});
    next.write("$ ok");
    expect(await next.readCommandLine(undefined)).toBe("$ ok");
    next.close();
  });
});
