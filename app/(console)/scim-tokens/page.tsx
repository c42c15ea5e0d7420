// SCIM tokens (admins): the bearer tokens an identity provider provisions people and groups with. Listed by
// prefix and last use; a new one is shown once; revoking one stops its provider at its next call.
import { ScimTokenAdmin } from "@/components/scim/scim-token-admin";
import { requirePrincipal } from "@/server/auth";
import { getConfig } from "@/server/config";
import { listScimTokens } from "@/server/scim";

export const metadata = { title: "SCIM tokens" };

export default async function ScimTokensPage() {
  await requirePrincipal("users:manage");
  const tokens = await listScimTokens();
  const baseUrl = `${getConfig().publicUrl.replace(/\/+$/, "")}/scim/v2`;
  return (
    <>
      <h1>SCIM tokens</h1>
      <p className="lead">
        Your identity provider (Okta, Entra ID, OneLogin, JumpCloud …) creates, updates and deactivates people
        and groups here through SCIM 2.0. Give it the base URL <code>{baseUrl}</code> and a token from this
        page. A SCIM token opens <code>/scim/v2</code> and nothing else; it cannot touch local password
        accounts, service accounts or roles. Minting and revoking are in the audit log.
      </p>
      <ScimTokenAdmin tokens={tokens} baseUrl={baseUrl} />
    </>
  );
}
