import { revokeDatabaseCredential } from "@/server/auth";
import { withAuth } from "@/server/http/route";

/** Revokes one of the caller's database credentials; the native sessions opened with it end at once. */
export const DELETE = withAuth({ permission: "connections:use" }, async ({ principal, params }) => {
  await revokeDatabaseCredential(principal, params.id ?? "");
  return { ok: true };
});
