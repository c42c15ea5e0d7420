// A client that sends a large body without Content-Length (chunked), made as the socket takes it, and notes how
// many bytes it had handed over when the reply came: a server that stops reading at its limit answers early.
import { request as httpRequest } from "node:http";

export interface ChunkedReply {
  status: number;
  body: string;
  /** bytes written to the socket before the reply arrived */
  sentBeforeReply: number;
}

export function sendChunked(
  url: string,
  total: number,
  headers: Record<string, string>,
): Promise<ChunkedReply> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(64 * 1024, "a");
    let sent = 0;
    let replied = false;
    const req = httpRequest(url, { method: "POST", headers: { ...headers, "transfer-encoding": "chunked" } });
    req.on("response", (res) => {
      replied = true;
      const sentBeforeReply = sent;
      const parts: Buffer[] = [];
      res.on("data", (part: Buffer) => parts.push(part));
      res.on("end", () => {
        req.destroy();
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(parts).toString("utf8"),
          sentBeforeReply,
        });
      });
    });
    req.on("error", (err) => {
      if (!replied) reject(err);
    });
    const pump = () => {
      while (!replied && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once("drain", pump);
          return;
        }
      }
      if (!replied) req.end();
    };
    pump();
  });
}
