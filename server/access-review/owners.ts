/**
 * Connection owners: the group that reviews a connection's access in campaigns whose reviewers are the owners
 * (admins when none), and the look-up of connections and groups by name that campaigns and owners share.
 * Not responsible for campaigns themselves (campaigns.ts).
 */
import "server-only";
import { getDb } from "@/db/store";
import { recordAuditEvent } from "@/server/audit";
import { badRequest, notFound } from "@/server/errors";
import { actorOf, type Principal } from "@/server/principal";
import { assertAdmin } from "./permissions";
import { connectionOwners, connectionsByNames, groupsByNames, setConnectionOwnerRow } from "./store";

/** Connections or groups by name; a name that does not exist is a 400 naming it. */
export async function resolveScope(
  db: Awaited<ReturnType<typeof getDb>>,
  names: string[],
  kind: "connection" | "group",
) {
  const found = kind === "connection" ? await connectionsByNames(db, names) : await groupsByNames(db, names);
  const missing = names.filter((n) => !found.some((f) => f.name === n));
  if (missing.length > 0) throw badRequest(`unknown ${kind}: ${missing.join(", ")}`);
  return found;
}

/** The id of the group that owns (reviews) a connection, or null when admins do. */
export async function connectionOwnerGroupId(connectionId: string): Promise<string | null> {
  const owners = await connectionOwners(await getDb());
  return owners.find((c) => c.id === connectionId)?.ownerGroupId ?? null;
}

/** Sets or clears the group that owns (reviews) a connection. */
export async function setConnectionOwner(principal: Principal, connection: string, group: string | null) {
  assertAdmin(principal);
  const db = await getDb();
  const [conn] = await resolveScope(db, [connection], "connection");
  const [owner] = group ? await resolveScope(db, [group], "group") : [];
  if (!conn) throw notFound(`no connection named ${connection}`);
  await setConnectionOwnerRow(db, conn.id, owner?.id ?? null);
  await recordAuditEvent(actorOf(principal), "connection.owner", connection, { group });
  return { connection, ownerGroup: group };
}
