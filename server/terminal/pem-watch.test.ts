// The PEM watch's fast path (no "-----" near the new output) against the full scan it replaces, on output cut
// at every kind of boundary: a marker split between chunks, keys of every size, dashes that are not markers.
import { describe, expect, it } from "vitest";
import { PemWatch } from "./pem-watch";

/** The watch as it was before the fast path: every chunk scanned from the end. */
class FullScan {
  isInPem = false;
  private tail = "";
  feed(text: string) {
    const s = this.tail + text;
    const begin = s.lastIndexOf("-----BEGIN");
    const end = s.lastIndexOf("-----END");
    if (begin > end) {
      const header = s.slice(begin);
      this.isInPem = /^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(header) || header.length < 60;
    } else if (end > begin) this.isInPem = false;
    this.tail = s.slice(-100);
  }
}

const KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\n${"b3BlbnNzaC1rZXktdjEAAAAA\n".repeat(12)}-----END OPENSSH PRIVATE KEY-----\n`;
const OUTPUTS: [string, string][] = [
  ["a private key between log lines", `2026-11-23 ok\n${KEY}$ `],
  ["a certificate (not a key)", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"],
  ["dashes that are no marker", `---- ---- ----\n${"-".repeat(300)}\n----x-----\n`],
  ["a marker with a long header", `-----BEGIN ${"X".repeat(80)}\n`],
  ["a key left open", `x\n-----BEGIN RSA PRIVATE KEY-----\nMIIE${"A".repeat(500)}`],
  ["plain text", "total 12\ndrwxr-xr-x 2 root root 4096 Nov 23 19:00 .\n".repeat(40)],
];

describe("the PEM watch", () => {
  it.each(OUTPUTS)("agrees with the full scan on %s, cut into chunks of every size", (_, output) => {
    for (let size = 1; size <= 130; size++) {
      const fast = new PemWatch();
      const full = new FullScan();
      for (let at = 0; at < output.length; at += size) {
        const chunk = output.slice(at, at + size);
        fast.feed(chunk);
        full.feed(chunk);
        expect(fast.isInPem, `chunk size ${size}, at ${at}`).toBe(full.isInPem);
      }
    }
  });

  it("is inside a key from its header to its footer", () => {
    const watch = new PemWatch();
    watch.feed("$ cat id\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl");
    expect(watch.isInPem).toBe(true);
    watch.feed("bnNz\n-----END OPENSSH PRIVATE KEY-----\n$ ");
    expect(watch.isInPem).toBe(false);
  });
});
