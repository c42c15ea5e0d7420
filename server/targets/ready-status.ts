/**
 * Follows a target session's transaction status as PostgreSQL itself reports it: the status byte of the last
 * ReadyForQuery (I idle, T in a transaction block, E in a failed one) read from the bytes the server sends, before
 * the driver (postgres.js, which does not expose it) handles them. Only message headers are read: the type byte and
 * the length, plus the status byte of a ReadyForQuery; bodies are skipped. Pure: fed chunks, no sockets.
 * Not responsible for TLS (it reads the protocol's own bytes, so the session it follows must not be encrypted by
 * the driver after this tap) nor for anything the status is used for (server/targets/postgres.ts).
 */
import "server-only";

export type ReadyStatus = "I" | "T" | "E";

const READY_FOR_QUERY = 0x5a; // 'Z'

export class ReadyStatusTap {
  /** the status of the last ReadyForQuery; undefined before the first */
  status: ReadyStatus | undefined;
  /** how many ReadyForQuery messages came: one per exchange the session finished */
  readyCount = 0;
  /** bytes of the current message's body still to skip */
  private skip = 0;
  /** the header read so far (type, int32 length, and a ReadyForQuery's status byte) */
  private readonly head = Buffer.alloc(6);
  private have = 0;

  push(chunk: Buffer) {
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        at += n;
        this.skip -= n;
        continue;
      }
      this.head[this.have++] = chunk[at++] as number;
      if (this.have === 5) {
        const length = this.head.readInt32BE(1);
        if (this.head[0] === READY_FOR_QUERY && length === 5) continue; // its status byte is next
        this.skip = Math.max(0, length - 4);
        this.have = 0;
      } else if (this.have === 6) {
        const status = String.fromCharCode(this.head[5] as number);
        // Anything else is not a status PostgreSQL sends: unknown, so no caller trusts it.
        this.status = status === "I" || status === "T" || status === "E" ? status : undefined;
        this.readyCount++;
        this.have = 0;
      }
    }
  }
}
