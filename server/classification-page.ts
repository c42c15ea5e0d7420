/**
 * The Data classification page's data, for its server component and its API: a PostgreSQL connection's
 * discovered classifications (server/classification) beside its hand-written column rules (server/masking-config).
 * Kept apart from both so neither imports the other's concerns (masking-config reads classifications; this reads
 * masking-config). Not responsible for permissions (routes and pages check policies:manage).
 */
import "server-only";
import { type ClassificationOverview, getClassificationOverview } from "@/server/classification";
import { type ConnectionView, getConnectionForUse } from "@/server/connections";
import { GatewayError } from "@/server/errors";
import type { ColumnRule } from "@/server/masking";
import { getMaskingSettings } from "@/server/masking-config";
import type { Principal } from "@/server/principal";

export interface ClassificationPage extends ClassificationOverview {
  connection: string;
  /** the connection's hand-written column rules (or the shipped defaults) */
  columnRules: ColumnRule[];
  isDefaultMasking: boolean;
}

/** The connection named, when it is one the caller may use and a PostgreSQL one (SSH has no columns). */
export async function classificationTarget(principal: Principal, name: string): Promise<ConnectionView> {
  const connection = await getConnectionForUse(principal, name);
  if (connection.kind !== "postgres") {
    throw new GatewayError("bad_request", `${name} is an SSH connection: it has no columns to classify`);
  }
  return connection;
}

export async function getClassificationPage(connection: ConnectionView): Promise<ClassificationPage> {
  const [overview, masking] = await Promise.all([
    getClassificationOverview(connection),
    getMaskingSettings(connection.id),
  ]);
  return {
    connection: connection.name,
    ...overview,
    columnRules: masking.columnRules,
    isDefaultMasking: masking.isDefault,
  };
}
