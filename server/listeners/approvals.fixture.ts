// Test helper for native clients' reviews (native-approvals.int.test.ts, review-notices.int.test.ts): a listener on
// a free loopback port, TLS with its generated certificate, plain text from loopback only.
import type { PgListener } from "./pg-listener";

export async function startLoopbackListener(dataDir: string, publicUrl: string): Promise<PgListener> {
  const { startPgListener } = await import("./pg-listener");
  return startPgListener({
    config: {
      port: 0,
      host: "127.0.0.1",
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      allowPlaintext: false,
      idleTimeoutSeconds: undefined,
    },
    dataDir,
    publicUrl,
  });
}
