/**
 * The PostgreSQL wire listener (protocol v3): accepts native clients (psql, drivers) on PG_LISTEN_HOST:PORT.
 * pg-gateway does the start-up: SSLRequest answered with TLS (tls-certificate.ts), the StartupMessage parsed,
 * the cleartext password asked for, message framing. This module decides who may connect (plain text only from
 * loopback unless allowed; native-auth.ts for credentials), opens the client's pinned target session and its
 * recorded session (channel "native"), and hands every later message to a NativeClient, in order. pg-gateway's
 * own query handling is never reached (it would print the query). Not responsible for what a query may do.
 */
import "server-only";
import { randomInt } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { PostgresConnection } from "pg-gateway";
import type { PgListenConfig } from "@/server/config";
import { startSessionWithEvent } from "@/server/recording";
import { openPinnedSession, type PinnedSession } from "@/server/targets/postgres";
import { authenticateNative } from "./native-auth";
import { FORWARDED_PARAMETERS, NativeClient } from "./native-client";
import { loadListenerCertificate } from "./tls-certificate";
import {
  backendKeyData,
  errorResponse,
  FrontendFramer,
  parameterStatus,
  readyForQuery,
  type WireNotice,
} from "./wire";

export interface PgListener {
  host: string;
  port: number;
  /** SHA-256 fingerprint of the TLS certificate */
  fingerprint: string;
  certificateSource: "files" | "generated" | "generated-before";
  close(): Promise<void>;
}

/** Is this address the machine itself (127.0.0.0/8, ::1, or IPv4 loopback mapped into IPv6)? */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.") || address === "::1";
}

/** Plain text (no TLS) is accepted from loopback, or from anywhere when PG_LISTEN_ALLOW_PLAINTEXT=on. */
export function mayUsePlaintext(address: string, allowPlaintext: boolean): boolean {
  return allowPlaintext || isLoopback(address);
}

const CANCEL_REQUEST_CODE = 80877102;
const GSSENC_REQUEST_CODE = 80877104;

/** A message sent before start-up that is not a StartupMessage: its request code (SSL is pg-gateway's). */
function requestCode(data: Uint8Array): number | undefined {
  if (data.length < 8) return undefined;
  return Buffer.from(data.buffer, data.byteOffset, data.length).readInt32BE(4);
}

export async function startPgListener(options: {
  config: PgListenConfig;
  dataDir: string;
  publicUrl: string;
}): Promise<PgListener> {
  const { config } = options;
  const certificate = await loadListenerCertificate({
    dataDir: options.dataDir,
    certFile: config.tlsCertFile,
    keyFile: config.tlsKeyFile,
  });
  const tls = { cert: certificate.cert, key: certificate.key };
  /** live clients by their cancel key, "processId:secret" */
  const clients = new Map<string, NativeClient>();
  const sockets = new Set<Socket>();

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on("error", () => {}); // a client resetting its connection is not an error of ours
    const address = socket.remoteAddress ?? "";
    let client: NativeClient | undefined;
    let cancelKey: string | undefined;
    let authenticating = false;
    const send = (bytes: Buffer) => {
      if (!connection.socket.destroyed) connection.socket.write(bytes);
    };
    const refuse = (notice: Omit<WireNotice, "severity">) => {
      send(errorResponse({ severity: "FATAL", ...notice }));
      connection.socket.end();
    };
    socket.on("close", () => {
      sockets.delete(socket);
      if (cancelKey) clients.delete(cancelKey);
      void client?.close();
    });

    const connection: PostgresConnection = new PostgresConnection(socket, {
      authMode: "cleartextPassword",
      tls,
      onTlsUpgrade: () => {
        connection.secureSocket?.on("error", () => {});
      },
      onStartup: () => {
        if (!connection.secureSocket && !mayUsePlaintext(address, config.allowPlaintext)) {
          refuse({
            code: "28000",
            message: "Portcullis refuses plain-text connections from other machines: connect with TLS",
            hint: "use sslmode=require (or verify-ca with the listener's certificate)",
          });
          return true;
        }
        return false; // pg-gateway asks for the password
      },
      onMessage: (data, state) => {
        if (!state.hasStarted) {
          const code = requestCode(data);
          if (code === CANCEL_REQUEST_CODE && data.length >= 16) {
            const bytes = Buffer.from(data);
            clients.get(`${bytes.readInt32BE(8)}:${bytes.readInt32BE(12)}`)?.cancel();
            socket.end();
            return true;
          }
          if (code === GSSENC_REQUEST_CODE) {
            send(Buffer.from("N")); // no GSSAPI encryption: the client goes on with SSLRequest or start-up
            // pg-gateway counts a skipped message as the start-up; the real one comes next.
            process.nextTick(() => {
              connection.hasStarted = false;
            });
            return true;
          }
          return false;
        }
        if (data[0] !== 0x70 /* p: PasswordMessage */ || authenticating) {
          refuse({ code: "08P01", message: "expected a password message" });
          return true;
        }
        authenticating = true;
        const password = Buffer.from(data.subarray(5, data.length - 1)).toString("utf8");
        // From here on the messages are framed here (FrontendFramer): pg-gateway 0.2.4 hands a hook an empty
        // view for every message after the first of a chunk (docs/decisions/0009-native-postgres-listener.md).
        const clientSocket = connection.detach();
        const framer = new FrontendFramer();
        clientSocket.on("data", (chunk: Buffer) => {
          let messages: Buffer[];
          try {
            messages = framer.push(chunk);
          } catch (err) {
            refuse({ code: "08P01", message: err instanceof Error ? err.message : "bad message" });
            return;
          }
          for (const m of messages) {
            if (client) client.enqueue(Buffer.from(m));
            else {
              refuse({ code: "08P01", message: "a message came before authentication ended" });
              return;
            }
          }
        });
        void admit(password, state.clientInfo?.parameters ?? { user: "" }).catch((err) => {
          console.error(
            "[portcullis] native client start-up failed:",
            err instanceof Error ? err.message : err,
          );
          refuse({ code: "XX000", message: "the gateway could not start this session" });
        });
        return true;
      },
    });

    /** Authenticates, opens the pinned target session and the recorded session, then says ready. */
    async function admit(password: string, parameters: Record<string, string>) {
      const user = parameters.user ?? "";
      const result = await authenticateNative({ user, password, database: parameters.database, address });
      if (!result.ok) {
        refuse(result.refusal);
        return;
      }
      const { principal, connection: target } = result;
      let pinned: PinnedSession;
      try {
        pinned = await openPinnedSession(target.id, () => {
          refuse({
            code: "08006",
            message: "the session on the target was closed; a transaction that was open is gone",
          });
        });
      } catch (err) {
        refuse({
          code: "08006",
          message: `the target cannot be reached: ${err instanceof Error ? err.message : "unknown error"}`,
        });
        return;
      }
      if (socket.destroyed) {
        await pinned.close();
        return;
      }
      const { sessionId } = await startSessionWithEvent(principal, target, "sql", "native", {
        type: "connect",
        data: {
          applicationName: parameters.application_name ?? "",
          clientAddress: address,
          tls: connection.secureSocket !== undefined,
          user,
        },
      });
      const processId = randomInt(1, 2 ** 31 - 1);
      const secret = randomInt(1, 2 ** 31 - 1);
      client = new NativeClient({
        principal,
        connection: target,
        sessionId,
        target: pinned,
        publicUrl: options.publicUrl,
        send,
        end: () => connection.socket.end(),
      });
      cancelKey = `${processId}:${secret}`;
      clients.set(cancelKey, client);
      if (socket.destroyed) {
        void client.close();
        return;
      }
      const hello: Buffer[] = [Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0])]; // AuthenticationOk
      for (const [name, value] of pinned.parameters) {
        if (FORWARDED_PARAMETERS.has(name)) hello.push(parameterStatus(name, value));
      }
      hello.push(
        parameterStatus("client_encoding", "UTF8"),
        parameterStatus("application_name", parameters.application_name ?? ""),
        parameterStatus("session_authorization", user),
        parameterStatus("is_superuser", "off"),
        backendKeyData(processId, secret),
        readyForQuery("I"),
      );
      send(Buffer.concat(hello));
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === "object" && bound ? bound.port : config.port;
  return {
    host: config.host,
    port,
    fingerprint: certificate.fingerprint,
    certificateSource: certificate.source,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
