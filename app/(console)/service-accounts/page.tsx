import { ServiceAccountAdmin } from "@/components/service-accounts/service-account-admin";
import { listGroups, listServiceAccounts, requirePrincipal } from "@/server/auth";

export const metadata = { title: "Service accounts" };

export default async function ServiceAccountsPage() {
  await requirePrincipal("tokens:manage");
  const [accounts, groups] = await Promise.all([listServiceAccounts(), listGroups()]);
  return (
    <>
      <h1>Service accounts</h1>
      <p className="lead">
        Identities for programs and AI agents. They call the API and the MCP endpoint with{" "}
        <code>Authorization: Bearer &lt;token&gt;</code> and reach what their groups allow. Rotate a token
        with a grace period so callers can switch over; or give a program a client secret, which it exchanges
        at <code>/api/v1/oauth/token</code> for access tokens that last minutes, so the long-lived secret does
        not travel on every call. A role decides what the tokens may do: a <code>member</code> uses
        connections, an <code>auditor</code> reads the audit log (and its stream), every session and access
        reviews, an <code>admin</code> holds every permission and its tokens expire within 90 days.
      </p>
      <ServiceAccountAdmin accounts={accounts} allGroups={groups.map((g) => g.name)} />
    </>
  );
}
