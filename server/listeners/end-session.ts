/**
 * Ending a live native session from the console (as a terminal is ended): the session must be a live one of
 * channel "native"; the listener running it, on whichever replica, closes the client at once with a FATAL
 * 57P01 naming who ended it (signalled through server/auth's NATIVE_END_CHANNEL). Audited here.
 * Not responsible for closing the client itself (pg-listener.ts, native-client.ts).
 */
import "server-only";
import { eq } from "drizzle-orm";
import { sessions } from "@/db/schema";
import { getDb } from "@/db/store";
import { type Actor, recordAuditEvent } from "@/server/audit";
import { signalNativeEnd } from "@/server/auth";
import { notFound } from "@/server/errors";

export async function endNativeSession(actor: Actor, sessionId: string) {
  const db = await getDb();
  const [session] = await db
    .select({
      state: sessions.state,
      channel: sessions.channel,
      connectionName: sessions.connectionName,
      principalLabel: sessions.principalLabel,
    })
    .from(sessions)
    .where(eq(sessions.id, sessionId));
  if (session?.channel !== "native" || session.state !== "live") {
    throw notFound("no live native session with that id");
  }
  await signalNativeEnd({ sessionId, reason: `ended by ${actor.label}` });
  await recordAuditEvent(actor, "native_session.end", session.connectionName, {
    sessionId,
    user: session.principalLabel,
  });
}
