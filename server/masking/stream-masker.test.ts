import { describe, expect, it } from "vitest";

import { createStreamMasker, type Finding, type MaskingConfig, maskText } from "./index";

const full: MaskingConfig = { defaultStyle: "full", pseudonymKey: "", columnRules: [] };

function run(chunks: string[], cfg = full, maxHoldBytes?: number): { out: string; parts: string[] } {
  const m = createStreamMasker(cfg, maxHoldBytes === undefined ? {} : { maxHoldBytes });
  const parts = chunks.map((c) => m.push(c));
  parts.push(m.flush());
  return { out: parts.join(""), parts };
}

describe("createStreamMasker", () => {
  it("masks a card number split across two chunks", () => {
    const { out, parts } = run(["paid with 4242 4242 42", "42 4242 today\n"]);
    expect(out).toBe("paid with [CREDIT_CARD] today\n");
    expect(parts[0]).toBe("paid with ");
  });

  it("emits plain output at once, holding only the tail that could start a value", () => {
    const m = createStreamMasker(full);
    expect(m.push("user@host:~$ ")).toBe("user@host:~$ ");
    expect(m.push("ls -la\n")).toBe("ls -la\n");
    expect(m.push("total 48 ")).toBe("total ");
    expect(m.flush()).toBe("48 ");
  });

  it("never holds more than the bound, and still masks what it detects", () => {
    const m = createStreamMasker(full, { maxHoldBytes: 200 });
    let out = "";
    let held = 0;
    let pushed = 0;
    const line = "AB12 CD34 ".repeat(100);
    for (let i = 0; i < line.length; i += 37) {
      const chunk = line.slice(i, i + 37);
      out += m.push(chunk);
      pushed += chunk.length;
      held = Math.max(held, pushed - out.length);
    }
    out += m.flush();
    expect(held).toBeLessThanOrEqual(200);
    expect(out).toBe(line);
  });

  it("swallows the rest of a long secret token cut by the hold bound", () => {
    const token = `cookie_seed=${"Zx8pQ2mN7vR4tY6wK1sL9dF3hJ5gB0cA".repeat(40)}`;
    const chunks = token.match(/.{1,50}/gs)!;
    const { out } = run([...chunks, " done\n"], full, 256);
    expect(out).toBe("cookie_seed=[HIGH_ENTROPY_SECRET] done\n");
  });

  it("masks a PEM key whose body arrives over many chunks without holding it", () => {
    const body = Array.from(
      { length: 40 },
      (_, i) => `MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC${i}`,
    ).join("\n");
    const pem = `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----`;
    const text = `$ cat id_ed25519\n${pem}\n$ `;
    const chunks = text.match(/.{1,64}/gs)!;
    const m = createStreamMasker(full);
    let out = "";
    for (const c of chunks) {
      out += m.push(c);
      // The label is out as soon as the BEGIN line is complete; the body is dropped, not held.
      if (c.includes("-----END")) expect(out).toContain("[PRIVATE_KEY]");
    }
    out += m.flush();
    expect(out).toBe("$ cat id_ed25519\n[PRIVATE_KEY]\n$ ");
    expect(out).toBe(maskText(text, full).text);
  });

  it("does not split ANSI sequences or surrogate pairs when a cut is forced", () => {
    const line = `${"\u001b[1;31m✓ 😀 ABC1 \u001b[0m".repeat(40)}`;
    const m = createStreamMasker(full, { maxHoldBytes: 128 });
    const outs: string[] = [];
    for (let i = 0; i < line.length; i += 17) outs.push(m.push(line.slice(i, i + 17)));
    outs.push(m.flush());
    expect(outs.join("")).toBe(line);
    for (const o of outs) {
      if (o === "") continue;
      const last = o.charCodeAt(o.length - 1);
      expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for a cut ANSI sequence.
      expect(/\u001b(?:\[[0-9;]*)?$/.test(o)).toBe(false);
    }
  });

  it("reports findings with offsets in the whole stream", () => {
    const found: Finding[] = [];
    const m = createStreamMasker(full, { onFinding: (f) => found.push(f) });
    m.push("mail jane@exa");
    m.push("mple.com and 4242424242424242\n");
    m.flush();
    expect(found).toEqual([
      { type: "email", start: 5, end: 21 },
      { type: "credit_card", start: 26, end: 42 },
    ]);
  });

  it("waits for the end of an open quoted secret before cutting", () => {
    const { out, parts } = run(['password: "correct horse ', 'battery staple" ok\n']);
    expect(out).toBe('password: "[PASSWORD]" ok\n');
    expect(parts[0]).toBe("password: ");
  });
});
