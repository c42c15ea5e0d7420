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
import { principalFromToken } from "@/server/auth";
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

/**
 * Before authentication ends a client may send this many bytes (TLS handshake, start-up, password: a few KB;
 * PostgreSQL caps the start-up packet at 10,000 bytes) and take this long (PostgreSQL's authentication_timeout
 * is 60 s). pg-gateway would otherwise buffer a start-up packet of any announced length.
 */
export const PRE_AUTH_MAX_BYTES = 64 * 1024;
export const PRE_AUTH_TIMEOUT_MS = 30_000;

const CANCEL_REQUEST_CODE = 80877102;
const GSSENC_REQUEST_CODE = 80877104;

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
    let preAuthBytes = 0;
    const countPreAuth = (chunk: Buffer) => {
      preAuthBytes += chunk.length;
      if (preAuthBytes > PRE_AUTH_MAX_BYTES) socket.destroy();
    };
    socket.on("data", countPreAuth);
    const preAuthTimer = setTimeout(() => socket.destroy(), PRE_AUTH_TIMEOUT_MS);
    let client: NativeClient | undefined;
    let cancelKey: string | undefined;
    let authenticating = false;
    const send = (bytes: Buffer) => {
      const current = connection?.socket ?? socket;
      if (!current.destroyed) current.write(bytes);
    };
    const refuse = (notice: Omit<WireNotice, "severity">) => {
      send(errorResponse({ severity: "FATAL", ...notice }));
      (connection?.socket ?? socket).end();
    };
    socket.on("close", () => {
      clearTimeout(preAuthTimer);
      sockets.delete(socket);
      if (cancelKey) clients.delete(cancelKey);
      void client?.close();
    });

    /**
     * Requests a client may send before its start-up that pg-gateway 0.2.4 does not know, answered here:
     * GSSENCRequest (no: "N", the client goes on) and CancelRequest. The rest goes to pg-gateway.
     */
    let preface: Buffer = Buffer.alloc(0);
    const readPreface = (chunk: Buffer) => {
      preface = preface.length === 0 ? chunk : Buffer.concat([preface, chunk]);
      while (preface.length >= 8) {
        const length = preface.readInt32BE(0);
        const code = preface.readInt32BE(4);
        if (length === 8 && code === GSSENC_REQUEST_CODE) {
          socket.write("N");
          preface = preface.subarray(8);
          continue;
        }
        if (length === 16 && code === CANCEL_REQUEST_CODE) {
          if (preface.length < 16) return;
          clients.get(`${preface.readInt32BE(8)}:${preface.readInt32BE(12)}`)?.cancel();
          socket.off("data", readPreface);
          socket.end();
          return;
        }
        socket.off("data", readPreface);
        connection = startProtocol();
        void connection.handleData(preface);
        return;
      }
    };
    socket.on("data", readPreface);

    let connection: PostgresConnection | undefined;
    const startProtocol = (): PostgresConnection =>
      new PostgresConnection(socket, {
        authMode: "cleartextPassword",
        tls,
        onTlsUpgrade: () => {
          connection?.secureSocket?.on("error", () => {});
        },
        onStartup: () => {
          if (!connection?.secureSocket && !mayUsePlaintext(address, config.allowPlaintext)) {
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
          if (!state.hasStarted || !connection) return false; // SSLRequest, StartupMessage: pg-gateway's
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
      // Fail closed: a session that cannot be recorded does not start (and its target session is closed).
      const { sessionId } = await startSessionWithEvent(principal, target, "sql", "native", {
        type: "connect",
        data: {
          applicationName: parameters.application_name ?? "",
          clientAddress: address,
          tls: connection?.secureSocket !== undefined,
          user,
        },
      }).catch(async (err) => {
        await pinned.close();
        throw err;
      });
      const processId = randomInt(1, 2 ** 31 - 1);
      const secret = randomInt(1, 2 ** 31 - 1);
      client = new NativeClient({
        principal,
        identify: () => principalFromToken(password),
        connection: target,
        sessionId,
        target: pinned,
        publicUrl: options.publicUrl,
        send,
        end: () => (connection?.socket ?? socket).end(),
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
      clearTimeout(preAuthTimer);
      socket.off("data", countPreAuth);
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
      // each client's target session closed (rolling back what it left open) and its session ended
      await Promise.all([...clients.values()].map((c) => c.close()));
      await closed;
    },
  };
}
