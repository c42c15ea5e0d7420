// Just-in-time access: request a connection for a while, see your grants and their time left; admins decide
// pending requests and revoke active grants.
import { AccessTabs } from "@/components/access/access-tabs";
import { type GrantItem, GrantTable } from "@/components/access/grant-table";
import { RequestAccessForm } from "@/components/access/request-access-form";
import { LiveRefresh } from "@/components/inbox/live-refresh";
import { requirePrincipal } from "@/server/auth";
import { listGrantableConnections, listGrants } from "@/server/grants";
import { hasPermission } from "@/server/principal";

export const metadata = { title: "Access" };

export default async function AccessPage() {
  const principal = await requirePrincipal("connections:use");
  const isAdmin = principal.kind === "person" && hasPermission(principal, "users:manage");
  const [connections, mine, all] = await Promise.all([
    listGrantableConnections(principal),
    listGrants(principal, "mine"),
    isAdmin ? listGrants(principal, "all") : Promise.resolve([]),
  ]);
  const requestable = connections.filter((c) => !c.hasAccess).map((c) => c.name);
  const pending: GrantItem[] = all.filter((g) => g.state === "pending" && g.canDecide);
  const active: GrantItem[] = all.filter((g) => g.state === "active");
  return (
    <>
      <LiveRefresh />
      <h1>Access</h1>
      <AccessTabs current="/access" isAuditor={hasPermission(principal, "audit:read")} />
      <p className="lead">
        {isAdmin
          ? "People ask here for a connection their groups do not give them, for a while. Approve or deny their requests; approved access ends by itself when the time is up, or when you revoke it."
          : "Need a connection your groups do not give you? Ask for it for a while; an admin approves, and the access ends by itself when the time is up."}
      </p>

      {isAdmin ? (
        <>
          <h2>Requests waiting for a decision</h2>
          {pending.length === 0 ? (
            <div className="panel empty">
              <strong>No requests wait for you</strong>
              When someone asks for access to a connection, the request appears here to approve or deny.
            </div>
          ) : (
            <GrantTable grants={pending} label="Pending requests" showRequester />
          )}

          <h2>Active grants</h2>
          {active.length === 0 ? (
            <div className="panel empty">
              <strong>No active grants</strong>
              Approved requests are listed here with their time left until they end; revoke one to end it now.
            </div>
          ) : (
            <GrantTable grants={active} label="Active grants" showRequester />
          )}
          {mine.length > 0 && (
            <>
              <h2>My grants</h2>
              <GrantTable grants={mine} label="My grants" showRequester={false} />
            </>
          )}
        </>
      ) : (
        <>
          <h2>Request access</h2>
          <RequestAccessForm connections={requestable} />

          <h2>My grants</h2>
          {mine.length === 0 ? (
            <div className="panel empty">
              <strong>No grants yet</strong>
              Request access above; your requests and the time left on approved ones appear here.
            </div>
          ) : (
            <GrantTable grants={mine} label="My grants" showRequester={false} />
          )}
        </>
      )}
    </>
  );
}
