/**
 * OpenAPI entries for native PostgreSQL clients: a person's database credentials and ending a live native
 * session (kept apart from the gateway's own paths in openapi.ts, which lists these after identity's).
 */
import "server-only";
import { createDatabaseCredentialSchema } from "@/server/auth";
import type { ApiPath } from "./openapi-types";

export const NATIVE_PATHS: ApiPath[] = [
  {
    path: "/api/v1/me/database-credentials",
    method: "get",
    operation: {
      summary:
        "The caller's database credentials for native clients, with state and last use (never the passwords)",
      permission: "connections:use",
    },
  },
  {
    path: "/api/v1/me/database-credentials",
    method: "post",
    operation: {
      summary:
        "A database credential for psql and drivers (SCRAM-SHA-256, shown once) for one connection, valid up to the session maximum, with a psql command and a URI",
      permission: "connections:use",
      body: createDatabaseCredentialSchema,
      responses: {
        "201": "{ id, password, prefix, expiresAt, connection, host, port, dbname, user, psql, uri }",
        "404": { description: "no connection of that name the caller may use", schema: "Error" },
        "409": { description: "the PostgreSQL listener is off (PG_LISTEN_PORT)", schema: "Error" },
      },
    },
  },
  {
    path: "/api/v1/me/database-credentials/{id}",
    method: "delete",
    operation: {
      summary:
        "Revoke one of the caller's database credentials; the native sessions opened with it end at once",
      permission: "connections:use",
      params: ["id"],
      responses: {
        "404": { description: "no credential of the caller with that id", schema: "Error" },
        "409": { description: "already revoked", schema: "Error" },
      },
    },
  },
  {
    path: "/api/v1/native-sessions/{id}",
    method: "delete",
    operation: {
      summary:
        "End a live native session (psql, a driver); its client is closed at once (57P01). Replies once the end is recorded",
      permission: "connections:manage",
      params: ["id"],
      responses: {
        "200": { description: "ended", schema: "SessionEnded" },
        "404": { description: "no live native session with that id", schema: "Error" },
      },
    },
  },
];
