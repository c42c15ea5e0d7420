/**
 * Whether a private key is being printed in a terminal's output (the stream masker then holds it whole, and
 * the session must not flush the masker early). Fed the output in order; looks only at the last 100
 * characters plus what is new. Output with no "-----" near it (nearly all of it) costs one forward search:
 * the state can change only where a "-----BEGIN" or "-----END" is. Not responsible for masking the key.
 */
import "server-only";

const MARK = "-----";
const TAIL = 100;

export class PemWatch {
  isInPem = false;
  private tail = "";

  feed(text: string) {
    if (
      !text.includes(MARK) &&
      !this.tail.includes(MARK) &&
      !(this.tail.slice(1 - MARK.length) + text.slice(0, MARK.length - 1)).includes(MARK)
    ) {
      // No marker anywhere in tail + text: neither lastIndexOf below would find one, the state stands.
      this.tail = text.length >= TAIL ? text.slice(-TAIL) : (this.tail + text).slice(-TAIL);
      return;
    }
    const s = this.tail + text;
    const begin = s.lastIndexOf("-----BEGIN");
    const end = s.lastIndexOf("-----END");
    if (begin > end) {
      const header = s.slice(begin);
      this.isInPem = /^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(header) || header.length < 60;
    } else if (end > begin) this.isInPem = false;
    this.tail = s.slice(-TAIL);
  }
}
