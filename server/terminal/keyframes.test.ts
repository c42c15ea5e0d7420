import xtermHeadless from "@xterm/headless";
import { describe, expect, it } from "vitest";
import { isParserIdle, KeyframeSchedule, keyframeCapturer } from "./keyframes";

const { Terminal } = xtermHeadless;
type Screen = InstanceType<typeof Terminal>;

const written = (term: Screen, data: string) => new Promise<void>((resolve) => term.write(data, resolve));

function screenOf(term: Screen) {
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let y = 0; y < term.rows; y++) lines.push(buffer.getLine(buffer.baseY + y)?.translateToString() ?? "");
  return { lines, x: buffer.cursorX, y: buffer.cursorY, type: buffer.type };
}

/** Output a shell session might produce: colours, redraws, wrapped lines, a scroll region, the alternate screen. */
function sampleOutput(seed: number): string[] {
  let s = seed;
  const rand = (n: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
  const pieces = [
    () => `\u001b[3${rand(8)}mline ${rand(1000)}\u001b[0m\r\n`,
    () => `${"w".repeat(70 + rand(30))}`,
    () => "\r\n$ ",
    () => `\u001b[${1 + rand(20)};${1 + rand(60)}Hmoved`,
    () => "\u001b[2J\u001b[H",
    () => `\u001b[1;${5 + rand(10)}r\u001b[5;1Hin region\r\n\r\n\r\n`,
    () => "\u001b[r",
    () => "\u001b[?1049h\u001b[Hfull screen app\u001b[7;3Hstatus",
    () => "\u001b[?1049l",
    () => `${"x".repeat(80)}`,
    () => "\t| tab\u001b[K\r\n",
    () => "\u001b[1;4;38;5;202mbold\u001b[22m still underlined ",
  ];
  const out: string[] = [];
  for (let i = 0; i < 300; i++) out.push(pieces[rand(pieces.length)]?.() ?? "");
  return out;
}

describe("KeyframeSchedule", () => {
  it("is due after enough output or enough time with some output, whichever comes first", () => {
    const schedule = new KeyframeSchedule(1000, 60);
    expect(schedule.isDue(999, 1)).toBe(false);
    expect(schedule.isDue(1000, 2)).toBe(true);
    schedule.taken(1000, 2);
    expect(schedule.isDue(1010, 61)).toBe(false);
    expect(schedule.isDue(1020, 62)).toBe(true);
    schedule.taken(1020, 62);
    // Time alone does not make a keyframe: nothing changed on screen.
    expect(schedule.isDue(1020, 500)).toBe(false);
    expect(schedule.isDue(1021, 500)).toBe(true);
  });

  it("counts output that arrived while a keyframe was captured towards the next one", () => {
    const schedule = new KeyframeSchedule(1000, 60);
    // Asked for at 1000; 900 more characters arrive while the screen catches up.
    schedule.taken(1000, 1);
    expect(schedule.isDue(1900, 2)).toBe(false);
    expect(schedule.isDue(2000, 2)).toBe(true);
  });

  it("asks again at the next output when a keyframe could not be taken", () => {
    const schedule = new KeyframeSchedule(1000, 60);
    schedule.taken(1000, 1);
    expect(schedule.isDue(1001, 1)).toBe(false);
    schedule.missed();
    expect(schedule.isDue(1001, 1)).toBe(true);
  });
});

describe("keyframes", () => {
  it("knows when the parser is inside an escape sequence", async () => {
    const term = new Terminal({ cols: 40, rows: 5, allowProposedApi: true });
    await written(term, "text \u001b[3");
    expect(isParserIdle(term)).toBe(false);
    await written(term, "1m red");
    expect(isParserIdle(term)).toBe(true);
  });

  it.each([1, 2, 3, 4, 5, 6])(
    "a screen restored from a keyframe and fed the rest matches one fed everything (seed %i)",
    async (seed) => {
      const chunks = sampleOutput(seed);
      const full = new Terminal({ cols: 80, rows: 24, allowProposedApi: true, scrollback: 1000 });
      const capture = keyframeCapturer(full);
      const cut = 50 + ((seed * 37) % 200);
      for (const chunk of chunks.slice(0, cut)) await written(full, chunk);
      expect(isParserIdle(full)).toBe(true);
      const keyframe = capture();
      const restored = new Terminal({ cols: keyframe.cols, rows: keyframe.rows, allowProposedApi: true });
      await written(restored, keyframe.screen);
      expect(screenOf(restored)).toEqual(screenOf(full));
      for (const chunk of chunks.slice(cut)) {
        await written(full, chunk);
        await written(restored, chunk);
      }
      expect(screenOf(restored)).toEqual(screenOf(full));
    },
  );
});
