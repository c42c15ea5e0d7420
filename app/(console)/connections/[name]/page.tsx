import Link from "next/link";
import { notFound } from "next/navigation";
import { ConnectionForm } from "@/components/connections/connection-form";
import { OwnerPanel } from "@/components/connections/owner-panel";
import { ConnectDialog } from "@/components/native/connect-dialog";
import { connectionOwnerGroupId } from "@/server/access-review";
import { listGroups, requirePrincipal } from "@/server/auth";
import { getConfig } from "@/server/config";
import { getConnectionForUse } from "@/server/connections";
import { GatewayError } from "@/server/errors";

export const metadata = { title: "Edit connection" };

export default async function EditConnectionPage({
  params,
  searchParams,
}: {
  params: Promise<{ name: string }>;
  searchParams: Promise<{ created?: string }>;
}) {
  const principal = await requirePrincipal("connections:manage");
  const { name } = await params;
  const { created } = await searchParams;
  const connection = await getConnectionForUse(principal, name).catch((err) => {
    if (err instanceof GatewayError && err.status === 404) notFound();
    throw err;
  });
  const [groups, ownerGroupId] = await Promise.all([listGroups(), connectionOwnerGroupId(connection.id)]);
  return (
    <>
      <p className="small">
        <Link href="/connections">← Connections</Link>
      </p>
      <h1>{connection.name}</h1>
      <p className="lead">
        {connection.kind === "postgres" ? "PostgreSQL" : "SSH"} · {connection.host}:{connection.port}
      </p>
      {connection.kind === "postgres" && principal.kind === "person" && (
        <div className="btn-row">
          <ConnectDialog
            connection={connection.name}
            maxSeconds={getConfig().sessionMaxAgeSeconds}
            listenerOn={getConfig().pgListen !== undefined}
          />
        </div>
      )}
      {connection.kind === "postgres" && (
        <p className="small">
          <Link href={`/connections/${encodeURIComponent(connection.name)}/classification`}>
            Data classification
          </Link>{" "}
          — sensitive columns found in this database
        </p>
      )}
      {created && (
        <p className="alert ok">
          Connection created. Use “Test connection” to check that the gateway can reach it.
        </p>
      )}
      <div className="panel">
        <ConnectionForm
          existing={{
            name: connection.name,
            kind: connection.kind,
            description: connection.description,
            host: connection.host,
            port: connection.port,
            database: connection.database,
            username: connection.username,
            groups: connection.groups,
            credentials: connection.credentials,
            hostKey: connection.hostKey,
            hostKeyPinnedAt: connection.hostKeyPinnedAt,
            approvals: connection.approvals,
            terminal: connection.terminal,
          }}
          allGroups={groups.map((g) => g.name)}
        />
      </div>
      <h2>Access reviews</h2>
      <div className="panel">
        <OwnerPanel
          name={connection.name}
          owner={groups.find((g) => g.id === ownerGroupId)?.name ?? null}
          groups={groups.map((g) => g.name)}
        />
      </div>
    </>
  );
}
