// Your account: who you are signed in as, and your database credentials for native clients (psql, drivers),
// each revocable. Only your own; admins manage people under Users.
import { CredentialList } from "@/components/native/credential-list";
import { listDatabaseCredentials, requirePrincipal } from "@/server/auth";

export const metadata = { title: "Your account" };

export default async function AccountPage() {
  const principal = await requirePrincipal("connections:use");
  const credentials = principal.kind === "person" ? await listDatabaseCredentials(principal.id) : [];
  return (
    <>
      <h1>Your account</h1>
      <p className="lead">
        {principal.name} · {principal.email} · {principal.role}
        {principal.groups.length > 0 && ` · groups: ${principal.groups.map((g) => g.name).join(", ")}`}
      </p>
      <h2>Database credentials</h2>
      <p className="small">
        Passwords for psql and drivers through the gateway, one per connection, each valid for the time chosen
        when it was created. Revoking one ends the sessions opened with it at once.
      </p>
      <div className="panel">
        <CredentialList credentials={credentials} />
      </div>
    </>
  );
}
