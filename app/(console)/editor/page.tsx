// The SQL editor page: picks the connection from ?connection= (or the first PostgreSQL connection the caller
// may use) and hands it to the client workbench. Lists only connections the principal may use; everything
// else (running, masking, policy) happens behind the API the workbench calls.
import "@/components/editor/editor.css";
import Link from "next/link";
import { ConnectionPicker } from "@/components/editor/connection-picker";
import { SqlWorkbench } from "@/components/editor/sql-workbench";
import type { EditorConnection } from "@/components/editor/types";
import { ConnectDialog } from "@/components/native/connect-dialog";
import { requirePrincipal } from "@/server/auth";
import { getConfig } from "@/server/config";
import { listConnections } from "@/server/connections";
import { hasPermission } from "@/server/principal";

export const metadata = { title: "SQL editor" };

export default async function EditorPage({
  searchParams,
}: {
  searchParams: Promise<{ connection?: string | string[] }>;
}) {
  const principal = await requirePrincipal("connections:use");
  const { connection: requested } = await searchParams;
  const requestedName = Array.isArray(requested) ? requested[0] : requested;
  const connections: EditorConnection[] = (await listConnections(principal))
    .filter((c) => c.kind === "postgres")
    .map((c) => ({
      name: c.name,
      description: c.description,
      address: `${c.host}:${c.port}${c.database ? `/${c.database}` : ""}`,
      isDemo: c.isDemo,
    }));
  const selected =
    requestedName === undefined
      ? (connections[0]?.name ?? null)
      : (connections.find((c) => c.name === requestedName)?.name ?? null);
  const canManage = hasPermission(principal, "connections:manage");

  return (
    <div className="sqled">
      <div className="editor-head">
        <div>
          <h1>SQL editor</h1>
          <p className="lead">
            Queries run through the gateway: policy checks each statement, sensitive values come back masked,
            and every run is recorded.
          </p>
        </div>
        <div className="btn-row">
          {connections.length > 0 && <ConnectionPicker connections={connections} selected={selected} />}
          {selected !== null && principal.kind === "person" && (
            <ConnectDialog
              key={selected}
              connection={selected}
              maxSeconds={getConfig().sessionMaxAgeSeconds}
              listenerOn={getConfig().pgListen !== undefined}
            />
          )}
        </div>
      </div>
      {connections.length === 0 ? (
        <div className="panel empty">
          <strong>No PostgreSQL connection you can use</strong>
          {canManage ? (
            <>
              Add a PostgreSQL database under <Link href="/connections/new">New connection</Link>, then open
              the editor again.
            </>
          ) : (
            "You are not in a group that may use a PostgreSQL connection. Ask an admin to add you to one."
          )}
        </div>
      ) : selected === null ? (
        <div className="panel empty" role="alert">
          <strong>
            {requestedName
              ? `No connection named “${requestedName}” that you can use`
              : "Choose a connection"}
          </strong>
          Pick one of your PostgreSQL connections with the “Connection” menu above.
        </div>
      ) : (
        <SqlWorkbench key={selected} connection={selected} />
      )}
    </div>
  );
}
