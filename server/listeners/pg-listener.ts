/**
 * The PostgreSQL wire listener (protocol v3): accepts native clients (psql, drivers) on PG_LISTEN_HOST:PORT.
 * pg-gateway does the start-up: SSLRequest answered with TLS (tls-certificate.ts), the StartupMessage parsed,
 * the cleartext password asked for, message framing. This module decides who may connect (plain text only from
 * loopback unless allowed; native-auth.ts for credentials), opens the client's pinned target session and its
 * recorded session (channel "native"), and hands every later message to a NativeClient, in order.
 * A person authenticates with SCRAM-SHA-256 against their database credentials (scram.ts); a service account's
 * API token comes as a cleartext password, asked for only inside TLS or from loopback. Live clients end when
 * killed from the console or their credential is revoked (NATIVE_END_CHANNEL, any replica), when their
 * principal may no longer use the connection (rechecked every second), or after PG_LISTEN_IDLE_TIMEOUT. pg-gateway's
 * own query handling is never reached (it would print the query). A client whose held statement is decided (any
 * replica) is told by a notice (review-notices.ts). Not responsible for what a query may do.
 */
import "server-only";
import { randomInt } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { PostgresConnection } from "pg-gateway";
import { expireOverdueReviews, watchReviewDecisions } from "@/server/approvals";
import {
  isDatabaseCredentialLive,
  loadPrincipal,
  NATIVE_END_CHANNEL,
  type NativeEndSignal,
  noteDatabaseCredentialUse,
  onNativeEnd,
  principalFromTokenHash,
  scramCandidates,
  tokenHashOf,
} from "@/server/auth";
import type { PgListenConfig } from "@/server/config";
import { actorOf, type Principal } from "@/server/principal";
import { endSession, holdSession, startSessionWithEvent } from "@/server/recording";
import { listenOnStore } from "@/server/store-listen";
import { openPinnedSession, type PinnedSession } from "@/server/targets/postgres";
import {
  admitToConnection,
  authenticateNative,
  failureLimitRefusal,
  type NativeAuthResult,
  noteFailedPassword,
  personNow,
  usesScram,
} from "./native-auth";
import { FORWARDED_PARAMETERS, NativeClient } from "./native-client";
import { relayNotifications } from "./notifications";
import { NoticeGate, REVIEW_EXPIRY_SWEEP_MS, tellReviewDecided } from "./review-notices";
import {
  type ClientFirst,
  newServerNonce,
  parseClientFinal,
  parseClientFirst,
  SCRAM_MECHANISM,
  ScramError,
  serverFirst,
  verifyClientFinal,
} from "./scram";
import { loadListenerCertificate } from "./tls-certificate";
import {
  authenticationOk,
  authenticationSasl,
  authenticationSaslContinue,
  authenticationSaslFinal,
  backendKeyData,
  errorResponse,
  FrontendFramer,
  FrontendReader,
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

/**
 * How often live clients are asked whether their principal may still use their connection (a disabled account,
 * a removed group or grant ends an idle client too, not only at its next statement). The checks read the
 * request caches, which every change clears, so a tick costs no store query when nothing changed.
 */
export const RECHECK_INTERVAL_MS = 1_000;

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
  /** live clients by their recorded session, with the database credential they connected with */
  const live = new Map<
    string,
    { client: NativeClient; credentialId: string | undefined; principalId: string; gate: NoticeGate }
  >();
  const sockets = new Set<Socket>();

  /** Killed from the console, or the credential revoked: on whichever replica runs the session. */
  const endSignalled = (signal: NativeEndSignal) => {
    for (const [sessionId, entry] of live) {
      const matches =
        "sessionId" in signal ? sessionId === signal.sessionId : entry.credentialId === signal.credentialId;
      if (matches) entry.client.terminate("57P01", `terminating connection: ${signal.reason}`);
    }
  };
  const stopLocalSignals = onNativeEnd(endSignalled);
  const stopStoreSignals = await listenOnStore(NATIVE_END_CHANNEL, (payload) => {
    try {
      const signal = JSON.parse(payload) as Partial<
        NativeEndSignal & { sessionId: string; credentialId: string }
      >;
      if (typeof signal.reason !== "string") return;
      if (typeof signal.sessionId === "string")
        endSignalled({ sessionId: signal.sessionId, reason: signal.reason });
      else if (typeof signal.credentialId === "string")
        endSignalled({ credentialId: signal.credentialId, reason: signal.reason });
    } catch {
      // not ours: ignored
    }
  });
  // A held statement decided (any replica): the client holding it is told.
  const stopDecisions = await watchReviewDecisions((decided) => {
    tellReviewDecided(decided, (sessionId) => live.get(sessionId), options.publicUrl).catch((err) =>
      console.error(
        "[portcullis] could not tell a native client about its review:",
        err instanceof Error ? err.message : err,
      ),
    );
  });
  // Reviews expire when someone looks; while clients are live, this replica looks now and then, so a client
  // whose held statement expired is told (the expiry reaches every replica as a decision).
  const expiryTimer = setInterval(() => {
    if (live.size === 0) return;
    expireOverdueReviews().catch((err) =>
      console.error("[portcullis] could not expire reviews:", err instanceof Error ? err.message : err),
    );
  }, REVIEW_EXPIRY_SWEEP_MS);
  expiryTimer.unref();
  let rechecking = false;
  const recheckTimer = setInterval(() => {
    if (rechecking || live.size === 0) return;
    rechecking = true;
    void Promise.all(
      [...live.values()].map(({ client }) =>
        client
          .recheck()
          .catch((err) =>
            console.error(
              "[portcullis] could not recheck a native client:",
              err instanceof Error ? err.message : err,
            ),
          ),
      ),
    ).finally(() => {
      rechecking = false;
    });
  }, RECHECK_INTERVAL_MS);
  recheckTimer.unref();

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
    let gate: NoticeGate | undefined;
    let cancelKey: string | undefined;
    let sessionKey: string | undefined;
    let authenticating = false;
    /** the person's SCRAM exchange is under way (AuthenticationSASL sent instead of asking for a cleartext one) */
    let scram = false;
    /** the next message of the authentication exchange goes here */
    let authStep: ((message: Buffer) => Promise<void>) | undefined;
    const failStartup = (err: unknown) => {
      console.error("[portcullis] native client start-up failed:", err instanceof Error ? err.message : err);
      refuse({ code: "XX000", message: "the gateway could not start this session" });
    };
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
      if (sessionKey) live.delete(sessionKey);
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
        onStartup: (state) => {
          const tls = connection?.secureSocket !== undefined;
          if (!tls && !mayUsePlaintext(address, config.allowPlaintext)) {
            refuse({
              code: "28000",
              message: "Portcullis refuses plain-text connections from other machines: connect with TLS",
              hint: "use sslmode=require (or verify-ca with the listener's certificate)",
            });
            return true;
          }
          if (usesScram(state.clientInfo?.parameters.user ?? "")) {
            scram = true;
            send(authenticationSasl([SCRAM_MECHANISM]));
            return true;
          }
          // An API token travels as a cleartext password: only where nobody else can read it.
          if (!tls && !isLoopback(address)) {
            refuse({
              code: "28000",
              message:
                "an API token is sent as a cleartext password, so only over TLS (or from this machine)",
              hint: "use sslmode=require",
            });
            return true;
          }
          return false; // pg-gateway asks for the cleartext password
        },
        onMessage: (data, state) => {
          if (!state.hasStarted || !connection) return false; // SSLRequest, StartupMessage: pg-gateway's
          if (data[0] !== 0x70 /* p: PasswordMessage, SASLInitialResponse */ || authenticating) {
            refuse({ code: "08P01", message: "expected a password message" });
            return true;
          }
          authenticating = true;
          const first = Buffer.from(data);
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
              if (client) {
                gate?.received();
                const current = client;
                if (!current.enqueue(Buffer.from(m)) && !clientSocket.isPaused()) {
                  // Back-pressure: read no more of this client until its queue has drained.
                  clientSocket.pause();
                  void current.whenDrained().then(() => clientSocket.resume());
                }
              } else if (authStep) {
                const step = authStep;
                authStep = undefined;
                void step(Buffer.from(m)).catch(failStartup);
              } else {
                refuse({ code: "08P01", message: "a message came before authentication ended" });
                return;
              }
            }
          });
          const parameters = state.clientInfo?.parameters ?? { user: "" };
          void (scram ? scramBegin(first, parameters) : cleartext(first, parameters)).catch(failStartup);
          return true;
        },
      });

    /** A service account: its API token as a cleartext password (pg-listener only asks for one inside TLS). */
    async function cleartext(message: Buffer, parameters: Record<string, string>) {
      const password = message.subarray(5, message.length - 1).toString("utf8");
      const user = parameters.user ?? "";
      const result = await authenticateNative({ user, password, database: parameters.database, address });
      // Hashed once: before each statement the token is looked up again by its hash (a revocation applies at
      // once), and the token itself is not kept for the connection's life.
      const tokenHash = tokenHashOf(password);
      await admit(result, parameters, async () =>
        tokenHash === null ? null : principalFromTokenHash(tokenHash),
      );
    }

    /**
     * A person: SCRAM-SHA-256 against the verifiers of their live database credentials. The client's first
     * message is answered with the person's salt (a made-up but stable one for a name with no credentials), its
     * proof is checked against each verifier, and the matching credential must be for the connection named.
     */
    async function scramBegin(message: Buffer, parameters: Record<string, string>) {
      const user = parameters.user ?? "";
      const limited = failureLimitRefusal(user, address);
      if (limited) {
        refuse(limited);
        return;
      }
      let first: ClientFirst;
      try {
        const reader = new FrontendReader(message);
        const mechanism = reader.cstring();
        if (mechanism !== SCRAM_MECHANISM) {
          throw new ScramError(
            `the SASL mechanism must be ${SCRAM_MECHANISM} (channel binding is not offered)`,
          );
        }
        first = parseClientFirst(reader.value(reader.int32()) ?? "");
      } catch (err) {
        if (!(err instanceof ScramError || err instanceof RangeError)) throw err;
        refuse({ code: "08P01", message: err.message });
        return;
      }
      const candidates = await scramCandidates(user);
      const combinedNonce = first.nonce + newServerNonce();
      const serverFirstMessage = serverFirst(combinedNonce, candidates.salt, candidates.iterations);
      authStep = async (reply) => {
        if (reply[0] !== 0x70) {
          refuse({ code: "08P01", message: "expected a SASL response" });
          return;
        }
        let verified: ReturnType<typeof verifyClientFinal<(typeof candidates.credentials)[number]>>;
        try {
          verified = verifyClientFinal({
            first,
            serverFirstMessage,
            combinedNonce,
            final: parseClientFinal(new FrontendReader(reply).rest()),
            candidates: candidates.credentials,
          });
        } catch (err) {
          if (!(err instanceof ScramError)) throw err;
          verified = undefined;
        }
        const principal =
          verified && candidates.userId ? await loadPrincipal(candidates.userId, "token") : undefined;
        if (!verified || !principal) {
          noteFailedPassword(user, address);
          refuse({
            code: "28P01",
            message: `password authentication failed for user "${user}" (the password is a database credential from the console's Connect dialog)`,
          });
          return;
        }
        const credentialId = verified.candidate.id;
        let result = await admitToConnection(principal, user, parameters.database);
        if (result.ok && result.connection.id !== verified.candidate.connectionId) {
          result = {
            ok: false,
            refusal: {
              code: "28000",
              message: `this credential is for another connection; get one for "${result.connection.name}" from its Connect dialog`,
            },
          };
        }
        const identify = async () =>
          (await isDatabaseCredentialLive(credentialId)) ? personNow(principal.id) : null;
        await admit(result, parameters, identify, { credentialId, saslFinal: verified.serverFinal });
      };
      send(authenticationSaslContinue(serverFirstMessage));
    }

    /** Once authenticated: opens the pinned target session and the recorded session, then says ready. */
    async function admit(
      result: NativeAuthResult,
      parameters: Record<string, string>,
      identify: () => Promise<Principal | null>,
      credential?: { credentialId: string; saslFinal: string },
    ) {
      const user = parameters.user ?? "";
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
          ...(credential && { credential: "database credential" }),
        },
      }).catch(async (err) => {
        await pinned.close();
        throw err;
      });
      // Held by this process: if it dies, the session is shown ended and swept (recording/sessions-liveness.ts).
      // Closed as lost by another replica while this one was cut off from the store: the client ends too.
      const onLost = () =>
        client?.terminate(
          "57P01",
          "terminating connection: its recorded session was closed as lost; reconnect",
        );
      await holdSession(sessionId, onLost).catch(async (err) => {
        await pinned.close();
        await endSession(sessionId, "failed").catch(() => {});
        throw err;
      });
      if (credential) {
        // Fail closed: a use of a credential that cannot be audited does not open a session.
        await noteDatabaseCredentialUse(actorOf(principal), credential.credentialId, {
          connection: target.name,
          address,
          sessionId,
        }).catch(async (err) => {
          await pinned.close();
          await endSession(sessionId, "failed").catch(() => {});
          throw err;
        });
      }
      gate = new NoticeGate(send);
      const processId = randomInt(1, 2 ** 31 - 1);
      const secret = randomInt(1, 2 ** 31 - 1);
      client = new NativeClient({
        principal,
        identify,
        connection: target,
        sessionId,
        target: pinned,
        publicUrl: options.publicUrl,
        send: gate.send,
        writable: () => {
          const current = connection?.socket ?? socket;
          if (current.destroyed || !current.writableNeedDrain) return Promise.resolve();
          return new Promise<void>((resolve) => {
            const done = () => {
              current.off("drain", done);
              current.off("close", done);
              resolve();
            };
            current.on("drain", done);
            current.on("close", done);
          });
        },
        end: () => (connection?.socket ?? socket).end(),
        ...(config.idleTimeoutSeconds !== undefined && { idleTimeoutMs: config.idleTimeoutSeconds * 1000 }),
      });
      // LISTEN's notifications: masked, recorded, then passed on between exchanges (notifications.ts).
      const liveGate = gate;
      pinned.onNotification = relayNotifications({
        sessionId,
        connectionId: target.id,
        processId,
        deliver: (message) => liveGate.notify(message),
        fail: (message) => client?.terminate("57P01", message),
      });
      cancelKey = `${processId}:${secret}`;
      clients.set(cancelKey, client);
      sessionKey = sessionId;
      live.set(sessionId, {
        client,
        credentialId: credential?.credentialId,
        principalId: principal.id,
        gate,
      });
      if (socket.destroyed) {
        void client.close();
        return;
      }
      const hello: Buffer[] = [
        ...(credential ? [authenticationSaslFinal(credential.saslFinal)] : []),
        authenticationOk(),
      ];
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
      gate.send(Buffer.concat(hello));
      clearTimeout(preAuthTimer);
      socket.off("data", countPreAuth);
      client.startIdleTimer();
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
      clearInterval(recheckTimer);
      clearInterval(expiryTimer);
      await stopDecisions();
      stopLocalSignals();
      await stopStoreSignals?.();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      // each client's target session closed (rolling back what it left open) and its session ended
      await Promise.all([...clients.values()].map((c) => c.close()));
      await closed;
    },
  };
}
