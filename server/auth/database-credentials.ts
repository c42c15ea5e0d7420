/**
 * A person's short-lived database credentials: passwords for native PostgreSQL clients (psql, drivers, tools)
 * through the listener, each for one connection, valid for a chosen time up to the console session's maximum.
 * Shown once; stored only as a SCRAM-SHA-256 verifier (RFC 5802/7677: salt, iterations, StoredKey, ServerKey),
 * so neither the store nor the listener ever holds the password. Created, used and revoked are audited; a
 * revocation is also signalled on NATIVE_END_CHANNEL so the listener ends the sessions it opened at once.
 * A person's live credentials share one salt: the listener must offer the salt before it knows which of them
 * the client holds (SCRAM's server-first message), and then checks the proof against each of them.
 * Not responsible for the SCRAM exchange on the wire (server/listeners) nor for whether the person may use the
 * connection (the caller checks that with server/connections, at creation and at every connection).
 */
import "server-only";
import { createHash, createHmac, pbkdf2Sync, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { and, desc, eq, gt, isNull } from "drizzle-orm";
import { z } from "zod";
import { connections, databaseCredentials, users } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { getConfig } from "@/server/config";
import { badRequest, conflict, notFound } from "@/server/errors";
import { actorOf, type Principal } from "@/server/principal";
import { processSingleton } from "@/server/singleton";
import { storeCache } from "@/server/store-cache";
import { notifyOnStore } from "@/server/store-listen";

/** Signals to the native listeners of every replica: end the sessions of a credential, or one session. */
export const NATIVE_END_CHANNEL = "portcullis_native_end";
export type NativeEndSignal =
  | { credentialId: string; reason: string }
  | { sessionId: string; reason: string };

export const DATABASE_CREDENTIAL_PREFIX = "pcd_";
/** PostgreSQL's own default (scram_iterations). The password is 256 random bits; the count is for clients. */
export const SCRAM_ITERATIONS = 4096;
/** The shortest validity one may ask for. */
export const MIN_VALIDITY_SECONDS = 60;

export const createDatabaseCredentialSchema = z
  .object({
    connection: z.string().trim().min(1).max(200).describe("the connection's name (the client's dbname)"),
    validForSeconds: z
      .number()
      .int()
      .min(MIN_VALIDITY_SECONDS)
      .describe("how long the credential works, up to the console session's maximum (SESSION_MAX_AGE)"),
  })
  .strict();
export type CreateDatabaseCredentialInput = z.input<typeof createDatabaseCredentialSchema>;

export interface ScramVerifier {
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

const hmac = (key: Buffer, text: string | Buffer) => createHmac("sha256", key).update(text).digest();

/** The SCRAM-SHA-256 verifier of a password (what PostgreSQL stores in pg_authid.rolpassword). */
export function scramVerifier(password: string, salt: string, iterations: number): ScramVerifier {
  const salted = pbkdf2Sync(password, Buffer.from(salt, "base64"), iterations, 32, "sha256");
  const clientKey = hmac(salted, "Client Key");
  return {
    salt,
    iterations,
    storedKey: createHash("sha256").update(clientKey).digest("base64"),
    serverKey: hmac(salted, "Server Key").toString("base64"),
  };
}

export interface DatabaseCredentialView {
  id: string;
  connectionId: string;
  connection: string;
  prefix: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  state: "active" | "expired" | "revoked";
}

function stateOf(row: { expiresAt: Date; revokedAt: Date | null }, now = Date.now()) {
  if (row.revokedAt) return "revoked" as const;
  return row.expiresAt.getTime() <= now ? ("expired" as const) : ("active" as const);
}

/**
 * A new credential for `principal` (a person) on a connection the caller has checked they may use. Its salt
 * is the one of the person's live credentials, if any (see the module comment). The password is returned once.
 */
export async function createDatabaseCredential(
  principal: Principal,
  input: { connectionId: string; connectionName: string; validForSeconds: number },
) {
  if (principal.kind !== "person") {
    throw badRequest("database credentials are for people; a service account connects with its API token");
  }
  const maximum = getConfig().sessionMaxAgeSeconds;
  if (input.validForSeconds > maximum) {
    throw badRequest(`validForSeconds: at most ${maximum} (the console session's maximum, SESSION_MAX_AGE)`);
  }
  const db = await getDb();
  const now = new Date();
  const [live] = await db
    .select({ salt: databaseCredentials.scramSalt })
    .from(databaseCredentials)
    .where(
      and(
        eq(databaseCredentials.userId, principal.id),
        isNull(databaseCredentials.revokedAt),
        gt(databaseCredentials.expiresAt, now),
      ),
    )
    .orderBy(desc(databaseCredentials.createdAt))
    .limit(1);
  const salt = live?.salt ?? randomBytes(16).toString("base64");
  const password = DATABASE_CREDENTIAL_PREFIX + randomBytes(32).toString("base64url");
  const verifier = scramVerifier(password, salt, SCRAM_ITERATIONS);
  const id = randomUUID();
  const expiresAt = new Date(now.getTime() + input.validForSeconds * 1000);
  const prefix = password.slice(0, DATABASE_CREDENTIAL_PREFIX.length + 6);
  await db.insert(databaseCredentials).values({
    id,
    userId: principal.id,
    connectionId: input.connectionId,
    prefix,
    scramSalt: verifier.salt,
    scramIterations: verifier.iterations,
    storedKey: verifier.storedKey,
    serverKey: verifier.serverKey,
    createdAt: now,
    expiresAt,
  });
  await recordAuditEvent(actorOf(principal), "database_credential.create", input.connectionName, {
    credentialId: id,
    prefix,
    expiresAt: expiresAt.toISOString(),
  });
  return { id, password, prefix, expiresAt: expiresAt.toISOString() };
}

/** The person's credentials, newest first (never the password nor the verifier). */
export async function listDatabaseCredentials(userId: string): Promise<DatabaseCredentialView[]> {
  const db = await getDb();
  const rows = await db
    .select({ credential: databaseCredentials, connection: connections.name })
    .from(databaseCredentials)
    .innerJoin(connections, eq(connections.id, databaseCredentials.connectionId))
    .where(eq(databaseCredentials.userId, userId))
    .orderBy(desc(databaseCredentials.createdAt));
  const now = Date.now();
  return rows.map(({ credential: r, connection }) => ({
    id: r.id,
    connectionId: r.connectionId,
    connection,
    prefix: r.prefix,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    revokedAt: r.revokedAt?.toISOString() ?? null,
    state: stateOf(r, now),
  }));
}

/**
 * Revokes one of the person's own credentials: refused at once by the listener, and every native session
 * opened with it ends (on whichever replica runs it). Audited.
 */
export async function revokeDatabaseCredential(principal: Principal, id: string) {
  const db = await getDb();
  const [row] = await db
    .select()
    .from(databaseCredentials)
    .where(and(eq(databaseCredentials.id, id), eq(databaseCredentials.userId, principal.id)));
  if (!row) throw notFound("no database credential of yours with that id");
  if (row.revokedAt) throw conflict("the credential is already revoked");
  await db.update(databaseCredentials).set({ revokedAt: new Date() }).where(eq(databaseCredentials.id, id));
  await recordAuditEvent(actorOf(principal), "database_credential.revoke", row.prefix, { credentialId: id });
  await signalNativeEnd({ credentialId: id, reason: `its credential was revoked by ${principal.email}` });
}

/** Tells the listener of this process (directly) and of every other replica (NOTIFY) to end sessions. */
export async function signalNativeEnd(signal: NativeEndSignal): Promise<void> {
  for (const handler of localEndHandlers) handler(signal);
  await notifyOnStore(NATIVE_END_CHANNEL, JSON.stringify(signal)).catch((err) =>
    console.error("[portcullis] could not signal other replicas to end native sessions:", err),
  );
}

/** One set per process, shared by both copies of the server modules (the custom server's and Next's bundle). */
const localEndHandlers = processSingleton(
  "nativeEndHandlers",
  () => new Set<(signal: NativeEndSignal) => void>(),
);
/** The listener of this process registers here; returns the unregister function. */
export function onNativeEnd(handler: (signal: NativeEndSignal) => void): () => void {
  localEndHandlers.add(handler);
  return () => localEndHandlers.delete(handler);
}

export interface ScramCandidates {
  /** the person, when the user name is one and they have live credentials */
  userId: string | undefined;
  salt: string;
  iterations: number;
  credentials: { id: string; connectionId: string; storedKey: Buffer; serverKey: Buffer }[];
}

/** Per process: a key for salts of user names with nothing to check, so they look the same at every try. */
const mockKey = randomBytes(32);

/**
 * What the listener checks a SCRAM proof against for this user name (a person's email): their live
 * credentials (not revoked, not expired, account not disabled), with their shared salt. For a name with none,
 * a made-up salt that is the same at every try (as PostgreSQL's mock authentication), so a client cannot tell
 * a person without credentials from a wrong password.
 */
export async function scramCandidates(email: string): Promise<ScramCandidates> {
  const wanted = email.trim().toLowerCase();
  const db = await getDb();
  const rows = await db
    .select({
      userId: users.id,
      id: databaseCredentials.id,
      connectionId: databaseCredentials.connectionId,
      salt: databaseCredentials.scramSalt,
      iterations: databaseCredentials.scramIterations,
      storedKey: databaseCredentials.storedKey,
      serverKey: databaseCredentials.serverKey,
      createdAt: databaseCredentials.createdAt,
    })
    .from(databaseCredentials)
    .innerJoin(users, eq(users.id, databaseCredentials.userId))
    .where(
      and(
        eq(users.email, wanted),
        eq(users.kind, "person"),
        eq(users.disabled, false),
        isNull(databaseCredentials.revokedAt),
        gt(databaseCredentials.expiresAt, new Date()),
      ),
    )
    .orderBy(desc(databaseCredentials.createdAt));
  const newest = rows[0];
  if (!newest) {
    return {
      userId: undefined,
      salt: hmac(mockKey, wanted).subarray(0, 16).toString("base64"),
      iterations: SCRAM_ITERATIONS,
      credentials: [],
    };
  }
  const same = rows.filter((r) => r.salt === newest.salt && r.iterations === newest.iterations);
  return {
    userId: newest.userId,
    salt: newest.salt,
    iterations: newest.iterations,
    credentials: same.map((r) => ({
      id: r.id,
      connectionId: r.connectionId,
      storedKey: Buffer.from(r.storedKey, "base64"),
      serverKey: Buffer.from(r.serverKey, "base64"),
    })),
  };
}

/** Compares two digests in constant time (false when their lengths differ). */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const credentialCache = storeCache<{ userId: string; expiresAt: Date; revokedAt: Date | null } | null>(
  "databaseCredential",
);

/** Is this credential still good (not revoked, not expired)? Asked before each statement of its sessions. */
export async function isDatabaseCredentialLive(id: string): Promise<boolean> {
  const row = await credentialCache.get(id, async () => {
    const db = await getDb();
    const [r] = await db
      .select({
        userId: databaseCredentials.userId,
        expiresAt: databaseCredentials.expiresAt,
        revokedAt: databaseCredentials.revokedAt,
      })
      .from(databaseCredentials)
      .where(eq(databaseCredentials.id, id));
    return r ?? null;
  });
  return row !== null && stateOf(row) === "active";
}

/** A credential opened a native session: its last use noted and the use audited. */
export async function noteDatabaseCredentialUse(
  actor: Actor,
  credentialId: string,
  details: { connection: string; address: string; sessionId: string },
) {
  const db = await getDb();
  await db
    .update(databaseCredentials)
    .set({ lastUsedAt: new Date() })
    .where(eq(databaseCredentials.id, credentialId));
  await recordAuditEvent(actor, "database_credential.use", details.connection, {
    credentialId,
    address: details.address,
    sessionId: details.sessionId,
  });
}
