/**
 * The console's side of a person connecting a native client: a database credential for a connection they may
 * use, with the Connect dialog's command and URI.
 * Not responsible for the credential's storage or revocation (server/auth/database-credentials.ts).
 */
import "server-only";
import {
  type CreateDatabaseCredentialInput,
  createDatabaseCredential,
  createDatabaseCredentialSchema,
} from "@/server/auth";
import { getConfig } from "@/server/config";
import { getConnectionForUse } from "@/server/connections";
import { badRequest, conflict } from "@/server/errors";
import type { Principal } from "@/server/principal";
import { connectInstructions } from "./connect-instructions";

/** Where the listener is, or a 409 saying it is off. */
function listenerConfig() {
  const { pgListen } = getConfig();
  if (!pgListen) {
    throw conflict("the PostgreSQL listener is off: an admin sets PG_LISTEN_PORT to let native clients in");
  }
  return pgListen;
}

/** A new credential for the connection (which the person must be allowed to use), shown once. */
export async function issueDatabaseCredential(principal: Principal, input: CreateDatabaseCredentialInput) {
  const data = createDatabaseCredentialSchema.parse(input);
  const config = listenerConfig();
  const connection = await getConnectionForUse(principal, data.connection);
  if (connection.kind !== "postgres") {
    throw badRequest(
      `connection "${connection.name}" is an SSH connection; database credentials are for databases`,
    );
  }
  const created = await createDatabaseCredential(principal, {
    connectionId: connection.id,
    connectionName: connection.name,
    validForSeconds: data.validForSeconds,
  });
  return {
    ...created,
    connection: connection.name,
    ...connectInstructions({
      config,
      publicUrl: getConfig().publicUrl,
      connectionName: connection.name,
      email: principal.email,
    }),
  };
}
