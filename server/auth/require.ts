/** Guards for server-rendered pages: redirect to sign-in or setup, or show a refusal. */
import "server-only";
import { cookies } from "next/headers";
import { forbidden, redirect } from "next/navigation";
import { hasPermission, type Permission, type Principal } from "@/server/principal";
import { principalFromCookieHeader } from "./authenticate";
import { isSetupNeeded } from "./directory";

/** The signed-in person for a server component, or null. */
export async function currentPrincipal(): Promise<Principal | null> {
  const store = await cookies();
  const header = store
    .getAll()
    .map((c) => `${c.name}=${encodeURIComponent(c.value)}`)
    .join("; ");
  return principalFromCookieHeader(header);
}

export async function requirePrincipal(permission?: Permission): Promise<Principal> {
  const principal = await currentPrincipal();
  if (!principal) redirect((await isSetupNeeded()) ? "/setup" : "/signin");
  if (permission && !hasPermission(principal, permission)) forbidden();
  return principal;
}
