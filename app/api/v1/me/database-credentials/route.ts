import { createDatabaseCredentialSchema, listDatabaseCredentials } from "@/server/auth";
import { withAuth } from "@/server/http/route";
import { issueDatabaseCredential } from "@/server/listeners";

/** The caller's database credentials for native clients (never the passwords). */
export const GET = withAuth({ permission: "connections:use" }, async ({ principal }) => ({
  credentials: await listDatabaseCredentials(principal.id),
}));

/** A new database credential for one connection, shown once, with a ready psql command and URI. */
export const POST = withAuth(
  { permission: "connections:use", body: createDatabaseCredentialSchema },
  async ({ principal, body }) =>
    Response.json(await issueDatabaseCredential(principal, body), { status: 201 }),
);
